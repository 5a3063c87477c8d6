//! `/edgeward/v1/status`: the server, the account and the caller in one answer (`edgeward
//! status`): what a person checks first when something does not work, and the server's clock
//! that the CLI's expiry warnings count from.

use axum::extract::State;
use axum::{Extension, Json};

use edgeward_wire::{CallerObject, ServerStatus, SoonestExpiry};

use crate::auth::{ActorKind, Caller};
use crate::problem::ApiError;
use crate::state::AppState;

/// The server's version and schema, its clock, the account, the caller and its grants, tokens
/// used of the limit and the soonest expiry (of the tokens the caller may view), as
/// [`counted_tokens`](crate::service::counted_tokens) and
/// [`soonest_expiry`](crate::service::soonest_expiry) count them. The CP code is shown to every
/// caller, as `GET /edgekv/v1/initialize` shows it.
#[utoipa::path(get, path = "/edgeward/v1/status", responses((status = 200, body = ServerStatus)))]
pub async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ServerStatus>, ApiError> {
    let actor = &caller.0;
    let now = state.clock.now();
    let account = state.store.account().await?;
    let user = match actor.user {
        Some(id) => state.store.list_users().await?.into_iter().find(|u| u.id == id).map(|u| u.name),
        None => None,
    };
    let tokens_used = crate::service::counted_tokens(&state, actor).await?;
    let soonest_expiry = crate::service::soonest_expiry(&state, actor)
        .await?
        .map(|(name, e)| SoonestExpiry { name: name.to_string(), expiry: e.to_string() });
    Ok(Json(ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: edgeward_store::migrate::newest_version(),
        server_time: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        development_clock: (now - state.request_clock.now()).num_seconds().abs() > 1,
        cpcode: account.map(|a| a.cpcode),
        caller: CallerObject {
            name: actor.name.clone(),
            kind: match actor.kind {
                ActorKind::Client => "client",
                ActorKind::User => "user",
            }
            .to_owned(),
            grants: actor.grants.iter().map(|c| c.as_str().to_owned()).collect(),
            user,
        },
        tokens_used,
        tokens_limit: state.limits.max_tokens_per_account,
        soonest_expiry,
    }))
}
