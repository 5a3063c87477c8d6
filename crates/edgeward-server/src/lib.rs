//! The Edgeward server: the composition root and the HTTP surface.
//!
//! - [`bootstrap`] prepares a data directory (database, keys, TLS certificate, account, first
//!   API client) and is the only module that reads or writes files.
//! - [`app`] wires state and routers and runs the listeners until shutdown.
//! - [`auth`] verifies EdgeGrid signatures and resolves the calling API client.
//! - [`routes`] holds the handlers; `edgeward-wire` the JSON shapes clients send and read.
//! - [`problem`] is the one place where errors become HTTP responses.
//! - [`service`] holds the token operations the handlers call.
//! - [`jobs`] runs scheduled work (refresh, purge, retiring unused signing keys).
//! - [`keys`] holds the signing keys and the data key at run time, and rotates them.
//!
//! Invariant: the admin API and the data plane are separate routers on separate listeners.

pub mod app;
pub mod audit;
pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod config;
pub mod dataplane;
pub mod follow;
pub mod item_cache;
pub mod items;
pub mod jobs;
pub mod keys;
pub mod listen;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod outbox;
pub mod permit;
pub mod problem;
pub mod routes;
pub mod service;
pub mod state;
pub mod tls;
pub mod webhook;

pub use app::{spawn, RunningServer};
pub use config::{DatabaseConfig, ServeConfig};
