//! Validated names: token names, namespace names, EdgeWorker IDs.
//!
//! A value of these types is proof that the string passed the rules; parse at the edge, then
//! trust the type.

use std::fmt;

use crate::error::Error;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn check_name(s: &str, field: &'static str, what: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() || s.len() > max {
        return Err(Error::invalid(field, format!("{what} must be between 1 and {max} characters long.")));
    }
    if !s.chars().all(is_name_char) || s.starts_with('-') {
        return Err(Error::invalid(field, "Name contains invalid characters."));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $field:literal, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            /// Longest accepted length.
            pub const MAX_LEN: usize = $max;

            /// Parse: 1 to `MAX_LEN` of `[A-Za-z0-9_-]`, not starting with `-`.
            pub fn parse(s: &str) -> Result<Self, Error> {
                check_name(s, $field, $what, $max)?;
                Ok(Self(s.to_owned()))
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A token name.
    TokenName, "name", "Token name", 32
);
name_type!(
    /// A namespace name.
    NamespaceName, "namespacePermissions", "Namespace name", 32
);
name_type!(
    /// An API client's name (Edgeward's own; used by `edgeward apiclient`).
    ClientName, "name", "API client name", 64
);

/// An EdgeWorker ID: a decimal number, kept as the string clients send.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeWorkerId(String);

impl EdgeWorkerId {
    /// Parse a decimal EdgeWorker ID of 1 to 10 digits.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                "restrictToEdgeWorkerIds",
                format!(
                    "EdgeWorker ID '{}' is not a number; give EdgeWorker IDs as digits, or 'all'.",
                    s.escape_debug()
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EdgeWorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (of a user, an escalation contact, an access group): 1 to 128 printable
/// characters, trimmed.
pub fn check_display_name(n: &str) -> Result<String, String> {
    let n = n.trim();
    if n.is_empty() || n.len() > 128 || n.chars().any(char::is_control) {
        return Err("a name must be 1 to 128 printable characters".into());
    }
    Ok(n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert!(TokenName::parse("my_token-1").is_ok());
        assert!(TokenName::parse("-lead").is_err());
        assert!(TokenName::parse("").is_err());
        assert!(TokenName::parse(&"a".repeat(33)).is_err());
        assert!(TokenName::parse(&"a".repeat(32)).is_ok());
        assert!(TokenName::parse("sp ace").is_err());
        assert!(TokenName::parse("é").is_err());
        assert!(EdgeWorkerId::parse("12345").is_ok());
        assert!(EdgeWorkerId::parse("12a").is_err());
    }

    proptest! {
        #[test]
        fn valid_names_parse(s in "[A-Za-z0-9_][A-Za-z0-9_-]{0,31}") {
            let n = TokenName::parse(&s).unwrap();
            prop_assert_eq!(n.as_str(), s.as_str());
        }

        #[test]
        fn any_accepted_name_obeys_the_rules(s in ".{0,40}") {
            if let Ok(n) = TokenName::parse(&s) {
                prop_assert!((1..=32).contains(&n.as_str().len()));
                prop_assert!(n.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
                prop_assert!(!n.as_str().starts_with('-'));
            }
        }
    }
}
