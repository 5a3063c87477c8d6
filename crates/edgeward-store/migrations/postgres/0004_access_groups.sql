-- Edgeward schema 4 (PostgreSQL): access groups, and scheduled namespace deletion.

CREATE TABLE access_groups (
    group_id   BIGINT  PRIMARY KEY CHECK (group_id >= 0),
    name       TEXT COLLATE "C"    NOT NULL,
    created_at BIGINT  NOT NULL
);
-- Group 0 stands for every group and always exists.
INSERT INTO access_groups (group_id, name, created_at) VALUES (0, 'Account Group', 0);

-- Epoch milliseconds at which the namespace and its items are deleted; NULL when none is scheduled.
ALTER TABLE namespaces ADD COLUMN delete_at BIGINT;
CREATE INDEX namespaces_delete_at ON namespaces (delete_at) WHERE delete_at IS NOT NULL;
