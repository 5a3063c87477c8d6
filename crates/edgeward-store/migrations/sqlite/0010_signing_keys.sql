-- Edgeward schema 10: the keys that sign token values, sealed with the data key, so that every
-- server on the database signs and verifies with the same keys. The newest is the one that signs.

CREATE TABLE signing_keys (
    kid           TEXT    PRIMARY KEY,
    -- the PKCS#8 PEM, sealed with the data key (the kid is the sealing context)
    sealed_pkcs8  BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);
