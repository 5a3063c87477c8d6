//! The server's integration tests, one binary: real servers on loopback ports (HTTPS admin API,
//! data plane, several nodes on one database, PostgreSQL outages) and the routers driven
//! in-process. Each module is one area; `common` is the harness they share.
mod common;

mod audit;
mod auth;
mod browser;
mod console;
mod console_data;
mod console_people;
mod console_tokens;
mod data_plane;
mod files;
mod first_start;
mod http_edges;
mod keys;
mod namespaces_api;
mod notify_api;
mod notify_check;
mod postgres_outage;
mod revocation;
mod router;
mod slow_clients;
mod tokens_api;
mod two_nodes;
