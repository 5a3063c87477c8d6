//! The daily expiry check, driven day by day with a fake clock over a real SQLite store.
#![allow(clippy::disallowed_methods, reason = "tests write the secret files the settings they check name")]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use edgeward_core::capability::{Capability, Grants};
use edgeward_core::names::{NamespaceName, TokenName};
use edgeward_core::network::Networks;
use edgeward_core::notify::{User, UserUpdate, DEFAULT_THRESHOLDS};
use edgeward_core::permission::Permissions;
use edgeward_core::store::{Account, NewToken, Store};
use edgeward_core::token::{EdgeWorkerScope, Token, TokenSpec};
use edgeward_server::notify::{run_check, run_if_owed, undelivered_now, NotifyConfig, NotifyRuntime, Outputs};

const T: &[u32] = &DEFAULT_THRESHOLDS;
const OFF: Outputs = Outputs { email: false, webhook: false };
const MAIL: Outputs = Outputs { email: true, webhook: false };

/// 06:00 UTC on 2026-12-01 plus `days`: the daily check time.
fn check_at(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap() + Duration::days(days)
}

fn day(days: i64) -> NaiveDate {
    check_at(days).date_naive()
}

async fn store(dir: &std::path::Path) -> Arc<dyn Store> {
    let s = edgeward_store::testing::open_store_for_dir(dir).await;
    let account = Account {
        cpcode: "1234567".into(),
        initialized_at: check_at(0),
        restrict_data_access: false,
        allow_namespace_policy_override: true,
    };
    s.initialize_account(account).await.unwrap();
    s
}

async fn user(s: &dyn Store, name: &str, grants: &[Capability], active: bool) -> Uuid {
    let u = User {
        id: Uuid::new_v4(),
        name: name.into(),
        email: Some(format!("{name}@example.com")),
        email_registered: true,
        active,
        grants: Grants::new(grants.iter().copied()),
        roles: Vec::new(),
        created_at: check_at(0),
    };
    s.create_user(u).await.unwrap().id
}

async fn token(s: &dyn Store, name: &str, expiry: NaiveDate, networks: Networks, now: DateTime<Utc>) -> Uuid {
    let mut namespaces = BTreeMap::new();
    namespaces.insert(NamespaceName::parse("default").unwrap(), Permissions::parse(&["r", "w"]).unwrap());
    let spec = TokenSpec {
        name: TokenName::parse(name).unwrap(),
        networks,
        ewids: EdgeWorkerScope::All,
        namespaces,
        expiry: Some(expiry),
    };
    let new = NewToken {
        token: Token::issue(spec, Uuid::new_v4(), now, "1234567".into()),
        sealed_value: Some(vec![0; 8]),
        kid: None,
    };
    s.insert_token(new, 1000).await.unwrap().uuid
}

/// Subjects of a user's panel, oldest first.
async fn panel(s: &dyn Store, user: Uuid) -> Vec<String> {
    let (mut n, _) = s.notices_for(user, 100, None).await.unwrap();
    n.reverse();
    n.into_iter().map(|n| n.subject).collect()
}

#[tokio::test]
async fn thresholds_are_crossed_one_by_one_and_each_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    let viewer = user(&*s, "viewer", &[Capability::ViewToken], true).await;
    let gone = user(&*s, "gone", &[Capability::CreateToken], false).await;
    token(&*s, "long", day(40), Networks::BOTH, check_at(0)).await;
    let mut told_on = Vec::new();
    for d in 0..=42 {
        let r = run_check(&*s, check_at(d), "a", T, OFF, false).await.unwrap();
        assert!(r.ran);
        if r.notices > 0 {
            told_on.push((40 - d, r.due[0].threshold_days));
        }
        // Two checks on one day: the second tells nothing new.
        assert_eq!(run_check(&*s, check_at(d) + Duration::hours(5), "a", T, OFF, false).await.unwrap().notices, 0);
    }
    assert_eq!(told_on, vec![(30, 30), (7, 7), (1, 1)], "days left when told, and the threshold");
    assert_eq!(
        panel(&*s, ana).await,
        [
            "Access token long expires on 2027-01-10 (30-day notice)",
            "Access token long expires on 2027-01-10 (7-day notice)",
            "Access token long expires on 2027-01-10 (1-day notice)"
        ]
    );
    assert!(panel(&*s, viewer).await.is_empty(), "no CREATE_TOKEN grant");
    assert!(panel(&*s, gone).await.is_empty(), "inactive");
}

