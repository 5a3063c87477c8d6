//! What the store refuses, in the words a client sees: one constructor per refusal, so a
//! text is written once whichever backend refuses. The server's error table (`problem.rs`)
//! chooses the status and EdgeKV code from the variant and resource.

use crate::error::{Error, Resource};
use crate::names::{AccessGroupId, ClientName, NamespaceName, RoleName, TokenName};
use crate::network::Network;

/// No live token has this name.
pub fn token_not_found(name: &TokenName) -> Error {
    Error::NotFound { resource: Resource::Token, message: format!("Token with name {name} does not exist.") }
}

/// A live token already has this name.
pub fn token_name_taken(name: &TokenName) -> Error {
    Error::AlreadyExists { resource: Resource::Token, message: format!("Token with name {name} is already stored.") }
}

/// A token with a fixed expiry date cannot be refreshed.
pub fn token_not_refreshable(name: &TokenName) -> Error {
    Error::Refused {
        resource: Resource::Token,
        message: format!(
            "Token {name} has a fixed expiry date and cannot be refreshed; create a new token (or rotate) instead."
        ),
    }
}

/// The token to revoke does not exist, or was revoked already.
pub fn token_already_revoked() -> Error {
    Error::NotFound { resource: Resource::Token, message: "The token does not exist or was already revoked.".into() }
}

/// No token-signing key has this key id.
pub fn unknown_signing_key(kid: &str) -> Error {
    Error::invalid("kid", format!("There is no token-signing key {kid}."))
}

/// The token does not exist.
pub fn token_missing() -> Error {
    Error::NotFound { resource: Resource::Token, message: "The token does not exist.".into() }
}

/// The account (the EdgeKV database) is not initialized.
pub fn not_initialized() -> Error {
    Error::Refused { resource: Resource::Account, message: "The EdgeKV database is not initialized.".into() }
}

/// The account holds as many tokens as it may.
pub fn token_limit(max: u64) -> Error {
    Error::LimitExceeded(format!(
        "Each account is allowed {max} tokens. This limit has already been reached; revoke unused tokens first."
    ))
}

/// A token names a namespace that does not exist on a network it is for.
pub fn namespace_not_on(ns: &NamespaceName, net: Network) -> Error {
    Error::invalid("namespacePermissions", format!("Namespace '{ns}' does not exist on the {net} network."))
}

/// The namespace does not exist.
pub fn namespace_missing() -> Error {
    crate::namespace::missing()
}

/// A namespace of this name exists with other settings.
pub fn namespace_conflict(name: &NamespaceName) -> Error {
    Error::AlreadyExists {
        resource: Resource::Namespace,
        message: format!("A namespace with the name {name} already exists with a different configuration"),
    }
}

/// The account holds as many namespaces as it may.
pub fn namespace_limit(max: usize) -> Error {
    Error::LimitExceeded(format!("Each account is allowed {max} namespaces. This limit has already been reached."))
}

/// The access group does not exist (or the caller cannot see it).
pub fn access_group_missing(group_id: AccessGroupId) -> Error {
    group_id.no_access()
}

/// An access group with this id exists.
pub fn access_group_taken(group_id: AccessGroupId) -> Error {
    Error::AlreadyExists {
        resource: Resource::AccessGroup,
        message: format!("Access group {group_id} already exists."),
    }
}

/// The account group (0) is never deleted.
pub fn account_group_kept() -> Error {
    Error::Refused { resource: Resource::AccessGroup, message: "The account group (0) cannot be deleted.".into() }
}

/// The access group still holds namespaces.
pub fn access_group_in_use(group_id: AccessGroupId, used: i64) -> Error {
    Error::Refused {
        resource: Resource::AccessGroup,
        message: format!("Access group {group_id} still holds {used} namespace(s); move them first."),
    }
}

/// No API client has this name.
pub fn client_not_found(name: &ClientName) -> Error {
    Error::NotFound { resource: Resource::ApiClient, message: format!("API client {name} does not exist.") }
}

/// An API client has this name already.
pub fn client_name_taken(name: &ClientName) -> Error {
    Error::AlreadyExists {
        resource: Resource::ApiClient,
        message: format!("An API client named {name} already exists."),
    }
}

/// No user has this name.
pub fn user_missing(name: &str) -> Error {
    Error::NotFound { resource: Resource::Person, message: format!("User {name} does not exist.") }
}

/// A user has this name already.
pub fn user_taken(name: &str) -> Error {
    Error::AlreadyExists { resource: Resource::Person, message: format!("User {name} already exists.") }
}

/// No escalation contact has this address.
pub fn contact_missing(email: &str) -> Error {
    Error::NotFound { resource: Resource::Person, message: format!("Escalation contact {email} does not exist.") }
}

/// No role, built-in or custom, has this name.
pub fn role_missing(name: &RoleName) -> Error {
    Error::NotFound { resource: Resource::Role, message: format!("Role {name} does not exist.") }
}

/// A role, built-in or custom, has this name already.
pub fn role_taken(name: &RoleName) -> Error {
    Error::AlreadyExists { resource: Resource::Role, message: format!("A role named {name} already exists.") }
}

/// Built-in roles are defined by Edgeward: neither changed nor deleted.
pub fn role_built_in(name: &RoleName) -> Error {
    Error::Refused {
        resource: Resource::Role,
        message: format!(
            "Role {name} is built in and cannot be changed or deleted; create a custom role with the grants you need."
        ),
    }
}

/// Users still hold the role.
pub fn role_held(name: &RoleName, holders: u64) -> Error {
    Error::InUse {
        resource: Resource::Role,
        message: format!("Role {name} is held by {holders} user(s); take it from them first."),
    }
}

/// A user is given a role that does not exist.
pub fn unknown_role(name: &RoleName) -> Error {
    Error::invalid("roles", format!("Role {name} does not exist."))
}
