-- Edgeward schema 9: EdgeGrid nonces shared by the servers of one database (when
-- `edgegrid.shared_nonces` is on), so a request captured on its way to one server cannot be
-- replayed to another within the timestamp window.

CREATE TABLE nonces (
    client_token TEXT    NOT NULL,
    nonce        TEXT    NOT NULL,
    -- the request's timestamp, epoch milliseconds
    ts           INTEGER NOT NULL,
    PRIMARY KEY (client_token, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_by_time ON nonces (ts);
