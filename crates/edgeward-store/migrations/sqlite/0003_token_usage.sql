-- Edgeward schema 3: how much each token is used on the data plane, per network.
-- Counted in memory by the data plane and added here in batches.

CREATE TABLE token_usage (
    uuid      TEXT    NOT NULL,
    network   TEXT    NOT NULL,
    requests  INTEGER NOT NULL,
    last_used INTEGER NOT NULL,
    PRIMARY KEY (uuid, network)
) WITHOUT ROWID;
