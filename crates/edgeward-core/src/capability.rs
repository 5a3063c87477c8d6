//! Capability grants carried by API clients, named as in EdgeKV's access groups.
//!
//! The `*_STAGING_*` variants cover only tokens that are valid on staging alone; a token valid on
//! production needs the plain capability.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::network::Networks;

/// One grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // each variant is its EdgeKV name, listed in `as_str`
pub enum Capability {
    CreateToken,
    ViewToken,
    RevokeToken,
    CreateStagingToken,
    ViewStagingToken,
    RevokeStagingToken,
    ViewNamespace,
    CreateNamespace,
    ModifyNamespace,
    DeleteNamespace,
    AuthorizeNamespace,
    ViewStagingNamespace,
    CreateStagingNamespace,
    ModifyStagingNamespace,
    DeleteStagingNamespace,
    AuthorizeStagingNamespace,
    ReadData,
    WriteData,
    DeleteData,
    ReadStagingData,
    WriteStagingData,
    DeleteStagingData,
    /// Edgeward's own: run the expiry check on demand and read its status.
    ManageNotifications,
    /// Edgeward's own: read the audit trail.
    ViewAudit,
}

impl Capability {
    /// Every capability, in a stable order.
    pub const ALL: [Capability; 24] = [
        Self::CreateToken,
        Self::ViewToken,
        Self::RevokeToken,
        Self::CreateStagingToken,
        Self::ViewStagingToken,
        Self::RevokeStagingToken,
        Self::ViewNamespace,
        Self::CreateNamespace,
        Self::ModifyNamespace,
        Self::DeleteNamespace,
        Self::AuthorizeNamespace,
        Self::ViewStagingNamespace,
        Self::CreateStagingNamespace,
        Self::ModifyStagingNamespace,
        Self::DeleteStagingNamespace,
        Self::AuthorizeStagingNamespace,
        Self::ReadData,
        Self::WriteData,
        Self::DeleteData,
        Self::ReadStagingData,
        Self::WriteStagingData,
        Self::DeleteStagingData,
        Self::ManageNotifications,
        Self::ViewAudit,
    ];

    /// The EdgeKV name, e.g. `CREATE_TOKEN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateToken => "CREATE_TOKEN",
            Self::ViewToken => "VIEW_TOKEN",
            Self::RevokeToken => "REVOKE_TOKEN",
            Self::CreateStagingToken => "CREATE_STAGING_TOKEN",
            Self::ViewStagingToken => "VIEW_STAGING_TOKEN",
            Self::RevokeStagingToken => "REVOKE_STAGING_TOKEN",
            Self::ViewNamespace => "VIEW_NAMESPACE",
            Self::CreateNamespace => "CREATE_NAMESPACE",
            Self::ModifyNamespace => "MODIFY_NAMESPACE",
            Self::DeleteNamespace => "DELETE_NAMESPACE",
            Self::AuthorizeNamespace => "AUTHORIZE_NAMESPACE",
            Self::ViewStagingNamespace => "VIEW_STAGING_NAMESPACE",
            Self::CreateStagingNamespace => "CREATE_STAGING_NAMESPACE",
            Self::ModifyStagingNamespace => "MODIFY_STAGING_NAMESPACE",
            Self::DeleteStagingNamespace => "DELETE_STAGING_NAMESPACE",
            Self::AuthorizeStagingNamespace => "AUTHORIZE_STAGING_NAMESPACE",
            Self::ReadData => "READ_DATA",
            Self::WriteData => "WRITE_DATA",
            Self::DeleteData => "DELETE_DATA",
            Self::ReadStagingData => "READ_STAGING_DATA",
            Self::WriteStagingData => "WRITE_STAGING_DATA",
            Self::DeleteStagingData => "DELETE_STAGING_DATA",
            Self::ManageNotifications => "MANAGE_NOTIFICATIONS",
            Self::ViewAudit => "VIEW_AUDIT",
        }
    }

    /// The `*_STAGING_*` twin of a plain capability (covering the staging network only).
    pub fn staging_twin(self) -> Option<Capability> {
        Some(match self {
            Self::CreateToken => Self::CreateStagingToken,
            Self::ViewToken => Self::ViewStagingToken,
            Self::RevokeToken => Self::RevokeStagingToken,
            Self::ViewNamespace => Self::ViewStagingNamespace,
            Self::CreateNamespace => Self::CreateStagingNamespace,
            Self::ModifyNamespace => Self::ModifyStagingNamespace,
            Self::DeleteNamespace => Self::DeleteStagingNamespace,
            Self::AuthorizeNamespace => Self::AuthorizeStagingNamespace,
            Self::ReadData => Self::ReadStagingData,
            Self::WriteData => Self::WriteStagingData,
            Self::DeleteData => Self::DeleteStagingData,
            _ => return None,
        })
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Capability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let all: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown capability '{s}'; the capabilities are {}", all.join(", "))
        })
    }
}

