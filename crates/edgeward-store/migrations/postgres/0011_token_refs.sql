-- Edgeward schema 11: token refs. An auto-refreshing token's uuid is a bearer credential (its
-- reference), so rows name tokens by their token ref, the hex HMAC-SHA256 of the uuid under a
-- random index key (kept in sealed_keys, sealed with the data key), and the uuid is kept only
-- sealed (tokens.sealed_uuid). Rows of earlier schemas still hold uuids after this migration; the
-- store re-keys them in Rust when it first opens with the data key (`open_references`), once.

ALTER TABLE tokens RENAME COLUMN uuid TO token_ref;
-- the uuid, sealed with the data key (context: token_ref)
ALTER TABLE tokens ADD COLUMN sealed_uuid BYTEA;
ALTER TABLE token_usage RENAME COLUMN uuid TO token_ref;
ALTER TABLE expiry_notices RENAME COLUMN token_uuid TO token_ref;
-- tokens.replaced_by and the subject of 'token_revoked' changes hold token refs too.

-- Keys of the database sealed with the data key (context: the name): 'token-ref-index'.
CREATE TABLE sealed_keys (
    name       TEXT COLLATE "C" PRIMARY KEY,
    sealed     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);
