-- Edgeward schema 1 (PostgreSQL): account, namespaces, API clients, tokens.
-- The same tables as the SQLite schema of the same number. Instants are epoch milliseconds
-- (BIGINT); calendar dates are 'YYYY-MM-DD' text; uuids are text.

CREATE TABLE account (
    id                              INTEGER PRIMARY KEY CHECK (id = 1),
    cpcode                          TEXT COLLATE "C"    NOT NULL,
    initialized_at                  BIGINT  NOT NULL,
    restrict_data_access            BOOLEAN NOT NULL,
    allow_namespace_policy_override BOOLEAN NOT NULL
);

-- Tokens that count against the account limit (unrevoked and not yet purged), kept in 16 rows
-- whose sum is the count (SQLite keeps one `account.token_count`; it has one writer anyway).
-- One row would make every token creation wait for the previous one's commit; a creation adds
-- to one row chosen at random, and locks them all only when the account is near its limit.
CREATE TABLE token_counts (
    shard INTEGER PRIMARY KEY CHECK (shard >= 0 AND shard < 16),
    n     BIGINT  NOT NULL
);
INSERT INTO token_counts (shard, n) SELECT s, 0 FROM generate_series(0, 15) AS s;

CREATE TABLE namespaces (
    network            TEXT COLLATE "C"    NOT NULL,
    name               TEXT COLLATE "C"    NOT NULL,
    retention_seconds  BIGINT  NOT NULL,
    group_id           BIGINT  NOT NULL,
    geo_location       TEXT COLLATE "C"    NOT NULL,
    created_at         BIGINT  NOT NULL,
    PRIMARY KEY (network, name)
);

CREATE TABLE api_clients (
    name          TEXT COLLATE "C"    PRIMARY KEY,
    client_token  TEXT COLLATE "C"    NOT NULL UNIQUE,
    access_token  TEXT COLLATE "C"    NOT NULL,
    sealed_secret BYTEA   NOT NULL,
    grants        TEXT COLLATE "C"    NOT NULL,
    enabled       BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL
);

-- Bumped by every change to api_clients (whoever makes it: any server, or the `apiclient`
-- commands), so servers can cache verified clients and still see a change on the next request.
CREATE TABLE api_clients_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO api_clients_version (id, version) VALUES (1, 0);
CREATE FUNCTION edgeward_bump_api_clients_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_clients_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER api_clients_changed AFTER INSERT OR UPDATE OR DELETE ON api_clients
    FOR EACH STATEMENT EXECUTE FUNCTION edgeward_bump_api_clients_version();

CREATE TABLE tokens (
    uuid             TEXT COLLATE "C"    PRIMARY KEY,
    name             TEXT COLLATE "C"    NOT NULL,
    -- equals name while the token holds it; NULL once revoked or replaced after expiry
    live_name        TEXT COLLATE "C"    UNIQUE,
    allow_staging    BOOLEAN NOT NULL,
    allow_production BOOLEAN NOT NULL,
    ewids            TEXT COLLATE "C"    NOT NULL,
    namespaces       TEXT COLLATE "C"    NOT NULL,
    expiry           TEXT COLLATE "C",
    expires_at       BIGINT,
    issued_at        BIGINT  NOT NULL,
    latest_refresh   BIGINT,
    next_refresh     TEXT COLLATE "C",
    generation       BIGINT  NOT NULL DEFAULT 1,
    cpcode           TEXT COLLATE "C"    NOT NULL,
    revoked_at       BIGINT,
    sealed_value     BYTEA
);

CREATE INDEX tokens_by_expiry ON tokens (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX tokens_by_refresh ON tokens (next_refresh) WHERE revoked_at IS NULL AND expiry IS NULL;
