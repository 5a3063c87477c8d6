-- Edgeward schema 18 (PostgreSQL): console sessions, kept in the database so that every server
-- on it knows them and ending one ends it everywhere at once. Only the SHA-256 of a session's
-- secret (the cookie's value) is kept, so the table alone opens no session. A session is live
-- until its absolute expiry (`expires_at`) and while it is used within the idle lifetime
-- (`last_seen_at`, checked by the server). Ending a user's sessions is one DELETE by `user_id`,
-- made in the transaction that deactivates the user, changes their password or takes a grant
-- away.

CREATE TABLE sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the token every form that changes anything must carry
    csrf         TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);
