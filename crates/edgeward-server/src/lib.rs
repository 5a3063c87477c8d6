//! The Edgeward server: the composition root and the HTTP surface.
//!
//! - [`bootstrap`] prepares a data directory (database, keys, TLS certificate, account, first
//!   API client) and is the only module that reads or writes files.
//! - [`server`] is the composition root: it checks the configuration, binds the listeners,
//!   builds the state ([`state::AppState::new`], no I/O) and serves until shutdown, with the
//!   background tasks registered in one list ([`server::background_tasks`]).
//! - [`app`] holds the routers and the middleware every request passes through.
//! - [`auth`] verifies EdgeGrid signatures and resolves the calling API client.
//! - [`console`] is the web console on the admin listener: sign-in, sessions, pages.
//! - [`routes`] holds the handlers; `edgeward-wire` the JSON shapes clients send and read.
//! - [`problem`] is the one place where errors become HTTP responses.
//! - [`service`] holds the token operations the handlers call; [`data_service`] the
//!   namespace, group and item operations the admin API and the console share; [`people`] the
//!   operations on users, roles, contacts and API clients.
//! - [`jobs`] runs scheduled work (refresh, purge, retiring unused signing keys).
//! - [`keys`] holds the signing keys and the data key at run time, and rotates them.
//! - [`listen`] is every listener's accept loop; [`workers`] the data plane's threads, each
//!   with its own runtime, to which the data-plane listeners hand their connections.
//!
//! Invariant: the admin API and the data plane are separate routers on separate listeners.

pub mod app;
pub mod audit;
pub mod auth;
pub mod body;
pub mod bootstrap;
pub mod config;
pub mod console;
pub mod data_service;
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
pub mod password;
pub mod people;
pub mod permit;
pub mod problem;
pub mod routes;
pub mod server;
pub mod service;
pub mod state;
pub mod tls;
pub mod token_names;
pub mod webhook;
pub mod workers;

pub use config::{DatabaseConfig, ServeConfig};
pub use server::{spawn, RunningServer};
