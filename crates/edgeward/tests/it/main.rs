//! The `edgeward` binary's integration tests, one binary: the CLI and the server it starts, token
//! files, key rotation, notifications, and the house rules lints cannot say (`tidy`).
mod common;

mod backup;
mod binary;
mod cli;
mod contrib;
mod data;
mod keys;
mod metrics;
mod notify;
mod passwords;
mod roles;
mod scheduled_revocation;
mod status;
mod tidy;
