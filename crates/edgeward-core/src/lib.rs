//! Edgeward's domain: the rules of access tokens and of the account they belong to.
//!
//! Invariant: no I/O here. No sockets, no files, no SQL, no HTTP types, and no reading of the
//! system time except through [`clock::Clock`]. Everything a request carries is parsed into the
//! newtypes of this crate before it reaches a store.

pub mod audit;
pub mod capability;
pub mod clock;
pub mod error;
pub mod limits;
pub mod names;
pub mod namespace;
pub mod network;
pub mod notify;
pub mod permission;
pub mod refusal;
pub mod role;
pub mod session;
pub mod store;
pub mod token;

pub use error::{Error, Resource};
