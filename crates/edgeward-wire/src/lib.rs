//! The JSON shapes of the admin API, as real EdgeKV clients send and read them. The server
//! parses and renders them; Edgeward's client reads and sends the same types.
//!
//! Lenient exactly where real clients differ (field aliases, booleans and whole numbers as
//! strings; see `docs/compatibility.md`), strict everywhere else (unknown fields are refused).
//!
//! Edgeward's own endpoints (`/edgeward/v1/…`) have their shapes in [`own`], re-exported here;
//! the token file bundled with edge code (`edgekv_tokens.js`) is read and written by [`tokenfile`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use edgeward_core::store::Account;
use edgeward_core::token::Token;

pub mod own;
pub mod tokenfile;
pub use own::*;

/// A boolean that may arrive as `true` or as the string `"true"` (Postman, docs samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenientBool(pub bool);

impl Serialize for LenientBool {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for LenientBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LenientBool, E> {
                Ok(LenientBool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientBool, E> {
                match v.to_ascii_lowercase().as_str() {
                    "true" => Ok(LenientBool(true)),
                    "false" => Ok(LenientBool(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `namespacePermissions` kept as ordered pairs, so a repeated namespace is seen, not merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespacePairs(pub Vec<(String, Vec<String>)>);

impl Serialize for NamespacePairs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for NamespacePairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NamespacePairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping namespace names to arrays of r, w, d")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NamespacePairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Vec<String>>()? {
                    out.push((k, v));
                }
                Ok(NamespacePairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `POST /tokens` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateTokenRequest {
    /// 1-32 of `[A-Za-z0-9_-]`, not starting with `-`.
    pub name: String,
    /// Valid on production (boolean, or the string "true"/"false").
    #[schema(value_type = bool)]
    pub allow_on_production: LenientBool,
    /// Valid on staging (boolean, or the string "true"/"false").
    #[schema(value_type = bool)]
    pub allow_on_staging: LenientBool,
    /// EdgeWorker IDs as strings; `["all"]` or absent for every EdgeWorker. The Akamai CLI sends
    /// this as `restrictToEwids`.
    #[serde(default, alias = "restrictToEwids", skip_serializing_if = "Option::is_none")]
    pub restrict_to_edge_worker_ids: Option<Vec<String>>,
    /// `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ssZ`, `""` or absent (absent or `""`: auto-refreshing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Namespace → rights (`r`, `w`, `d`).
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    pub namespace_permissions: NamespacePairs,
}

impl CreateTokenRequest {
    /// The request for `old`'s successor (`token rotate`, the console's rotate): named `name`,
    /// with the same networks, namespaces, rights and EdgeWorker IDs, auto-refreshing if `old`
    /// is, else living as long as `old` was made to live (at least a day), from `today`.
    pub fn successor_of(old: &TokenObject, name: String, today: chrono::NaiveDate) -> Self {
        let dates = old.issue_date.parse::<chrono::NaiveDate>().ok().zip(old.expiry.parse::<chrono::NaiveDate>().ok());
        let expiry = match dates {
            _ if old.expiry.starts_with("9999") => None,
            Some((issued, ends)) => Some((today + (ends - issued).max(chrono::Duration::days(1))).to_string()),
            // Dates the server would not write: the old expiry is sent as it is, for the server to judge.
            None => Some(old.expiry.clone()),
        };
        Self {
            name,
            allow_on_production: LenientBool(old.allow_on_production),
            allow_on_staging: LenientBool(old.allow_on_staging),
            restrict_to_edge_worker_ids: Some(old.restrict_to_edge_worker_ids.clone()),
            expiry,
            namespace_permissions: NamespacePairs(old.namespace_permissions.clone().into_iter().collect()),
        }
    }
}

/// The full token object (create, retrieve, refresh).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenObject {
    /// Name.
    pub name: String,
    /// Uuid: the reference edge code sends for auto-refreshing tokens.
    pub uuid: String,
    /// Valid on production.
    pub allow_on_production: bool,
    /// Valid on staging.
    pub allow_on_staging: bool,
    /// CP code.
    pub cpcode: String,
    /// `YYYY-MM-DD`; `9999-12-31` for auto-refreshing tokens.
    pub expiry: String,
    /// Creation date.
    pub issue_date: String,
    /// Last refresh date.
    pub latest_refresh_date: Option<String>,
    /// Next scheduled refresh date.
    pub next_scheduled_refresh_date: Option<String>,
    /// Namespace → rights.
    pub namespace_permissions: BTreeMap<String, Vec<String>>,
    /// EdgeWorker IDs, or `["all"]`.
    pub restrict_to_edge_worker_ids: Vec<String>,
    /// `COMPLETE` once usable.
    pub token_activation_status: String,
    /// The signed token value; expiring tokens only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Edgeward: data-plane use per network (retrieve only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Vec<TokenUsageObject>>,
}

/// Data-plane use of a token on one network.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsageObject {
    /// `staging` or `production`.
    pub network: String,
    /// Requests served.
    pub requests: u64,
    /// The latest, RFC 3339.
    pub last_used: String,
}

impl TokenObject {
    /// Render a token (with its value, for expiring tokens).
    pub fn new(t: &Token, value: Option<String>) -> Self {
        Self {
            name: t.name.to_string(),
            uuid: t.uuid.to_string(),
            allow_on_production: t.networks.production,
            allow_on_staging: t.networks.staging,
            cpcode: t.cpcode.clone(),
            expiry: t.expiry_wire(),
            issue_date: t.issued_at.date_naive().to_string(),
            latest_refresh_date: t.latest_refresh.map(|d| d.date_naive().to_string()),
            next_scheduled_refresh_date: t.next_refresh.map(|d| d.to_string()),
            namespace_permissions: namespace_map(t),
            restrict_to_edge_worker_ids: t.ewids.to_wire(),
            token_activation_status: "COMPLETE".into(),
            value,
            usage: None,
        }
    }
}

fn namespace_map(t: &Token) -> BTreeMap<String, Vec<String>> {
    t.namespaces.iter().map(|(ns, p)| (ns.to_string(), p.letters().into_iter().map(String::from).collect())).collect()
}

/// One row of `GET /tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenSummary {
    /// Name.
    pub name: String,
    /// Uuid.
    pub uuid: String,
    /// `YYYY-MM-DD`; `9999-12-31` for auto-refreshing tokens.
    pub expiry: String,
    /// Creation date.
    pub issue_date: String,
    /// Last refresh date.
    pub latest_refresh_date: Option<String>,
    /// Next scheduled refresh date.
    pub next_scheduled_refresh_date: Option<String>,
    /// `COMPLETE`.
    pub token_activation_status: String,
    /// Valid on production.
    pub allow_on_production: bool,
    /// Valid on staging.
    pub allow_on_staging: bool,
    /// Namespace → rights.
    pub namespace_permissions: BTreeMap<String, Vec<String>>,
}

impl From<&Token> for TokenSummary {
    fn from(t: &Token) -> Self {
        let o = TokenObject::new(t, None);
        Self {
            name: o.name,
            uuid: o.uuid,
            expiry: o.expiry,
            issue_date: o.issue_date,
            latest_refresh_date: o.latest_refresh_date,
            next_scheduled_refresh_date: o.next_scheduled_refresh_date,
            token_activation_status: o.token_activation_status,
            allow_on_production: o.allow_on_production,
            allow_on_staging: o.allow_on_staging,
            namespace_permissions: o.namespace_permissions,
        }
    }
}

/// `GET /tokens` body; `tokens` is present even when empty.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    /// The tokens.
    pub tokens: Vec<TokenSummary>,
}

/// `DELETE /tokens/{name}` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevokedToken {
    /// Name.
    pub name: String,
    /// Uuid.
    pub uuid: String,
}

/// The data access policy of the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataAccessPolicy {
    /// Restrict data access to the Enhanced TLS network.
    #[schema(value_type = bool)]
    pub restrict_data_access: LenientBoolSer,
    /// Namespaces may override the policy.
    #[schema(value_type = bool)]
    pub allow_namespace_policy_override: LenientBoolSer,
}

/// A boolean that reads leniently and writes as a plain boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenientBoolSer(pub bool);

impl Serialize for LenientBoolSer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for LenientBoolSer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LenientBool::deserialize(d).map(|b| LenientBoolSer(b.0))
    }
}

