//! The storage traits, split by capability. Each method is one transaction; callers never see
//! begin or commit. Implementations live in `edgeward-store`; secrets reach them already sealed.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::capability::Grants;
use crate::error::Result;
use crate::names::{AccessGroupId, ClientName, NamespaceName, RoleName, TokenName};
use crate::network::Network;
use crate::token::Token;

/// A token with its sealed value (expiring tokens only; wiped on revocation).
#[derive(Debug, Clone)]
pub struct StoredToken {
    /// The record.
    pub token: Token,
    /// The value, encrypted with the data key.
    pub sealed_value: Option<Vec<u8>>,
}

/// A token as a listing shows it (`TokenStore::token_overview`): the stored token, the name of
/// the token that replaced it, and its last data-plane use.
#[derive(Debug, Clone)]
pub struct ListedToken {
    /// The token and its sealed value.
    pub stored: StoredToken,
    /// The successor's name, once `token rotate` (or `replaced-by`) named one.
    pub replaced_by: Option<String>,
    /// The latest data-plane use, on any network.
    pub last_used: Option<DateTime<Utc>>,
    /// When the token is to be revoked (or, once revoked, was planned to be), if scheduled.
    pub revoke_at: Option<DateTime<Utc>>,
}

/// Data-plane use of a token on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUsage {
    /// The token.
    pub uuid: Uuid,
    /// The network.
    pub network: Network,
    /// Requests served.
    pub requests: u64,
    /// The latest of them.
    pub last_used: DateTime<Utc>,
}

/// What the service hands the store to create a token: the record to store, as built by
/// [`Token::issue`](crate::token::Token::issue), and its sealed value.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token, stored as given.
    pub token: Token,
    /// The sealed value for expiring tokens.
    pub sealed_value: Option<Vec<u8>>,
    /// The `kid` of the key that signed the value (expiring tokens only).
    pub kid: Option<String>,
}

/// Live tokens counted by kind and by how soon they expire (`NotifyStore::live_token_counts`).
/// The expiry buckets do not overlap: a token expiring in 5 days is in `within_7_days` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveTokenCounts {
    /// Auto-refreshing tokens (no expiry).
    pub auto_refreshing: u64,
    /// Expiring tokens that expire within a day of `now`.
    pub within_1_day: u64,
    /// Expiring tokens that expire in more than 1 and at most 7 days.
    pub within_7_days: u64,
    /// Expiring tokens that expire in more than 7 and at most 30 days.
    pub within_30_days: u64,
    /// Expiring tokens that expire in more than 30 days.
    pub later: u64,
}

impl LiveTokenCounts {
    /// Add `count` tokens of the bucket the store's query numbers `bucket` (`LIVE_TOKEN_COUNTS`:
    /// 0 auto-refreshing, 1 within a day, 2 within 7 days, 3 within 30 days, 4 later).
    pub fn add(&mut self, bucket: i64, count: u64) {
        let slot = match bucket {
            0 => &mut self.auto_refreshing,
            1 => &mut self.within_1_day,
            2 => &mut self.within_7_days,
            3 => &mut self.within_30_days,
            _ => &mut self.later,
        };
        *slot += count;
    }
}

/// How one connection pool of a store is used at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Which pool: `read` and `write` (SQLite), `main` (PostgreSQL).
    pub pool: &'static str,
    /// Connections serving a call now.
    pub in_use: u64,
    /// Open connections waiting for a call.
    pub idle: u64,
    /// The most connections the pool keeps open (SQLite's read pool may open more for a moment,
    /// closed after their read).
    pub max: u64,
}

/// A store's connections and queues at a moment, for `/metrics` (read without I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Each pool.
    pub pools: Vec<PoolUsage>,
    /// Writes waiting for the writer (SQLite's group-commit writer), when the backend has one.
    pub writer_queue: Option<u64>,
}

/// What a store reports about its connections (no I/O: counters it keeps).
pub trait PoolStatus: Send + Sync {
    /// The pools and queues now.
    fn pool_stats(&self) -> PoolStats;
}

