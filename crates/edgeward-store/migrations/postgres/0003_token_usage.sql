-- Edgeward schema 3 (PostgreSQL): how much each token is used on the data plane, per network.
-- Counted in memory by each server's data plane and added here in batches.

CREATE TABLE token_usage (
    uuid      TEXT COLLATE "C"    NOT NULL,
    network   TEXT COLLATE "C"    NOT NULL,
    requests  BIGINT  NOT NULL,
    last_used BIGINT  NOT NULL,
    PRIMARY KEY (uuid, network)
);
