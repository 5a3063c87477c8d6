//! Roles: named sets of grants that users hold, and what a user may do through them.
//!
//! A user may do what their **effective grants** allow: the grants given to them directly (the
//! `grants` every user had before roles, kept as they were) united with the grants of every role
//! they hold. [`effective_grants`] is the one place that rule is written; the store reads users
//! with it ([`UserAccess`]), so a change to a role changes what each holder may do from the next
//! read on.
//!
//! The built-in roles are defined here, and only here ([`built_ins`]): `administrator` (every
//! capability), `token-manager` (create, view and revoke tokens), `viewer` (view tokens and
//! namespaces), and their staging-only twins `administrator-staging`, `token-manager-staging`
//! and `viewer-staging`, which hold the `*_STAGING_*` twin of each of those grants that has one
//! ([`Capability::staging_twin`]). They are never stored, so they cannot be changed or deleted;
//! custom roles are stored and can be.

use crate::capability::{Capability, Grants};
use crate::error::Error;
use crate::names::RoleName;
use crate::network::Networks;
use crate::notify::User;

/// A named set of grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Unique name.
    pub name: RoleName,
    /// What it is for (may be empty).
    pub description: String,
    /// What its holders may do.
    pub grants: Grants,
    /// Defined by Edgeward ([`built_ins`]): neither changed nor deleted.
    pub built_in: bool,
}

/// The suffix of a built-in role's staging-only twin.
const STAGING_SUFFIX: &str = "-staging";

/// The plain built-in roles: name, description and grants.
fn plain_built_ins() -> [(&'static str, &'static str, Grants); 3] {
    use Capability as C;
    [
        ("administrator", "Every capability.", Grants::all()),
        (
            "token-manager",
            "Create, view and revoke access tokens.",
            Grants::new([C::CreateToken, C::ViewToken, C::RevokeToken]),
        ),
        ("viewer", "View access tokens and namespaces.", Grants::new([C::ViewToken, C::ViewNamespace])),
    ]
}

/// The `*_STAGING_*` twins of the grants that have one.
fn staging_twins(grants: &Grants) -> Grants {
    Grants::new(grants.iter().filter_map(Capability::staging_twin))
}

/// Every built-in role: each plain one, then its staging-only twin.
pub fn built_ins() -> Vec<Role> {
    let mut out = Vec::new();
    for (name, description, grants) in plain_built_ins() {
        let twin = Role {
            name: RoleName::parse(&format!("{name}{STAGING_SUFFIX}")).expect("a built-in name follows the rule"),
            description: format!("{description} Staging only."),
            grants: staging_twins(&grants),
            built_in: true,
        };
        out.push(Role {
            name: RoleName::parse(name).expect("a built-in name follows the rule"),
            description: description.to_owned(),
            grants,
            built_in: true,
        });
        out.push(twin);
    }
    out
}

/// The built-in role of this name, if there is one.
pub fn built_in(name: &str) -> Option<Role> {
    built_ins().into_iter().find(|r| r.name.as_str() == name)
}

/// Longest accepted description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// Parse a role's description: trimmed, at most [`MAX_DESCRIPTION_LEN`] bytes, no control
/// characters (empty is allowed).
pub fn parse_description(d: &str) -> Result<String, Error> {
    let d = d.trim();
    if d.len() > MAX_DESCRIPTION_LEN || d.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            format!("a role's description must be at most {MAX_DESCRIPTION_LEN} printable characters."),
        ));
    }
    Ok(d.to_owned())
}

/// **The one rule** of what a user may do: their direct grants united with the grants of every
/// role they hold. A held role is looked up among the built-in roles, then in `custom` (the
/// stored roles, or at least those the user holds); a name found in neither (a role deleted
/// meanwhile) adds nothing.
pub fn effective_grants(user: &User, custom: &[Role]) -> Grants {
    let built = built_ins();
    let held = user.roles.iter().filter_map(|name| {
        built.iter().chain(custom).find(|r| &r.name == name).map(|r| r.grants.iter().collect::<Vec<_>>())
    });
    Grants::new(user.grants.iter().chain(held.flatten()))
}

/// A user and what they may do: the store's answer wherever a decision is made about a user
/// (the expiry check's recipients, a console session's request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    /// The user (their direct grants and the names of their roles).
    pub user: User,
    /// Their effective grants ([`effective_grants`]).
    pub grants: Grants,
}

impl UserAccess {
    /// `user` with the grants of their roles, looked up in `custom` (see [`effective_grants`]).
    pub fn new(user: User, custom: &[Role]) -> Self {
        let grants = effective_grants(&user, custom);
        Self { user, grants }
    }

