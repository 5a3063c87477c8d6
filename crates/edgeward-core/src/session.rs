//! Console sessions: what the store keeps of a signed-in person, and the rule that says whether a
//! session is still live.
//!
//! A session is known by the SHA-256 of its secret (the cookie's value; the secret itself is
//! never stored), belongs to one user, and carries the token every form that changes anything
//! must echo (CSRF). It is live until its absolute expiry, while it is used within the idle
//! lifetime, and while its user is active; it ends at sign-out, and all of a user's sessions end
//! in the transaction that deactivates the user, changes their password or takes a grant away.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::notify::User;

/// A session to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The SHA-256 of the session's secret, lowercase hex.
    pub id_hash: String,
    /// Whose session it is.
    pub user: Uuid,
    /// The token forms must carry.
    pub csrf: String,
    /// When it began (also its first use).
    pub created_at: DateTime<Utc>,
    /// When it ends whatever its use (the absolute lifetime).
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("user", &self.user).field("expires_at", &self.expires_at).finish()
    }
}

/// A stored session with its user, as read back.
#[derive(Clone)]
pub struct LiveSession {
    /// The user (active when the store answers).
    pub user: User,
    /// The user's password was given to them and must be changed before anything else.
    pub must_change_password: bool,
    /// The token forms must carry.
    pub csrf: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it was last used (updated at most once a [`TOUCH_EVERY`]).
    pub last_seen_at: DateTime<Utc>,
    /// Its absolute end.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession")
            .field("user", &self.user.name)
            .field("must_change_password", &self.must_change_password)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// How often a session's last use is written: a request within this time of the last write does
/// not write again, so browsing costs one read per page, not a write. The idle lifetime is
/// therefore honoured to within this much.
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

impl LiveSession {
    /// Whether the session is live at `now` with idle lifetime `idle`: before its absolute end,
    /// used within `idle`, and its user active.
    pub fn is_live(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        self.user.active && now < self.expires_at && now - self.last_seen_at < idle
    }

    /// Whether a request at `now` should record the use ([`TOUCH_EVERY`]).
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= TOUCH_EVERY
    }
}

/// Console sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Store a new session (its user must exist: `NotFound` otherwise).
    async fn create_session(&self, session: NewSession) -> Result<()>;
    /// The session whose secret hashes to `id_hash`, with its user, whether live or not (see
    /// [`LiveSession::is_live`]); `None` when there is none.
    async fn session(&self, id_hash: &str) -> Result<Option<LiveSession>>;
    /// Record a use of the session at `now`.
    async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<()>;
    /// End one session (sign-out); ending one that is gone is not an error.
    async fn end_session(&self, id_hash: &str) -> Result<()>;
    /// End every session of `user`; how many there were.
    async fn end_user_sessions(&self, user: Uuid) -> Result<u64>;
    /// Remove the sessions that can no longer be live at `now`: past their absolute end, or
    /// unused for `idle`. How many were removed.
    async fn purge_sessions(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Grants;

    fn session(last_seen: i64, expires: i64, active: bool) -> LiveSession {
        let t = |s| DateTime::from_timestamp(s, 0).unwrap();
        LiveSession {
            user: User {
                id: Uuid::nil(),
                name: "ana".into(),
                email: None,
                email_registered: false,
                active,
                grants: Grants::default(),
                roles: Vec::new(),
                created_at: t(0),
            },
            must_change_password: false,
            csrf: "c".into(),
            created_at: t(0),
            last_seen_at: t(last_seen),
            expires_at: t(expires),
        }
    }

    #[test]
    fn a_session_is_live_before_its_end_while_used_and_while_its_user_is_active() {
        let now = DateTime::from_timestamp(1000, 0).unwrap();
        let idle = Duration::seconds(300);
        assert!(session(900, 2000, true).is_live(now, idle));
        assert!(!session(700, 2000, true).is_live(now, idle), "idle for 300 s");
        assert!(!session(999, 1000, true).is_live(now, idle), "at its absolute end");
        assert!(!session(999, 2000, false).is_live(now, idle), "user deactivated");
        assert!(session(940, 2000, true).needs_touch(now));
        assert!(!session(941, 2000, true).needs_touch(now));
    }
}
