-- Edgeward schema 17 (PostgreSQL): roles, named sets of grants that users hold. The built-in
-- roles (administrator, token-manager, viewer and their -staging twins) are defined in code
-- (edgeward-core's role.rs) and never stored; `roles` holds the custom ones. A user may do what
-- their direct grants (`users.grants`, kept as they were) and the grants of their roles allow.
-- `user_roles.role` names a built-in or a custom role, so it has no foreign key: the store
-- checks a role exists before giving it (holding its row FOR SHARE), and deletes a custom role
-- before counting its holders, so a concurrent grant of it either waits and fails or is counted.

CREATE TABLE roles (
    name        TEXT   COLLATE "C" PRIMARY KEY,
    description TEXT   NOT NULL,
    grants      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Who holds a role (deleting one counts its holders).
CREATE INDEX user_roles_by_role ON user_roles (role);
