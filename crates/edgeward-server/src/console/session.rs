//! Who is signed in to the console: sessions, their cookie, the CSRF check, and the limits on
//! sign-in attempts.
//!
//! - **Session.** Signing in makes a 256-bit random secret, sent once as the cookie
//!   `__Host-edgeward-session` (`Secure; HttpOnly; SameSite=Strict; Path=/`, no `Domain`), and
//!   stores only its SHA-256 ([`edgeward_core::session`]). Every console request reads the
//!   session and its user from the database (so every server on it agrees, and a session ended
//!   anywhere is refused everywhere from the next request), checks the idle and absolute
//!   lifetimes ([`crate::config::ConsoleConfig`]) and that the user is active, and reads the
//!   user's grants afresh: what a person may do is decided per request, by [`crate::permit`],
//!   over a [`Caller`] like an API client's.
//! - **CSRF.** Each session has its own random token; every form that changes anything carries
//!   it, and [`Person::check_form`] compares it in constant time. Cross-site posts are refused
//!   before that, by the browser's `Origin` and `Sec-Fetch-Site` headers (a request that names
//!   another origin is refused), and the cookie itself is `SameSite=Strict`.
//! - **Sign-in limits.** Attempts (not only failures: a right password after many wrong ones is
//!   refused too) are limited per user name and per client address ([`SignInLimits`]), before
//!   any password is hashed; every failure says the same words whichever of name or password
//!   was wrong.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use edgeward_core::notify::User;
use edgeward_core::session::{LiveSession, NewSession};
use edgeward_core::Error;

use crate::auth::{Actor, ActorKind, Caller};
use crate::state::AppState;

/// The session cookie's name. The `__Host-` prefix makes browsers refuse it unless it is
/// `Secure`, has `Path=/` and no `Domain`: no other host can set or shadow it.
pub const COOKIE: &str = "__Host-edgeward-session";

/// Random bytes of a session secret and of a CSRF token (256 bits).
const SECRET_BYTES: usize = 32;

fn random_token() -> String {
    let mut b = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The stored id of a session: the SHA-256 of its secret, hex.
fn id_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The `Set-Cookie` value that gives the browser a session.
fn session_cookie(secret: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict"))
        .expect("a base64url secret is a valid header value")
}

/// The `Set-Cookie` value that takes it away.
pub fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-edgeward-session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session secret a request carries, if any (the first cookie of that name).
fn secret_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty() && v.len() <= 64)
}

/// Start a session for `user` at `now`: stored, and the cookie that carries it.
pub async fn start(state: &AppState, user: &User, now: DateTime<Utc>) -> Result<HeaderValue, Error> {
    let secret = random_token();
    let session = NewSession {
        id_hash: id_hash(&secret),
        user: user.id,
        csrf: random_token(),
        created_at: now,
        expires_at: now + state.console.absolute,
    };
    state.store.create_session(session).await?;
    Ok(session_cookie(&secret))
}

/// End the request's session, if it has one.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    match secret_of(headers) {
        Some(secret) => state.store.end_session(&id_hash(secret)).await,
        None => Ok(()),
    }
}

/// A signed-in person, for one console request.
pub struct Person {
    /// The user.
    pub user: User,
    /// The same caller the admin API's handlers take: the checks are [`crate::permit`]'s.
    pub caller: Caller,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// Their password was given to them and must be changed before anything else.
    pub must_change_password: bool,
    /// Where the request came from, for its audit records.
    pub origin: crate::audit::Origin,
}

impl Person {
    /// Run a change `f` as audited, as the same change through the API would be: the record
    /// names this person (`user:NAME`), `action` and the target (`resource`, then its segments).
    pub async fn audited<T>(
        &self,
        state: &AppState,
        action: &'static str,
        target: (&'static str, &[&str]),
        f: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        crate::audit::console(state, &self.caller.0, &self.origin, action, target, f).await
    }

    /// Whether a submitted form's CSRF token is this session's (constant-time).
    pub fn check_form(&self, submitted: &str) -> Result<(), Refused> {
        if bool::from(submitted.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(Refused::Csrf)
        }
    }
}

/// Why a console request was not served as asked.
#[derive(Debug)]
pub enum Refused {
    /// No live session: to the sign-in page.
    SignIn,
    /// The password must be changed first: to the password page.
    ChangePassword,
    /// A form without this session's CSRF token, or a cross-site request.
    Csrf,
    /// The store failed.
    Store(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => {
                // A cookie whose session is gone is taken away too.
                let mut r = Redirect::to("/sign-in").into_response();
                r.headers_mut().insert(header::SET_COOKIE, cleared_cookie());
                r
            }
            Self::ChangePassword => Redirect::to("/account/password").into_response(),
            Self::Csrf => super::pages::csrf_refused(),
            Self::Store(e) => super::pages::error_page(&e),
        }
    }
}