#[tokio::test]
async fn a_token_inside_several_thresholds_gets_only_the_tightest() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    // Created with 5 days left: the 7-day notice at the next check, never the 30-day one.
    token(&*s, "short", day(5), Networks::BOTH, check_at(0)).await;
    // Created after today's check with one day left: told at the next check (its last day).
    run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap();
    token(&*s, "late", day(1), Networks::BOTH, check_at(0) + Duration::hours(1)).await;
    let r = run_check(&*s, check_at(1), "a", T, OFF, false).await.unwrap();
    assert_eq!(r.due.iter().map(|d| (d.name.as_str(), d.threshold_days)).collect::<Vec<_>>(), [("late", 1)]);
    for d in 2..=6 {
        run_check(&*s, check_at(d), "a", T, OFF, false).await.unwrap();
    }
    assert_eq!(
        panel(&*s, ana).await,
        [
            "Access token short expires on 2026-12-06 (7-day notice)",
            "Access token late expires on 2026-12-02 (1-day notice)",
            "Access token short expires on 2026-12-06 (1-day notice)",
        ]
    );
    // Past its expiry day nothing more is said.
    assert!(run_check(&*s, check_at(7), "a", T, OFF, false).await.unwrap().due.is_empty());
}

#[tokio::test]
async fn notices_reaching_a_threshold_together_are_bundled_per_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    let stg = user(&*s, "stg", &[Capability::CreateStagingToken], true).await;
    token(&*s, "a", day(7), Networks::BOTH, check_at(0)).await;
    token(&*s, "b", day(6), Networks::STAGING, check_at(0)).await;
    s.record_usage(vec![edgeward_core::store::TokenUsage {
        uuid: token(&*s, "c", day(3), Networks::BOTH, check_at(0)).await,
        network: edgeward_core::network::Network::Production,
        requests: 9,
        last_used: check_at(-1),
    }])
    .await
    .unwrap();
    let r = run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap();
    assert_eq!((r.due.len(), r.notices), (3, 2), "one message to each of two recipients");
    let (ana_panel, unread) = s.notices_for(ana, 10, None).await.unwrap();
    assert_eq!((ana_panel.len(), unread), (1, 1));
    assert_eq!(ana_panel[0].subject, "3 access tokens expire within 7 days");
    let listed = ana_panel[0].tokens.as_array().unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c", "b", "a"], "soonest first");
    assert_eq!(listed[0]["namespaces"], serde_json::json!({"default": "rw"}));
    assert_eq!(listed[0]["lastUsed"], "2026-11-30T06:00:00Z");
    assert_eq!(listed[1]["allowOnProduction"], false);
    assert_eq!(listed[2]["lastUsed"], serde_json::Value::Null, "never used");
    let (stg_panel, _) = s.notices_for(stg, 10, None).await.unwrap();
    assert_eq!(stg_panel[0].subject, "Access token b expires on 2026-12-07 (7-day notice)", "staging-only tokens only");
}

#[tokio::test]
async fn revoked_and_replaced_tokens_are_not_notified() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    let revoked = token(&*s, "revoked", day(10), Networks::BOTH, check_at(0)).await;
    let old = token(&*s, "old", day(10), Networks::BOTH, check_at(0)).await;
    let new = token(&*s, "new", day(100), Networks::BOTH, check_at(0)).await;
    assert_eq!(run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap().due.len(), 2, "30-day notices");
    s.revoke_token(revoked, check_at(1)).await.unwrap();
    s.mark_replaced(old, new).await.unwrap();
    for d in 1..=12 {
        assert!(run_check(&*s, check_at(d), "a", T, OFF, false).await.unwrap().due.is_empty(), "day {d}");
    }
    assert_eq!(panel(&*s, ana).await.len(), 1);
}

#[tokio::test]
async fn a_check_that_failed_before_delivering_is_completed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    let t = token(&*s, "t", day(7), Networks::BOTH, check_at(0)).await;
    // A check recorded the pair as due and then stopped (crash, database error) before
    // delivering: the record stays pending.
    s.claim_notices(vec![(t, 7)], check_at(0)).await.unwrap();
    let r = run_check(&*s, check_at(0) + Duration::minutes(1), "a", T, OFF, false).await.unwrap();
    assert_eq!((r.due.len(), r.notices), (1, 1), "the pending pair is delivered");
    assert_eq!(run_check(&*s, check_at(0) + Duration::minutes(2), "a", T, OFF, false).await.unwrap().notices, 0);
    assert_eq!(panel(&*s, ana).await.len(), 1);
}