/// Access tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Create a token. In one transaction: frees the name if its holder has expired (at the
    /// token's `issued_at`), checks that the account holds fewer than `max_tokens` tokens,
    /// checks that every namespace exists on every allowed network, and inserts the token as
    /// given, which it returns. A live token with the same name gives `AlreadyExists`.
    async fn insert_token(&self, new: NewToken, max_tokens: u64) -> Result<Token>;
    /// The token currently holding `name` (it may have expired but not been purged).
    async fn token_by_name(&self, name: &TokenName) -> Result<Option<StoredToken>>;
    /// A token by uuid, revoked ones included.
    async fn token_by_uuid(&self, uuid: Uuid) -> Result<Option<StoredToken>>;
    /// Unrevoked tokens, by name (then age); expired ones only if they expired after `expired_after`.
    async fn list_tokens(&self, now: DateTime<Utc>, expired_after: Option<DateTime<Utc>>) -> Result<Vec<Token>>;
    /// Every token still stored (revoked and expired ones too, until purged), by name then age,
    /// each with its successor's name and last use: one read, whatever the number of tokens.
    async fn token_overview(&self) -> Result<Vec<ListedToken>>;
    /// Revoke a token that still holds its name; frees the name and wipes the value.
    async fn revoke_token(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token>;
    /// Schedule a live token's revocation at `at`, replacing any earlier schedule, or cancel it
    /// (`None`). A revoked token (or none) is `NotFound`.
    async fn schedule_revocation(&self, uuid: Uuid, at: Option<DateTime<Utc>>) -> Result<()>;
    /// Live tokens whose scheduled revocation is at or before `now`, soonest first, at most
    /// `limit`.
    async fn due_revocations(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Token>>;
    /// Revoke a token as [`revoke_token`](Self::revoke_token) does, in its own transaction, if
    /// its scheduled revocation is still at or before `now`; `NotFound` (and nothing written,
    /// the pending audit record included) when it is not: cancelled, rescheduled, or revoked
    /// already by another server. However many servers try at once, one revokes it.
    async fn revoke_if_due(&self, uuid: Uuid, now: DateTime<Utc>) -> Result<Token>;
    /// Refresh an auto-refreshing token: bump its generation and dates.
    async fn refresh_token(&self, name: &TokenName, now: DateTime<Utc>, next: NaiveDate) -> Result<Token>;
    /// Refresh every auto-refreshing token whose scheduled date is on or before `today`.
    async fn refresh_due_tokens(&self, today: NaiveDate, now: DateTime<Utc>, next: NaiveDate) -> Result<u64>;
    /// Delete tokens past their retention at `now`: unrevoked tokens that expired before
    /// `cutoff`, and revoked tokens revoked before `cutoff` whose value can no longer be valid
    /// (no expiry, or expired before `now`). A revoked token is kept while its value could still
    /// pass a signature and expiry check, so its revocation holds on every node, including one
    /// started later.
    async fn purge_tokens(&self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64>;
    /// Add data-plane usage: per (token, network), requests served and the last time.
    async fn record_usage(&self, usage: Vec<TokenUsage>) -> Result<()>;
    /// A token's recorded usage, per network.
    async fn token_usage(&self, uuid: Uuid) -> Result<Vec<TokenUsage>>;
    /// The uuids of revoked tokens still stored (the data plane refuses them).
    async fn revoked_token_uuids(&self) -> Result<Vec<Uuid>>;
    /// The tokens held against the account's limit, as [`insert_token`](Self::insert_token)
    /// counts them: every unrevoked token until it is purged (an expired one too); 0 before the
    /// account is initialized.
    async fn counted_tokens(&self) -> Result<u64>;
}

/// An API client (EdgeGrid credentials plus grants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// Operator-chosen name.
    pub name: ClientName,
    /// `client_token`: public identifier.
    pub client_token: String,
    /// `access_token`: must accompany the client token.
    pub access_token: String,
    /// Capability grants.
    pub grants: Grants,
    /// Disabled clients are refused at once.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The user it belongs to (whose notification panel it reads); the administrator's client
    /// made at first start belongs to the `admin` user made with it (installs from before that
    /// have `None` there, as have clients created without `--owner`).
    pub owner: Option<Uuid>,
}

/// An API client with its sealed secret.
#[derive(Debug, Clone)]
pub struct StoredApiClient {
    /// The client.
    pub client: ApiClient,
    /// The `client_secret`, encrypted with the data key.
    pub sealed_secret: Vec<u8>,
}

/// API clients.
#[async_trait]
pub trait ApiClientStore: Send + Sync {
    /// Add a client; the name and client token are unique.
    async fn insert_api_client(&self, client: ApiClient, sealed_secret: Vec<u8>) -> Result<()>;
    /// Look a client up by `client_token`.
    async fn api_client_by_token(&self, client_token: &str) -> Result<Option<StoredApiClient>>;
    /// Every client, by name.
    async fn list_api_clients(&self) -> Result<Vec<ApiClient>>;
    /// Enable or disable a client.
    async fn set_api_client_enabled(&self, name: &ClientName, enabled: bool) -> Result<ApiClient>;
    /// Delete a client.
    async fn delete_api_client(&self, name: &ClientName) -> Result<()>;
    /// A number that changes whenever any client is added, changed or removed, by any process.
    async fn api_clients_version(&self) -> Result<u64>;
}

/// The account's initialization state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The EdgeKV CP code (digits).
    pub cpcode: String,
    /// When it was initialized.
    pub initialized_at: DateTime<Utc>,
    /// Data access policy: restrict data access.
    pub restrict_data_access: bool,
    /// Data access policy: namespaces may override.
    pub allow_namespace_policy_override: bool,
}

