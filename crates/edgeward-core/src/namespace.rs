//! A namespace's settings as a request gives them: retention and geo location, and the answer
//! for a namespace that does not exist.

use std::fmt;

use crate::error::{Error, Resource};
use crate::network::Network;

/// Retention of the `default` namespace every account starts with: about six months.
pub const DEFAULT_RETENTION_SECONDS: i64 = 15_724_800;

/// `NotFound` of a namespace, with EdgeKV's text.
pub fn missing() -> Error {
    Error::NotFound { resource: Resource::Namespace, message: "The requested namespace does not exist.".into() }
}

/// How long a namespace keeps its items (`retentionInSeconds`): 0 (indefinitely), or from
/// [`Retention::MIN_SECONDS`] (a day) to [`Retention::MAX_SECONDS`] (ten years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Retention(u64);

impl Retention {
    /// The shortest retention other than 0.
    pub const MIN_SECONDS: u64 = 86_400;
    /// The longest retention.
    pub const MAX_SECONDS: u64 = 315_360_000;

    /// The retention a request gives, which it must give.
    pub fn parse(seconds: Option<u64>) -> Result<Self, Error> {
        let s = seconds.ok_or_else(|| Error::invalid("retentionInSeconds", "Retention period must be specified."))?;
        if s != 0 && !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&s) {
            return Err(Error::invalid(
                "retentionInSeconds",
                "Retention must be 0 (indefinite) or between 86400 and 315360000 seconds.",
            ));
        }
        Ok(Self(s))
    }

    /// Seconds (0 = indefinitely).
    pub fn seconds(self) -> u64 {
        self.0
    }
}

/// Where a namespace's data is stored (`geoLocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GeoLocation {
    /// `US` (the default, and the only one on staging).
    Us,
    /// `EU`.
    Eu,
    /// `JP`.
    Jp,
    /// `GLOBAL`.
    Global,
}

impl GeoLocation {
    /// The location a namespace create on `network` asks for: any case, `US` when absent.
    /// Staging supports `US` only (checked first).
    pub fn parse(raw: Option<&str>, network: Network) -> Result<Self, Error> {
        let geo = raw.unwrap_or("US").to_ascii_uppercase();
        if network == Network::Staging && geo != "US" {
            return Err(Error::invalid("geoLocation", "The staging network only supports US location."));
        }
        match geo.as_str() {
            "US" => Ok(Self::Us),
            "EU" => Ok(Self::Eu),
            "JP" => Ok(Self::Jp),
            "GLOBAL" => Ok(Self::Global),
            _ => Err(Error::invalid(
                "geoLocation",
                "Specified geoLocation not supported. Please specify one of US, EU, JP, GLOBAL",
            )),
        }
    }

    /// The upper-case name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Us => "US",
            Self::Eu => "EU",
            Self::Jp => "JP",
            Self::Global => "GLOBAL",
        }
    }
}

impl fmt::Display for GeoLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: fmt::Debug>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::Invalid { message, .. }) => message,
            other => panic!("not an Invalid refusal: {other:?}"),
        }
    }

    #[test]
    fn retention_is_given_and_0_or_a_day_to_ten_years() {
        for ok in [0, 86_400, 86_401, 315_360_000] {
            assert_eq!(Retention::parse(Some(ok)).unwrap().seconds(), ok);
        }
        assert_eq!(message(Retention::parse(None)), "Retention period must be specified.");
        for bad in [1, 86_399, 315_360_001, u64::MAX] {
            assert_eq!(
                message(Retention::parse(Some(bad))),
                "Retention must be 0 (indefinite) or between 86400 and 315360000 seconds.",
                "{bad}"
            );
        }
    }

    #[test]
    fn geo_location_defaults_to_us_ignores_case_and_is_us_only_on_staging() {
        assert_eq!(GeoLocation::parse(None, Network::Production).unwrap(), GeoLocation::Us);
        assert_eq!(GeoLocation::parse(None, Network::Staging).unwrap(), GeoLocation::Us);
        assert_eq!(GeoLocation::parse(Some("us"), Network::Staging).unwrap(), GeoLocation::Us);
        for (raw, geo) in [("eu", GeoLocation::Eu), ("JP", GeoLocation::Jp), ("Global", GeoLocation::Global)] {
            assert_eq!(GeoLocation::parse(Some(raw), Network::Production).unwrap(), geo);
            assert_eq!(geo.as_str(), raw.to_ascii_uppercase());
        }
        let staging = "The staging network only supports US location.";
        assert_eq!(message(GeoLocation::parse(Some("EU"), Network::Staging)), staging);
        assert_eq!(message(GeoLocation::parse(Some("MARS"), Network::Staging)), staging);
        let unsupported = "Specified geoLocation not supported. Please specify one of US, EU, JP, GLOBAL";
        for bad in ["MARS", "", " US", "U S"] {
            assert_eq!(message(GeoLocation::parse(Some(bad), Network::Production)), unsupported, "{bad:?}");
        }
    }

    #[test]
    fn a_missing_namespace_is_not_found_with_edgekvs_text() {
        assert_eq!(
            missing(),
            Error::NotFound {
                resource: Resource::Namespace,
                message: "The requested namespace does not exist.".into()
            }
        );
    }
}
