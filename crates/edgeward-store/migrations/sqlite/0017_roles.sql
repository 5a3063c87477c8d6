-- Edgeward schema 17: roles, named sets of grants that users hold. The built-in roles
-- (administrator, token-manager, viewer and their -staging twins) are defined in code
-- (edgeward-core's role.rs) and never stored; `roles` holds the custom ones. A user may do what
-- their direct grants (`users.grants`, kept as they were) and the grants of their roles allow.
-- `user_roles.role` names a built-in or a custom role, so it has no foreign key: the store
-- checks a role exists before giving it, and refuses to delete a custom role anyone holds.

CREATE TABLE roles (
    name        TEXT    PRIMARY KEY,
    description TEXT    NOT NULL,
    grants      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Who holds a role (deleting one counts its holders).
CREATE INDEX user_roles_by_role ON user_roles (role);