    /// Whether this user is told about a token valid on `networks`: active, and allowed to
    /// create such a token by their effective grants (`CREATE_TOKEN`, or `CREATE_STAGING_TOKEN`
    /// for a staging-only one).
    pub fn is_told_about(&self, networks: Networks) -> bool {
        self.user.active && self.grants.allows(Capability::CreateToken, networks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn user(grants: &[Capability], roles: &[&str]) -> User {
        User {
            id: uuid::Uuid::nil(),
            name: "ana".into(),
            email: None,
            email_registered: false,
            active: true,
            grants: Grants::new(grants.iter().copied()),
            roles: roles.iter().map(|r| RoleName::parse(r).unwrap()).collect(),
            created_at: chrono::Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    fn custom(name: &str, grants: &[Capability]) -> Role {
        Role {
            name: RoleName::parse(name).unwrap(),
            description: String::new(),
            grants: Grants::new(grants.iter().copied()),
            built_in: false,
        }
    }

    #[test]
    fn the_built_in_roles_and_their_staging_twins() {
        use Capability as C;
        let roles: Vec<(String, Grants)> = built_ins().into_iter().map(|r| (r.name.to_string(), r.grants)).collect();
        let staging_all = Grants::new(Capability::ALL.into_iter().filter_map(Capability::staging_twin));
        assert_eq!(
            roles,
            [
                ("administrator".to_owned(), Grants::all()),
                ("administrator-staging".to_owned(), staging_all),
                ("token-manager".to_owned(), Grants::new([C::CreateToken, C::ViewToken, C::RevokeToken])),
                (
                    "token-manager-staging".to_owned(),
                    Grants::new([C::CreateStagingToken, C::ViewStagingToken, C::RevokeStagingToken])
                ),
                ("viewer".to_owned(), Grants::new([C::ViewToken, C::ViewNamespace])),
                ("viewer-staging".to_owned(), Grants::new([C::ViewStagingToken, C::ViewStagingNamespace])),
            ]
        );
        assert!(built_ins().iter().all(|r| r.built_in && !r.description.is_empty()));
        let twin = built_in("administrator-staging").unwrap();
        assert!(twin.grants.iter().all(|c| c != C::ManageNotifications && c != C::CreateToken));
        assert_eq!(
            built_in("token-manager-staging").unwrap().description,
            "Create, view and revoke access tokens. Staging only."
        );
        assert_eq!(built_in("nope"), None);
    }

    #[test]
    fn effective_grants_unite_direct_grants_and_every_held_role() {
        use Capability as C;
        let ops = custom("ops", &[C::ViewAudit]);
        let u = user(&[C::ManageNotifications], &["token-manager", "ops", "deleted-meanwhile"]);
        assert_eq!(
            effective_grants(&u, std::slice::from_ref(&ops)),
            Grants::new([C::ManageNotifications, C::CreateToken, C::ViewToken, C::RevokeToken, C::ViewAudit])
        );
        // Without roles, the direct grants are exactly what a user may do (existing users).
        let direct = user(&[C::CreateToken, C::ViewToken], &[]);
        assert_eq!(effective_grants(&direct, &[ops]), direct.grants);
        assert_eq!(effective_grants(&user(&[], &[]), &[]), Grants::default());
    }

    #[test]
    fn who_is_told_follows_the_roles_grants() {
        use Capability as C;
        let staging_only = Networks { staging: true, production: false };
        let manager = UserAccess::new(user(&[], &["token-manager"]), &[]);
        assert!(manager.is_told_about(Networks::BOTH) && manager.is_told_about(staging_only));
        let twin = UserAccess::new(user(&[], &["token-manager-staging"]), &[]);
        assert!(twin.is_told_about(staging_only) && !twin.is_told_about(Networks::BOTH));
        // A custom role that loses CREATE_TOKEN no longer makes its holders recipients.
        let holder = user(&[], &["releasers"]);
        assert!(
            UserAccess::new(holder.clone(), &[custom("releasers", &[C::CreateToken])]).is_told_about(Networks::BOTH)
        );
        assert!(!UserAccess::new(holder.clone(), &[custom("releasers", &[C::ViewToken])]).is_told_about(Networks::BOTH));
        let mut inactive = UserAccess::new(user(&[C::CreateToken], &[]), &[]);
        inactive.user.active = false;
        assert!(!inactive.is_told_about(Networks::BOTH));
    }

    #[test]
    fn descriptions_are_trimmed_printable_and_bounded() {
        assert_eq!(parse_description("  For the release team. ").unwrap(), "For the release team.");
        assert_eq!(parse_description("").unwrap(), "");
        assert!(parse_description(&"a".repeat(MAX_DESCRIPTION_LEN)).is_ok());
        for bad in ["a\nb", &"a".repeat(MAX_DESCRIPTION_LEN + 1)] {
            assert!(matches!(parse_description(bad), Err(Error::Invalid { field: "description", .. })), "{bad:?}");
        }
    }
}