/// `PUT /initialize` body (optional).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitializeRequest {
    /// Policy for namespaces created afterwards.
    pub data_access_policy: Option<DataAccessPolicy>,
}

/// `GET`/`PUT /initialize` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitStatus {
    /// `INITIALIZED`.
    pub account_status: String,
    /// CP code.
    pub cpcode: Option<String>,
    /// `INITIALIZED`.
    pub production_status: String,
    /// `INITIALIZED`.
    pub staging_status: String,
    /// The account's policy.
    pub data_access_policy: Option<DataAccessPolicy>,
}

impl From<&Account> for InitStatus {
    fn from(a: &Account) -> Self {
        Self {
            account_status: "INITIALIZED".into(),
            cpcode: Some(a.cpcode.clone()),
            production_status: "INITIALIZED".into(),
            staging_status: "INITIALIZED".into(),
            data_access_policy: Some(DataAccessPolicy {
                restrict_data_access: LenientBoolSer(a.restrict_data_access),
                allow_namespace_policy_override: LenientBoolSer(a.allow_namespace_policy_override),
            }),
        }
    }
}

impl InitStatus {
    /// The body of a never-initialized account.
    pub fn uninitialized() -> Self {
        Self {
            account_status: "UNINITIALIZED".into(),
            cpcode: None,
            production_status: "UNINITIALIZED".into(),
            staging_status: "UNINITIALIZED".into(),
            data_access_policy: None,
        }
    }
}

