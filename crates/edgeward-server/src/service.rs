//! Token operations: the rules of the admin API between the wire and the store.
//! Each public function checks the caller's grants (through `permit`), validates, and makes one
//! store call that changes anything; the operation itself takes the permit of its capability
//! (`Permit<cap::CreateToken>`, a `Found<cap::RevokeToken>`…), so it cannot run on another check.

use chrono::{DateTime, Utc};
use edgeward_core::names::TokenName;
use edgeward_core::network::Networks;
use edgeward_core::store::{ListedToken, NewToken, StoredToken};
use edgeward_core::token::{
    check_expiry, next_refresh_after, parse_expiry, parse_namespace_permissions, EdgeWorkerScope, Token, TokenSpec,
    EXPIRED_RETENTION_DAYS,
};
use edgeward_core::{Error, Resource};
use edgeward_token::Claims;
use uuid::Uuid;

use crate::auth::Actor;
use crate::permit::{self, cap, Cap, Permit};
use crate::state::AppState;
use edgeward_wire::{
    CreateTokenRequest, ScheduleRevocation, ScheduledRevocation, TokenObject, TokenState, TokenSummary,
};

/// The `iss` claim of Edgeward token values.
pub const ISSUER: &str = "edgeward";

/// Parse a token name from a path.
pub fn parse_name(raw: &str) -> Result<TokenName, Error> {
    TokenName::parse(raw)
}

/// A token the caller was found to hold `C` for, on the token's networks: what the operation
/// of `C` takes. Only [`find_for`] makes one.
struct Found<C: Cap> {
    _permit: Permit<C>,
    stored: StoredToken,
}

/// The token holding `name`, if the caller may act on it with `C`. The grant is checked in two
/// steps around the lookup: first that `C` covers some tokens (its plain or staging form), then,
/// once the token is found, that it covers the token's networks. A caller whose grants cover
/// only staging-only tokens gets the same `Forbidden` for a token it may not see as for one that
/// does not exist, so names of other tokens do not leak.
async fn find_for<C: Cap>(state: &AppState, caller: &Actor, name: &str) -> Result<Found<C>, Error> {
    find_with::<C>(state, caller, name, Read::Store).await
}

/// Where [`find_with`] reads the token: the store, or the retrieval cache (for reads that
/// change nothing: [`crate::token_names`]).
enum Read {
    Store,
    Cached,
}

/// [`find_for`], reading the token from `read`.
async fn find_with<C: Cap>(state: &AppState, caller: &Actor, name: &str, read: Read) -> Result<Found<C>, Error> {
    // Held for staging-only tokens: the least a grant of `C` covers.
    permit::check::<C>(&caller.grants, Networks::STAGING)?;
    let name = parse_name(name)?;
    let stored = match read {
        Read::Store => state.store.token_by_name(&name).await?,
        Read::Cached => state.token_names.token_by_name(state, &name).await?,
    };
    match stored {
        Some(stored) => Ok(Found { _permit: permit::check(&caller.grants, stored.token.networks)?, stored }),
        None if permit::held_on_every_network::<C>(&caller.grants) => Err(Error::NotFound {
            resource: Resource::Token,
            message: format!("Token with name {name} does not exist."),
        }),
        None => Err(permit::refusal::<C>()),
    }
}

/// The signed value of an expiring token, signed with `signer`'s active key.
pub fn token_value(signer: &edgeward_token::KeySet, t: &Token) -> Option<String> {
    let expires_at = t.expires_at()?;
    let claims = Claims {
        iss: ISSUER.into(),
        jti: t.uuid.to_string(),
        iat: t.issued_at.timestamp(),
        exp: expires_at.timestamp(),
        cpc: t.cpcode.clone(),
        env: t.networks.iter().map(|n| n.env_letter().to_owned()).collect(),
        ewids: t.ewids.to_claim(),
        name: t.name.to_string(),
        namespaces: t
            .namespaces
            .iter()
            .map(|(ns, p)| (format!("namespace-{ns}"), serde_json::json!(p.letters())))
            .collect(),
    };
    Some(edgeward_token::sign(&claims, signer.active()))
}

/// `POST /tokens`.
pub async fn create_token(state: &AppState, caller: &Actor, req: CreateTokenRequest) -> Result<TokenObject, Error> {
    let name = TokenName::parse(&req.name)?;
    let networks = Networks::new(req.allow_on_staging.0, req.allow_on_production.0)?;
    let permit = permit::check::<cap::CreateToken>(&caller.grants, networks)?;
    let ewids = EdgeWorkerScope::parse(req.restrict_to_edge_worker_ids.as_deref(), &state.limits)?;
    let namespaces = parse_namespace_permissions(&req.namespace_permissions.0, &state.limits)?;
    let now = state.clock.now();
    let expiry = parse_expiry(req.expiry.as_deref())?;
    if let Some(e) = expiry {
        check_expiry(e, now.date_naive(), &state.limits)?;
    }
    let spec = TokenSpec { name, networks, ewids, namespaces, expiry };
    let (token, value) = issue(state, permit, spec, now).await?;
    state.metrics.tokens_created.inc();
    // Never the uuid: an auto-refreshing token's uuid is its reference, a bearer credential.
    tracing::info!(token = %token.name, client = %caller.name, "token created");
    Ok(TokenObject::new(&token, value))
}

