//! The console's pages: each handler takes the signed-in [`Person`], does what the page asks
//! through the same service calls and permit checks as the admin API, and renders a template
//! compiled into the binary (`templates/console/`).

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use edgeward_core::audit::actions;
use edgeward_core::network::Networks;
use edgeward_core::Error;
use edgeward_wire::NoticeToken;

use super::session::{self, Person, Refused};
use crate::permit::{self, cap};
use crate::problem::ApiError;
use crate::state::AppState;

/// What every signed-in page shows around its content: who, the unread count, the navigation
/// the person's grants open, and the session's CSRF token for the sign-out form.
pub struct Chrome {
    /// The user's name.
    pub user: String,
    /// Unread notices.
    pub unread: u64,
    /// The session's CSRF token.
    pub csrf: String,
    /// Which page this is (the navigation marks it).
    pub page: &'static str,
    /// What the navigation offers.
    pub can: Can,
    /// The person's password must be changed first: the navigation offers nothing.
    pub must_change: bool,
}

/// The parts of the console a person's grants open (each the permit check of its API).
pub struct Can {
    /// View tokens (on some network).
    pub view_tokens: bool,
    /// Create tokens (on some network).
    pub create_token: bool,
    /// View namespaces (on some network).
    pub view_namespaces: bool,
    /// Manage people (`MANAGE_NOTIFICATIONS`).
    pub manage_people: bool,
    /// Read the audit trail.
    pub view_audit: bool,
}

impl Can {
    fn nothing() -> Self {
        Self {
            view_tokens: false,
            create_token: false,
            view_namespaces: false,
            manage_people: false,
            view_audit: false,
        }
    }

    fn of(person: &Person) -> Self {
        let g = &person.caller.0.grants;
        Self {
            view_tokens: permit::check::<cap::ViewToken>(g, Networks::STAGING).is_ok(),
            create_token: permit::check::<cap::CreateToken>(g, Networks::STAGING).is_ok(),
            view_namespaces: permit::check::<cap::ViewNamespace>(g, Networks::STAGING).is_ok(),
            manage_people: person.caller.permit::<cap::ManageNotifications>().is_ok(),
            view_audit: person.caller.permit::<cap::ViewAudit>().is_ok(),
        }
    }
}

impl Chrome {
    /// The chrome of `page` for `person` (one read: the unread count).
    pub async fn of(state: &AppState, person: &Person, page: &'static str) -> Result<Self, Error> {
        let (_, unread) = state.store.notices_for(person.user.id, 0, None).await?;
        // Until a given password is changed, the password page is all there is: no navigation.
        let must_change = person.must_change_password;
        let can = if must_change { Can::nothing() } else { Can::of(person) };
        Ok(Self { user: person.user.name.clone(), unread, csrf: person.csrf.clone(), page, can, must_change })
    }
}

/// A rendered page (`200`), or the error page when the template fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(&Error::Internal(format!("a console template failed: {e}"))),
    }
}

fn render_with(status: StatusCode, t: &impl Template) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// A form to correct, shown again (`400`) with what to correct.
pub fn form_to_correct(t: &impl Template) -> Response {
    render_with(StatusCode::BAD_REQUEST, t)
}

