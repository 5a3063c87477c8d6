//! Webhooks for expiry notices: one signed JSON POST per threshold reached at a check, listing
//! the tokens, delivered from the store's outbox with retries.
//!
//! Signature (documented in `docs/notifications.md`): the header
//! `Edgeward-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. A receiver
//! recomputes the HMAC over the timestamp, a dot and the raw body with the shared secret,
//! compares in constant time, and refuses timestamps far from its clock (replays). Each event
//! also carries `Edgeward-Event-Id`, the same across retries, to drop duplicates.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use edgeward_core::notify::NewWebhook;
use edgeward_core::store::Store;
use edgeward_core::Error;

/// Where webhook events go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The receiver (`https://…`; `http://` only for a receiver on this machine).
    pub url: String,
    /// A file holding the shared secret (at least 16 bytes).
    pub secret_file: PathBuf,
    /// Seconds before a delivery times out [default: 10].
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    10
}

/// The value of `Edgeward-Signature` for `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends events to the configured receiver.
pub struct Webhook {
    url: reqwest::Url,
    secret: Vec<u8>,
    http: reqwest::Client,
}

/// Why a delivery failed (a permanent failure: a 4xx other than 408 and 429).
pub type DeliveryFailure = crate::outbox::Failure;

impl Webhook {
    /// A sender from the configuration and the shared secret `bootstrap::webhook_secret` read
    /// from its `secret_file`.
    pub fn new(cfg: &WebhookConfig, secret: &[u8]) -> Result<Self, String> {
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("notify.webhook.url: {e}"))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "::1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err("notify.webhook.url must be https:// (http:// only for a receiver on this machine)".into());
        }
        if secret.len() < 16 {
            return Err("notify.webhook.secret_file must hold at least 16 bytes".into());
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(std::time::Duration::from_secs(cfg.timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("notify.webhook: {e}"))?;
        Ok(Self { url, secret: secret.to_vec(), http })
    }

    /// Deliver one event now.
    pub async fn deliver(&self, event: &NewWebhook, now: DateTime<Utc>) -> Result<(), DeliveryFailure> {
        let sig = signature(&self.secret, now.timestamp(), &event.body);
        let resp = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("edgeward-signature", sig)
            .header("edgeward-event-id", event.event_id.to_string())
            .body(event.body.clone())
            .send()
            .await
            .map_err(|e| DeliveryFailure { permanent: false, message: format!("cannot deliver: {e}") })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let permanent = status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
        Err(DeliveryFailure { permanent, message: format!("the receiver answered {status}") })
    }
}

#[async_trait::async_trait]
impl crate::outbox::Channel for Webhook {
    type Message = NewWebhook;
    const WHAT: &'static str = "webhook event";

    async fn claim(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::outbox::Claimed<NewWebhook>>, Error> {
        let claimed = store.claim_due_webhooks(now, until, limit).await?;
        Ok(claimed
            .into_iter()
            .map(|c| crate::outbox::Claimed { id: c.id, attempts: c.attempts, message: c.event })
            .collect())
    }

    async fn deliver(&self, message: &NewWebhook, now: DateTime<Utc>) -> Result<(), DeliveryFailure> {
        Webhook::deliver(self, message, now).await
    }

    async fn sent(&self, store: &dyn Store, id: i64, now: DateTime<Utc>) -> Result<(), Error> {
        store.webhook_sent(id, now).await
    }

    async fn failed(
        &self,
        store: &dyn Store,
        id: i64,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), Error> {
        store.webhook_failed(id, error, retry_at).await
    }
}

/// Deliver every event due at `now`; returns (delivered, given up).
pub async fn send_due(store: &dyn Store, hook: &Webhook, now: DateTime<Utc>) -> (u64, u64) {
    let report = crate::outbox::send_due(store, hook, now).await;
    (report.sent, report.failed)
}

/// Work through the webhook outbox every `every` until shutdown.
pub async fn run_sender(
    state: crate::state::AppState,
    hook: Arc<Webhook>,
    every: std::time::Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::jobs::repeat(every, shutdown, || async {
        let (sent, failed) = send_due(state.store.as_ref(), &hook, state.clock.now()).await;
        state.metrics.webhooks_sent.inc_by(sent);
        state.metrics.webhooks_failed.inc_by(failed);
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
        assert_eq!(
            signature(b"whsec_0123456789abcdef", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=9f5e37cdc7ea587c7c02062d93283cad000d66a831b2a1676418696db47ed6c2"
        );
    }
}
