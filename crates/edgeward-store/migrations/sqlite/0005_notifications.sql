-- Edgeward schema 5: people who are told about expiring tokens, what they were told, and
-- leases that make one server run each scheduled check.

CREATE TABLE users (
    id               TEXT    PRIMARY KEY,
    name             TEXT    NOT NULL UNIQUE,
    email            TEXT,
    -- the address is confirmed: e-mail may be sent to it
    email_registered INTEGER NOT NULL,
    active           INTEGER NOT NULL,
    grants           TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);

-- API clients belong to a user (NULL for the administrator created at first start).
ALTER TABLE api_clients ADD COLUMN owner TEXT REFERENCES users (id);

CREATE TABLE escalation_contacts (
    email      TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- A token replaced by `token rotate` is not notified about.
ALTER TABLE tokens ADD COLUMN replaced_by TEXT;

-- One row per (token, threshold), ever: written before anything is delivered.
CREATE TABLE expiry_notices (
    token_uuid     TEXT    NOT NULL,
    threshold_days INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    -- 'pending' until delivered to the panel; then 'delivered'
    status         TEXT    NOT NULL,
    PRIMARY KEY (token_uuid, threshold_days)
) WITHOUT ROWID;

-- The notification panel: one bundled message per recipient and threshold and check.
CREATE TABLE notices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        TEXT    NOT NULL,
    threshold_days INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    read_at        INTEGER,
    subject        TEXT    NOT NULL,
    -- JSON array of the tokens listed
    tokens         TEXT    NOT NULL
);
CREATE INDEX notices_by_user ON notices (user_id, id);

CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE notify_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    check_day   TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    dry_run     INTEGER NOT NULL,
    due         INTEGER NOT NULL,
    notices     INTEGER NOT NULL
);