#[tokio::test]
async fn a_dry_run_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    token(&*s, "t", day(7), Networks::BOTH, check_at(0)).await;
    let dry = run_check(&*s, check_at(0), "a", T, OFF, true).await.unwrap();
    assert_eq!((dry.dry_run, dry.due.len(), dry.notices), (true, 1, 0));
    assert!(panel(&*s, ana).await.is_empty());
    assert_eq!(
        run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap().notices,
        1,
        "still due after the dry run"
    );
}

#[tokio::test]
async fn a_due_token_with_nobody_to_tell_is_reported_and_told_to_the_first_user_added() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let viewer = user(&*s, "viewer", &[Capability::ViewToken], true).await;
    token(&*s, "soon", day(5), Networks::BOTH, check_at(0)).await;
    for hours in [0, 5] {
        let r = run_check(&*s, check_at(0) + Duration::hours(hours), "a", T, OFF, false).await.unwrap();
        let untold: Vec<(&str, u32)> = r.undelivered.iter().map(|d| (d.name.as_str(), d.threshold_days)).collect();
        assert_eq!(untold, [("soon", 7)], "reported at every check, not used up");
        assert_eq!(r.notices, 0);
    }
    assert!(panel(&*s, viewer).await.is_empty(), "a viewer is not told");
    // Between checks, the status says so too.
    let runtime = NotifyRuntime::new(&NotifyConfig::default(), "test").unwrap();
    let between = undelivered_now(&*s, check_at(0) + Duration::hours(6), &runtime).await.unwrap();
    assert_eq!(between.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["soon"]);
    // The first user who may be told, added the next day, is told at the next check.
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    assert!(undelivered_now(&*s, check_at(0) + Duration::hours(7), &runtime).await.unwrap().is_empty());
    let r = run_check(&*s, check_at(1), "a", T, OFF, false).await.unwrap();
    assert_eq!((r.notices, r.undelivered.len()), (1, 0), "{r:?}");
    assert_eq!(panel(&*s, ana).await, ["Access token soon expires on 2026-12-06 (7-day notice)"]);
    let again = run_check(&*s, check_at(1) + Duration::hours(5), "a", T, OFF, false).await.unwrap();
    assert_eq!((again.due.len(), again.notices), (0, 0), "told once");
}

#[tokio::test]
async fn a_dry_run_reports_exactly_what_a_real_run_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    // Told before: not in the dry run. Production-only with only a staging manager left: untold.
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    token(&*s, "told", day(6), Networks::BOTH, check_at(0)).await;
    assert_eq!(run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap().notices, 1);
    s.update_user("ana", UserUpdate { active: Some(false), ..UserUpdate::default() }).await.unwrap();
    let stg = user(&*s, "stg", &[Capability::CreateStagingToken], true).await;
    token(&*s, "new", day(6), Networks::STAGING, check_at(1)).await;
    token(&*s, "prod", day(6), Networks { staging: false, production: true }, check_at(1)).await;
    let names = |r: &edgeward_wire::CheckReport| {
        let due: Vec<String> = r.due.iter().map(|d| d.name.clone()).collect();
        let untold: Vec<String> = r.undelivered.iter().map(|d| d.name.clone()).collect();
        (due, untold)
    };
    let dry = run_check(&*s, check_at(1), "a", T, OFF, true).await.unwrap();
    let real = run_check(&*s, check_at(1) + Duration::hours(1), "a", T, OFF, false).await.unwrap();
    assert_eq!(names(&dry), names(&real));
    assert_eq!(names(&real), (vec!["new".to_owned(), "prod".to_owned()], vec!["prod".to_owned()]));
    assert_eq!(panel(&*s, stg).await, ["Access token new expires on 2026-12-07 (7-day notice)"]);
    assert_eq!(panel(&*s, ana).await.len(), 1, "inactive since");
}

