-- Edgeward schema 10 (PostgreSQL): the keys that sign token values, sealed with the data key, so
-- that every server on the database signs and verifies with the same keys. The newest signs.

CREATE TABLE signing_keys (
    kid           TEXT COLLATE "C" PRIMARY KEY,
    -- the PKCS#8 PEM, sealed with the data key (the kid is the sealing context)
    sealed_pkcs8  BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL
);
