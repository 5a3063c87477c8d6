-- Edgeward schema 15 (PostgreSQL): a nonce is refused when its client sent it before with the
-- same timestamp. A replay is a byte-for-byte copy of a signed request, so it carries the
-- request's timestamp; the same nonce under another timestamp needs a new signature, which only
-- the holder of the client secret can make. The in-memory check and SQLite's `nonces.db` use
-- the same key.

ALTER TABLE nonces DROP CONSTRAINT nonces_pkey;
ALTER TABLE nonces ADD PRIMARY KEY (client_token, ts, nonce);
