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
pub enum Capability {
    /// Create tokens valid on any network.
    CreateToken,
    /// View tokens valid on any network.
    ViewToken,
    /// Revoke tokens valid on any network.
    RevokeToken,
    /// Create staging-only tokens.
    CreateStagingToken,
    /// View staging-only tokens.
    ViewStagingToken,
    /// Revoke staging-only tokens.
    RevokeStagingToken,
    /// View namespaces and the account's initialization status.
    ViewNamespace,
    /// Create namespaces and initialize the account.
    CreateNamespace,
}

impl Capability {
    /// Every capability, in a stable order.
    pub const ALL: [Capability; 8] = [
        Self::CreateToken,
        Self::ViewToken,
        Self::RevokeToken,
        Self::CreateStagingToken,
        Self::ViewStagingToken,
        Self::RevokeStagingToken,
        Self::ViewNamespace,
        Self::CreateNamespace,
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
        }
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
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown capability '{s}'"))
    }
}

/// The token operations gated by grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// Create (and refresh) a token.
    Create,
    /// List or retrieve a token.
    View,
    /// Revoke a token.
    Revoke,
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

    /// Whether `action` is allowed on a token valid on `networks`; on refusal, the capability
    /// that would have allowed it (named in the error the client sees).
    pub fn check_token(&self, action: TokenAction, networks: Networks) -> Result<(), Capability> {
        let (full, staging) = match action {
            TokenAction::Create => (Capability::CreateToken, Capability::CreateStagingToken),
            TokenAction::View => (Capability::ViewToken, Capability::ViewStagingToken),
            TokenAction::Revoke => (Capability::RevokeToken, Capability::RevokeStagingToken),
        };
        if self.has(full) || (networks.staging_only() && self.has(staging)) {
            Ok(())
        } else {
            Err(full)
        }
    }

    /// Whether the client may see any token at all (used for listing).
    pub fn can_view_some_tokens(&self) -> bool {
        self.has(Capability::ViewToken) || self.has(Capability::ViewStagingToken)
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
    use crate::network::Networks;

    #[test]
    fn staging_grants_cover_staging_only_tokens() {
        let g = Grants::new([Capability::CreateStagingToken]);
        assert!(g.check_token(TokenAction::Create, Networks { staging: true, production: false }).is_ok());
        assert_eq!(
            g.check_token(TokenAction::Create, Networks { staging: true, production: true }),
            Err(Capability::CreateToken)
        );
        assert_eq!(g.check_token(TokenAction::View, Networks::STAGING), Err(Capability::ViewToken));
    }

    #[test]
    fn grant_lists_round_trip() {
        let g = Grants::all();
        assert_eq!(Grants::parse_list(&g.to_list()).unwrap(), g);
        assert!(Grants::parse_list("CREATE_TOKEN,NOPE").is_err());
    }
}
