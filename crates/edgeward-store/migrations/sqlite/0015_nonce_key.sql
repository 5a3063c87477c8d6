-- Edgeward schema 15: on SQLite, nonces live in the side database `nonces.db` (see the
-- store's `sqlite::nonces` module), keyed by timestamp, client and nonce; the table schema 9
-- made in the main database has been unused since and is dropped. It only ever held nonces
-- whose timestamps have long left the window.

DROP TABLE IF EXISTS nonces;