/// Whether the browser says the request comes from another site: an `Origin` that is not this
/// host, or `Sec-Fetch-Site: cross-site`. Checked for every request that changes anything.
///
/// This host is the request's authority: the `Host` header over HTTP/1.1, the URI's authority
/// (`:authority`) over HTTP/2, which has no `Host` header and is what browsers speak to the
/// admin listener.
pub fn cross_site(parts_headers: &HeaderMap, uri: &Uri) -> bool {
    if parts_headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return true;
    }
    let Some(origin) = parts_headers.get(header::ORIGIN) else { return false };
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts_headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .unwrap_or("");
    match origin.to_str().ok().and_then(|o| o.strip_prefix("https://")) {
        Some(authority) => authority != host,
        None => true,
    }
}

/// The live session of a request and its user, or why there is none.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<LiveSession, Refused> {
    let secret = secret_of(headers).ok_or(Refused::SignIn)?;
    let hash = id_hash(secret);
    let session = state.store.session(&hash).await?.ok_or(Refused::SignIn)?;
    let now = state.clock.now();
    if !session.is_live(now, state.console.idle) {
        state.store.end_session(&hash).await?;
        return Err(Refused::SignIn);
    }
    if session.needs_touch(now) {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(session)
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        if parts.method != Method::GET && parts.method != Method::HEAD && cross_site(&parts.headers, &parts.uri) {
            return Err(Refused::Csrf);
        }
        let session = signed_in(state, &parts.headers).await?;
        // What the user may do is read afresh on every request: a role's change holds from the
        // next page on. A user gone since the session was read has no session.
        let access = state.store.user_access(session.user.id).await?.ok_or(Refused::SignIn)?;
        let user = access.user;
        let actor =
            Actor { name: user.name.clone(), kind: ActorKind::User, grants: access.grants, user: Some(user.id) };
        let person = Person {
            caller: Caller(Arc::new(actor)),
            csrf: session.csrf,
            must_change_password: session.must_change_password,
            origin: crate::audit::Origin::of(&parts.extensions),
            user,
        };
        // Until the given password is changed, the password page and sign-out are all there is.
        let path = parts.uri.path();
        if person.must_change_password && path != "/account/password" && path != "/sign-out" {
            return Err(Refused::ChangePassword);
        }
        Ok(person)
    }
}

/// Sign-in attempts allowed per user name: a burst of [`PER_USER_BURST`], then one every
/// [`PER_USER_EVERY_SECS`] seconds.
pub const PER_USER_BURST: u32 = 5;
/// See [`PER_USER_BURST`].
pub const PER_USER_EVERY_SECS: u64 = 60;
/// Sign-in attempts allowed per client address: a burst of [`PER_ADDRESS_BURST`], then one
/// every [`PER_ADDRESS_EVERY_SECS`] seconds.
pub const PER_ADDRESS_BURST: u32 = 10;
/// See [`PER_ADDRESS_BURST`].
pub const PER_ADDRESS_EVERY_SECS: u64 = 6;

/// The sign-in attempt limits of this server (each server keeps its own: with several servers
/// an attacker gets each server's allowance, still far below what guessing needs).
pub struct SignInLimits {
    per_user: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        let quota = |burst: u32, every: u64| {
            Quota::with_period(std::time::Duration::from_secs(every))
                .expect("a non-zero period")
                .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
        };
        Self {
            per_user: RateLimiter::keyed(quota(PER_USER_BURST, PER_USER_EVERY_SECS)),
            per_address: RateLimiter::keyed(quota(PER_ADDRESS_BURST, PER_ADDRESS_EVERY_SECS)),
        }
    }
}

/// Most keys each limiter remembers before it forgets those that are back to a full allowance.
const MAX_KEYS: usize = 100_000;

