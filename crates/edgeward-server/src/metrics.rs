//! Prometheus metrics, served on the admin listener at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `admin` or `data`.
    pub listener: &'static str,
    /// The matched route template, or `unmatched`.
    pub route: String,
    /// HTTP method: one of the standard ones, or `other` (see [`method_label`]).
    pub method: &'static str,
    /// Status code.
    pub status: u16,
}

/// A method as a label value: the standard methods by name, any other as `other`, so that
/// clients cannot add series by making up methods.
pub fn method_label(m: &http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
}

/// Labels of the authentication-failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// Why: `malformed`, `inactive`, `timestamp`, `signature`, `replay`.
    pub reason: &'static str,
}

/// Labels of per-account gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    /// The account's CP code.
    pub cpcode: String,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests served.
    pub http_requests: Family<HttpLabels, Counter>,
    /// EdgeGrid authentication failures.
    pub auth_failures: Family<AuthLabels, Counter>,
    /// Tokens created.
    pub tokens_created: Counter,
    /// Tokens revoked.
    pub tokens_revoked: Counter,
    /// Seconds until the soonest-expiring live token expires (set when `/metrics` is read).
    pub soonest_token_expiry: Family<AccountLabels, Gauge>,
    /// Panel notices delivered by expiry checks.
    pub notices_delivered: Counter,
    /// Expiry e-mails accepted by the SMTP server.
    pub emails_sent: Counter,
    /// Expiry e-mails given up on.
    pub emails_failed: Counter,
    /// Webhook events delivered.
    pub webhooks_sent: Counter,
    /// Webhook events given up on.
    pub webhooks_failed: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("edgeward");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let auth_failures = Family::<AuthLabels, Counter>::default();
        let tokens_created = Counter::default();
        let tokens_revoked = Counter::default();
        registry.register("http_requests", "HTTP requests served", http_requests.clone());
        registry.register("auth_failures", "EdgeGrid authentication failures", auth_failures.clone());
        registry.register("tokens_created", "Access tokens created", tokens_created.clone());
        registry.register("tokens_revoked", "Access tokens revoked", tokens_revoked.clone());
        let soonest_token_expiry = Family::<AccountLabels, Gauge>::default();
        let (notices_delivered, emails_sent, emails_failed) =
            (Counter::default(), Counter::default(), Counter::default());
        registry.register(
            "soonest_token_expiry_seconds",
            "Seconds until the soonest-expiring live access token expires",
            soonest_token_expiry.clone(),
        );
        registry.register(
            "notices_delivered",
            "Expiry notices delivered to notification panels",
            notices_delivered.clone(),
        );
        registry.register("expiry_emails_sent", "Expiry e-mails accepted by the SMTP server", emails_sent.clone());
        registry.register("expiry_emails_failed", "Expiry e-mails given up on", emails_failed.clone());
        let (webhooks_sent, webhooks_failed) = (Counter::default(), Counter::default());
        registry.register("webhook_events_sent", "Expiry webhook events delivered", webhooks_sent.clone());
        registry.register("webhook_events_failed", "Expiry webhook events given up on", webhooks_failed.clone());
        Self {
            registry,
            http_requests,
            auth_failures,
            tokens_created,
            tokens_revoked,
            soonest_token_expiry,
            notices_delivered,
            emails_sent,
            emails_failed,
            webhooks_sent,
            webhooks_failed,
        }
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
