-- Edgeward schema 16 (PostgreSQL): users sign in with a password. Only its Argon2id hash is
-- kept, as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); a user without one cannot
-- sign in. `password_must_change` is set for a password given to the user (the first start's
-- initial password) and cleared when the user chooses one.

ALTER TABLE users ADD COLUMN password_hash TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;