/// A key that signs token values, sealed with the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Its key id (`kid`).
    pub kid: String,
    /// The PKCS#8 PEM, sealed with the data key (context: the kid).
    pub sealed_pkcs8: Vec<u8>,
    /// When it was added; the newest key not retired signs, all keys not retired verify.
    pub created_at: DateTime<Utc>,
    /// When it was retired (it verifies nothing from then on).
    pub retired_at: Option<DateTime<Utc>>,
}

/// What a token-signing key still vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyUse {
    /// The key.
    pub kid: String,
    /// Tokens it signed that are neither revoked nor expired.
    pub live_tokens: u64,
    /// When the last of them expires.
    pub last_expiry: Option<DateTime<Utc>>,
}

/// The account and its namespaces.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The account, once initialized.
    async fn account(&self) -> Result<Option<Account>>;
    /// Initialize the account (and the `default` namespace on both networks) unless it already
    /// is; returns the account and whether this call initialized it.
    async fn initialize_account(&self, account: Account) -> Result<(Account, bool)>;
    /// The namespaces of one network.
    async fn namespace_names(&self, network: Network) -> Result<Vec<NamespaceName>>;
    /// The token-signing keys, oldest first.
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>>;
    /// Add a token-signing key (a key with the same kid is kept as it is), and announce it on the
    /// change feed ([`Change::SigningKeys`]).
    async fn add_signing_key(&self, key: StoredSigningKey) -> Result<()>;
    /// Retire a token-signing key at `now` and announce it on the change feed; false when it was
    /// retired already. `NotFound` for an unknown kid.
    async fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Per key, the live tokens (not revoked, not expired at `now`) it signed; keys that signed
    /// none are absent.
    async fn signing_key_use(&self, now: DateTime<Utc>) -> Result<Vec<SigningKeyUse>>;
}

/// Where an item lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    /// The network whose data it is.
    pub network: Network,
    /// The namespace.
    pub namespace: NamespaceName,
    /// The sandbox (`""` for the network's own data).
    pub sandbox: String,
    /// The group.
    pub group: String,
    /// The item.
    pub item: String,
}

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// The raw value.
    pub value: Vec<u8>,
    /// When it was written.
    pub updated_at: DateTime<Utc>,
    /// When its namespace's retention (at the time of the read) ends it; `None` = kept
    /// indefinitely.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Items of the key-value store.