/// A form refused as a whole, with the reason (`400`).
pub fn refused_form(message: &str) -> Response {
    refused_page(StatusCode::BAD_REQUEST, message)
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct Message<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page that only says why a request was refused.
pub fn refused_page(status: StatusCode, message: &str) -> Response {
    render_with(status, &Message { title: status.canonical_reason().unwrap_or("Refused"), message })
}

/// The page of a form refused by the CSRF check (no token, another session's, or sent from
/// another site).
pub fn csrf_refused() -> Response {
    refused_page(
        StatusCode::FORBIDDEN,
        "This form is out of date or was sent from another site. Reload the page and try again.",
    )
}

/// The page of a failed operation: the status and words of the admin API's answer (the one
/// error table, `problem.rs`), so the console says what the API says.
pub fn error_page(e: &Error) -> Response {
    let problem = ApiError::from(e.clone()).problem();
    match e {
        Error::Unavailable(log) => tracing::warn!(detail = %log, "dependency unavailable"),
        Error::Internal(log) => tracing::error!(detail = %log, "internal error"),
        _ => {}
    }
    let detail = match &problem {
        crate::problem::Problem::EdgeKv { detail, .. } | crate::problem::Problem::Gateway { detail } => detail.clone(),
    };
    let detail = match e {
        Error::Internal(_) => "Something went wrong on the server; the log says what.".to_owned(),
        _ => detail,
    };
    refused_page(problem.status(), &detail)
}

/// `GET /`: the panel, or the sign-in page.
pub async fn home() -> Redirect {
    Redirect::to("/panel")
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage<'a> {
    name: &'a str,
    error: Option<&'a str>,
}

/// `GET /sign-in`.
pub async fn sign_in_page() -> Response {
    render(&SignInPage { name: "", error: None })
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    name: String,
    password: String,
}

/// The one answer to a failed sign-in, whichever of name or password was wrong.
pub const SIGN_IN_FAILED: &str = "The name or the password is not right.";
/// The password page's answer once the attempts allowed are spent (they are sign-in's).
pub const PASSWORD_LIMITED: &str = "Too many attempts with a wrong current password. Wait a minute, then try again.";
/// The answer once the attempts allowed are spent.
pub const SIGN_IN_LIMITED: &str = "Too many sign-in attempts. Wait a few minutes, then try again.";

/// `POST /sign-in`.
pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, req: axum::extract::Request) -> Response {
    if session::cross_site(&headers, req.uri()) {
        return Refused::Csrf.into_response();
    }
    let address = crate::audit::peer_ip(&req);
    let origin = crate::audit::Origin::of(req.extensions());
    let Form(form): Form<SignInForm> = match Form::from_request(req, &()).await {
        Ok(f) => f,
        Err(_) => return render_with(StatusCode::BAD_REQUEST, &SignInPage { name: "", error: Some(SIGN_IN_FAILED) }),
    };
    let name = form.name.trim();
    if name.len() > 256 || form.password.len() > 4 * crate::password::MAX_CHARS {
        return render_with(StatusCode::UNAUTHORIZED, &SignInPage { name: "", error: Some(SIGN_IN_FAILED) });
    }
    if !state.console.limits.admit(name, address) {
        tracing::info!("console sign-in refused: too many attempts");
        let mut r = render_with(StatusCode::TOO_MANY_REQUESTS, &SignInPage { name, error: Some(SIGN_IN_LIMITED) });
        r.extensions_mut().insert(crate::audit::AuthDenied("sign_in_limited"));
        return r;
    }
    match check_password(&state, name, form.password).await {
        Ok(Some(user)) => {
            let now = state.clock.now();
            let actor = crate::auth::Actor {
                name: user.name.clone(),
                kind: crate::auth::ActorKind::User,
                grants: Default::default(),
                user: Some(user.id),
            };
            let started = session::start(&state, &user, now);
            let target = ("user", &[user.name.as_str()][..]);
            match crate::audit::console(&state, &actor, &origin, actions::SESSION_SIGN_IN, target, started).await {
                Ok(cookie) => {
                    tracing::info!(user = %user.name, "console sign-in");
                    let mut r = Redirect::to("/panel").into_response();
                    r.headers_mut().insert(header::SET_COOKIE, cookie);
                    r
                }
                Err(e) => error_page(&e),
            }
        }
        Ok(None) => {
            tracing::info!("console sign-in failed");
            let mut r = render_with(StatusCode::UNAUTHORIZED, &SignInPage { name, error: Some(SIGN_IN_FAILED) });
            // Recorded in the audit trail as a failed authentication, rate-limited per address.
            r.extensions_mut().insert(crate::audit::AuthDenied("sign_in"));
            r
        }
        Err(e) => error_page(&e),
    }
}

use axum::extract::FromRequest as _;

