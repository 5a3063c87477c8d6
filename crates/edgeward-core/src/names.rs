//! Validated names and identifiers: token, namespace and API client names, EdgeWorker IDs, the
//! group, item and sandbox names that say where an item lives, role names, display names, e-mail
//! addresses and access group ids.
//!
//! A value of these types is proof that the string passed the rules; parse at the edge, then
//! trust the type. Each refusal is an [`Error::Invalid`] with the text the client sees.

use std::fmt;

use crate::error::Error;
use crate::network::Network;

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

/// A role's name: 1 to [`RoleName::MAX_LEN`] lowercase letters, digits, `-` and `_`, starting
/// with a letter (the built-in roles are `administrator`, `token-manager`, `viewer` and their
/// `-staging` twins; see `crate::role`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(String);

impl RoleName {
    /// Longest accepted length.
    pub const MAX_LEN: usize = 64;

    /// Parse: 1 to `MAX_LEN` of `[a-z0-9_-]`, starting with a letter `a-z`. The refusal names
    /// `field` (`name` for a role's own name, `roles` for a role a user is given).
    pub fn parse_as(s: &str, field: &'static str) -> Result<Self, Error> {
        let ok = s.len() <= Self::MAX_LEN
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "{s:?} is not a role name: a role name is 1 to {} characters of a-z, 0-9, '-' and '_', starting with a letter a-z.",
                    Self::MAX_LEN
                ),
            ))
        }
    }

    /// Parse a role's own name ([`RoleName::parse_as`] with the field `name`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::parse_as(s, "name")
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RoleName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

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

/// The `field`s of the refusals of a namespace, group, item or sandbox name that breaks its
/// rules, and of nothing else (EdgeKV answers these in its data family, not as a validation
/// error; other refusals about these fields name them otherwise, e.g. `namespace`).
pub mod field {
    /// A namespace name of a namespace or item request (path or body).
    pub const NAMESPACE: &str = "namespace name";
    /// A group name of an item request.
    pub const GROUP: &str = "group name";
    /// An item name (key) of an item request.
    pub const ITEM: &str = "item name";
    /// The `sandboxId` query parameter.
    pub const SANDBOX: &str = "sandbox id";
}

/// The text for a namespace, group, item or sandbox name that breaks the rules.
fn segment_refusal(field: &'static str, what: &str) -> Error {
    Error::invalid(field, format!("{what} must only use a string that matches A-Z a-z 0-9 _ or -."))
}

impl NamespaceName {
    /// Parse the namespace a namespace or item request names (in its path or body): the rules
    /// of [`NamespaceName::parse`], refused with EdgeKV's text for a namespace
    /// ([`field::NAMESPACE`]).
    pub fn parse_requested(s: &str) -> Result<Self, Error> {
        Self::parse(s).map_err(|_| segment_refusal(field::NAMESPACE, "Namespace"))
    }
}

