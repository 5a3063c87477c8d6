//! The two EdgeKV networks, and the set of networks a token is valid on.

use std::fmt;

use crate::error::Error;

/// One network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The staging network.
    Staging,
    /// The production network.
    Production,
}

impl Network {
    /// Both networks.
    pub const ALL: [Network; 2] = [Network::Staging, Network::Production];

    /// Parse a path segment, case-insensitively (PowerShell sends `STAGING`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.eq_ignore_ascii_case("staging") {
            Ok(Self::Staging)
        } else if s.eq_ignore_ascii_case("production") {
            Ok(Self::Production)
        } else {
            Err(Error::invalid("network", "Network must be staging or production."))
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// The letter used in token values' `env` claim.
    pub fn env_letter(self) -> &'static str {
        match self {
            Self::Staging => "s",
            Self::Production => "p",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which networks a token is valid on; never both false once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Networks {
    /// Valid on staging.
    pub staging: bool,
    /// Valid on production.
    pub production: bool,
}

impl Networks {
    /// Staging only.
    pub const STAGING: Networks = Networks { staging: true, production: false };
    /// Both networks.
    pub const BOTH: Networks = Networks { staging: true, production: true };

    /// Validate that at least one network is allowed.
    pub fn new(staging: bool, production: bool) -> Result<Self, Error> {
        if !staging && !production {
            return Err(Error::invalid(
                "allowOnStaging",
                "A token must be allowed on at least one network: set allowOnStaging or allowOnProduction to true.",
            ));
        }
        Ok(Self { staging, production })
    }

    /// Whether only staging is allowed (what `*_STAGING_*` grants cover).
    pub fn staging_only(self) -> bool {
        self.staging && !self.production
    }

    /// Whether `n` is allowed.
    pub fn allows(self, n: Network) -> bool {
        match n {
            Network::Staging => self.staging,
            Network::Production => self.production,
        }
    }

    /// The allowed networks.
    pub fn iter(self) -> impl Iterator<Item = Network> {
        Network::ALL.into_iter().filter(move |n| self.allows(*n))
    }
}

impl From<Network> for Networks {
    /// That network alone.
    fn from(n: Network) -> Self {
        Self { staging: n == Network::Staging, production: n == Network::Production }
    }
}
