-- Edgeward schema 21 (PostgreSQL): 64 token count shards instead of 16. A creation counts
-- itself on the shard of its database connection (`pg_backend_pid() % 64`), so concurrent
-- creations on different connections rarely wait for each other's row lock, and so for each
-- other's durable commit. The limit check reads the sum of every shard, as before.

ALTER TABLE token_counts DROP CONSTRAINT token_counts_shard_check,
    ADD CONSTRAINT token_counts_shard_check CHECK (shard >= 0 AND shard < 64);
INSERT INTO token_counts (shard, n) SELECT s, 0 FROM generate_series(16, 63) AS s;
