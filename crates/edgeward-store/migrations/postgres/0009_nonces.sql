-- Edgeward schema 9 (PostgreSQL): EdgeGrid nonces shared by the servers of one database (when
-- `edgegrid.shared_nonces` is on), so a request captured on its way to one server cannot be
-- replayed to another within the timestamp window.

CREATE TABLE nonces (
    client_token TEXT COLLATE "C"    NOT NULL,
    nonce        TEXT COLLATE "C"    NOT NULL,
    -- the request's timestamp, epoch milliseconds
    ts           BIGINT  NOT NULL,
    PRIMARY KEY (client_token, nonce)
);
CREATE INDEX nonces_by_time ON nonces (ts);
