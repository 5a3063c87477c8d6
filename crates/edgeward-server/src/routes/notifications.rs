//! `/edgeward/v1/…`: Edgeward's own endpoints for expiry notices (not part of EdgeKV's API).
//!
//! - The notification panel of the caller's user (an API client belongs to a user): list,
//!   newest first with the unread count and paging, and mark read.
//! - The expiry check: run it now (optionally dry) and read the latest runs; these need the
//!   `MANAGE_NOTIFICATIONS` grant.

use axum::extract::State;
use axum::{Extension, Json};

use edgeward_core::limits::MAX_LIST_ENTRIES;
use edgeward_core::Error;
use edgeward_wire::{
    CheckReport, MarkRead, MarkedRead, NoticeList, NoticeObject, NoticeToken, NotifyStatus, ReplacedBy,
};

use crate::auth::Caller;
use crate::notify::run_check;
use crate::permit::cap;
use crate::problem::ApiError;
use crate::routes::{is_blank, parse_json, JsonBody, QueryParams};
use crate::state::AppState;

type Params = QueryParams;

fn owner(caller: &Caller) -> Result<uuid::Uuid, Error> {
    caller.0.user.ok_or_else(|| {
        Error::invalid(
            "client",
            "This API client belongs to no user, so it has no notification panel: create one with `edgeward apiclient create --owner <user>`.",
        )
    })
}

fn number(q: &Params, key: &'static str, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, Error> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().ok().filter(|n| range.contains(n)).map(Some).ok_or_else(|| {
            Error::invalid(key, format!("{key} must be a whole number from {} to {}.", range.start(), range.end()))
        }),
    }
}

/// The caller's notices.
#[utoipa::path(get, path = "/edgeward/v1/notifications", params(("limit" = Option<u32>, Query), ("before" = Option<i64>, Query)), responses((status = 200, body = NoticeList), (status = 400)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: QueryParams,
) -> Result<Json<NoticeList>, ApiError> {
    // 1 to 100 when given, so it fits a usize.
    let limit = number(&q, "limit", 1..=100)?.map_or(20, |n| usize::try_from(n).unwrap_or(100));
    let before = number(&q, "before", 1..=i64::MAX)?;
    let user = owner(&caller)?;
    let (notices, unread) = state.store.notices_for(user, limit, before).await?;
    let next = (notices.len() == limit).then(|| notices.last().map(|n| n.id)).flatten();
    let notifications = notices
        .into_iter()
        .map(|n| {
            // The tokens are stored as the check wrote them: `NoticeToken`s.
            let tokens: Vec<NoticeToken> = serde_json::from_value(n.tokens)
                .map_err(|e| Error::Internal(format!("notice {}: its tokens do not read back: {e}", n.id)))?;
            Ok(NoticeObject {
                id: n.id,
                threshold_days: n.threshold_days,
                created_at: NoticeObject::created_at(n.created_at),
                read: n.read_at.is_some(),
                subject: n.subject,
                tokens,
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(Json(NoticeList { notifications, unread, next }))
}

/// Mark the caller's notices read.
#[utoipa::path(post, path = "/edgeward/v1/notifications/read", request_body = Option<MarkRead>, responses((status = 200, body = MarkedRead), (status = 400)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody,
) -> Result<Json<MarkedRead>, ApiError> {
    let user = owner(&caller)?;
    let req: MarkRead = if is_blank(&body) { MarkRead::default() } else { parse_json(&body)? };
    if req.ids.len() > MAX_LIST_ENTRIES {
        return Err(Error::invalid(
            "ids",
            format!("ids: at most {MAX_LIST_ENTRIES} notice ids per request; {} were given.", req.ids.len()),
        )
        .into());
    }
    let marked = state.store.mark_notices_read(user, req.ids, state.clock.now()).await?;
    Ok(Json(MarkedRead { marked }))
}

/// Record that a token has a successor (what `edgeward token rotate` does): no more expiry
/// notices are sent about it.
#[utoipa::path(post, path = "/edgeward/v1/tokens/{name}/replaced-by", params(("name" = String, Path)), request_body = ReplacedBy, responses((status = 204), (status = 400), (status = 404)))]
pub async fn replaced_by(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(name): axum::extract::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<axum::http::StatusCode, ApiError> {
    let req: ReplacedBy = parse_json(&body)?;
    crate::service::mark_replaced(&state, &caller.0, &name, &req.name).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Run the expiry check now (`dryRun=true`: report what is due, record and deliver nothing).
#[utoipa::path(post, path = "/edgeward/v1/notify/run", params(("dryRun" = Option<bool>, Query)), responses((status = 200, body = CheckReport), (status = 400)))]
pub async fn run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: QueryParams,
) -> Result<Json<CheckReport>, ApiError> {
    caller.permit::<cap::ManageNotifications>()?;
    let dry = q.flag("dryRun")?;
    let n = &state.notify;
    // Another server (or this one's scheduler) may be running a check: wait for it a little,
    // rather than fail a run asked for by hand.
    let mut report = CheckReport::default();
    for _ in 0..50 {
        report = run_check(state.store.as_ref(), state.clock.now(), &n.holder, &n.thresholds, n.outputs, dry).await?;
        if report.ran {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    state.metrics.notices_delivered.inc_by(report.notices);
    if !report.ran {
        return Err(Error::Busy("Another server is running the expiry check; try again shortly.".into()).into());
    }
    Ok(Json(report))
}

/// The latest runs of the expiry check, newest first.
#[utoipa::path(get, path = "/edgeward/v1/notify/status", responses((status = 200, body = NotifyStatus), (status = 400)))]
pub async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<NotifyStatus>, ApiError> {
    Ok(Json(crate::notify::status(&state, caller.permit::<cap::ManageNotifications>()?).await?))
}
