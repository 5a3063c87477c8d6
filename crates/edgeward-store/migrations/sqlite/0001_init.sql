-- Edgeward schema 1: account, namespaces, API clients, tokens.
-- Instants are epoch milliseconds (INTEGER); calendar dates are 'YYYY-MM-DD' text.

CREATE TABLE account (
    id                              INTEGER PRIMARY KEY CHECK (id = 1),
    cpcode                          TEXT    NOT NULL,
    initialized_at                  INTEGER NOT NULL,
    restrict_data_access            INTEGER NOT NULL,
    allow_namespace_policy_override INTEGER NOT NULL,
    -- tokens that count against the account limit: unrevoked and not yet purged
    token_count                     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE namespaces (
    network            TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    retention_seconds  INTEGER NOT NULL,
    group_id           INTEGER NOT NULL,
    geo_location       TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (network, name)
);

CREATE TABLE api_clients (
    name          TEXT    PRIMARY KEY,
    client_token  TEXT    NOT NULL UNIQUE,
    access_token  TEXT    NOT NULL,
    sealed_secret BLOB    NOT NULL,
    grants        TEXT    NOT NULL,
    enabled       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Bumped by every change to api_clients (whoever makes it: the server or the `apiclient`
-- commands), so servers can cache verified clients and still see a change on the next request.
CREATE TABLE api_clients_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO api_clients_version (id, version) VALUES (1, 0);
CREATE TRIGGER api_clients_inserted AFTER INSERT ON api_clients
    BEGIN UPDATE api_clients_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_clients_updated AFTER UPDATE ON api_clients
    BEGIN UPDATE api_clients_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_clients_deleted AFTER DELETE ON api_clients
    BEGIN UPDATE api_clients_version SET version = version + 1 WHERE id = 1; END;

CREATE TABLE tokens (
    uuid             TEXT    PRIMARY KEY,
    name             TEXT    NOT NULL,
    -- equals name while the token holds it; NULL once revoked or replaced after expiry
    live_name        TEXT    UNIQUE,
    allow_staging    INTEGER NOT NULL,
    allow_production INTEGER NOT NULL,
    ewids            TEXT    NOT NULL,
    namespaces       TEXT    NOT NULL,
    expiry           TEXT,
    expires_at       INTEGER,
    issued_at        INTEGER NOT NULL,
    latest_refresh   INTEGER,
    next_refresh     TEXT,
    generation       INTEGER NOT NULL DEFAULT 1,
    cpcode           TEXT    NOT NULL,
    revoked_at       INTEGER,
    sealed_value     BLOB
);

CREATE INDEX tokens_by_expiry ON tokens (expires_at) WHERE revoked_at IS NULL;
CREATE INDEX tokens_by_refresh ON tokens (next_refresh) WHERE revoked_at IS NULL AND expiry IS NULL;
