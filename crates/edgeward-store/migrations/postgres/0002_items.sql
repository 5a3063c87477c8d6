-- Edgeward schema 2 (PostgreSQL): items of the key-value store.
-- One row per (network, namespace, sandbox, group, item); sandbox '' is the network's own data.

CREATE TABLE items (
    network    TEXT COLLATE "C"    NOT NULL,
    namespace  TEXT COLLATE "C"    NOT NULL,
    sandbox    TEXT COLLATE "C"    NOT NULL DEFAULT '',
    grp        TEXT COLLATE "C"    NOT NULL,
    item       TEXT COLLATE "C"    NOT NULL,
    value      BYTEA   NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (network, namespace, sandbox, grp, item)
);