/// A whole number that may arrive as `0` or as the string `"0"` (the CLI sends strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenientU64(pub u64);

impl Serialize for LenientU64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for LenientU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientU64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of zero or more")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientU64, E> {
                Ok(LenientU64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientU64, E> {
                u64::try_from(v).map(LenientU64).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientU64, E> {
                v.trim().parse().map(LenientU64).map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A namespace's data access policy as sent on create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespacePolicy {
    /// Restrict data access to the Enhanced TLS network.
    #[schema(value_type = bool)]
    pub restrict_data_access: LenientBoolSer,
    /// `inherited` or `overridden` (read-only; accepted and ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
}

/// `POST`/`PUT /networks/{network}/namespaces[/{ns}]` body and every namespace response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceObject {
    /// 1-32 of `[A-Za-z0-9_-]`.
    pub namespace: String,
    /// 0 (indefinite) or 86400-315360000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub retention_in_seconds: Option<LenientU64>,
    /// `US` (default), `EU`, `JP`, `GLOBAL`; staging: `US` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location: Option<String>,
    /// Access group (0 = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub group_id: Option<LenientU64>,
    /// Data access policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_policy: Option<NamespacePolicy>,
}

/// `GET /networks/{network}/namespaces` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NamespaceList {
    /// Names only, or full objects with `details=on|true`.
    pub namespaces: Vec<NamespaceObject>,
}

/// An access group as `/auth/groups` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessGroupObject {
    /// The group's id (0 = the account group, which stands for every group).
    pub group_id: u64,
    /// Its name.
    pub group_name: String,
    /// The EdgeKV capabilities the caller holds in this group.
    pub capabilities: Vec<String>,
}

/// `GET /auth/groups` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessGroupList {
    /// Every group the caller can see.
    pub groups: Vec<AccessGroupObject>,
}

/// `PUT /auth/namespaces/{ns}` body and answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReauthorizeRequest {
    /// The access group the namespace moves to (a number, or a string of digits).
    #[schema(value_type = u64)]
    pub group_id: LenientU64,
}

/// A namespace's scheduled deletion (`…/status/scheduled-delete`, and the 202 of a delete).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduledDelete {
    /// When the namespace will be deleted (RFC 3339, UTC).
    pub scheduled_delete_time: String,
}
