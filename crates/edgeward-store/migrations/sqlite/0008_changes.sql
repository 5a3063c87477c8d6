-- Edgeward schema 8: the change feed. Writes that other servers on the same database must
-- honour (revocations, item writes and deletes, namespace changes) append a row in the same
-- transaction; every server follows the feed and updates its caches.

CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'token_revoked' (subject: uuid), 'item' (network/namespace/sandbox/group/item),
    -- 'namespace' (network/namespace)
    kind    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX changes_by_time ON changes (at);
