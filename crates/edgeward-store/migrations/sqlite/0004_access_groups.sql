-- Edgeward schema 4: access groups, and scheduled namespace deletion.

CREATE TABLE access_groups (
    group_id   INTEGER PRIMARY KEY CHECK (group_id >= 0),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
-- Group 0 stands for every group and always exists.
INSERT INTO access_groups (group_id, name, created_at) VALUES (0, 'Account Group', 0);

-- Epoch milliseconds at which the namespace and its items are deleted; NULL when none is scheduled.
ALTER TABLE namespaces ADD COLUMN delete_at INTEGER;
CREATE INDEX namespaces_delete_at ON namespaces (delete_at) WHERE delete_at IS NOT NULL;
