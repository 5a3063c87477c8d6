//! Access tokens: the validated request to create one, and the record of one.
//!
//! Two kinds exist. An *expiring* token has an expiry date and a signed value that edge code sends
//! as `X-Akamai-EdgeDB-Auth`. An *auto-refreshing* token never expires; edge code sends its uuid
//! as `X-Akamai-EdgeDB-Auth-Ref`, and refreshing renews the credential behind that reference.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use uuid::Uuid;

use crate::error::Error;
use crate::limits::Limits;
use crate::names::{EdgeWorkerId, NamespaceName, TokenName};
use crate::network::Networks;
use crate::permission::Permissions;

/// How long expired tokens stay listable (with `includeExpired=true`) before they are purged.
pub const EXPIRED_RETENTION_DAYS: u64 = 30;
/// How often auto-refreshing tokens are refreshed on schedule.
pub const REFRESH_INTERVAL_DAYS: u64 = 60;
/// The expiry date reported for tokens that never expire.
pub const INDEFINITE_EXPIRY: &str = "9999-12-31";

/// Which EdgeWorkers may use a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeWorkerScope {
    /// Any EdgeWorker.
    All,
    /// Only these IDs (1 to the configured maximum, no repeats).
    Only(Vec<EdgeWorkerId>),
}

impl EdgeWorkerScope {
    /// Parse the wire list of a request (untrusted): absent, empty or `["all"]` mean every
    /// EdgeWorker; otherwise at most `limits.max_ewids_per_token` IDs.
    pub fn parse(ids: Option<&[String]>, limits: &Limits) -> Result<Self, Error> {
        let ids = match ids {
            None | Some([]) => return Ok(Self::All),
            Some([one]) if one.eq_ignore_ascii_case("all") => return Ok(Self::All),
            Some(ids) => ids,
        };
        if ids.len() > limits.max_ewids_per_token {
            return Err(Error::invalid(
                "restrictToEdgeWorkerIds",
                format!(
                    "A token may be restricted to at most {} EdgeWorker IDs; {} were given.",
                    limits.max_ewids_per_token,
                    ids.len()
                ),
            ));
        }
        Self::only(ids)
    }

    /// The scope of a token that was validated when it was created, read back in its claim form
    /// ([`Self::to_claim`]: `all` or comma-separated IDs) from storage or from a signed token
    /// value. Trusted: no product limit applies (a limit lowered since does not unmake a token);
    /// the IDs are still read as IDs, so a damaged row or claim is refused.
    pub fn from_claim(claim: &str) -> Result<Self, Error> {
        let ids: Vec<&str> = claim.split(',').collect();
        match ids.as_slice() {
            [one] if one.eq_ignore_ascii_case("all") => Ok(Self::All),
            ids => Self::only(ids),
        }
    }

    /// A list of IDs: no `all` among them, no repeats.
    fn only<S: AsRef<str>>(ids: &[S]) -> Result<Self, Error> {
        let mut out: Vec<EdgeWorkerId> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = id.as_ref();
            if id.eq_ignore_ascii_case("all") {
                return Err(Error::invalid("restrictToEdgeWorkerIds", "'all' cannot be combined with EdgeWorker IDs."));
            }
            let id = EdgeWorkerId::parse(id)?;
            if out.contains(&id) {
                return Err(Error::invalid("restrictToEdgeWorkerIds", format!("EdgeWorker ID {id} is repeated.")));
            }
            out.push(id);
        }
        Ok(Self::Only(out))
    }

    /// The wire list: `["all"]` or the IDs.
    pub fn to_wire(&self) -> Vec<String> {
        match self {
            Self::All => vec!["all".into()],
            Self::Only(ids) => ids.iter().map(|i| i.as_str().to_owned()).collect(),
        }
    }

    /// The `ewids` claim: `all` or comma-separated IDs.
    pub fn to_claim(&self) -> String {
        self.to_wire().join(",")
    }

    /// Whether `id` is allowed.
    pub fn allows(&self, id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.iter().any(|i| i.as_str() == id),
        }
    }
}

/// Namespace → rights, at least one entry.
pub type NamespacePermissions = BTreeMap<NamespaceName, Permissions>;