/// Make, sign, seal and store a token of `spec`, on the networks `permit` was checked for
/// (`spec`'s); its value, for an expiring token.
async fn issue(
    state: &AppState,
    permit: Permit<cap::CreateToken>,
    spec: TokenSpec,
    now: DateTime<Utc>,
) -> Result<(Token, Option<String>), Error> {
    let spec = TokenSpec { networks: permit.networks(), ..spec };
    // Sign before storing so the stored value is exactly the one returned now and later.
    let token = Token::issue(spec, Uuid::new_v4(), now, state.cpcode.clone());
    let keys = state.keys.current();
    let value = token_value(&keys.set, &token);
    let kid = value.as_ref().map(|_| keys.set.active().kid().to_owned());
    let sealed_value = value.as_ref().map(|v| state.data_key.seal(v.as_bytes(), token.uuid.as_bytes()));
    let token =
        state.store.insert_token(NewToken { token, sealed_value, kid }, state.limits.max_tokens_per_account).await?;
    Ok((token, value))
}

/// `GET /tokens/{name}`.
pub async fn get_token(
    state: &AppState,
    caller: &Actor,
    name: &str,
    include_usage: bool,
) -> Result<TokenObject, Error> {
    let found = find_with::<cap::ViewToken>(state, caller, name, Read::Cached).await?;
    show(state, &found, include_usage).await
}