/// The set of capabilities an API client holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(BTreeSet<Capability>);

impl Grants {
    /// Grants from a list.
    pub fn new(caps: impl IntoIterator<Item = Capability>) -> Self {
        Self(caps.into_iter().collect())
    }

    /// Every capability: what the bootstrap administrator holds.
    pub fn all() -> Self {
        Self::new(Capability::ALL)
    }

    /// Whether the plain capability is held.
    pub fn has(&self, c: Capability) -> bool {
        self.0.contains(&c)
    }

    /// The held capabilities.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }

    /// The one rule of grants: whether `cap` is held for `networks`. The plain capability
    /// covers every network; its `*_STAGING_*` twin covers staging alone, so it counts only when
    /// `networks` is staging alone (a token valid on staging only, a namespace on staging).
    /// Refusals, and the checks the admin API makes with this rule, are
    /// `edgeward_server::permit`'s.
    pub fn allows(&self, cap: Capability, networks: Networks) -> bool {
        self.has(cap) || (networks.staging_only() && cap.staging_twin().is_some_and(|t| self.has(t)))
    }

    /// Comma-separated EdgeKV names.
    pub fn to_list(&self) -> String {
        self.iter().map(Capability::as_str).collect::<Vec<_>>().join(",")
    }

    /// Parse a comma-separated list (empty items ignored).
    pub fn parse_list(s: &str) -> Result<Self, String> {
        s.split(',').filter(|p| !p.trim().is_empty()).map(str::parse).collect::<Result<BTreeSet<_>, _>>().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Network, Networks};

    #[test]
    fn staging_grants_cover_staging_only_tokens() {
        let g = Grants::new([Capability::CreateStagingToken]);
        assert!(g.allows(Capability::CreateToken, Networks { staging: true, production: false }));
        assert!(!g.allows(Capability::CreateToken, Networks { staging: true, production: true }));
        assert!(!g.allows(Capability::CreateToken, Networks { staging: false, production: true }));
        assert!(!g.allows(Capability::ViewToken, Networks::STAGING));
        let plain = Grants::new([Capability::CreateToken]);
        assert!(
            plain.allows(Capability::CreateToken, Networks::STAGING)
                && plain.allows(Capability::CreateToken, Networks::BOTH)
        );
    }

    #[test]
    fn a_staging_twin_covers_the_staging_network_only() {
        let g = Grants::new([Capability::DeleteStagingNamespace, Capability::ViewAudit]);
        assert!(g.allows(Capability::DeleteNamespace, Network::Staging.into()));
        assert!(!g.allows(Capability::DeleteNamespace, Network::Production.into()));
        assert!(g.allows(Capability::ViewAudit, Networks::BOTH), "a capability without a twin ignores networks");
        assert!(!g.allows(Capability::ManageNotifications, Networks::STAGING));
    }

    #[test]
    fn grant_lists_round_trip() {
        let g = Grants::all();
        assert_eq!(Grants::parse_list(&g.to_list()).unwrap(), g);
        assert!(Grants::parse_list("CREATE_TOKEN,NOPE").is_err());
    }
}