/// Parse the wire namespace permissions (kept as pairs so repeated keys are caught).
pub fn parse_namespace_permissions(
    pairs: &[(String, Vec<String>)],
    limits: &Limits,
) -> Result<NamespacePermissions, Error> {
    const FIELD: &str = "namespacePermissions";
    if pairs.is_empty() {
        return Err(Error::invalid(FIELD, "namespacePermissions must name at least one namespace."));
    }
    if pairs.len() > limits.max_namespaces_per_token {
        return Err(Error::invalid(
            FIELD,
            format!(
                "A token may name at most {} namespaces; {} were given.",
                limits.max_namespaces_per_token,
                pairs.len()
            ),
        ));
    }
    let mut out = BTreeMap::new();
    for (ns, letters) in pairs {
        let name = NamespaceName::parse(ns).map_err(|_| {
            Error::invalid(
                FIELD,
                format!(
                    "Namespace name '{}' is invalid: use 1-32 of A-Z a-z 0-9 _ -, not starting with -.",
                    ns.escape_debug()
                ),
            )
        })?;
        let perms = Permissions::parse(letters)?;
        if out.insert(name, perms).is_some() {
            return Err(Error::invalid(FIELD, format!("Namespace '{ns}' is repeated.")));
        }
    }
    Ok(out)
}

/// The message EdgeKV gives for an expiry it cannot read.
pub const BAD_EXPIRY_FORMAT: &str = "Invalid expiration time. The time format should be provided as per ISO-8601.";

/// Parse the wire `expiry`: absent, `""`, `9999-12-31` → none (auto-refreshing); `YYYY-MM-DD` or
/// `YYYY-MM-DDThh:mm:ssZ` → that date.
pub fn parse_expiry(raw: Option<&str>) -> Result<Option<NaiveDate>, Error> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let date = if raw.len() == 10 {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
    } else {
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%SZ").map(|d| d.date())
    }
    .map_err(|_| Error::invalid("expiry", BAD_EXPIRY_FORMAT))?;
    Ok(if date.year() >= 9999 { None } else { Some(date) })
}

/// Check an expiry date against today and the maximum lifetime.
pub fn check_expiry(expiry: NaiveDate, today: NaiveDate, limits: &Limits) -> Result<(), Error> {
    let earliest = today + Days::new(1);
    let latest = today.checked_add_months(limits.max_lifetime()).unwrap_or(NaiveDate::MAX);
    if expiry < earliest || expiry > latest {
        return Err(Error::invalid(
            "expiry",
            format!(
                "Invalid expiration time. The expiry must be at least 1 day and at most {} months ahead: between {earliest} and {latest}.",
                limits.max_token_lifetime_months
            ),
        ));
    }
    Ok(())
}

/// The instant a token with this expiry date stops working: 23:59:59 UTC that day.
pub fn expiry_instant(expiry: NaiveDate) -> DateTime<Utc> {
    expiry.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")).and_utc()
}

/// A validated request to create a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// Unique among live tokens.
    pub name: TokenName,
    /// Networks it is valid on.
    pub networks: Networks,
    /// EdgeWorkers that may use it.
    pub ewids: EdgeWorkerScope,
    /// Namespaces and rights.
    pub namespaces: NamespacePermissions,
    /// `Some` for expiring tokens.
    pub expiry: Option<NaiveDate>,
}

/// A token as stored (without its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Identity; the reference for auto-refreshing tokens and `jti` of values.
    pub uuid: Uuid,
    /// Name.
    pub name: TokenName,
    /// Networks.
    pub networks: Networks,
    /// EdgeWorkers.
    pub ewids: EdgeWorkerScope,
    /// Namespaces and rights.
    pub namespaces: NamespacePermissions,
    /// `Some` for expiring tokens.
    pub expiry: Option<NaiveDate>,
    /// Creation time.
    pub issued_at: DateTime<Utc>,
    /// Last refresh (auto-refreshing tokens).
    pub latest_refresh: Option<DateTime<Utc>>,
    /// Next scheduled refresh (auto-refreshing tokens).
    pub next_refresh: Option<NaiveDate>,
    /// Credential generation behind the reference; bumped by every refresh.
    pub generation: u32,
    /// The account's CP code.
    pub cpcode: String,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Token {
    /// The one place a new token is made: `spec` issued now under `uuid`, for the account's
    /// `cpcode`; generation 1, never refreshed or revoked; an auto-refreshing token's first
    /// refresh is scheduled [`REFRESH_INTERVAL_DAYS`] ahead. The service signs its value from
    /// this record and the store stores this record as given.
    pub fn issue(spec: TokenSpec, uuid: Uuid, now: DateTime<Utc>, cpcode: String) -> Token {
        let TokenSpec { name, networks, ewids, namespaces, expiry } = spec;
        Token {
            uuid,
            name,
            networks,
            ewids,
            namespaces,
            expiry,
            issued_at: now,
            latest_refresh: None,
            next_refresh: expiry.is_none().then(|| next_refresh_after(now.date_naive())),
            generation: 1,
            cpcode,
            revoked_at: None,
        }
    }

    /// When it stops working, if it ever does.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expiry.map(expiry_instant)
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at().is_some_and(|e| now > e)
    }

    /// The wire `expiry` (`9999-12-31` for auto-refreshing tokens).
    pub fn expiry_wire(&self) -> String {
        self.expiry.map_or_else(|| INDEFINITE_EXPIRY.to_owned(), |d| d.to_string())
    }
}

