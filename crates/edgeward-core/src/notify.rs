//! Expiry notices: who is told about an expiring token, and when.
//!
//! A token with an expiry is notified at each threshold (default 30, 7 and 1 days before its
//! expiry day) at most once, ever. A check on day D finds, for every live token, the tightest
//! threshold it is inside (`days left <= threshold`); that (token, threshold) pair is notified
//! unless it was before. So a token first seen with 5 days left gets the 7-day notice and never
//! the 30-day one, and a token seen every day gets all three over its life.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::capability::Grants;
use crate::names::RoleName;
use crate::network::Networks;
use crate::token::NamespacePermissions;

/// The thresholds used when none are configured, in days before the expiry day.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [30, 7, 1];

/// The tightest threshold a token `days_left` days from its expiry day is inside: the smallest
/// `t` with `days_left <= t`. `None` when it is outside every threshold or already expired
/// (`days_left < 0`).
pub fn tightest_threshold(days_left: i64, thresholds: &[u32]) -> Option<u32> {
    if days_left < 0 {
        return None;
    }
    thresholds.iter().copied().filter(|t| days_left <= i64::from(*t)).min()
}

/// A person of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: Uuid,
    /// Unique display name (also how the CLI names them).
    pub name: String,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// The address is confirmed, so e-mail may be sent to it.
    pub email_registered: bool,
    /// Inactive users are told nothing.
    pub active: bool,
    /// The grants given to them directly (what every user held before roles, kept as it was).
    /// What they may do also comes from their roles: see `crate::role::effective_grants`.
    pub grants: Grants,
    /// The roles they hold, by name.
    pub roles: Vec<RoleName>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A change to a user; each part `None` is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// Active (told about expiring tokens) or not.
    pub active: Option<bool>,
    /// A new address, or none (`Some(None)`).
    pub email: Option<Option<String>>,
    /// Whether the address is confirmed.
    pub email_registered: Option<bool>,
    /// The roles they hold from now on (replacing the ones they held).
    pub roles: Option<Vec<RoleName>>,
}

impl User {
    /// Apply an update (each part `None` is left as it is). A new address is not confirmed
    /// until said so; an address is confirmed only if there is one. Roles are kept sorted and
    /// without repeats.
    pub fn apply_update(&mut self, update: UserUpdate) {
        let UserUpdate { active, email, email_registered, roles } = update;
        if let Some(roles) = roles {
            self.roles = roles;
            self.roles.sort();
            self.roles.dedup();
        }
        if let Some(a) = active {
            self.active = a;
        }
        if let Some(e) = email {
            if e != self.email {
                self.email_registered = false;
            }
            self.email = e;
        }
        if let Some(r) = email_registered {
            self.email_registered = r && self.email.is_some();
        }
    }
}

impl User {
    /// Whether e-mail may be sent to this user.
    pub fn can_receive_email(&self) -> bool {
        self.active && self.email_registered && self.email.as_deref().is_some_and(|e| !e.is_empty())
    }
}

/// What the store keeps of a user's password: never the password, only its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct UserPassword {
    /// The user.
    pub user_id: Uuid,
    /// The password's hash as a PHC string (`$argon2id$…`); `None` when the user has no
    /// password, and so cannot sign in.
    pub hash: Option<String>,
    /// The password was given to the user (the first start's, or one an administrator set) and
    /// must be changed at the next sign-in.
    pub must_change: bool,
}

impl std::fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPassword")
            .field("user_id", &self.user_id)
            .field("hash", &self.hash.as_ref().map(|_| "<redacted>"))
            .field("must_change", &self.must_change)
            .finish()
    }
}

/// An escalation contact: an address told about every expiring token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The address.
    pub email: String,
    /// Who it is.
    pub name: String,
}

/// A live token inside the widest threshold, as the check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringToken {
    /// Identity.
    pub uuid: Uuid,
    /// Name.
    pub name: String,
    /// Its last valid day.
    pub expiry: NaiveDate,
    /// Networks.
    pub networks: Networks,
    /// Namespaces and rights.
    pub namespaces: NamespacePermissions,
    /// When the data plane last saw it, on any network.
    pub last_used: Option<DateTime<Utc>>,
}

/// A bundled message of the notification panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Identity (increasing).
    pub id: i64,
    /// The recipient.
    pub user_id: Uuid,
    /// The threshold all its tokens reached.
    pub threshold_days: u32,
    /// When the check made it.
    pub created_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// One line.
    pub subject: String,
    /// The tokens listed (JSON array of objects).
    pub tokens: serde_json::Value,
}

/// A notice to add to a user's panel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotice {
    /// The recipient.
    pub user_id: Uuid,
    /// The threshold.
    pub threshold_days: u32,
    /// One line.
    pub subject: String,
    /// The tokens listed.
    pub tokens: serde_json::Value,
}

/// An e-mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// One address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text_body: String,
    /// HTML part.
    pub html_body: String,
}

/// A queued e-mail claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    /// Identity.
    pub id: i64,
    /// The message.
    pub email: NewEmail,
    /// Tries so far (before this one).
    pub attempts: u32,
}

/// A webhook event to deliver: a JSON body with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Unique id (receivers use it to drop duplicates).
    pub event_id: Uuid,
    /// The JSON body, exactly as it is signed and sent.
    pub body: String,
}

/// A webhook event claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxWebhook {
    /// Row id.
    pub id: i64,
    /// The event.
    pub event: NewWebhook,
    /// Tries so far.
    pub attempts: u32,
}

/// An e-mail given up on, for `notify status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEmail {
    /// The address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Tries made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// What one check did, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// The day checked.
    pub check_day: NaiveDate,
    /// Which server ran it.
    pub holder: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// Nothing was recorded or delivered.
    pub dry_run: bool,
    /// (token, threshold) pairs due.
    pub due: u64,
    /// Panel notices delivered.
    pub notices: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_threshold_a_token_is_inside() {
        let t = DEFAULT_THRESHOLDS;
        assert_eq!(tightest_threshold(31, &t), None);
        assert_eq!(tightest_threshold(30, &t), Some(30));
        assert_eq!(tightest_threshold(8, &t), Some(30));
        assert_eq!(tightest_threshold(7, &t), Some(7));
        assert_eq!(tightest_threshold(2, &t), Some(7));
        assert_eq!(tightest_threshold(1, &t), Some(1));
        assert_eq!(tightest_threshold(0, &t), Some(1), "the expiry day itself");
        assert_eq!(tightest_threshold(-1, &t), None, "expired");
        assert_eq!(tightest_threshold(3, &[]), None);
    }
}
