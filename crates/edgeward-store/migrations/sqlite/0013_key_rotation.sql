-- Edgeward schema 13: token-signing key rotation. A key is retired (it verifies nothing from
-- then on) by maintenance once the last token it signed has expired, or at once by
-- `edgeward keys retire`. Each expiring token records the kid that signed its value, so a key's
-- live tokens can be counted; the tokens made before this schema were all signed by the one key
-- that signed then (the newest), which they are given here.

ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;
ALTER TABLE tokens ADD COLUMN kid TEXT;
UPDATE tokens SET kid = (SELECT kid FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1)
    WHERE expires_at IS NOT NULL;
