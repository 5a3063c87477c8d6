//! Edgeward's storage: the traits of `edgeward_core::store` implemented on SQLite (the
//! embedded default, one server) and on PostgreSQL (several servers on one database). Both pass
//! the same conformance suite ([`conformance`]) and lay rows out the same way ([`codec`]).
//!
//! Invariant: SQL text lives in this crate only. Every trait method is one transaction.
//!
//! ## SQLite
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so a commit is on disk (the WAL is fsynced)
//! before the caller is answered: a token acknowledged with 200 survives `kill -9` and power loss.
//! All writes go through one writer thread that *group-commits*: it takes every write waiting in
//! its queue, runs each in its own savepoint inside one transaction, commits once and only then
//! answers each caller. Under load one fsync covers many writes; alone, a write pays one fsync.
//! Reads use a small pool of read-only connections: point reads by key run in place (a few
//! cached pages, never waiting for the writer under WAL); scans run on blocking threads.
//! EdgeGrid nonces go to an append-only journal (`nonces/`), not through the writer: see the
//! `sqlite::nonces` module.
//!
//! ## Token refs
//!
//! No table holds a token's uuid in clear (see [`refs`]): rows name tokens by a keyed hash, the
//! uuid is sealed. A store opens its refs with the data key (`open_references`) before any
//! method that names a token.
//!
//! ## PostgreSQL
//!
//! See the `postgres` module: a connection pool, one transaction per method, uniqueness and
//! counters enforced by PostgreSQL itself, and `LISTEN/NOTIFY` to wake other servers' change
//! followers.

#[macro_use]
mod sql;
pub mod audit;
pub mod backup;
mod codec;
pub mod migrate;
mod postgres;
pub mod refs;
mod roles;
mod rows;
pub mod sealed;
mod sqlite;

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod testing;

pub use postgres::{postgres_database_version, PostgresOptions, PostgresStore};
pub use refs::{DataKeyCell, RefKeys};
pub use sealed::{SealedColumn, SEALED_COLUMNS};
pub use sqlite::{SqliteOptions, SqliteStore};

/// The schema migrations shipped with this build, as (version, name, SQL).
pub fn sqlite_migrations() -> &'static [(u32, &'static str, &'static str)] {
    migrate::SQLITE
}

/// The PostgreSQL schema migrations shipped with this build, as (version, name, SQL).
pub fn postgres_migrations() -> &'static [(u32, &'static str, &'static str)] {
    postgres::POSTGRES_MIGRATIONS
}

#[cfg(test)]
mod tests {
    /// The two backends number and name their migrations alike, so a database of either kind
    /// at version N has the same tables and meaning.
    #[test]
    fn both_backends_number_and_name_their_migrations_alike() {
        let names = |m: &[(u32, &str, &str)]| m.iter().map(|(v, n, _)| (*v, n.to_string())).collect::<Vec<_>>();
        assert_eq!(names(super::postgres_migrations()), names(super::sqlite_migrations()));
        assert_eq!(super::sqlite_migrations().last().map(|m| m.0), Some(super::migrate::newest_version()));
    }
}