macro_rules! segment_type {
    ($(#[$doc:meta])* $ty:ident, $field:expr, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            /// Longest accepted length.
            pub const MAX_LEN: usize = $max;

            /// Parse: 1 to `MAX_LEN` of `[A-Za-z0-9_-]` (a leading `-` is allowed).
            pub fn parse(s: &str) -> Result<Self, Error> {
                Self::check(s)?;
                Ok(Self(s.to_owned()))
            }

            /// [`Self::parse`] keeping the string it is given (a path segment already owned).
            pub fn parse_owned(s: String) -> Result<Self, Error> {
                Self::check(&s)?;
                Ok(Self(s))
            }

            fn check(s: &str) -> Result<(), Error> {
                let ok = !s.is_empty()
                    && s.len() <= $max
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if ok {
                    Ok(())
                } else {
                    Err(segment_refusal($field, $what))
                }
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

        impl From<$ty> for String {
            fn from(n: $ty) -> String {
                n.0
            }
        }
    };
}

segment_type!(
    /// The name of a group of items in a namespace.
    GroupName, field::GROUP, "Group", 128
);
segment_type!(
    /// The name (key) of an item in a group.
    ItemName, field::ITEM, "Key", 512
);
segment_type!(
    /// A sandbox id (`sandboxId`): sandboxes exist on the staging network only.
    SandboxId, field::SANDBOX, "sandboxId", 128
);

impl SandboxId {
    /// The sandbox a request names on `network` (`sandboxId`; absent or empty: none). Sandboxes
    /// exist on staging only, so production refuses any, rather than store items that nobody
    /// could list or delete there (that refusal names the `network` field).
    pub fn for_network(raw: Option<&str>, network: Network) -> Result<Option<Self>, Error> {
        match raw.filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(_) if network == Network::Production => {
                Err(Error::invalid("network", "sandboxId is only supported on the staging network."))
            }
            Some(s) => Self::parse(s).map(Some),
        }
    }
}

/// A display name (of a user, an escalation contact, an access group): 1 to 128 printable
/// characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest accepted length, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Parse: trimmed, 1 to `MAX_LEN` bytes, no control characters.
    pub fn parse(n: &str) -> Result<Self, Error> {
        let n = n.trim();
        if n.is_empty() || n.len() > Self::MAX_LEN || n.chars().any(char::is_control) {
            return Err(Error::invalid("name", "a name must be 1 to 128 printable characters."));
        }
        Ok(Self(n.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<DisplayName> for String {
    fn from(n: DisplayName) -> String {
        n.0
    }
}

/// An e-mail address, checked loosely (one `@`, a dot in the domain, no spaces, commas or
/// angle brackets) and trimmed; the SMTP server has the last word.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Longest accepted length, in bytes.
    pub const MAX_LEN: usize = 254;

    /// Parse (trimmed first).
    pub fn parse(e: &str) -> Result<Self, Error> {
        let e = e.trim();
        let ok = e.len() <= Self::MAX_LEN
            && e.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'))
            && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',');
        if !ok {
            return Err(Error::invalid("email", format!("{e:?} is not an e-mail address.")));
        }
        Ok(Self(e.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

/// An access group's id (`groupId`): a whole number from 0 (the account group, which stands
/// for every group) to [`AccessGroupId::MAX`], the largest a database column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessGroupId(u64);

impl AccessGroupId {
    /// Group 0, the account group: it always exists.
    pub const ACCOUNT: Self = Self(0);
    /// The largest id (`i64::MAX`).
    pub const MAX: u64 = i64::MAX.unsigned_abs();

    /// An id from a number; above [`AccessGroupId::MAX`] is refused.
    pub fn new(id: u64) -> Result<Self, Error> {
        if id > Self::MAX {
            return Err(Self::out_of_range(&id.to_string()));
        }
        Ok(Self(id))
    }

    /// An id from its decimal text (a path segment, a command-line argument).
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.parse::<u64>() {
            Ok(id) => Self::new(id),
            Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(Self::out_of_range(s)),
            Err(_) => Err(Error::invalid("groupId", "The group id must be a whole number of zero or more.")),
        }
    }

    fn out_of_range(id: &str) -> Error {
        Error::invalid(
            "groupId",
            format!("The group id {id} is out of range: a group id is a whole number from 0 to {}.", Self::MAX),
        )
    }

    /// The id.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The id as a signed 64-bit database column holds it (always zero or more).
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).expect("AccessGroupId::new bounds ids to i64::MAX")
    }

    /// EdgeKV's refusal for a group that does not exist (or that the caller cannot see):
    /// `NotFound` of an access group.
    pub fn no_access(self) -> Error {
        Error::NotFound {
            resource: crate::error::Resource::AccessGroup,
            message: format!("You do not have access to group {self}."),
        }
    }
}

impl TryFrom<i64> for AccessGroupId {
    type Error = Error;

    /// An id as a database column holds it; a negative one is refused.
    fn try_from(id: i64) -> Result<Self, Error> {
        u64::try_from(id).map(Self).map_err(|_| Self::out_of_range(&id.to_string()))
    }
}

impl fmt::Display for AccessGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
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

    fn refusal<T: fmt::Debug>(r: Result<T, Error>) -> (&'static str, String) {
        match r {
            Err(Error::Invalid { field, message }) => (field, message),
            other => panic!("not an Invalid refusal: {other:?}"),
        }
    }

    #[test]
    fn a_requested_namespace_keeps_the_name_rules_with_edgekvs_text() {
        assert_eq!(NamespaceName::parse_requested("shop_1-a").unwrap().as_str(), "shop_1-a");
        assert!(NamespaceName::parse_requested(&"a".repeat(32)).is_ok());
        for bad in ["", "-lead", "sp ace", "é", &"a".repeat(33)] {
            assert_eq!(
                refusal(NamespaceName::parse_requested(bad)),
                (field::NAMESPACE, "Namespace must only use a string that matches A-Z a-z 0-9 _ or -.".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn group_item_and_sandbox_names_accept_their_lengths_and_characters_only() {
        for (max, parse, field, what) in [
            (
                128,
                (|s: &str| GroupName::parse(s).map(String::from)) as fn(&str) -> Result<String, Error>,
                field::GROUP,
                "Group",
            ),
            (512, |s: &str| ItemName::parse(s).map(String::from), field::ITEM, "Key"),
            (128, |s: &str| SandboxId::parse(s).map(String::from), field::SANDBOX, "sandboxId"),
        ] {
            for good in ["a", "-lead", "A_z-09", &"a".repeat(max)] {
                assert_eq!(parse(good).unwrap(), good);
            }
            let text = format!("{what} must only use a string that matches A-Z a-z 0-9 _ or -.");
            for bad in ["", "sp ace", "a/b", "a.b", "é", "a\n", &"a".repeat(max + 1)] {
                assert_eq!(refusal(parse(bad)), (field, text.clone()), "{what} {bad:?}");
            }
        }
        // The owned form (the data plane's path segments) decides alike.
        for s in ["a", "-lead", "sp ace", "", &"a".repeat(129), &"a".repeat(512), &"a".repeat(513)] {
            assert_eq!(GroupName::parse_owned(s.to_owned()), GroupName::parse(s), "{s:?}");
            assert_eq!(ItemName::parse_owned(s.to_owned()), ItemName::parse(s), "{s:?}");
        }
        assert_eq!(GroupName::MAX_LEN, 128);
        assert_eq!(ItemName::MAX_LEN, 512);
        assert_eq!(SandboxId::MAX_LEN, 128);
    }

    #[test]
    fn a_sandbox_is_staging_only_and_empty_means_none() {
        assert_eq!(SandboxId::for_network(None, Network::Production).unwrap(), None);
        assert_eq!(SandboxId::for_network(Some(""), Network::Production).unwrap(), None);
        assert_eq!(SandboxId::for_network(Some(""), Network::Staging).unwrap(), None);
        assert_eq!(SandboxId::for_network(Some("sb-1"), Network::Staging).unwrap().unwrap().as_str(), "sb-1");
        assert_eq!(
            refusal(SandboxId::for_network(Some("sb-1"), Network::Production)),
            ("network", "sandboxId is only supported on the staging network.".into())
        );
        // On production the network is refused first, whatever the id.
        assert_eq!(refusal(SandboxId::for_network(Some("a b"), Network::Production)).0, "network");
        assert_eq!(refusal(SandboxId::for_network(Some("a b"), Network::Staging)).0, field::SANDBOX);
    }

    #[test]
    fn display_names_are_trimmed_printable_and_at_most_128_bytes() {
        assert_eq!(DisplayName::parse("  Shop team ").unwrap().as_str(), "Shop team");
        assert!(DisplayName::parse(&"a".repeat(128)).is_ok());
        assert!(DisplayName::parse(&format!(" {} ", "a".repeat(128))).is_ok());
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        for bad in ["", "   ", "a\tb", "a\u{7f}", &"a".repeat(129), &"é".repeat(65)] {
            assert_eq!(
                refusal(DisplayName::parse(bad)),
                ("name", "a name must be 1 to 128 printable characters.".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn email_addresses_are_checked_loosely_and_trimmed() {
        assert_eq!(EmailAddress::parse(" ops@example.com ").unwrap().as_str(), "ops@example.com");
        let long = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
        assert!(EmailAddress::parse(&long).is_ok());
        assert_eq!(refusal(EmailAddress::parse(&format!("a{long}"))).0, "email");
        for bad in [
            "",
            "ops",
            "@example.com",
            "ops@example",
            "ops@a@b.com",
            "o ps@example.com",
            "a,b@example.com",
            "<a@example.com>",
        ] {
            assert_eq!(
                refusal(EmailAddress::parse(bad)),
                ("email", format!("{:?} is not an e-mail address.", bad.trim())),
                "{bad:?}"
            );
        }
        assert_eq!(refusal(EmailAddress::parse(" x ")).1, "\"x\" is not an e-mail address.");
    }

    #[test]
    fn role_names_are_lowercase_words_starting_with_a_letter() {
        for good in ["viewer", "token-manager-staging", "ops_2", "a", &"a".repeat(64)] {
            assert_eq!(RoleName::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "Viewer", "2ops", "-ops", "_ops", "ops team", "ops.team", "é", &"a".repeat(65)] {
            assert_eq!(
                refusal(RoleName::parse(bad)),
                (
                    "name",
                    format!("{bad:?} is not a role name: a role name is 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter a-z.")
                ),
                "{bad:?}"
            );
        }
        assert_eq!(refusal(RoleName::parse_as("No", "roles")).0, "roles");
    }

    #[test]
    fn access_group_ids_go_from_0_to_i64_max() {
        assert_eq!(AccessGroupId::parse("0").unwrap(), AccessGroupId::ACCOUNT);
        assert_eq!(AccessGroupId::parse("4284").unwrap().get(), 4284);
        let max = AccessGroupId::parse("9223372036854775807").unwrap();
        assert_eq!((max.get(), max.as_i64()), (AccessGroupId::MAX, i64::MAX));
        assert_eq!(AccessGroupId::new(AccessGroupId::MAX).unwrap(), max);
        let above = "The group id 9223372036854775808 is out of range: a group id is a whole number from 0 to 9223372036854775807.";
        assert_eq!(refusal(AccessGroupId::parse("9223372036854775808")), ("groupId", above.into()));
        assert_eq!(refusal(AccessGroupId::new(AccessGroupId::MAX + 1)), ("groupId", above.into()));
        assert!(refusal(AccessGroupId::new(u64::MAX)).1.contains("out of range"));
        assert!(refusal(AccessGroupId::parse("99999999999999999999999")).1.contains("out of range"));
        for bad in ["", "x", "-1", "1.5", " 1"] {
            assert_eq!(
                refusal(AccessGroupId::parse(bad)),
                ("groupId", "The group id must be a whole number of zero or more.".into()),
                "{bad:?}"
            );
        }
        assert_eq!(AccessGroupId::try_from(i64::MAX).unwrap(), max);
        assert!(AccessGroupId::try_from(-1).is_err());
        assert_eq!(
            AccessGroupId::new(100).unwrap().no_access(),
            Error::NotFound {
                resource: crate::error::Resource::AccessGroup,
                message: "You do not have access to group 100.".into()
            }
        );
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