/// The active user `name` if `password` is theirs. An unknown name, an inactive user and a
/// wrong password take the same hashing work and give the same `None`.
async fn check_password(
    state: &AppState,
    name: &str,
    password: String,
) -> Result<Option<edgeward_core::notify::User>, Error> {
    let stored = state.store.user_password(name).await?;
    let hash = stored.as_ref().and_then(|p| p.hash.clone());
    let matches =
        crate::password::verify_bounded(password, hash).await.map_err(|busy| Error::Unavailable(busy.to_string()))?;
    if !matches {
        return Ok(None);
    }
    let Some(stored) = stored else { return Ok(None) };
    Ok(state.store.user_access(stored.user_id).await?.map(|a| a.user).filter(|u| u.active))
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /sign-out`: ends the session here and everywhere.
pub async fn sign_out(
    State(state): State<AppState>,
    person: Person,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let target = ("user", &[person.user.name.as_str()][..]);
    if let Err(e) = person.audited(&state, actions::SESSION_SIGN_OUT, target, session::end(&state, &headers)).await {
        return error_page(&e);
    }
    tracing::info!(user = %person.user.name, "console sign-out");
    let mut r = Redirect::to("/sign-in").into_response();
    r.headers_mut().insert(header::SET_COOKIE, session::cleared_cookie());
    r
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage<'a> {
    chrome: Chrome,
    must_change: bool,
    min_chars: usize,
    error: Option<&'a str>,
}

/// `GET /account/password`.
pub async fn password_page(State(state): State<AppState>, person: Person) -> Response {
    match Chrome::of(&state, &person, "account").await {
        Ok(chrome) => render(&PasswordPage {
            chrome,
            must_change: person.must_change_password,
            min_chars: crate::password::MIN_CHARS,
            error: None,
        }),
        Err(e) => error_page(&e),
    }
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

/// `POST /account/password`: the person's own password. Every session of theirs ends (in the
/// transaction that stores the hash); this browser gets a new one.
pub async fn change_password(
    State(state): State<AppState>,
    person: Person,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let again = |state: AppState, person: Person, msg: String| async move {
        match Chrome::of(&state, &person, "account").await {
            Ok(chrome) => render_with(
                StatusCode::BAD_REQUEST,
                &PasswordPage {
                    chrome,
                    must_change: person.must_change_password,
                    min_chars: crate::password::MIN_CHARS,
                    error: Some(&msg),
                },
            ),
            Err(e) => error_page(&e),
        }
    };
    if form.new != form.confirm {
        return again(state, person, "The two new passwords differ.".into()).await;
    }
    if form.new == form.current {
        return again(state, person, "Choose a password other than the current one.".into()).await;
    }
    if let Err(e) = crate::password::check_new(&form.new) {
        return again(state, person, format!("{}.", capitalised(&e.to_string()))).await;
    }
    // The current password is guessed no faster here than at sign-in (counted only once the
    // checks that need no hashing have passed, so a typo in the new one costs nothing).
    if form.current.len() > 4 * crate::password::MAX_CHARS
        || !state.console.limits.admit(&person.user.name, person.origin.address)
    {
        return again(state, person, PASSWORD_LIMITED.into()).await;
    }
    match check_password(&state, &person.user.name, form.current).await {
        Ok(Some(_)) => {}
        Ok(None) => return again(state, person, "The current password is not right.".into()).await,
        Err(e) => return error_page(&e),
    }
    let new = form.new;
    let hash = match crate::password::hash_bounded(new).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return error_page(&Error::Internal(e.to_string())),
        Err(busy) => return error_page(&Error::Unavailable(busy.to_string())),
    };
    let target = ("user", &[person.user.name.as_str()][..]);
    let set = state.store.set_user_password(&person.user.name, hash, false);
    let user = match person.audited(&state, actions::USER_SET_PASSWORD, target, set).await {
        Ok(u) => u,
        Err(e) => return error_page(&e),
    };
    if user.name == crate::bootstrap::ADMIN {
        if let Err(e) = crate::bootstrap::remove_initial_password(&state.data_dir) {
            tracing::warn!(error = %e, "the initial password's file could not be removed");
        }
    }
    tracing::info!(user = %user.name, "console password changed");
    match session::start(&state, &user, state.clock.now()).await {
        Ok(cookie) => {
            let mut r = Redirect::to("/panel").into_response();
            r.headers_mut().insert(header::SET_COOKIE, cookie);
            r
        }
        Err(e) => error_page(&e),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// One token of a notice, as the panel shows it.
pub struct PanelToken {
    name: String,
    expiry: String,
    time_left: String,
    networks: String,
    namespaces: String,
    last_used: String,
}

/// One notice, as the panel shows it.
pub struct PanelNotice {
    id: i64,
    subject: String,
    created_at: String,
    read: bool,
    threshold_days: u32,
    tokens: Vec<PanelToken>,
}

#[derive(Template)]
#[template(path = "console/panel.html")]
struct PanelPage {
    chrome: Chrome,
    notices: Vec<PanelNotice>,
    /// The daily check's time (UTC, `HH:MM`), for the empty panel's words.
    check_time: String,
}

/// Most notices the panel shows.
const PANEL_NOTICES: usize = 100;

/// `GET /panel`: the person's notices, newest first.
pub async fn panel(State(state): State<AppState>, person: Person) -> Response {
    let result = async {
        let chrome = Chrome::of(&state, &person, "panel").await?;
        let (notices, _) = state.store.notices_for(person.user.id, PANEL_NOTICES, None).await?;
        let now = state.clock.now();
        let notices = notices
            .into_iter()
            .map(|n| {
                let tokens: Vec<NoticeToken> = serde_json::from_value(n.tokens)
                    .map_err(|e| Error::Internal(format!("notice {}: its tokens do not read back: {e}", n.id)))?;
                Ok(PanelNotice {
                    id: n.id,
                    subject: n.subject,
                    created_at: n.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    read: n.read_at.is_some(),
                    threshold_days: n.threshold_days,
                    tokens: tokens.into_iter().map(|t| panel_token(t, now)).collect(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok::<_, Error>(PanelPage { chrome, notices, check_time: state.notify.check_time.format("%H:%M").to_string() })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(&e),
    }
}

fn panel_token(t: NoticeToken, now: DateTime<Utc>) -> PanelToken {
    let time_left =
        chrono::NaiveDate::parse_from_str(&t.expiry, "%Y-%m-%d").ok().map(|d| time_left(d, now)).unwrap_or_default();
    PanelToken {
        networks: networks(t.allow_on_staging, t.allow_on_production),
        namespaces: t.namespaces.iter().map(|(ns, r)| format!("{ns}: {r}")).collect::<Vec<_>>().join(", "),
        last_used: t.last_used.unwrap_or_else(|| "never".into()),
        name: t.name,
        expiry: t.expiry,
        time_left,
    }
}

/// "staging and production", "staging", "production".
pub fn networks(staging: bool, production: bool) -> String {
    match (staging, production) {
        (true, true) => "staging and production".into(),
        (true, false) => "staging".into(),
        (false, true) => "production".into(),
        (false, false) => "none".into(),
    }
}

/// How long until the end of the last valid day `expiry` (UTC), in words.
pub fn time_left(expiry: chrono::NaiveDate, now: DateTime<Utc>) -> String {
    let end = expiry.and_hms_opt(23, 59, 59).map(|t| t.and_utc()).unwrap_or(now);
    let left = end - now;
    if left <= chrono::Duration::zero() {
        "expired".into()
    } else if left < chrono::Duration::days(1) {
        format!("{} hours", left.num_hours().max(1))
    } else {
        let d = left.num_days();
        if d == 1 {
            "1 day".into()
        } else {
            format!("{d} days")
        }
    }
}

/// The mark-read form: one notice (`id`), or all when none is given.
#[derive(Deserialize)]
pub struct MarkReadForm {
    csrf: String,
    id: Option<i64>,
}

/// `POST /panel/read`.
pub async fn mark_read(State(state): State<AppState>, person: Person, Form(form): Form<MarkReadForm>) -> Response {
    if let Err(r) = person.check_form(&form.csrf) {
        return r.into_response();
    }
    let ids = form.id.into_iter().collect();
    match state.store.mark_notices_read(person.user.id, ids, state.clock.now()).await {
        Ok(_) => Redirect::to("/panel").into_response(),
        Err(e) => error_page(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_counts_to_the_end_of_the_last_valid_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z").unwrap().with_timezone(&Utc);
        let day = |s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(time_left(day("2026-12-03"), now), "11 hours");
        assert_eq!(time_left(day("2026-12-04"), now), "1 day");
        assert_eq!(time_left(day("2026-12-05"), now), "2 days");
        assert_eq!(time_left(day("2026-12-02"), now), "expired");
    }
}