#[async_trait]
pub trait ItemStore: Send + Sync {
    /// Read an item, unless it is older than its namespace's retention at `now` (or the
    /// namespace does not exist): one read for both.
    async fn get_item(&self, key: &ItemKey, now: DateTime<Utc>) -> Result<Option<StoredItem>>;
    /// Insert or replace an item; the namespace must exist on the key's network.
    async fn put_item(&self, key: ItemKey, value: Vec<u8>, now: DateTime<Utc>) -> Result<()>;
    /// Delete an item (the change stamped `now`); `false` if it was not there.
    async fn delete_item(&self, key: ItemKey, now: DateTime<Utc>) -> Result<bool>;
    /// Delete up to `batch` items older than their namespace's retention at `now`; returns how
    /// many were deleted (call again while it returns `batch`).
    async fn purge_expired_items(&self, now: DateTime<Utc>, batch: usize) -> Result<u64>;
}

/// A namespace on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The network.
    pub network: Network,
    /// The name.
    pub name: NamespaceName,
    /// Seconds items are kept; 0 = indefinitely.
    pub retention_seconds: u64,
    /// Access group (0 = every group).
    pub group_id: AccessGroupId,
    /// Where data is stored: US, EU, JP or GLOBAL.
    pub geo_location: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the namespace (and its items) will be deleted, if a deletion is scheduled. Until
    /// then it serves as usual and the deletion can be cancelled or moved.
    pub delete_at: Option<DateTime<Utc>>,
}

/// An access group: the unit that namespaces are authorized to (`groupId`). Group 0, the
/// "Account Group", always exists and stands for every group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGroup {
    /// Its id (0 = the account group).
    pub group_id: AccessGroupId,
    /// Its display name.
    pub name: String,
}

/// What [`NamespaceStore::create_namespace`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A new namespace.
    New,
    /// An identical namespace already existed.
    AlreadyThere,
}

/// Namespaces and the groups and item keys inside them.
#[async_trait]
pub trait NamespaceStore: Send + Sync {
    /// The namespaces of a network, by name.
    async fn list_namespaces(&self, network: Network) -> Result<Vec<Namespace>>;
    /// One namespace.
    async fn get_namespace(&self, network: Network, name: &NamespaceName) -> Result<Option<Namespace>>;
    /// Create a namespace unless one with that name exists (identical: `AlreadyThere`;
    /// different: `AlreadyExists`); at most `max` per network.
    async fn create_namespace(&self, ns: Namespace, max: usize) -> Result<(Namespace, Created)>;
    /// Change the retention (the change stamped `now`).
    async fn set_namespace_retention(
        &self,
        network: Network,
        name: &NamespaceName,
        retention_seconds: u64,
        now: DateTime<Utc>,
    ) -> Result<Namespace>;
    /// Delete a namespace and every item in it (the change stamped `now`).
    async fn delete_namespace(&self, network: Network, name: &NamespaceName, now: DateTime<Utc>) -> Result<()>;
    /// Schedule (`Some`) or cancel (`None`) the deletion of a namespace.
    async fn schedule_namespace_delete(
        &self,
        network: Network,
        name: &NamespaceName,
        at: Option<DateTime<Utc>>,
    ) -> Result<Namespace>;
    /// Delete every namespace (with its items) whose scheduled deletion is at or before `now`;
    /// returns the namespaces deleted.
    async fn delete_due_namespaces(&self, now: DateTime<Utc>) -> Result<Vec<(Network, NamespaceName)>>;
    /// Move a namespace to another access group, on every network where it exists; the group
    /// must exist. Returns the namespaces changed (none: the namespace exists nowhere).
    async fn set_namespace_group(&self, name: &NamespaceName, group_id: AccessGroupId) -> Result<Vec<Namespace>>;
    /// The access groups, by id.
    async fn list_access_groups(&self) -> Result<Vec<AccessGroup>>;
    /// Add an access group, created `now` (`AlreadyExists` when the id is taken).
    async fn create_access_group(&self, group: AccessGroup, now: DateTime<Utc>) -> Result<AccessGroup>;
    /// Remove an access group; refused for group 0 and while a namespace belongs to it.
    async fn delete_access_group(&self, group_id: AccessGroupId) -> Result<()>;
    /// Group names of a namespace (at most `max`).
    async fn list_groups(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        max: usize,
    ) -> Result<Vec<String>>;
    /// Item keys of a group (at most `max`).
    async fn list_item_keys(
        &self,
        network: Network,
        name: &NamespaceName,
        sandbox: &str,
        group: &str,
        max: usize,
    ) -> Result<Vec<String>>;
}

