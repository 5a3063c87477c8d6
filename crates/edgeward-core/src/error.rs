//! The domain error: what went wrong, in terms a user understands, with no HTTP in it.
//!
//! The server maps each variant to a status and an EdgeKV `errorCode` in one place.

use crate::capability::Capability;

/// Which kind of thing an error is about; decides the EdgeKV error code family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// An access token.
    Token,
    /// A namespace.
    Namespace,
    /// An API client.
    ApiClient,
    /// The account (initialization).
    Account,
    /// An access group.
    AccessGroup,
    /// A user or escalation contact.
    Person,
    /// A role (a named set of grants users hold).
    Role,
    /// An item, or a group of items, in a namespace.
    Item,
    /// A namespace's scheduled deletion.
    ScheduledDeletion,
}

/// A domain failure. `Display` is the message shown to the client; it never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The named thing does not exist.
    #[error("{message}")]
    NotFound {
        /// What was looked for.
        resource: Resource,
        /// Client-facing text.
        message: String,
    },
    /// The thing existed but has expired.
    #[error("{message}")]
    Gone {
        /// What was looked for.
        resource: Resource,
        /// Client-facing text.
        message: String,
    },
    /// A live thing with that identity already exists.
    #[error("{message}")]
    AlreadyExists {
        /// What conflicted.
        resource: Resource,
        /// Client-facing text.
        message: String,
    },
    /// Input broke a rule.
    #[error("{message}")]
    Invalid {
        /// The request field at fault (for a name of where an item lives, one of
        /// [`crate::names::field`]).
        field: &'static str,
        /// Client-facing text.
        message: String,
    },
    /// The thing is still in use by others, so it cannot go (a role users hold).
    #[error("{message}")]
    InUse {
        /// What is in use.
        resource: Resource,
        /// Client-facing text.
        message: String,
    },
    /// The operation is not allowed on this thing in its current state.
    #[error("{message}")]
    Refused {
        /// What was refused.
        resource: Resource,
        /// Client-facing text.
        message: String,
    },
    /// The caller lacks a capability grant.
    #[error("That resource does not exist or you are missing the '{0}' permission for it.")]
    Forbidden(Capability),
    /// A product limit is reached (namespaces or tokens per account, a value's size).
    #[error("{0}")]
    LimitExceeded(String),
    /// Someone else (another server) is doing this now; retrying shortly may work.
    #[error("{0}")]
    Busy(String),
    /// A dependency (the database) cannot serve now; retrying may work.
    #[error("The service is temporarily unavailable.")]
    Unavailable(String),
    /// A bug or an unexpected failure; the string goes to the log, not to the client.
    #[error("An internal error occurred.")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// The detail that belongs in the server log (may differ from the client message).
    pub fn log_detail(&self) -> String {
        match self {
            Self::Unavailable(d) | Self::Internal(d) => d.clone(),
            other => other.to_string(),
        }
    }
}

/// Result with the domain error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_and_unavailable_details_go_to_the_log_not_to_the_client() {
        for e in [Error::Internal("disk /var/x: secret".into()), Error::Unavailable("pg at 10.0.0.1: secret".into())] {
            assert!(!e.to_string().contains("secret"), "{e}");
            assert!(e.log_detail().contains("secret"));
        }
        let shown = Error::invalid("name", "Name contains invalid characters.");
        assert_eq!(shown.to_string(), shown.log_detail());
    }
}
