//! Token operations: the rules of the admin API between the wire and the store.
//! Each function checks the caller's grants, validates, and makes one store call that changes
//! anything.

use edgeward_core::capability::{Capability, TokenAction};
use edgeward_core::names::TokenName;
use edgeward_core::network::Networks;
use edgeward_core::store::{ApiClient, NewToken, StoredToken};
use edgeward_core::token::{
    check_expiry, next_refresh_after, parse_expiry, parse_namespace_permissions, EdgeWorkerScope, Token, TokenSpec,
    EXPIRED_RETENTION_DAYS,
};
use edgeward_core::{Error, Resource};
use edgeward_token::Claims;
use uuid::Uuid;

use crate::state::AppState;
use edgeward_wire::{CreateTokenRequest, TokenObject, TokenSummary};

/// The `iss` claim of Edgeward token values.
pub const ISSUER: &str = "edgeward";

fn check(caller: &ApiClient, action: TokenAction, networks: Networks) -> Result<(), Error> {
    caller.grants.check_token(action, networks).map_err(Error::Forbidden)
}

fn any_grant(caller: &ApiClient, full: Capability, staging: Capability) -> Result<(), Error> {
    if caller.grants.has(full) || caller.grants.has(staging) {
        Ok(())
    } else {
        Err(Error::Forbidden(full))
    }
}

/// Parse a token name from a path.
pub fn parse_name(raw: &str) -> Result<TokenName, Error> {
    TokenName::parse(raw)
}

/// The token holding `name`, if the caller may act on it. A caller whose grants cover only
/// staging-only tokens gets the same `Forbidden` for a token it may not see as for one that does
/// not exist, so names of other tokens do not leak.
async fn find_for(state: &AppState, caller: &ApiClient, name: &str, action: TokenAction) -> Result<StoredToken, Error> {
    let (full, staging) = match action {
        TokenAction::Create => (Capability::CreateToken, Capability::CreateStagingToken),
        TokenAction::View => (Capability::ViewToken, Capability::ViewStagingToken),
        TokenAction::Revoke => (Capability::RevokeToken, Capability::RevokeStagingToken),
    };
    any_grant(caller, full, staging)?;
    let name = parse_name(name)?;
    match state.store.token_by_name(&name).await? {
        Some(stored) => {
            check(caller, action, stored.token.networks)?;
            Ok(stored)
        }
        None if caller.grants.has(full) => Err(Error::NotFound {
            resource: Resource::Token,
            message: format!("Token with name {name} does not exist."),
        }),
        None => Err(Error::Forbidden(full)),
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
pub async fn create_token(state: &AppState, caller: &ApiClient, req: CreateTokenRequest) -> Result<TokenObject, Error> {
    let name = TokenName::parse(&req.name)?;
    let networks = Networks::new(req.allow_on_staging.0, req.allow_on_production.0)?;
    check(caller, TokenAction::Create, networks)?;
    let ewids = EdgeWorkerScope::parse(req.restrict_to_edge_worker_ids.as_deref(), &state.limits)?;
    let namespaces = parse_namespace_permissions(&req.namespace_permissions.0, &state.limits)?;
    let now = state.clock.now();
    let expiry = parse_expiry(req.expiry.as_deref())?;
    if let Some(e) = expiry {
        check_expiry(e, now.date_naive(), &state.limits)?;
    }
    let spec = TokenSpec { name, networks, ewids, namespaces, expiry };
    // Sign before storing so the stored value is exactly the one returned now and later.
    let token = Token::issue(spec, Uuid::new_v4(), now, state.cpcode.clone());
    let keys = state.keys.current();
    let value = token_value(&keys.set, &token);
    let kid = value.as_ref().map(|_| keys.set.active().kid().to_owned());
    let sealed_value = value.as_ref().map(|v| state.data_key.seal(v.as_bytes(), token.uuid.as_bytes()));
    let token =
        state.store.insert_token(NewToken { token, sealed_value, kid }, state.limits.max_tokens_per_account).await?;
    state.metrics.tokens_created.inc();
    // Never the uuid: an auto-refreshing token's uuid is its reference, a bearer credential.
    tracing::info!(token = %token.name, client = %caller.name, "token created");
    Ok(TokenObject::new(&token, value))
}

/// `GET /tokens/{name}`.
pub async fn get_token(
    state: &AppState,
    caller: &ApiClient,
    name: &str,
    include_usage: bool,
) -> Result<TokenObject, Error> {
    let stored = find_for(state, caller, name, TokenAction::View).await?;
    if stored.token.is_expired(state.clock.now()) {
        return Err(Error::Gone { resource: Resource::Token, message: "Token has expired.".into() });
    }
    let value = match &stored.sealed_value {
        Some(sealed) => Some(
            state
                .data_key
                .open(sealed, stored.token.uuid.as_bytes())
                .map_err(|e| Error::Internal(format!("token {} value: {e}", stored.token.name)))
                .and_then(|v| String::from_utf8(v).map_err(|e| Error::Internal(e.to_string())))?,
        ),
        None => None,
    };
    let mut object = TokenObject::new(&stored.token, value);
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

/// `GET /tokens`.
pub async fn list_tokens(
    state: &AppState,
    caller: &ApiClient,
    include_expired: bool,
) -> Result<Vec<TokenSummary>, Error> {
    any_grant(caller, Capability::ViewToken, Capability::ViewStagingToken)?;
    let now = state.clock.now();
    let window = include_expired.then(|| now - chrono::Days::new(EXPIRED_RETENTION_DAYS));
    let tokens = state.store.list_tokens(now, window).await?;
    Ok(tokens.iter().filter(|t| check(caller, TokenAction::View, t.networks).is_ok()).map(TokenSummary::from).collect())
}

/// `DELETE /tokens/{name}`.
pub async fn revoke_token(state: &AppState, caller: &ApiClient, name: &str) -> Result<Token, Error> {
    let stored = find_for(state, caller, name, TokenAction::Revoke).await?;
    let t = state.store.revoke_token(stored.token.uuid, state.clock.now()).await?;
    state.gate.revoke(t.uuid);
    state.metrics.tokens_revoked.inc();
    tracing::info!(token = %t.name, client = %caller.name, "token revoked");
    Ok(t)
}

/// Record that `successor` replaces `name` (`token rotate`): the old token stays valid until
/// revoked or expired, but expiry notices stop for it. The caller must be able to create both.
pub async fn mark_replaced(state: &AppState, caller: &ApiClient, name: &str, successor: &str) -> Result<(), Error> {
    let old = find_for(state, caller, name, TokenAction::Create).await?;
    let new = find_for(state, caller, successor, TokenAction::Create).await?;
    if old.token.uuid == new.token.uuid {
        return Err(Error::invalid("name", "A token cannot replace itself."));
    }
    state.store.mark_replaced(old.token.uuid, new.token.uuid).await?;
    tracing::info!(token = %old.token.name, successor = %new.token.name, "token marked replaced");
    Ok(())
}

/// `POST /tokens/{name}/refresh`.
pub async fn refresh_token(state: &AppState, caller: &ApiClient, name: &str) -> Result<TokenObject, Error> {
    let stored = find_for(state, caller, name, TokenAction::Create).await?;
    let now = state.clock.now();
    let t = state.store.refresh_token(&stored.token.name, now, next_refresh_after(now.date_naive())).await?;
    tracing::info!(token = %t.name, generation = t.generation, "token refreshed");
    Ok(TokenObject::new(&t, None))
}