/// Users, escalation contacts, expiry notices, the notification panel and leases.
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Add a user with the roles they hold, in one transaction (`AlreadyExists` when the name
    /// is taken; `Invalid` naming the first role that does not exist, before anything is
    /// written).
    async fn create_user(&self, user: crate::notify::User) -> Result<crate::notify::User>;
    /// Every user, by name, with their roles.
    async fn list_users(&self) -> Result<Vec<crate::notify::User>>;
    /// Change a user's activity, e-mail state and roles (the roles given replace those held),
    /// in one transaction (`NotFound` for an unknown name; `Invalid` naming the first role that
    /// does not exist, with nothing changed).
    async fn update_user(&self, name: &str, update: crate::notify::UserUpdate) -> Result<crate::notify::User>;
    /// A user's password state, by name (`None` for an unknown name).
    async fn user_password(&self, name: &str) -> Result<Option<crate::notify::UserPassword>>;
    /// Set a user's password hash (a PHC string) and whether it must be changed at the next
    /// sign-in (`NotFound` for an unknown name).
    async fn set_user_password(&self, name: &str, hash: String, must_change: bool) -> Result<crate::notify::User>;
    /// On a fresh install only (no user and no API client yet), in one transaction: add the
    /// first administrator `user` with its password hash, to be changed at the next sign-in, and
    /// the API client `client` (owned by `user`) with its sealed secret. False, with nothing
    /// written, when the database already has a user or an API client; `AlreadyExists` when
    /// another server adds them at the same moment.
    async fn create_first_administrator(
        &self,
        user: crate::notify::User,
        password_hash: String,
        client: ApiClient,
        sealed_secret: Vec<u8>,
    ) -> Result<bool>;
    /// Add an escalation contact, created `now` (replacing the name of an existing address).
    async fn put_contact(&self, contact: crate::notify::Contact, now: DateTime<Utc>) -> Result<()>;
    /// Every escalation contact, by address.
    async fn list_contacts(&self) -> Result<Vec<crate::notify::Contact>>;
    /// Remove an escalation contact (`NotFound` when absent).
    async fn remove_contact(&self, email: &str) -> Result<()>;

    /// Take (or renew) the lease `name` for `holder` until `until`, unless another holder's
    /// lease is still valid at `now`. True when `holder` holds it afterwards.
    async fn try_lease(&self, name: &str, holder: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool>;
    /// Give the lease up (only if `holder` holds it).
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// Live tokens (not revoked, not replaced) whose expiry day is within `first..=last`, with
    /// when the data plane last saw them.
    async fn expiring_tokens(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<crate::notify::ExpiringToken>>;
    /// When the soonest-expiring live token (not revoked, not replaced, not yet expired at
    /// `now`) expires.
    async fn soonest_expiry(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>>;
    /// Live tokens (not revoked, not replaced, not yet expired at `now`) counted by kind and
    /// by how soon they expire, for `/metrics`.
    async fn live_token_counts(&self, now: DateTime<Utc>) -> Result<LiveTokenCounts>;
    /// Mark a token replaced by its successor (`token rotate`): it gets no more notices.
    async fn mark_replaced(&self, old: Uuid, new: Uuid) -> Result<()>;
    /// Record these (token, threshold) pairs as due, each at most once ever, and return every
    /// pair among them still to deliver: the new ones and those whose delivery failed before.
    async fn claim_notices(&self, due: Vec<(Uuid, u32)>, now: DateTime<Utc>) -> Result<Vec<(Uuid, u32)>>;
    /// The pairs among `due` not delivered yet (never claimed, or claimed and not delivered):
    /// what [`NotifyStore::claim_notices`] would return, without recording anything.
    async fn undelivered_notices(&self, due: Vec<(Uuid, u32)>) -> Result<Vec<(Uuid, u32)>>;
    /// In one transaction: add the panel notices, queue the e-mails, mark `delivered` pairs
    /// delivered, and record the run.
    async fn deliver_notices(
        &self,
        notices: Vec<crate::notify::NewNotice>,
        emails: Vec<crate::notify::NewEmail>,
        webhooks: Vec<crate::notify::NewWebhook>,
        delivered: Vec<(Uuid, u32)>,
        run: crate::notify::CheckRun,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Claim up to `limit` queued e-mails due at `now` until `claim_until` (no other server
    /// takes them meanwhile), oldest first.
    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::notify::OutboxEmail>>;
    /// An e-mail was accepted by the SMTP server.
    async fn email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// An attempt failed: try again at `retry_at`, or give up (`None`).
    async fn email_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<()>;
    /// E-mails given up on, newest first.
    async fn failed_emails(&self, limit: usize) -> Result<Vec<crate::notify::FailedEmail>>;
    /// E-mails still queued.
    async fn pending_email_count(&self) -> Result<u64>;
    /// Claim up to `limit` webhook events due at `now` until `claim_until`, oldest first.
    async fn claim_due_webhooks(
        &self,
        now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::notify::OutboxWebhook>>;
    /// A webhook event was accepted (2xx).
    async fn webhook_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()>;
    /// A delivery failed: try again at `retry_at`, or give up (`None`).
    async fn webhook_failed(&self, id: i64, error: String, retry_at: Option<DateTime<Utc>>) -> Result<()>;
    /// Webhook events (pending, given up on).
    async fn webhook_counts(&self) -> Result<(u64, u64)>;
    /// Record a run that delivered nothing (a dry run, or nothing due).
    async fn record_run(&self, run: crate::notify::CheckRun) -> Result<()>;
    /// The latest runs, newest first.
    async fn check_runs(&self, limit: usize) -> Result<Vec<crate::notify::CheckRun>>;
    /// A user's notices, newest first, older than `before` (an id) when given; and how many of
    /// all their notices are unread.
    async fn notices_for(
        &self,
        user: Uuid,
        limit: usize,
        before: Option<i64>,
    ) -> Result<(Vec<crate::notify::Notice>, u64)>;
    /// Mark a user's notices read (all of them when `ids` is empty); returns how many changed.
    async fn mark_notices_read(&self, user: Uuid, ids: Vec<i64>, now: DateTime<Utc>) -> Result<u64>;
}

/// Roles (named sets of grants users hold; see `crate::role`) and what users may do through them.
/// The built-in roles are core's (`role::built_ins`) and never stored; custom roles are.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Every role: the built-in ones first (in `role::built_ins` order), then the custom ones by
    /// name.
    async fn list_roles(&self) -> Result<Vec<crate::role::Role>>;
    /// A role, built-in or custom, by name (`None` when no role has it).
    async fn role(&self, name: &RoleName) -> Result<Option<crate::role::Role>>;
    /// Add a custom role, created `now` (`AlreadyExists` when a role, built-in or custom, has
    /// the name). Its `built_in` flag is ignored: a stored role is custom.
    async fn create_role(&self, role: crate::role::Role, now: DateTime<Utc>) -> Result<crate::role::Role>;
    /// Change a custom role's description and grants (each `None` is left as it is); every
    /// holder may do what it now grants from their next read (`Refused` for a built-in role,
    /// `NotFound` for an unknown one).
    async fn update_role(
        &self,
        name: &RoleName,
        description: Option<String>,
        grants: Option<Grants>,
    ) -> Result<crate::role::Role>;
    /// Delete a custom role nobody holds (`Refused` for a built-in role, `NotFound` for an
    /// unknown one, `InUse` naming how many users hold it: take it from them first).
    async fn delete_role(&self, name: &RoleName) -> Result<()>;
    /// Every user, by name, with their effective grants (`role::effective_grants`): whom the
    /// expiry check may tell.
    async fn users_with_access(&self) -> Result<Vec<crate::role::UserAccess>>;
    /// One user, by id, with their effective grants (`None` for an unknown id): what a console
    /// session reads on each request to decide what its user may do. Two point reads (the
    /// user's row; their roles with the custom ones' grants).
    async fn user_access(&self, id: Uuid) -> Result<Option<crate::role::UserAccess>>;
}

/// A write that every server on the database must honour in its caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A token was revoked.
    TokenRevoked(Uuid),
    /// An item was written or deleted.
    Item(ItemKey),
    /// A namespace's retention changed, or it was deleted.
    Namespace(Network, NamespaceName),
    /// A token-signing key was added or retired (its kid): servers read the keys again.
    SigningKeys(String),
    /// A data-key rotation began or ended (the new key's id, hex): servers read their data
    /// directory's key files again.
    DataKey(String),
}

/// The change feed: the writes of [`Change`] kinds, in commit order.
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Changes after `seq`, oldest first, at most `limit`, with their sequence numbers.
    async fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<(i64, Change)>>;
    /// The latest sequence number (0 when there is none).
    async fn last_change_seq(&self) -> Result<i64>;
    /// Forget changes recorded before `before`; returns how many.
    async fn purge_changes(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Record an EdgeGrid nonce of a request made at `timestamp`, forgetting nonces of requests
    /// made before `forget_before`. False when this (client, timestamp, nonce) was already
    /// recorded: a replay (a copy of a signed request carries its timestamp; the same nonce
    /// under another timestamp has another signature, so it is another request).
    async fn record_nonce(
        &self,
        client_token: &str,
        nonce: &str,
        timestamp: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool>;
    /// Append `change` to the feed on its own (for changes made outside the store, such as a
    /// data-key file).
    async fn announce(&self, change: Change, at: DateTime<Utc>) -> Result<()>;
    /// Resolves when another server may just have written to the feed, so followers need not
    /// wait for their next poll. A backend without such a signal never resolves (the default):
    /// the poll alone keeps followers correct.
    async fn wait_for_change(&self) {
        std::future::pending::<()>().await
    }
}

/// A value sealed with the data key, as a data-key rotation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRow {
    /// The row's key (its primary key, as text).
    pub key: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
    /// For a value bound to something the row holds sealed in another column (a token's value
    /// is bound to its uuid, kept sealed in `tokens.sealed_uuid`): that column's sealed bytes.
    pub via: Option<Vec<u8>>,
}

/// A value sealed again: replaces `old` with `new`, unless the row changed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resealed {
    /// The row's key.
    pub key: String,
    /// The bytes read.
    pub old: Vec<u8>,
    /// The bytes to store.
    pub new: Vec<u8>,
}

/// The sealed columns, for a data-key rotation. A column is named `table.column`, one of the
/// store's list of sealed columns (`edgeward_store::SEALED_COLUMNS`).
#[async_trait]
pub trait SealedStore: Send + Sync {
    /// Up to `limit` values of `column` whose row key sorts after `after`, that are not null and
    /// do not start with `prefix` (what the new key seals starts with it), by row key.
    async fn sealed_batch(
        &self,
        column: &str,
        after: Option<String>,
        prefix: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<SealedRow>>;
    /// Store the values sealed again, in one transaction; a row whose value is no longer `old`
    /// (revoked, deleted, rewritten) is left as it is. Returns how many were replaced.
    async fn reseal(&self, column: &str, rows: Vec<Resealed>) -> Result<u64>;
}

/// Everything the server needs from storage.
pub trait Store:
    TokenStore
    + ApiClientStore
    + AccountStore
    + ItemStore
    + NamespaceStore
    + NotifyStore
    + RoleStore
    + ChangeStore
    + crate::audit::AuditStore
    + crate::session::SessionStore
    + SealedStore
    + PoolStatus
{
}
impl<
        T: TokenStore
            + ApiClientStore
            + AccountStore
            + ItemStore
            + NamespaceStore
            + NotifyStore
            + RoleStore
            + ChangeStore
            + SealedStore
            + PoolStatus
            + crate::audit::AuditStore
            + crate::session::SessionStore,
    > Store for T
{
}
