//! `GET /edgeward/v1/audit`: the audit trail, newest first, filtered and paged. Needs the
//! `VIEW_AUDIT` grant (Edgeward's own, beside EdgeKV's).

use std::collections::HashMap;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};

use edgeward_core::audit::{AuditFilter, AuditOutcome, MAX_PAGE};
use edgeward_core::Error;
use edgeward_wire::{AuditPage, AuditRecordObject};

use crate::auth::Caller;
use crate::permit::cap;
use crate::problem::ApiError;
use crate::state::AppState;

/// Query parameters a listing takes (each at most once).
const PARAMS: [&str; 8] = ["actor", "action", "target", "outcome", "since", "until", "before", "limit"];

fn instant(q: &HashMap<String, String>, key: &'static str) -> Result<Option<DateTime<Utc>>, Error> {
    q.get(key)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Error::invalid(key, format!("{key} must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z.")))
        })
        .transpose()
}

/// Parse a listing's query into a filter (shared by the API and its tests).
pub fn filter_from_query(q: &HashMap<String, String>) -> Result<AuditFilter, Error> {
    // `accountSwitchKey` is what EdgeGrid clients with an account key add to every request.
    if let Some(unknown) = q.keys().find(|k| !PARAMS.contains(&k.as_str()) && *k != "accountSwitchKey") {
        return Err(Error::invalid(
            "query",
            format!("Unknown query parameter {unknown:?}; the audit listing takes {}.", PARAMS.join(", ")),
        ));
    }
    let text = |key: &'static str| -> Result<Option<String>, Error> {
        match q.get(key) {
            Some(v) if v.is_empty() || v.len() > 512 => {
                Err(Error::invalid(key, format!("{key} must be 1 to 512 characters.")))
            }
            other => Ok(other.cloned()),
        }
    };
    let outcome = match q.get("outcome") {
        None => None,
        Some(v) => Some(
            AuditOutcome::parse(v).ok_or_else(|| Error::invalid("outcome", "outcome must be success or failure."))?,
        ),
    };
    let number = |key: &'static str, max: i64| -> Result<Option<i64>, Error> {
        q.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| Error::invalid(key, format!("{key} must be a whole number from 1 to {max}.")))
            })
            .transpose()
    };
    Ok(AuditFilter {
        actor: text("actor")?,
        action: text("action")?,
        target: text("target")?,
        outcome,
        since: instant(q, "since")?,
        until: instant(q, "until")?,
        before_id: number("before", i64::MAX)?,
        // 1 to MAX_PAGE when given, so it fits a usize.
        limit: number("limit", i64::try_from(MAX_PAGE).unwrap_or(i64::MAX))?
            .map_or(100, |n| usize::try_from(n).unwrap_or(MAX_PAGE)),
    })
}

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
    caller.permit::<cap::ViewAudit>()?;
    let filter = filter_from_query(&q.0)?;
    let records = state.store.audit_records(&filter).await?;
    let next = (records.len() == filter.limit).then(|| records.last().map(|r| r.id)).flatten();
    Ok(Json(AuditPage { records: records.into_iter().map(AuditRecordObject::from).collect(), next }))
}
