//! E-mail of expiry notices over SMTP (lettre): the transport, and the sender that works
//! through the store's outbox.
//!
//! The check queues e-mail in the same transaction that delivers panel notices; the sender
//! claims due messages (so two servers never send the same one), sends each, and records the
//! outcome. A transient failure (connection, 4xx) is retried with growing delays; a permanent
//! one (5xx) or the last allowed try gives up and shows in `notify status`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use edgeward_core::notify::NewEmail;
use edgeward_core::store::Store;

/// Tries before an e-mail or webhook event is given up on.
pub const MAX_ATTEMPTS: u32 = 8;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte (implicit TLS, usually port 465).
    Tls,
    /// No encryption (a local relay or a test server only).
    None,
}

/// The SMTP server that sends 1-day notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port [default: 587].
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: Security,
    /// User name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password (kept out of the configuration file).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Edgeward <edgeward@example.com>`.
    pub from: String,
    /// An extra CA certificate (PEM) to trust for the server's certificate.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// Seconds before a connection or command times out [default: 30].
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_port() -> u16 {
    587
}

fn default_timeout() -> u64 {
    30
}

/// What [`SmtpConfig`] names in files, as `bootstrap::smtp_files` read them at start.
#[derive(Clone, Default)]
pub struct SmtpFiles {
    /// The password of `password_file` (trailing line breaks removed), read when a `username`
    /// is set.
    pub password: Option<String>,
    /// The PEM of `ca_cert`, read when the connection is secured (`security` is not `none`).
    pub ca_cert: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpFiles")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_cert", &self.ca_cert.as_ref().map(Vec::len))
            .finish()
    }
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Retrying will not help (a 5xx answer, a malformed address).
    pub permanent: bool,
    /// What happened (no secrets).
    pub message: String,
}

/// Where e-mail goes: SMTP in production, a fake in unit tests.
#[async_trait::async_trait]
pub trait MailTransport: Send + Sync {
    /// Send one message.
    async fn send(&self, email: &NewEmail) -> Result<(), SendFailure>;
}

/// lettre's asynchronous SMTP transport.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// A transport from the configuration and the files it names (nothing is connected yet).
    pub fn new(cfg: &SmtpConfig, files: &SmtpFiles) -> Result<Self, String> {
        let from: Mailbox = cfg.from.parse().map_err(|e| format!("notify.smtp.from: {e}"))?;
        let tls = || -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(cfg.host.clone());
            if let Some(pem) = &files.ca_cert {
                b = b
                    .add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("notify.smtp.ca_cert: {e}"))?);
            }
            b.build_rustls().map_err(|e| format!("notify.smtp TLS: {e}"))
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .timeout(Some(std::time::Duration::from_secs(cfg.timeout_secs.max(1))));
        b = match cfg.security {
            Security::Starttls => b.tls(Tls::Required(tls()?)),
            Security::Tls => b.tls(Tls::Wrapper(tls()?)),
            Security::None => b.tls(Tls::None),
        };
        if let Some(user) = &cfg.username {
            let password = files.password.clone().unwrap_or_default();
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self { transport: b.build(), from })
    }
}

#[async_trait::async_trait]
impl MailTransport for Smtp {
    async fn send(&self, email: &NewEmail) -> Result<(), SendFailure> {
        let to: Mailbox = email
            .recipient
            .parse()
            .map_err(|e| SendFailure { permanent: true, message: format!("bad recipient address: {e}") })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(email.text_body.clone(), email.html_body.clone()))
            .map_err(|e| SendFailure { permanent: true, message: format!("cannot build the message: {e}") })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure { permanent: e.is_permanent(), message: e.to_string() })
    }
}

/// When to try again after failed try number `tries`, or `None` to give up: a permanent failure
/// or the last allowed try. Shared by e-mail and webhooks.
pub fn next_try(permanent: bool, tries: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (!permanent && tries < MAX_ATTEMPTS).then(|| now + backoff(tries))
}

/// Delay before try number `attempts + 1`: 1 min, 4 min, 16 min, … at most 6 h.
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 4i64.saturating_pow(attempts.saturating_sub(1).min(8));
    Duration::minutes(minutes.min(360))
}

/// What one pass of the sender did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    /// Accepted by the server.
    pub sent: u64,
    /// Failed for now; tried again later.
    pub retrying: u64,
    /// Given up on.
    pub failed: u64,
}

/// How long a sender holds the messages it claimed.
const CLAIM: Duration = Duration::minutes(5);

/// Send every queued e-mail due at `now`.
pub async fn send_due(store: &dyn Store, transport: &dyn MailTransport, now: DateTime<Utc>) -> SendReport {
    let mut report = SendReport::default();
    let claimed = match store.claim_due_emails(now, now + CLAIM, 100).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e.log_detail(), "cannot read the e-mail outbox; will retry");
            return report;
        }
    };
    for item in claimed {
        let outcome = transport.send(&item.email).await;
        let recorded = match outcome {
            Ok(()) => {
                report.sent += 1;
                tracing::info!(id = item.id, "expiry e-mail sent");
                store.email_sent(item.id, now).await
            }
            Err(f) => {
                let tries = item.attempts + 1;
                let retry_at = next_try(f.permanent, tries, now);
                if retry_at.is_some() {
                    report.retrying += 1;
                    tracing::warn!(id = item.id, tries, error = %f.message, "expiry e-mail not sent; will retry");
                } else {
                    report.failed += 1;
                    tracing::error!(id = item.id, tries, error = %f.message, "expiry e-mail given up");
                }
                store.email_failed(item.id, f.message, retry_at).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e.log_detail(), "cannot record an e-mail's outcome");
        }
    }
    report
}

/// Work through the outbox every `every` until shutdown.
pub async fn run_mailer(
    state: crate::state::AppState,
    transport: Arc<dyn MailTransport>,
    every: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::jobs::repeat(every, shutdown, || async {
        let report = send_due(state.store.as_ref(), transport.as_ref(), state.clock.now()).await;
        state.metrics.emails_sent.inc_by(report.sent);
        state.metrics.emails_failed.inc_by(report.failed);
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let m = |a| backoff(a).num_minutes();
        assert_eq!((m(1), m(2), m(3), m(4), m(5), m(6), m(20)), (1, 4, 16, 64, 256, 360, 360));
    }
}