#[tokio::test]
async fn two_servers_on_one_database_run_each_check_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = store(dir.path()).await;
    // A second server: its own connections (and, on SQLite, writer) on the same database.
    let b = edgeward_store::testing::open_store_for_dir(dir.path()).await;
    let ana = user(&*a, "ana", &[Capability::CreateToken], true).await;
    for i in 0..50 {
        token(&*a, &format!("t{i}"), day(7), Networks::BOTH, check_at(0)).await;
    }
    let at = chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap();
    assert!(!run_if_owed(&*a, check_at(0) - Duration::minutes(1), "a", at, T, OFF).await.unwrap().ran, "not yet time");
    let mut ran = 0;
    for round in 0..5 {
        let now = check_at(0) + Duration::minutes(round);
        let (ra, rb) = tokio::join!(run_if_owed(&*a, now, "a", at, T, OFF), run_if_owed(&*b, now, "b", at, T, OFF));
        ran += [ra.unwrap(), rb.unwrap()].iter().filter(|r| r.notices > 0).count();
    }
    assert_eq!(ran, 1, "exactly one server ran the day's check");
    assert_eq!(panel(&*a, ana).await, ["50 access tokens expire within 7 days"]);
    let runs = a.check_runs(10).await.unwrap();
    assert_eq!(runs.iter().filter(|r| r.check_day == day(0)).count(), 1);
    // After downtime, the next start catches up on the day's check.
    let r = run_if_owed(&*b, check_at(6) + Duration::hours(9), "b", at, T, OFF).await.unwrap();
    assert_eq!((r.ran, r.notices), (true, 1), "the 1-day notice, caught up at 15:00");
}

/// Outbound e-mail for unit tests: records what it is given; fails as told.
#[derive(Default)]
struct FakeMail {
    sent: std::sync::Mutex<Vec<edgeward_core::notify::NewEmail>>,
    fail_next: std::sync::Mutex<Vec<edgeward_server::mail::SendFailure>>,
}

#[async_trait::async_trait]
impl edgeward_server::mail::MailTransport for FakeMail {
    async fn send(&self, email: &edgeward_core::notify::NewEmail) -> Result<(), edgeward_server::mail::SendFailure> {
        if let Some(f) = self.fail_next.lock().unwrap().pop() {
            return Err(f);
        }
        self.sent.lock().unwrap().push(email.clone());
        Ok(())
    }
}

#[tokio::test]
async fn the_one_day_email_reaches_only_who_may_receive_it() {
    use edgeward_server::mail::send_due;
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    user(&*s, "ana", &[Capability::CreateToken], true).await;
    user(&*s, "bo", &[Capability::CreateToken], false).await; // inactive
    user(&*s, "cy", &[Capability::CreateToken], true).await;
    user(&*s, "dee", &[Capability::ViewToken], true).await; // no grant
    user(&*s, "eve", &[Capability::CreateStagingToken], true).await; // staging-only tokens only
    s.update_user("cy", UserUpdate { email_registered: Some(false), ..UserUpdate::default() }).await.unwrap(); // address not confirmed
    s.put_contact(
        edgeward_core::notify::Contact { email: "oncall@example.com".into(), name: "On call".into() },
        check_at(0),
    )
    .await
    .unwrap();
    token(&*s, "edge_rw", day(1), Networks::BOTH, check_at(0)).await;
    token(&*s, "later", day(7), Networks::BOTH, check_at(0)).await;
    let r = run_check(&*s, check_at(0), "a", T, MAIL, false).await.unwrap();
    assert_eq!(r.due.len(), 2);
    let mail = FakeMail::default();
    assert_eq!(send_due(&*s, &mail, check_at(0)).await.sent, 2);
    let sent = mail.sent.lock().unwrap().clone();
    let mut to: Vec<&str> = sent.iter().map(|e| e.recipient.as_str()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.com", "oncall@example.com"], "only the 1-day notice is e-mailed");
    let ana = sent.iter().find(|e| e.recipient == "ana@example.com").unwrap();
    assert_eq!(ana.subject, "Edgeward: access token edge_rw expires on 2026-12-02");
    assert!(ana.text_body.starts_with("Hello ana,"), "{}", ana.text_body);
    assert!(ana.text_body.contains(
        "edge_rw: expires at the end of 2026-12-02 (UTC); staging and production; namespaces default:rw; never used"
    ));
    assert!(ana.text_body.contains("edgeward token rotate edge_rw --to edge_rw_next"));
    assert!(ana.html_body.contains("<li>edge_rw: expires"), "{}", ana.html_body);
    assert!(!ana.text_body.contains("later"), "the 7-day token is not in the e-mail");
    assert_eq!(send_due(&*s, &mail, check_at(0)).await, Default::default(), "sent once");
}

#[tokio::test]
async fn failed_e_mail_is_retried_with_backoff_and_given_up_when_permanent() {
    use edgeward_server::mail::{send_due, SendFailure};
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    user(&*s, "ana", &[Capability::CreateToken], true).await;
    s.put_contact(
        edgeward_core::notify::Contact { email: "oncall@example.com".into(), name: "On call".into() },
        check_at(0),
    )
    .await
    .unwrap();
    token(&*s, "t", day(1), Networks::BOTH, check_at(0)).await;
    run_check(&*s, check_at(0), "a", T, MAIL, false).await.unwrap();
    let mail = FakeMail::default();
    // ana's message: a transient failure, then accepted a minute later. The contact's: refused for good.
    mail.fail_next.lock().unwrap().extend([
        SendFailure { permanent: true, message: "550 5.1.1 no such user".into() },
        SendFailure { permanent: false, message: "421 4.3.2 try again later".into() },
    ]);
    let first = send_due(&*s, &mail, check_at(0)).await;
    assert_eq!((first.sent, first.retrying, first.failed), (0, 1, 1));
    assert_eq!(send_due(&*s, &mail, check_at(0) + Duration::seconds(59)).await.sent, 0, "not before its time");
    assert_eq!(send_due(&*s, &mail, check_at(0) + Duration::minutes(1)).await.sent, 1);
    assert_eq!(mail.sent.lock().unwrap()[0].recipient, "ana@example.com");
    let failed = s.failed_emails(10).await.unwrap();
    assert_eq!((failed.len(), failed[0].recipient.as_str()), (1, "oncall@example.com"));
    assert!(failed[0].error.contains("550"));
    assert_eq!(s.pending_email_count().await.unwrap(), 0);
}

#[tokio::test]
async fn without_smtp_nothing_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    user(&*s, "ana", &[Capability::CreateToken], true).await;
    token(&*s, "t", day(1), Networks::BOTH, check_at(0)).await;
    assert_eq!(run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap().notices, 1);
    assert_eq!(s.pending_email_count().await.unwrap(), 0);
}

