//! `GET /edgeward/v1/audit`: the audit trail, newest first, filtered and paged. Needs the
//! `VIEW_AUDIT` grant (Edgeward's own, beside EdgeKV's). The listing itself is
//! [`crate::audit::records`], which the console's audit page calls too.

use axum::extract::State;
use axum::{Extension, Json};

use edgeward_wire::AuditPage;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

/// The listing's query parsed into a filter (its home is [`crate::audit`]; the CLI reads the
/// trail on the server's host with it).
pub use crate::audit::filter_from_query;

/// The audit trail.
#[utoipa::path(
    get,
    path = "/edgeward/v1/audit",
    params(
        ("actor" = Option<String>, Query, description = "Only this actor, e.g. client:admin"),
        ("action" = Option<String>, Query, description = "Only this action (token.create), or a resource's (token.)"),
        ("target" = Option<String>, Query, description = "Only this target (token/ro), or under it (token/)"),
        ("outcome" = Option<String>, Query, description = "success or failure"),
        ("since" = Option<String>, Query, description = "RFC 3339; at or after"),
        ("until" = Option<String>, Query, description = "RFC 3339; before"),
        ("before" = Option<i64>, Query, description = "Only records older than this id (paging)"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 100"),
    ),
    responses((status = 200, body = AuditPage), (status = 400))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: crate::routes::QueryParams,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(crate::audit::records(&state, &caller.0, &q.0).await?))
}