/// A token as `GET /tokens/{name}` shows it: its value, and its usage if asked for.
async fn show(state: &AppState, found: &Found<cap::ViewToken>, include_usage: bool) -> Result<TokenObject, Error> {
    let stored = &found.stored;
    if stored.token.is_expired(state.clock.now()) {
        return Err(Error::Gone { resource: Resource::Token, message: "Token has expired.".into() });
    }
    let mut object = TokenObject::new(&stored.token, open_value(state, stored)?);
    if !include_usage {
        return Ok(object);
    }
    let usage = state.store.token_usage(stored.token.uuid).await?;
    object.usage = Some(
        usage
            .into_iter()
            .map(|u| edgeward_wire::TokenUsageObject {
                network: u.network.to_string(),
                requests: u.requests,
                last_used: u.last_used.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .collect(),
    );
    Ok(object)
}

/// The value of an expiring token, opened; none for an auto-refreshing one.
fn open_value(state: &AppState, stored: &StoredToken) -> Result<Option<String>, Error> {
    let Some(sealed) = &stored.sealed_value else { return Ok(None) };
    let value = state
        .data_key
        .open(sealed, stored.token.uuid.as_bytes())
        .map_err(|e| Error::Internal(format!("token {} value: {e}", stored.token.name)))?;
    String::from_utf8(value).map(Some).map_err(|e| Error::Internal(e.to_string()))
}

/// Every stored token the caller may view (revoked and expired ones too, until purged), with
/// its successor and last use: the console's list, in one store read.
pub async fn token_overview(state: &AppState, caller: &Actor) -> Result<Vec<ListedToken>, Error> {
    // Held for staging-only tokens: the least a grant to view covers.
    permit::check::<cap::ViewToken>(&caller.grants, Networks::STAGING)?;
    let mut tokens = state.store.token_overview().await?;
    tokens.retain(|t| permit::check::<cap::ViewToken>(&caller.grants, t.stored.token.networks).is_ok());
    Ok(tokens)
}

/// The tokens of [`token_overview`] that are live (neither revoked nor expired), as
/// `GET /tokens/{name}` shows them (values opened): what a complete `edgekv_tokens.js` holds.
pub async fn live_tokens(state: &AppState, caller: &Actor) -> Result<Vec<(ListedToken, TokenObject)>, Error> {
    let now = state.clock.now();
    token_overview(state, caller)
        .await?
        .into_iter()
        .filter(|t| t.stored.token.revoked_at.is_none() && !t.stored.token.is_expired(now))
        .map(|t| {
            let object = TokenObject::new(&t.stored.token, open_value(state, &t.stored)?);
            Ok((t, object))
        })
        .collect()
}

/// `GET /tokens`.
pub async fn list_tokens(state: &AppState, caller: &Actor, include_expired: bool) -> Result<Vec<TokenSummary>, Error> {
    // Held for staging-only tokens: the least a grant to view covers.
    permit::check::<cap::ViewToken>(&caller.grants, Networks::STAGING)?;
    let now = state.clock.now();
    let window = include_expired.then(|| now - chrono::Days::new(EXPIRED_RETENTION_DAYS));
    let tokens = state.store.list_tokens(now, window).await?;
    Ok(tokens
        .iter()
        .filter(|t| permit::check::<cap::ViewToken>(&caller.grants, t.networks).is_ok())
        .map(TokenSummary::from)
        .collect())
}

/// `DELETE /tokens/{name}`.
pub async fn revoke_token(state: &AppState, caller: &Actor, name: &str) -> Result<Token, Error> {
    let found = find_for::<cap::RevokeToken>(state, caller, name).await?;
    let t = revoke(state, found).await?;
    tracing::info!(token = %t.name, client = %caller.name, "token revoked");
    Ok(t)
}

/// Revoke a token, here and (through the change feed) on every node.
async fn revoke(state: &AppState, found: Found<cap::RevokeToken>) -> Result<Token, Error> {
    let t = state.store.revoke_token(found.stored.token.uuid, state.clock.now()).await?;
    state.gate.revoke(t.uuid);
    state.metrics.tokens_revoked.inc();
    Ok(t)
}

use edgeward_core::limits::{MAX_REVOCATION_DELAY_DAYS, REVOKE_AT_SKEW_SECONDS};

/// `PUT /edgeward/v1/tokens/{name}/scheduled-revocation`: revoke a token at a time (or after a
/// delay on the server's clock), replacing any earlier schedule. A time that has come revokes it
/// now. Maintenance carries the revocation out ([`revoke_due`]).
pub async fn schedule_revocation(
    state: &AppState,
    caller: &Actor,
    name: &str,
    when: ScheduleRevocation,
) -> Result<ScheduledRevocation, Error> {
    let now = state.clock.now();
    let latest = now + chrono::Duration::days(MAX_REVOCATION_DELAY_DAYS);
    let too_late = || {
        Error::invalid(
            "revokeAt",
            format!("A revocation can be scheduled at most {MAX_REVOCATION_DELAY_DAYS} days ahead."),
        )
    };
    let at = match (when.revoke_at, when.revoke_after_seconds) {
        (Some(t), None) => DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Error::invalid("revokeAt", "revokeAt must be an RFC 3339 time, e.g. 2027-01-01T06:00:00Z."))?,
        (None, Some(secs)) => {
            let secs = i64::try_from(secs).map_err(|_| too_late())?;
            now + chrono::Duration::try_seconds(secs).ok_or_else(too_late)?
        }
        _ => return Err(Error::invalid("body", "Give revokeAt or revokeAfterSeconds (exactly one).")),
    };
    if at > latest {
        return Err(too_late());
    }
    if at < now - chrono::Duration::seconds(REVOKE_AT_SKEW_SECONDS) {
        return Err(Error::invalid(
            "revokeAt",
            format!(
                "revokeAt is in the past ({} on the server's clock); give a time to come, or revokeAfterSeconds 0 to revoke now.",
                seconds(now)
            ),
        ));
    }
    let found = find_for::<cap::RevokeToken>(state, caller, name).await?;
    let (token_name, uuid) = (found.stored.token.name.to_string(), found.stored.token.uuid);
    if at <= now {
        revoke(state, found).await?;
        tracing::info!(token = %token_name, client = %caller.name, "token revoked (its scheduled time had come)");
        return Ok(ScheduledRevocation { name: token_name, revoke_at: seconds(now), revoked: true });
    }
    state.store.schedule_revocation(uuid, Some(at)).await?;
    tracing::info!(token = %token_name, revoke_at = %at, client = %caller.name, "token revocation scheduled");
    Ok(ScheduledRevocation { name: token_name, revoke_at: seconds(at), revoked: false })
}

/// `DELETE /edgeward/v1/tokens/{name}/scheduled-revocation`: the token stays valid (no
/// schedule: nothing changes).
pub async fn cancel_revocation(state: &AppState, caller: &Actor, name: &str) -> Result<(), Error> {
    let found = find_for::<cap::RevokeToken>(state, caller, name).await?;
    state.store.schedule_revocation(found.stored.token.uuid, None).await?;
    tracing::info!(token = %found.stored.token.name, client = %caller.name, "scheduled token revocation cancelled");
    Ok(())
}

/// Revoke every token whose scheduled revocation has come, each in its own transaction with
/// its audit record (actor `maintenance`), here and (through the change feed) on every node.
/// A token cancelled or rescheduled meanwhile, or revoked by another server first, is left; one
/// that fails is logged and tried again at the next run. Run by maintenance.
pub async fn revoke_due(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Token>, Error> {
    /// Revocations one run tries at most; the next run takes the rest.
    const BATCH: usize = 500;
    let mut revoked = Vec::new();
    for due in state.store.due_revocations(now, BATCH).await? {
        let target = format!("token/{}", due.name);
        let done = crate::audit::maintenance(
            edgeward_core::audit::actions::TOKEN_REVOKE,
            target,
            now,
            state.store.revoke_if_due(due.uuid, now),
        )
        .await;
        match done {
            Ok(t) => {
                state.gate.revoke(t.uuid);
                state.metrics.tokens_revoked.inc();
                tracing::info!(token = %t.name, "scheduled token revocation done");
                revoked.push(t);
            }
            Err(Error::NotFound { .. }) => {}
            Err(e) => {
                tracing::error!(token = %due.name, error = %e.log_detail(), "scheduled token revocation failed; will retry")
            }
        }
    }
    Ok(revoked)
}

/// `GET /edgeward/v1/tokens`: every stored token the caller may view, with its lifecycle
/// (successor, scheduled and done revocation, last use).
pub async fn token_states(state: &AppState, caller: &Actor) -> Result<Vec<TokenState>, Error> {
    let now = state.clock.now();
    Ok(token_overview(state, caller)
        .await?
        .iter()
        .map(|t| {
            let may_revoke = permit::check::<cap::RevokeToken>(&caller.grants, t.stored.token.networks).is_ok();
            TokenState::new(t, now, may_revoke)
        })
        .collect())
}

/// An instant as the Edgeward endpoints write it: RFC 3339, whole seconds.
fn seconds(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Record that `successor` replaces `name` (`token rotate`): the old token stays valid until
/// revoked or expired, but expiry notices stop for it. The caller must be able to create both.
pub async fn mark_replaced(state: &AppState, caller: &Actor, name: &str, successor: &str) -> Result<(), Error> {
    let old = find_for::<cap::CreateToken>(state, caller, name).await?;
    let new = find_for::<cap::CreateToken>(state, caller, successor).await?;
    replace(state, &old, &new).await
}

/// Note `new` as `old`'s successor.
async fn replace(state: &AppState, old: &Found<cap::CreateToken>, new: &Found<cap::CreateToken>) -> Result<(), Error> {
    let (old, new) = (&old.stored.token, &new.stored.token);
    if old.uuid == new.uuid {
        return Err(Error::invalid("name", "A token cannot replace itself."));
    }
    state.store.mark_replaced(old.uuid, new.uuid).await?;
    tracing::info!(token = %old.name, successor = %new.name, "token marked replaced");
    Ok(())
}

/// `POST /tokens/{name}/refresh`.
pub async fn refresh_token(state: &AppState, caller: &Actor, name: &str) -> Result<TokenObject, Error> {
    let found = find_for::<cap::CreateToken>(state, caller, name).await?;
    refresh(state, &found).await
}

/// Renew the credential behind an auto-refreshing token's reference.
async fn refresh(state: &AppState, found: &Found<cap::CreateToken>) -> Result<TokenObject, Error> {
    let now = state.clock.now();
    let t = state.store.refresh_token(&found.stored.token.name, now, next_refresh_after(now.date_naive())).await?;
    tracing::info!(token = %t.name, generation = t.generation, "token refreshed");
    Ok(TokenObject::new(&t, None))
}

/// The tokens held against the account's limit, counted as creation counts them (every
/// unrevoked token until purged), when `caller` may view tokens on both networks (the count
/// covers every token); `None` otherwise. Shown by `edgeward status` and the console's account page.
pub async fn counted_tokens(state: &AppState, caller: &Actor) -> Result<Option<u64>, Error> {
    if permit::check::<cap::ViewToken>(&caller.grants, Networks::BOTH).is_err() {
        return Ok(None);
    }
    Ok(Some(state.store.counted_tokens().await?))
}

/// The soonest-expiring live token `caller` may view: its name and expiry (`edgeward status`).
pub async fn soonest_expiry(state: &AppState, caller: &Actor) -> Result<Option<(TokenName, chrono::NaiveDate)>, Error> {
    if permit::check::<cap::ViewToken>(&caller.grants, Networks::STAGING).is_err() {
        return Ok(None);
    }
    Ok(state
        .store
        .list_tokens(state.clock.now(), None)
        .await?
        .into_iter()
        .filter(|t| permit::check::<cap::ViewToken>(&caller.grants, t.networks).is_ok())
        .filter_map(|t| t.expiry.map(|e| (t.name, e)))
        .min_by_key(|(_, e)| *e))
}

/// The namespaces on `network`, when `caller` may view them there (the console's account page).
pub async fn namespace_count(
    state: &AppState,
    caller: &Actor,
    network: edgeward_core::network::Network,
) -> Result<Option<usize>, Error> {
    if permit::check::<cap::ViewNamespace>(&caller.grants, network.into()).is_err() {
        return Ok(None);
    }
    Ok(Some(state.store.list_namespaces(network).await?.len()))
}