#[tokio::test]
async fn webhook_events_are_retried_on_5xx_and_given_up_on_4xx() {
    use axum::http::{HeaderMap, StatusCode};
    use edgeward_server::webhook::{send_due, signature, Webhook, WebhookConfig};
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    // The receiver answers 503, then 200, then 400, and keeps what it got.
    let answers = Arc::new(Mutex::new(vec![400u16, 200, 503]));
    let got = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let (a, g) = (answers.clone(), got.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (a, g) = (a.clone(), g.clone());
            async move {
                let sig = headers["edgeward-signature"].to_str().unwrap().to_owned();
                g.lock().unwrap().push((sig, body));
                StatusCode::from_u16(a.lock().unwrap().pop().unwrap()).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "0123456789abcdef0123\n").unwrap();
    let cfg = WebhookConfig {
        url: format!("http://127.0.0.1:{}/hook", addr.port()),
        secret_file: secret_file.clone(),
        timeout_secs: 5,
    };
    let secret = edgeward_server::bootstrap::webhook_secret(&cfg).unwrap();
    let hook = Webhook::new(&cfg, &secret).unwrap();
    assert!(
        Webhook::new(
            &WebhookConfig { url: "http://hooks.example.com/x".into(), secret_file, timeout_secs: 5 },
            &secret
        )
        .is_err(),
        "plain http only to this machine"
    );

    token(&*s, "one", day(1), Networks::BOTH, check_at(0)).await;
    token(&*s, "seven", day(7), Networks::BOTH, check_at(0)).await;
    let both = Outputs { email: false, webhook: true };
    run_check(&*s, check_at(0), "a", T, both, false).await.unwrap();
    assert_eq!(send_due(&*s, &hook, check_at(0)).await, (1, 0), "503 for the first, 200 for the second");
    assert_eq!(send_due(&*s, &hook, check_at(0) + Duration::seconds(59)).await, (0, 0), "not before its time");
    assert_eq!(send_due(&*s, &hook, check_at(0) + Duration::minutes(1)).await, (0, 1), "400: given up");
    assert_eq!(s.webhook_counts().await.unwrap(), (0, 1));
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].1, got[2].1, "a retry sends the same event");
    let (sig, body) = &got[1];
    let t: i64 = sig.trim_start_matches("t=").split(',').next().unwrap().parse().unwrap();
    assert_eq!(*sig, signature(b"0123456789abcdef0123", t, body));
    let event: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["type"], "token.expiring");
}

