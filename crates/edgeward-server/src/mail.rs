//! E-mail of expiry notices over SMTP (lettre): the transport, and its channel for the outbox
//! sender (`outbox`).
//!
//! The check queues e-mail in the same transaction that delivers panel notices; the sender
//! claims due messages (so two servers never send the same one), sends each, and records the
//! outcome. A transient failure (connection, 4xx) is retried with growing delays; a permanent
//! one (5xx) or the last allowed try gives up and shows in `notify status`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use edgeward_core::notify::NewEmail;
use edgeward_core::store::Store;
use edgeward_core::Error;

use crate::outbox::Claimed;

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

/// Why a message was not accepted (a permanent failure: a 5xx answer, a malformed address).
pub type SendFailure = crate::outbox::Failure;

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

pub use crate::outbox::SendReport;

/// The e-mail outbox as an outbox channel.
pub struct EmailChannel<'t>(pub &'t dyn MailTransport);

#[async_trait::async_trait]
impl crate::outbox::Channel for EmailChannel<'_> {
    type Message = NewEmail;
    const WHAT: &'static str = "expiry e-mail";

    async fn claim(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Claimed<NewEmail>>, Error> {
        let claimed = store.claim_due_emails(now, until, limit).await?;
        Ok(claimed.into_iter().map(|c| Claimed { id: c.id, attempts: c.attempts, message: c.email }).collect())
    }

    async fn deliver(&self, message: &NewEmail, _now: DateTime<Utc>) -> Result<(), SendFailure> {
        self.0.send(message).await
    }

    async fn sent(&self, store: &dyn Store, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        store.email_sent(id, now).await
    }

    async fn failed(
        &self,
        store: &dyn Store,
        id: i64,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), Error> {
        store.email_failed(id, error, retry_at).await
    }
}

/// Send every queued e-mail due at `now`.
pub async fn send_due(store: &dyn Store, transport: &dyn MailTransport, now: DateTime<Utc>) -> SendReport {
    crate::outbox::send_due(store, &EmailChannel(transport), now).await
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