impl SignInLimits {
    /// Whether an attempt for `name` from `address` may be made now (it counts against both).
    pub fn admit(&self, name: &str, address: Option<IpAddr>) -> bool {
        if self.per_user.len() > MAX_KEYS {
            self.per_user.retain_recent();
        }
        if self.per_address.len() > MAX_KEYS {
            self.per_address.retain_recent();
        }
        // An IPv6 client usually holds a whole /64: it counts as one address.
        let address = address.map(|a| match a {
            IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
            v4 => v4,
        });
        let by_address = address.is_none_or(|a| self.per_address.check_key(&a).is_ok());
        // Names differ only by case for nobody: one allowance per spelling would multiply it.
        let by_user = self.per_user.check_key(&name.to_lowercase()).is_ok();
        by_address && by_user
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_host_only_secure_http_only_and_strict() {
        let v = session_cookie("abc");
        assert_eq!(v.to_str().unwrap(), "__Host-edgeward-session=abc; Path=/; Secure; HttpOnly; SameSite=Strict");
        assert!(cleared_cookie().to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn the_secret_is_read_from_the_cookie_header_only_under_its_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; __Host-edgeward-session=s3cret; b=2"));
        assert_eq!(secret_of(&h), Some("s3cret"));
        h.insert(header::COOKIE, HeaderValue::from_static("edgeward-session=x"));
        assert_eq!(secret_of(&h), None);
        h.insert(header::COOKIE, HeaderValue::from_static("__Host-edgeward-session="));
        assert_eq!(secret_of(&h), None, "empty");
        assert_ne!(id_hash("a"), id_hash("b"));
        assert_eq!(id_hash("a").len(), 64);
    }

    #[test]
    fn requests_from_another_site_are_recognised() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        // HTTP/1.1: the path alone in the URI, the host in `Host`.
        let path = Uri::from_static("/sign-out");
        let cross_site = |headers: &HeaderMap| cross_site(headers, &path);
        assert!(!cross_site(&h(&[("host", "127.0.0.1:8443")])), "no Origin: a same-site form or a tool");
        assert!(!cross_site(&h(&[("host", "127.0.0.1:8443"), ("origin", "https://127.0.0.1:8443")])));
        assert!(cross_site(&h(&[("host", "127.0.0.1:8443"), ("origin", "https://evil.example")])));
        assert!(cross_site(&h(&[("host", "127.0.0.1:8443"), ("origin", "http://127.0.0.1:8443")])), "not https");
        assert!(cross_site(&h(&[("host", "127.0.0.1:8443"), ("origin", "null")])));
        assert!(cross_site(&h(&[("host", "127.0.0.1:8443"), ("sec-fetch-site", "cross-site")])));
        // HTTP/2: no `Host`, the authority in the URI (what a browser's form post looks like).
        let h2 = Uri::from_static("https://127.0.0.1:8443/sign-out");
        assert!(!super::cross_site(&h(&[("origin", "https://127.0.0.1:8443")]), &h2), "same origin over HTTP/2");
        assert!(super::cross_site(&h(&[("origin", "https://evil.example")]), &h2));
    }

    #[test]
    fn attempts_are_limited_per_name_and_per_address() {
        let limits = SignInLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..PER_USER_BURST {
            assert!(limits.admit("ana", Some(a)));
        }
        assert!(!limits.admit("ana", Some(b)), "the name's allowance is spent, from any address");
        assert!(!limits.admit("ANA", Some(b)), "whatever the case");
        // Address a has spent 5 of its 10 (and b one more, refused); other names from a still pass.
        for i in 0..(PER_ADDRESS_BURST - PER_USER_BURST) {
            assert!(limits.admit(&format!("user{i}"), Some(a)));
        }
        assert!(!limits.admit("someone-new", Some(a)), "the address's allowance is spent");
        // The addresses of one IPv6 /64 share an allowance.
        let (v6a, v6b): (IpAddr, IpAddr) = ("2001:db8::1".parse().unwrap(), "2001:db8::ffff:1".parse().unwrap());
        for i in 0..PER_ADDRESS_BURST {
            assert!(limits.admit(&format!("v6-{i}"), Some(if i % 2 == 0 { v6a } else { v6b })));
        }
        assert!(!limits.admit("v6-more", Some("2001:db8::abcd".parse().unwrap())), "the /64's allowance is spent");
        assert!(limits.admit("v6-other", Some("2001:db8:0:1::1".parse().unwrap())), "another /64");
    }
}
