-- Edgeward schema 18: console sessions, kept in the database so that every server on it knows
-- them and ending one ends it everywhere at once. Only the SHA-256 of a session's secret (the
-- cookie's value) is kept, so the table alone opens no session. A session is live until its
-- absolute expiry (`expires_at`) and while it is used within the idle lifetime (`last_seen_at`,
-- checked by the server). Ending a user's sessions is one DELETE by `user_id`, made in the
-- transaction that deactivates the user, changes their password or takes a grant away.

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the token every form that changes anything must carry
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);
