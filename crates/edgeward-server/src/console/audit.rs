//! The audit page: the trail's records, newest first, filtered by the admin API's filters and
//! paged by its `before`.
//!
//! The listing is [`crate::audit::records`], the function `GET /edgeward/v1/audit` answers with:
//! the same `VIEW_AUDIT` check, the same query parsing (a bad filter gets the API's words) and
//! the same store query.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use edgeward_core::Error;

use super::pages::{error_page, form_to_correct, render, Chrome};
use super::session::Person;
use crate::state::AppState;

/// The filter form's fields, in the order the page shows them (the API's query parameters).
const FILTERS: [&str; 6] = ["actor", "action", "target", "outcome", "since", "until"];

/// One record, as the table shows it.
struct Row {
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    failed: bool,
    source: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    /// The filters as given (empty when not).
    actor: String,
    action: String,
    target: String,
    outcome: String,
    since: String,
    until: String,
    /// The API's refusal of the filter, shown above the form.
    error: Option<String>,
    rows: Vec<Row>,
    /// The link to the next, older page.
    older: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    paged: bool,
}

/// `GET /audit`: the records the query selects.
///
/// The form sends every field, empty or not; an empty one is no filter (the API would refuse an
/// empty value), and everything else goes to the API's parsing as sent.
pub async fn audit(
    State(state): State<AppState>,
    person: Person,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let mut q: HashMap<String, String> = HashMap::new();
    for (k, v) in query {
        if !v.is_empty() {
            q.insert(k, v);
        }
    }
    let field = |k: &str| q.get(k).cloned().unwrap_or_default();
    let chrome = match Chrome::of(&state, &person, "audit").await {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let mut page = AuditPage {
        chrome,
        actor: field("actor"),
        action: field("action"),
        target: field("target"),
        outcome: field("outcome"),
        since: field("since"),
        until: field("until"),
        error: None,
        rows: Vec::new(),
        older: None,
        paged: q.contains_key("before"),
    };
    match crate::audit::records(&state, &person.caller.0, &q).await {
        Ok(records) => {
            page.older = records.next.map(|before| older_href(&q, before));
            page.rows = records
                .records
                .into_iter()
                .map(|r| Row {
                    at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    outcome: r.outcome.as_str().to_owned(),
                    failed: r.outcome == edgeward_core::audit::AuditOutcome::Failure,
                    source: r.source,
                    detail: r.detail.unwrap_or_default(),
                })
                .collect();
            render(&page)
        }
        // A filter to correct: the form again with the API's words. Anything else (no grant,
        // the store) is the error page.
        Err(e @ Error::Invalid { .. }) => {
            page.error = Some(e.to_string());
            form_to_correct(&page)
        }
        Err(e) => error_page(&e),
    }
}

/// `/audit` with the same filters (and page size), older than `before`.
fn older_href(q: &HashMap<String, String>, before: i64) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for k in FILTERS.iter().chain(&["limit"]) {
        if let Some(v) = q.get(*k) {
            s.append_pair(k, v);
        }
    }
    s.append_pair("before", &before.to_string());
    format!("/audit?{}", s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_older_link_keeps_the_filters_and_pages_on() {
        let q: HashMap<String, String> = [("action", "item."), ("before", "90"), ("since", "2026-12-01T00:00:00Z")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        assert_eq!(older_href(&q, 42), "/audit?action=item.&since=2026-12-01T00%3A00%3A00Z&before=42");
    }
}
