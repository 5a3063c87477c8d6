//! The account page: the CP code, the product limits with what is used of each (as far as the
//! person may see), and, for people who manage notifications, the expiry check's health (its
//! latest run, its outboxes, and the tokens due that nobody would hear of).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use edgeward_core::Error;
use edgeward_wire::DueToken;

use super::pages::{error_page, render, Chrome};
use super::session::Person;
use crate::permit::cap;
use crate::state::AppState;

/// One row of the limits table.
struct LimitRow {
    what: &'static str,
    allowed: String,
    used: String,
}

/// The health area, for people with `MANAGE_NOTIFICATIONS`.
struct Health {
    thresholds: String,
    check_time: String,
    latest_run: String,
    email: String,
    webhook: String,
    undelivered: Vec<DueToken>,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    chrome: Chrome,
    cpcode: String,
    initialized: String,
    limits: Vec<LimitRow>,
    health: Option<Health>,
}

/// What is used, when the person may see it: the count, else a dash.
fn used(count: Option<usize>) -> String {
    count.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

/// `GET /account`.
pub async fn account(State(state): State<AppState>, person: Person) -> Response {
    match page(&state, &person).await {
        Ok(p) => render(&p),
        Err(e) => error_page(&e),
    }
}

async fn page(state: &AppState, person: &Person) -> Result<AccountPage, Error> {
    let chrome = Chrome::of(state, person, "account").await?;
    let account = state.store.account().await?;
    let caller = &person.caller;
    let tokens = crate::service::counted_tokens(state, &caller.0).await?.and_then(|n| usize::try_from(n).ok());
    let namespaces = [
        crate::service::namespace_count(state, &caller.0, edgeward_core::network::Network::Production).await?,
        crate::service::namespace_count(state, &caller.0, edgeward_core::network::Network::Staging).await?,
    ];
    let l = &state.limits;
    let limits = vec![
        LimitRow { what: "Tokens per account", allowed: l.max_tokens_per_account.to_string(), used: used(tokens) },
        LimitRow {
            what: "Namespaces on production",
            allowed: l.max_namespaces_per_network.to_string(),
            used: used(namespaces[0]),
        },
        LimitRow {
            what: "Namespaces on staging",
            allowed: l.max_namespaces_per_network.to_string(),
            used: used(namespaces[1]),
        },
        LimitRow {
            what: "Namespaces per token",
            allowed: l.max_namespaces_per_token.to_string(),
            used: "per token".into(),
        },
        LimitRow {
            what: "EdgeWorker IDs per token",
            allowed: l.max_ewids_per_token.to_string(),
            used: "per token".into(),
        },
        LimitRow {
            what: "Token lifetime",
            allowed: format!("{} months", l.max_token_lifetime_months),
            used: "per token".into(),
        },
    ];
    let health = match caller.permit::<cap::ManageNotifications>() {
        Ok(permit) => {
            let s = crate::notify::status(state, permit).await?;
            let latest_run = s.runs.first().map_or_else(
                || "none yet".to_owned(),
                |r| {
                    format!(
                        "{} on {} ({} due, {} notices{})",
                        r.check_day,
                        r.server,
                        r.due,
                        r.notices,
                        if r.dry_run { ", dry run" } else { "" }
                    )
                },
            );
            Some(Health {
                thresholds: s.thresholds.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                check_time: s.check_time,
                latest_run,
                email: format!("{} ({} queued, {} given up)", s.email, s.emails_pending, s.emails_failed.len()),
                webhook: format!("{} ({} queued, {} given up)", s.webhook, s.webhooks_pending, s.webhooks_failed),
                undelivered: s.undelivered,
            })
        }
        Err(_) => None,
    };
    Ok(AccountPage {
        chrome,
        cpcode: account.as_ref().map_or_else(|| "not initialized".to_owned(), |a| a.cpcode.clone()),
        initialized: account.map_or_else(|| "no".to_owned(), |a| a.initialized_at.format("%Y-%m-%d").to_string()),
        limits,
        health,
    })
}
