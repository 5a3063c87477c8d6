//! The storage conformance suite on both backends, check by check, and each backend's own checks.
mod postgres_conformance;
mod sqlite_conformance;
