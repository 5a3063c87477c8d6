-- Edgeward schema 19: scheduled revocation. `revoke_at` (milliseconds since the epoch)
-- is when a live token is to be revoked, set by `edgeward token rotate --revoke-old-after` or
-- `token revoke --after` and cleared by a cancellation. The server's maintenance revokes every
-- live token whose time has come, each exactly once whatever the number of servers (the
-- revocation is the conditional UPDATE of an unrevoked row). Kept after the revocation, as the
-- record of when it was planned.

ALTER TABLE tokens ADD COLUMN revoke_at INTEGER;

CREATE INDEX tokens_by_revoke_at ON tokens (revoke_at) WHERE revoke_at IS NOT NULL AND revoked_at IS NULL;
