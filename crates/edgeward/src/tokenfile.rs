//! `edgekv_tokens.js`: the reader and the one writer live in `edgeward_wire::tokenfile` (the
//! server's console writes the file too); the CLI's modules name them here.

pub use edgeward_wire::tokenfile::*;