/// The next scheduled refresh date after a refresh on `today`.
pub fn next_refresh_after(today: NaiveDate) -> NaiveDate {
    today + Days::new(REFRESH_INTERVAL_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry(None).unwrap(), None);
        assert_eq!(parse_expiry(Some("")).unwrap(), None);
        assert_eq!(parse_expiry(Some("9999-12-31")).unwrap(), None);
        assert_eq!(parse_expiry(Some("2027-01-15")).unwrap(), Some(d("2027-01-15")));
        assert_eq!(parse_expiry(Some("2027-01-15T00:00:00Z")).unwrap(), Some(d("2027-01-15")));
        assert!(parse_expiry(Some("15/01/2027")).is_err());
        assert!(parse_expiry(Some("2027-02-30")).is_err());
    }

    #[test]
    fn expiry_window() {
        let l = Limits::default();
        let today = d("2026-11-28");
        assert!(check_expiry(d("2026-11-28"), today, &l).is_err());
        assert!(check_expiry(d("2026-11-29"), today, &l).is_ok());
        assert!(check_expiry(d("2027-05-28"), today, &l).is_ok());
        assert!(check_expiry(d("2027-05-29"), today, &l).is_err());
        assert_eq!(expiry_instant(d("2022-03-30")).timestamp(), 1_648_684_799);
    }

    #[test]
    fn ewid_scope() {
        let l = Limits::default();
        assert_eq!(EdgeWorkerScope::parse(Some(&["all".into()]), &l).unwrap(), EdgeWorkerScope::All);
        assert_eq!(EdgeWorkerScope::parse(None, &l).unwrap(), EdgeWorkerScope::All);
        let nine: Vec<String> = (1..=9).map(|i| i.to_string()).collect();
        assert!(EdgeWorkerScope::parse(Some(&nine), &l).is_err());
        assert!(EdgeWorkerScope::parse(Some(&["1".into(), "1".into()]), &l).is_err());
        assert!(EdgeWorkerScope::parse(Some(&["1".into(), "all".into()]), &l).is_err());
    }

    #[test]
    fn a_trusted_scope_reads_its_claim_without_the_limit() {
        let nine: Vec<String> = (1..=9).map(|i| i.to_string()).collect();
        let claim = nine.join(",");
        let scope = EdgeWorkerScope::from_claim(&claim).unwrap();
        assert_eq!(scope.to_claim(), claim);
        assert_eq!(EdgeWorkerScope::from_claim("all").unwrap(), EdgeWorkerScope::All);
        assert_eq!(EdgeWorkerScope::from_claim("ALL").unwrap(), EdgeWorkerScope::All);
        let l = Limits::default();
        let two = EdgeWorkerScope::parse(Some(&["7".into(), "42".into()]), &l).unwrap();
        assert_eq!(EdgeWorkerScope::from_claim(&two.to_claim()).unwrap(), two);
        for damaged in ["", "1,1", "1,all", "x", "1,,2"] {
            assert!(EdgeWorkerScope::from_claim(damaged).is_err(), "{damaged:?}");
        }
    }

    proptest! {
        #[test]
        fn accepted_expiries_lie_in_the_window(days in -10i64..400) {
            let l = Limits::default();
            let today = d("2026-11-28");
            let e = today + chrono::Duration::days(days);
            let ok = check_expiry(e, today, &l).is_ok();
            prop_assert_eq!(ok, e > today && e <= d("2027-05-28"));
        }

        #[test]
        fn date_strings_round_trip(y in 2000i32..9000, m in 1u32..=12, day in 1u32..=28) {
            let date = NaiveDate::from_ymd_opt(y, m, day).unwrap();
            prop_assert_eq!(parse_expiry(Some(&date.to_string())).unwrap(), Some(date));
            prop_assert_eq!(parse_expiry(Some(&format!("{date}T00:00:00Z"))).unwrap(), Some(date));
        }
    }
}