#[tokio::test]
async fn a_check_run_by_hand_before_the_check_time_does_not_replace_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    let at = chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap();
    assert!(run_check(&*s, check_at(0) - Duration::hours(1), "a", T, OFF, false).await.unwrap().ran);
    token(&*s, "t", day(7), Networks::BOTH, check_at(0) - Duration::minutes(30)).await;
    let r = run_if_owed(&*s, check_at(0), "a", at, T, OFF).await.unwrap();
    assert_eq!((r.ran, r.notices), (true, 1), "the scheduled check still runs at 06:00");
    assert!(!run_if_owed(&*s, check_at(0) + Duration::hours(1), "a", at, T, OFF).await.unwrap().ran, "once");
    assert_eq!(panel(&*s, ana).await.len(), 1);
}

#[tokio::test]
async fn two_runs_in_one_server_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let ana = user(&*s, "ana", &[Capability::CreateToken], true).await;
    for i in 0..50 {
        token(&*s, &format!("t{i}"), day(7), Networks::BOTH, check_at(0)).await;
    }
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            run_check(&*s, check_at(0), "node", T, OFF, false),
            run_check(&*s, check_at(0), "node", T, OFF, false)
        );
        assert!(a.unwrap().notices + b.unwrap().notices <= 1);
    }
    assert_eq!(panel(&*s, ana).await, ["50 access tokens expire within 7 days"]);
}

#[tokio::test]
async fn maintenance_runs_on_one_server_per_period() {
    use edgeward_server::jobs::take_turn;
    let dir = tempfile::tempdir().unwrap();
    let a = store(dir.path()).await;
    let b = edgeward_store::testing::open_store_for_dir(dir.path()).await;
    let hour = Duration::hours(1);
    let t = check_at(0);
    let (ta, tb) = tokio::join!(take_turn(&*a, "a", t, hour), take_turn(&*b, "b", t, hour));
    assert!(ta.unwrap() ^ tb.unwrap(), "exactly one takes the first period");
    let first = if take_turn(&*a, "a", t + Duration::minutes(1), hour).await.unwrap() { "a" } else { "b" };
    let other: &dyn Store = if first == "a" { &*b } else { &*a };
    let other_name = if first == "a" { "b" } else { "a" };
    assert!(!take_turn(other, other_name, t + Duration::minutes(30), hour).await.unwrap(), "not during the period");
    // The first server stops; the other takes over once the lease lapses.
    assert!(take_turn(other, other_name, t + Duration::minutes(62), hour).await.unwrap());
}

/// The check's recipients are the users whose effective grants (their own and their roles')
/// allow creating the token: a user with only `token-manager` is told; the only holder of a
/// custom role that loses CREATE_TOKEN is no longer told.
#[tokio::test]
async fn recipients_are_chosen_by_the_grants_of_their_roles() {
    use edgeward_core::names::RoleName;
    use edgeward_core::role::Role;
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let name = |n: &str| RoleName::parse(n).unwrap();
    let releasers = Role {
        name: name("releasers"),
        description: String::new(),
        grants: Grants::new([Capability::CreateToken]),
        built_in: false,
    };
    s.create_role(releasers, check_at(0)).await.unwrap();
    let manager = user(&*s, "manager", &[], true).await;
    let staging = user(&*s, "staging", &[], true).await;
    let releaser = user(&*s, "releaser", &[], true).await;
    for (who, role) in [("manager", "token-manager"), ("staging", "token-manager-staging"), ("releaser", "releasers")] {
        let update = UserUpdate { roles: Some(vec![name(role)]), ..UserUpdate::default() };
        s.update_user(who, update).await.unwrap();
    }
    token(&*s, "prod", day(30), Networks::BOTH, check_at(0)).await;
    token(&*s, "stg", day(30), Networks::STAGING, check_at(0)).await;
    run_check(&*s, check_at(0), "a", T, OFF, false).await.unwrap();
    assert_eq!(panel(&*s, manager).await, ["2 access tokens expire within 30 days"]);
    assert_eq!(panel(&*s, staging).await, ["Access token stg expires on 2026-12-31 (30-day notice)"]);
    assert_eq!(panel(&*s, releaser).await, ["2 access tokens expire within 30 days"]);

    // The role loses CREATE_TOKEN: from the next check on, its holder is told nothing.
    s.update_role(&name("releasers"), None, Some(Grants::new([Capability::ViewToken]))).await.unwrap();
    run_check(&*s, check_at(23), "a", T, OFF, false).await.unwrap();
    assert_eq!(panel(&*s, manager).await.len(), 2, "the 7-day notice");
    assert_eq!(panel(&*s, releaser).await.len(), 1, "no 7-day notice");
}
