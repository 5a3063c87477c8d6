-- Edgeward schema 2: items of the key-value store.
-- One row per (network, namespace, sandbox, group, item); sandbox '' is the network's own data.

CREATE TABLE items (
    network    TEXT    NOT NULL,
    namespace  TEXT    NOT NULL,
    sandbox    TEXT    NOT NULL DEFAULT '',
    grp        TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (network, namespace, sandbox, grp, item)
) WITHOUT ROWID;
