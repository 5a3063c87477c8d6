//! The storage conformance suite: behaviour every backend must show. Each check takes a fresh,
//! empty store; backends' test files run each check as its own test with [`conformance_tests!`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use edgeward_core::capability::Grants;
use edgeward_core::clock::{Clock, SystemClock};
use edgeward_core::names::{ClientName, NamespaceName, TokenName};
use edgeward_core::network::Networks;
use edgeward_core::permission::Permissions;
use edgeward_core::store::{Account, ApiClient, NewToken, Store};
use edgeward_core::token::{EdgeWorkerScope, Token, TokenSpec};
use edgeward_core::Error;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

async fn init(store: &dyn Store) {
    let account = Account {
        cpcode: "1234567".into(),
        initialized_at: t0(),
        restrict_data_access: false,
        allow_namespace_policy_override: true,
    };
    let (_, created) = store.initialize_account(account.clone()).await.unwrap();
    assert!(created);
    let (again, created) = store.initialize_account(Account { cpcode: "999".into(), ..account }).await.unwrap();
    assert!(!created, "a second initialization keeps the first");
    assert_eq!(again.cpcode, "1234567");
}

/// The account limit on stored tokens in the checks that do not test it.
const MAX_TOKENS: u64 = 1000;

fn new_token(name: &str, expiry: Option<NaiveDate>, now: DateTime<Utc>) -> NewToken {
    let mut namespaces = BTreeMap::new();
    namespaces.insert(NamespaceName::parse("default").unwrap(), Permissions::parse(&["r", "w"]).unwrap());
    let spec = TokenSpec {
        name: TokenName::parse(name).unwrap(),
        networks: Networks::BOTH,
        ewids: EdgeWorkerScope::All,
        namespaces,
        expiry,
    };
    NewToken {
        token: Token::issue(spec, Uuid::new_v4(), now, "1234567".into()),
        sealed_value: expiry.map(|_| vec![1, 2, 3]),
        kid: expiry.map(|_| "k0".to_owned()),
    }
}

/// After a re-keying of rows an earlier schema wrote with uuids (each backend's test writes
/// them): the legacy token, its usage and its change-feed entry all read back by uuid.
pub async fn legacy_rows_read_back(s: &dyn Store, uuid: Uuid) {
    let t = s.token_by_uuid(uuid).await.unwrap().expect("found by uuid");
    assert_eq!((t.token.uuid, t.token.name.as_str()), (uuid, "legacy"));
    assert_eq!(s.token_usage(uuid).await.unwrap()[0].requests, 3);
    let feed = s.changes_since(0, 10).await.unwrap();
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].1, edgeward_core::store::Change::TokenRevoked(uuid));
}

/// One test per check on a backend: `conformance_tests!(fresh)`, where `fresh().await` gives a
/// new empty store and a value to keep alive while the check runs (its directory, say). Each
/// check is its own `#[tokio::test]`, so a failure names the check and the backend.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_test!($fresh, token_lifecycle, by_ref);
        $crate::conformance_test!($fresh, names_are_unique_among_live_tokens, shared);
        $crate::conformance_test!($fresh, the_token_limit_holds_under_concurrent_creation, shared);
        $crate::conformance_test!($fresh, expired_names_are_reusable_and_listing_windows, by_ref);
        $crate::conformance_test!($fresh, a_revoked_token_is_kept_while_its_value_could_be_valid, by_ref);
        $crate::conformance_test!($fresh, the_overview_lists_every_stored_token_with_successor_and_last_use, by_ref);
        $crate::conformance_test!($fresh, limits_and_namespaces, by_ref);
        $crate::conformance_test!($fresh, api_clients, by_ref);
        $crate::conformance_test!($fresh, items, by_ref);
        $crate::conformance_test!($fresh, namespaces, by_ref);
        $crate::conformance_test!($fresh, access_groups_and_scheduled_deletes, by_ref);
        $crate::conformance_test!($fresh, people_and_notices, by_ref);
        $crate::conformance_test!($fresh, leases, shared);
        $crate::conformance_test!($fresh, scheduled_revocations_run_once, shared);
        $crate::conformance_test!($fresh, change_feed, by_ref);
        $crate::conformance_test!($fresh, signing_keys, by_ref);
        $crate::conformance_test!($fresh, sealed_columns, by_ref);
        $crate::conformance_test!($fresh, audit_trail, by_ref);
        $crate::conformance_test!($fresh, the_first_administrator_is_made_once, shared);
        $crate::conformance_test!($fresh, passwords, by_ref);
        $crate::conformance_test!($fresh, sessions, by_ref);
        $crate::conformance_test!($fresh, roles_and_what_users_may_do, by_ref);
    };
}

/// One check as a test (used by [`conformance_tests!`]).
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_test {
    ($fresh:path, $check:ident, by_ref) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (store, _keep) = $fresh().await;
            $crate::conformance::$check(&*store).await;
        }
    };
    ($fresh:path, $check:ident, shared) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (store, _keep) = $fresh().await;
            $crate::conformance::$check(store).await;
        }
    };
}

#[doc(hidden)]
pub async fn sealed_columns(s: &dyn Store) {
    use edgeward_core::store::Resealed;
    init(s).await;
    let old = |n: u8| vec![2, 0, 0, 0, 0, 0, 0, 0, 0, n];
    let new_prefix = vec![2u8, 1, 1, 1, 1, 1, 1, 1, 1];
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let t = NewToken {
            sealed_value: Some(old(u8::try_from(i).expect("a few tokens"))),
            ..new_token(name, Some(NaiveDate::from_ymd_opt(2026, 12, 20).unwrap()), t0())
        };
        s.insert_token(t, MAX_TOKENS).await.unwrap();
    }
    s.insert_token(new_token("auto", None, t0()), MAX_TOKENS).await.unwrap();
    let col = "tokens.sealed_value";
    // Rows are keyed by token ref; each value comes with the row's sealed uuid, its context.
    let all = s.sealed_batch(col, None, new_prefix.clone(), 10).await.unwrap();
    assert_eq!(all.len(), 3, "nulls left out");
    assert!(all.iter().all(|r| r.key.len() == 64 && r.via.is_some()), "{all:?}");
    let uuids: Vec<String> = all.iter().map(|r| r.key.clone()).collect();
    let mut sorted = uuids.clone();
    sorted.sort();
    assert_eq!(uuids, sorted, "by key");
    let refs = s.sealed_batch("tokens.sealed_uuid", None, new_prefix.clone(), 10).await.unwrap();
    assert_eq!(refs.len(), 4, "every token's uuid is sealed");
    assert!(refs.iter().all(|r| r.via.is_none()));
    let first = s.sealed_batch(col, None, new_prefix.clone(), 2).await.unwrap();
    assert_eq!(first.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), uuids[..2], "by key, nulls left out");
    let rest = s.sealed_batch(col, Some(first[1].key.clone()), new_prefix.clone(), 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    // A value changed meanwhile is left alone; the others are replaced.
    let mut sealed_again: Vec<Resealed> = first
        .iter()
        .chain(&rest)
        .map(|r| Resealed { key: r.key.clone(), old: r.sealed.clone(), new: [&new_prefix[..], &[7]].concat() })
        .collect();
    sealed_again[0].old = vec![9, 9];
    assert_eq!(s.reseal(col, sealed_again).await.unwrap(), 2);
    let left = s.sealed_batch(col, None, new_prefix.clone(), 10).await.unwrap();
    assert_eq!(left.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), vec![uuids[0].clone()], "only the skipped one");
    for c in crate::SEALED_COLUMNS {
        s.sealed_batch(&c.name(), None, new_prefix.clone(), 1).await.unwrap();
    }
    assert!(s.sealed_batch("tokens.name", None, new_prefix, 1).await.is_err(), "only sealed columns");
}

/// Audited writes carry their record into their own transaction: exactly one record per
/// change, none for a write that failed, and listing filters agree with `AuditFilter::matches`.
#[doc(hidden)]
pub async fn audit_trail(s: &dyn Store) {
    use crate::audit::{scope, AuditSlot};
    use edgeward_core::audit::{AuditFilter, AuditOutcome, AuditRecord};
    use edgeward_core::network::Network;
    use edgeward_core::store::ItemKey;
    init(s).await;
    let record = |action: &str, target: &str, at: DateTime<Utc>| AuditRecord {
        at,
        actor: "client:ops".into(),
        owner: Some("alice".into()),
        action: action.into(),
        target: target.into(),
        request_id: Some("00ff".into()),
        source: "127.0.0.1".into(),
        outcome: AuditOutcome::Success,
        detail: None,
    };
    let all = AuditFilter { limit: 100, ..Default::default() };
    let key = |item: &str| ItemKey {
        network: Network::Production,
        namespace: NamespaceName::parse("default").unwrap(),
        sandbox: String::new(),
        group: "g".into(),
        item: item.into(),
    };
    // Two writes in one audited scope: the first carries the record, the second adds none.
    let slot = AuditSlot::new(record("item.write", "item/production/default/g/a", t0()));
    scope(slot.clone(), async {
        s.put_item(key("a"), b"1".to_vec(), t0()).await.unwrap();
        s.put_item(key("b"), b"2".to_vec(), t0()).await.unwrap();
    })
    .await;
    assert!(slot.written());
    assert_eq!(s.audit_records(&all).await.unwrap().len(), 1, "one change, one record");
    // A refused write commits no record: the slot stays pending for the caller's failure record.
    let slot = AuditSlot::new(record("token.revoke", "token/nobody", t0()));
    let refused = scope(slot.clone(), async { s.revoke_token(Uuid::new_v4(), t0()).await }).await;
    assert!(refused.is_err());
    assert!(!slot.written());
    let mut failure = slot.take_pending().expect("still pending");
    failure.outcome = AuditOutcome::Failure;
    failure.detail = Some("404 EKV_3000".into());
    s.append_audit(failure).await.unwrap();
    // Each backend's write paths carry it: transactions and single statements alike.
    let c = ApiClient {
        name: ClientName::parse("audited").unwrap(),
        client_token: "akab-audited".into(),
        access_token: "akab-at".into(),
        grants: Grants::all(),
        enabled: true,
        created_at: t0(),
        owner: None,
    };
    let slot = AuditSlot::new(record("apiclient.create", "apiclient/audited", t0() + chrono::Duration::days(1)));
    scope(slot.clone(), s.insert_api_client(c, vec![1; 40])).await.unwrap();
    assert!(slot.written());
    let slot = AuditSlot::new(record("token.create", "token/audited", t0() + chrono::Duration::days(2)));
    scope(slot.clone(), s.insert_token(new_token("audited", None, t0()), MAX_TOKENS)).await.unwrap();
    assert!(slot.written());
    // Unaudited writes leave nothing.
    s.put_item(key("c"), b"3".to_vec(), t0()).await.unwrap();

    let got = s.audit_records(&all).await.unwrap();
    let actions: Vec<&str> = got.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(actions, ["token.create", "apiclient.create", "token.revoke", "item.write"], "newest first");
    assert_eq!(got[3].record, record("item.write", "item/production/default/g/a", t0()), "read back as written");
    assert_eq!(got[2].record.outcome, AuditOutcome::Failure);
    let filters = [
        AuditFilter { action: Some("token.".into()), ..all.clone() },
        AuditFilter { action: Some("token.create".into()), ..all.clone() },
        AuditFilter { target: Some("token/".into()), ..all.clone() },
        AuditFilter { outcome: Some(AuditOutcome::Failure), ..all.clone() },
        AuditFilter { since: Some(t0() + chrono::Duration::days(1)), ..all.clone() },
        AuditFilter { until: Some(t0() + chrono::Duration::days(1)), ..all.clone() },
        AuditFilter { actor: Some("client:nobody".into()), ..all.clone() },
        AuditFilter { before_id: Some(got[1].id), ..all.clone() },
        AuditFilter { limit: 2, ..all.clone() },
    ];
    for f in &filters {
        let want: Vec<i64> = got.iter().filter(|e| f.matches(e)).take(f.limit).map(|e| e.id).collect();
        let have: Vec<i64> = s.audit_records(f).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(have, want, "{f:?}");
    }
    assert_eq!(s.purge_audit(t0() + chrono::Duration::days(1)).await.unwrap(), 2);
    assert_eq!(s.audit_records(&all).await.unwrap().len(), 2);
}

#[doc(hidden)]
pub async fn signing_keys(s: &dyn Store) {
    use edgeward_core::store::{Change, SigningKeyUse, StoredSigningKey};
    assert!(s.signing_keys().await.unwrap().is_empty());
    init(s).await;
    let start = s.last_change_seq().await.unwrap();
    let key = |kid: &str, minutes: i64, byte: u8| StoredSigningKey {
        kid: kid.into(),
        sealed_pkcs8: vec![byte; 48],
        created_at: t0() + chrono::Duration::minutes(minutes),
        retired_at: None,
    };
    s.add_signing_key(key("k2", 5, 2)).await.unwrap();
    s.add_signing_key(key("k1", 0, 1)).await.unwrap();
    s.add_signing_key(key("k1", 9, 9)).await.unwrap();
    assert_eq!(s.signing_keys().await.unwrap(), vec![key("k1", 0, 1), key("k2", 5, 2)], "oldest first; a kid is kept");

    // Live tokens per signing key: revoked and expired ones do not count; auto-refreshing
    // tokens have no value and no kid.
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let signed =
        |name: &str, expiry, kid: &str| NewToken { kid: Some(kid.into()), ..new_token(name, Some(expiry), t0()) };
    s.insert_token(signed("a", day(20), "k1"), MAX_TOKENS).await.unwrap();
    s.insert_token(signed("b", day(10), "k1"), MAX_TOKENS).await.unwrap();
    let c = s.insert_token(signed("c", day(25), "k1"), MAX_TOKENS).await.unwrap();
    s.insert_token(signed("d", day(5), "k2"), MAX_TOKENS).await.unwrap();
    s.insert_token(new_token("auto", None, t0()), MAX_TOKENS).await.unwrap();
    s.revoke_token(c.uuid, t0()).await.unwrap();
    let end_of = |d| day(d).and_hms_opt(23, 59, 59).unwrap().and_utc();
    assert_eq!(
        s.signing_key_use(t0()).await.unwrap(),
        vec![
            SigningKeyUse { kid: "k1".into(), live_tokens: 2, last_expiry: Some(end_of(20)) },
            SigningKeyUse { kid: "k2".into(), live_tokens: 1, last_expiry: Some(end_of(5)) },
        ]
    );
    let later = end_of(12);
    assert_eq!(
        s.signing_key_use(later).await.unwrap(),
        vec![SigningKeyUse { kid: "k1".into(), live_tokens: 1, last_expiry: Some(end_of(20)) }],
        "expired tokens do not count"
    );

    // Retiring: once, announced on the feed; an unknown kid is refused.
    assert!(s.retire_signing_key("k1", later).await.unwrap());
    assert!(!s.retire_signing_key("k1", later + chrono::Duration::hours(1)).await.unwrap(), "already retired");
    assert!(matches!(s.retire_signing_key("nope", later).await, Err(edgeward_core::Error::Invalid { .. })));
    let keys = s.signing_keys().await.unwrap();
    assert_eq!(keys[0].retired_at, Some(later), "the first retirement's time is kept");
    assert_eq!(keys[1].retired_at, None);
    let announced: Vec<Change> = s
        .changes_since(start, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| !matches!(c, Change::TokenRevoked(_)))
        .collect();
    assert_eq!(
        announced,
        vec![Change::SigningKeys("k2".into()), Change::SigningKeys("k1".into()), Change::SigningKeys("k1".into())],
        "each key added and the retirement, once each"
    );
    s.announce(Change::DataKey("00ff".into()), later).await.unwrap();
    let last = s.changes_since(start, 100).await.unwrap().pop().unwrap().1;
    assert_eq!(last, Change::DataKey("00ff".into()));
}

#[doc(hidden)]
pub async fn change_feed(s: &dyn Store) {
    use edgeward_core::network::Network;
    use edgeward_core::store::{Change, ItemKey};
    init(s).await;
    let start = s.last_change_seq().await.unwrap();
    let t = s
        .insert_token(new_token("t", Some(NaiveDate::from_ymd_opt(2026, 12, 20).unwrap()), t0()), MAX_TOKENS)
        .await
        .unwrap();
    let key = ItemKey {
        network: Network::Staging,
        namespace: NamespaceName::parse("default").unwrap(),
        sandbox: "sb1".into(),
        group: "g".into(),
        item: "i".into(),
    };
    s.put_item(key.clone(), b"v".to_vec(), t0()).await.unwrap();
    assert!(s.delete_item(key.clone(), t0()).await.unwrap());
    assert!(!s.delete_item(key.clone(), t0()).await.unwrap(), "nothing deleted: no change");
    s.revoke_token(t.uuid, t0()).await.unwrap();
    let default = NamespaceName::parse("default").unwrap();
    s.set_namespace_retention(Network::Production, &default, 86_400, t0()).await.unwrap();
    let all = s.changes_since(start, 100).await.unwrap();
    let kinds: Vec<Change> = all.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            Change::Item(key.clone()),
            Change::Item(key.clone()),
            Change::TokenRevoked(t.uuid),
            Change::Namespace(Network::Production, default.clone())
        ]
    );
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    assert_eq!(s.last_change_seq().await.unwrap(), all[3].0);
    assert_eq!(s.changes_since(all[1].0, 1).await.unwrap(), vec![all[2].clone()], "paged");
    assert!(s.purge_changes(t0()).await.unwrap() < 4, "recent changes are kept");
    // Every change is stamped with the time it is given (the server's clock), never the
    // system's: with the clock 30 days ahead (`--dev-clock-offset 30d`), a purge by that clock
    // keeps the changes it has not reached, which other servers may not have read yet.
    let ahead = SystemClock.now() + chrono::Duration::days(30);
    let from = s.last_change_seq().await.unwrap();
    let item = ItemKey { item: "j".into(), ..key };
    s.put_item(item.clone(), b"v".to_vec(), ahead).await.unwrap();
    assert!(s.delete_item(item, ahead).await.unwrap());
    s.set_namespace_retention(Network::Production, &default, 172_800, ahead).await.unwrap();
    s.purge_changes(ahead - chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(s.changes_since(from, 100).await.unwrap().len(), 3, "nothing stamped with another time");
    // Shared nonces: a replay (the same client, nonce and timestamp) is refused until the
    // nonce is forgotten. The same nonce under another timestamp carries another signature, so
    // it is another request, as in the server's in-memory check.
    let at = |secs| t0() + chrono::Duration::seconds(secs);
    assert!(s.record_nonce("ct", "n1", at(0), at(-120)).await.unwrap());
    assert!(!s.record_nonce("ct", "n1", at(0), at(-110)).await.unwrap(), "replay");
    assert!(s.record_nonce("other-client", "n1", at(0), at(-110)).await.unwrap(), "per client");
    assert!(s.record_nonce("ct", "n1", at(10), at(-110)).await.unwrap(), "another timestamp, another request");
    assert!(!s.record_nonce("ct", "n1", at(10), at(-100)).await.unwrap(), "that one is refused a second time");
    assert!(s.record_nonce("ct", "n1", at(0), at(380)).await.unwrap(), "forgotten after the window");
}

#[doc(hidden)]
pub async fn people_and_notices(s: &dyn Store) {
    use edgeward_core::capability::Capability;
    use edgeward_core::notify::{CheckRun, Contact, NewNotice, User, UserUpdate};
    init(s).await;
    let user = |name: &str| User {
        id: Uuid::new_v4(),
        name: name.into(),
        email: Some(format!("{name}@example.com")),
        email_registered: true,
        active: true,
        grants: Grants::new([Capability::CreateToken]),
        roles: Vec::new(),
        created_at: t0(),
    };
    let ana = s.create_user(user("ana")).await.unwrap();
    assert!(matches!(s.create_user(user("ana")).await, Err(Error::AlreadyExists { .. })));
    s.create_user(user("bo")).await.unwrap();
    assert_eq!(s.list_users().await.unwrap().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["ana", "bo"]);
    let changed = s
        .update_user(
            "bo",
            UserUpdate { active: Some(false), email: Some(Some("bo@new.example".into())), ..UserUpdate::default() },
        )
        .await
        .unwrap();
    assert_eq!((changed.active, changed.email_registered), (false, false), "a new address is unconfirmed");
    let changed =
        s.update_user("bo", UserUpdate { email_registered: Some(true), ..UserUpdate::default() }).await.unwrap();
    assert!(changed.email_registered);
    assert!(matches!(
        s.update_user("nobody", UserUpdate { active: Some(true), ..UserUpdate::default() }).await,
        Err(Error::NotFound { .. })
    ));
    s.put_contact(Contact { email: "oncall@example.com".into(), name: "On call".into() }, t0()).await.unwrap();
    s.put_contact(Contact { email: "oncall@example.com".into(), name: "Pager".into() }, t0()).await.unwrap();
    assert_eq!(
        s.list_contacts().await.unwrap(),
        vec![Contact { email: "oncall@example.com".into(), name: "Pager".into() }]
    );
    s.remove_contact("oncall@example.com").await.unwrap();
    assert!(matches!(s.remove_contact("oncall@example.com").await, Err(Error::NotFound { .. })));

    // Expiring tokens: day boundaries are inclusive; revoked and replaced tokens are left out.
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let first = s.insert_token(new_token("first", Some(day(1)), t0()), MAX_TOKENS).await.unwrap();
    let last = s.insert_token(new_token("last", Some(day(28)), t0()), MAX_TOKENS).await.unwrap();
    s.insert_token(new_token("later", Some(day(29)), t0()), MAX_TOKENS).await.unwrap();
    s.insert_token(new_token("auto", None, t0()), MAX_TOKENS).await.unwrap();
    let gone = s.insert_token(new_token("gone", Some(day(2)), t0()), MAX_TOKENS).await.unwrap();
    let old = s.insert_token(new_token("old", Some(day(3)), t0()), MAX_TOKENS).await.unwrap();
    s.revoke_token(gone.uuid, t0()).await.unwrap();
    s.mark_replaced(old.uuid, first.uuid).await.unwrap();
    assert!(matches!(s.mark_replaced(Uuid::new_v4(), first.uuid).await, Err(Error::NotFound { .. })));
    s.record_usage(vec![edgeward_core::store::TokenUsage {
        uuid: first.uuid,
        network: edgeward_core::network::Network::Staging,
        requests: 3,
        last_used: t0(),
    }])
    .await
    .unwrap();
    let soonest = s.soonest_expiry(t0()).await.unwrap();
    assert_eq!(soonest, Some(edgeward_core::token::expiry_instant(day(1))));
    let after_first = edgeward_core::token::expiry_instant(day(1)) + chrono::Duration::seconds(1);
    assert_eq!(
        s.soonest_expiry(after_first).await.unwrap(),
        Some(edgeward_core::token::expiry_instant(day(28))),
        "revoked (2nd) and replaced (3rd) tokens do not count"
    );
    // Live tokens by kind and days to expiry: bounds inclusive, revoked and replaced left out.
    let first_ends = edgeward_core::token::expiry_instant(day(1));
    assert_eq!(
        s.live_token_counts(first_ends - chrono::Duration::hours(12)).await.unwrap(),
        edgeward_core::store::LiveTokenCounts {
            auto_refreshing: 1,
            within_1_day: 1,
            within_7_days: 0,
            within_30_days: 2,
            later: 0
        }
    );
    assert_eq!(
        s.live_token_counts(first_ends - chrono::Duration::days(3)).await.unwrap(),
        edgeward_core::store::LiveTokenCounts {
            auto_refreshing: 1,
            within_1_day: 0,
            within_7_days: 1,
            within_30_days: 1,
            later: 1
        },
        "the 28th ends exactly 30 days on (within 30), the 29th a day after"
    );
    assert_eq!(s.live_token_counts(after_first).await.unwrap().within_1_day, 0, "an expired token is not live");
    let found = s.expiring_tokens(day(1), day(28)).await.unwrap();
    assert_eq!(found.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["first", "last"]);
    assert_eq!((found[0].last_used, found[1].last_used), (Some(t0()), None));

    // Each (token, threshold) is claimed once; undelivered claims come back until delivered.
    // Reading what is undelivered records nothing.
    let both = vec![(first.uuid, 7), (last.uuid, 30)];
    assert_eq!(s.undelivered_notices(both.clone()).await.unwrap(), both, "never claimed: undelivered");
    let claimed = s.claim_notices(vec![(first.uuid, 7), (last.uuid, 30)], t0()).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(s.claim_notices(vec![(first.uuid, 7)], t0()).await.unwrap(), vec![(first.uuid, 7)], "still pending");
    let run = CheckRun {
        check_day: day(1),
        holder: "node-a".into(),
        started_at: t0(),
        finished_at: t0(),
        dry_run: false,
        due: 2,
        notices: 1,
    };
    let notice = |subject: &str| NewNotice {
        user_id: ana.id,
        threshold_days: 7,
        subject: subject.into(),
        tokens: serde_json::json!([{"name": "first"}]),
    };
    let email = |to: &str| edgeward_core::notify::NewEmail {
        recipient: to.into(),
        subject: "s".into(),
        text_body: "t".into(),
        html_body: "<p>t</p>".into(),
    };
    s.deliver_notices(
        vec![notice("one"), notice("two")],
        vec![email("a@example.com"), email("b@example.com")],
        vec![edgeward_core::notify::NewWebhook { event_id: Uuid::new_v4(), body: "{}".into() }],
        vec![(first.uuid, 7), (last.uuid, 30)],
        run.clone(),
        t0(),
    )
    .await
    .unwrap();
    // The outbox: claimed once per claim, retried when due, sent or given up.
    let later = |secs| t0() + chrono::Duration::seconds(secs);
    assert_eq!(s.pending_email_count().await.unwrap(), 2);
    let claimed = s.claim_due_emails(t0(), later(60), 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|e| e.email.recipient.as_str()).collect::<Vec<_>>(),
        ["a@example.com", "b@example.com"]
    );
    assert!(s.claim_due_emails(later(30), later(90), 10).await.unwrap().is_empty(), "claimed by another sender");
    s.email_sent(claimed[0].id, t0()).await.unwrap();
    s.email_failed(claimed[1].id, "421 try later".into(), Some(later(120))).await.unwrap();
    assert!(s.claim_due_emails(later(119), later(200), 10).await.unwrap().is_empty());
    let again = s.claim_due_emails(later(120), later(200), 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    s.email_failed(again[0].id, "550 no such user".into(), None).await.unwrap();
    assert_eq!(s.pending_email_count().await.unwrap(), 0);
    let hooks = s.claim_due_webhooks(t0(), later(60), 10).await.unwrap();
    assert_eq!((hooks.len(), hooks[0].event.body.as_str()), (1, "{}"));
    assert!(s.claim_due_webhooks(t0(), later(60), 10).await.unwrap().is_empty(), "claimed");
    s.webhook_failed(hooks[0].id, "503".into(), Some(later(60))).await.unwrap();
    assert_eq!(s.webhook_counts().await.unwrap(), (1, 0));
    let again = s.claim_due_webhooks(later(60), later(120), 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    s.webhook_sent(again[0].id, later(60)).await.unwrap();
    assert_eq!(s.webhook_counts().await.unwrap(), (0, 0));
    let failed = s.failed_emails(10).await.unwrap();
    assert_eq!(
        (failed[0].recipient.as_str(), failed[0].attempts, failed[0].error.as_str()),
        ("b@example.com", 2, "550 no such user")
    );
    assert!(s.undelivered_notices(both.clone()).await.unwrap().is_empty(), "both delivered");
    assert!(s.claim_notices(vec![(first.uuid, 7), (last.uuid, 30)], t0()).await.unwrap().is_empty(), "never twice");
    assert_eq!(s.undelivered_notices(vec![(first.uuid, 1)]).await.unwrap(), vec![(first.uuid, 1)]);
    assert_eq!(s.claim_notices(vec![(first.uuid, 1)], t0()).await.unwrap(), vec![(first.uuid, 1)], "a tighter one");
    assert_eq!(s.check_runs(10).await.unwrap(), vec![run]);

    // The panel: newest first, paged by id, unread counted, marked read.
    let (page, unread) = s.notices_for(ana.id, 1, None).await.unwrap();
    assert_eq!((page.len(), page[0].subject.as_str(), unread), (1, "two", 2));
    assert_eq!(page[0].tokens, serde_json::json!([{"name": "first"}]));
    let (older, _) = s.notices_for(ana.id, 10, Some(page[0].id)).await.unwrap();
    assert_eq!(older.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["one"]);
    assert_eq!(s.mark_notices_read(ana.id, vec![older[0].id, older[0].id, 999_999], t0()).await.unwrap(), 1);
    assert_eq!(s.notices_for(ana.id, 10, None).await.unwrap().1, 1);
    assert_eq!(s.mark_notices_read(ana.id, vec![], t0()).await.unwrap(), 1);
    assert_eq!(s.notices_for(ana.id, 10, None).await.unwrap().1, 0);
    assert!(s.notices_for(Uuid::new_v4(), 10, None).await.unwrap().0.is_empty(), "only one's own");
}

#[doc(hidden)]
pub async fn scheduled_revocations_run_once(s: Arc<dyn Store>) {
    init(&*s).await;
    let at = |secs| t0() + chrono::Duration::seconds(secs);
    let mut tokens = Vec::new();
    for i in 0..12 {
        tokens.push(s.insert_token(new_token(&format!("t{i}"), None, t0()), MAX_TOKENS).await.unwrap());
    }
    // t0..t9 due at 60 s, t10 at 600 s (then cancelled), t11 never.
    for t in &tokens[..10] {
        s.schedule_revocation(t.uuid, Some(at(60))).await.unwrap();
    }
    s.schedule_revocation(tokens[10].uuid, Some(at(600))).await.unwrap();
    assert!(s.due_revocations(at(59), 100).await.unwrap().is_empty(), "nothing is due yet");
    assert!(matches!(s.revoke_if_due(tokens[0].uuid, at(59)).await, Err(Error::NotFound { .. })), "not yet");
    let listed = s.token_overview().await.unwrap();
    let planned = |n: &str| listed.iter().find(|l| l.stored.token.name.as_str() == n).unwrap().revoke_at;
    assert_eq!((planned("t0"), planned("t10"), planned("t11")), (Some(at(60)), Some(at(600)), None));
    let due = s.due_revocations(at(61), 4).await.unwrap();
    assert_eq!(due.len(), 4, "at most the limit");

    // Many servers at once, each reading the due list and revoking what it finds: each due
    // token is revoked by exactly one of them.
    let runs = futures_join_all((0..4).map(|_| {
        let s = s.clone();
        async move {
            let mut mine = Vec::new();
            for t in s.due_revocations(at(61), 100).await.unwrap() {
                match s.revoke_if_due(t.uuid, at(61)).await {
                    Ok(t) => mine.push(t),
                    Err(Error::NotFound { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            mine
        }
    }))
    .await;
    let mut names: Vec<String> = runs.iter().flatten().map(|t| t.name.to_string()).collect();
    names.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    want.sort();
    assert_eq!(names, want, "each due token once");
    assert!(runs.iter().flatten().all(|t| t.revoked_at == Some(at(61))));
    assert_eq!(s.revoked_token_uuids().await.unwrap().len(), 10);

    // Read as due, then cancelled (or moved later) before the revocation: the token stays live.
    s.schedule_revocation(tokens[11].uuid, Some(at(700))).await.unwrap();
    let due = s.due_revocations(at(701), 100).await.unwrap();
    let mut due: Vec<&str> = due.iter().map(|t| t.name.as_str()).collect();
    due.sort();
    assert_eq!(due, vec!["t10", "t11"]);
    s.schedule_revocation(tokens[11].uuid, Some(at(900))).await.unwrap();
    assert!(matches!(s.revoke_if_due(tokens[11].uuid, at(701)).await, Err(Error::NotFound { .. })));
    s.schedule_revocation(tokens[10].uuid, None).await.unwrap();
    assert!(matches!(s.revoke_if_due(tokens[10].uuid, at(701)).await, Err(Error::NotFound { .. })));
    assert_eq!(s.revoked_token_uuids().await.unwrap().len(), 10, "neither was revoked");
    // A revoked token cannot be scheduled.
    assert!(matches!(s.schedule_revocation(tokens[0].uuid, Some(at(700))).await, Err(Error::NotFound { .. })));
    assert!(matches!(s.schedule_revocation(uuid::Uuid::new_v4(), None).await, Err(Error::NotFound { .. })));
    let listed = s.token_overview().await.unwrap();
    let t0_row = listed.iter().find(|l| l.stored.token.name.as_str() == "t0").unwrap();
    assert_eq!(t0_row.revoke_at, Some(at(60)), "the plan is kept as the record of the revocation");
}

#[doc(hidden)]
pub async fn leases(s: Arc<dyn Store>) {
    let at = |secs| t0() + chrono::Duration::seconds(secs);
    assert!(s.try_lease("check", "a", at(0), at(60)).await.unwrap());
    assert!(!s.try_lease("check", "b", at(30), at(90)).await.unwrap(), "held by a");
    assert!(s.try_lease("check", "a", at(30), at(90)).await.unwrap(), "a renews");
    assert!(s.try_lease("check", "b", at(90), at(150)).await.unwrap(), "expired: b takes it");
    s.release_lease("check", "a").await.unwrap();
    assert!(!s.try_lease("check", "a", at(100), at(160)).await.unwrap(), "a cannot release b's lease");
    s.release_lease("check", "b").await.unwrap();
    // Many contenders at once: exactly one wins.
    let wins = futures_join_all((0..20).map(|i| {
        let s = s.clone();
        async move { s.try_lease("race", &format!("n{i}"), at(0), at(60)).await.unwrap() }
    }))
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
}

async fn futures_join_all<T: Send + 'static, F: std::future::Future<Output = T> + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[doc(hidden)]
pub async fn access_groups_and_scheduled_deletes(s: &dyn Store) {
    use edgeward_core::names::AccessGroupId;
    use edgeward_core::network::Network;
    use edgeward_core::store::{AccessGroup, ItemKey, Namespace};
    init(s).await;
    let groups = s.list_access_groups().await.unwrap();
    assert_eq!(
        groups,
        vec![AccessGroup { group_id: AccessGroupId::ACCOUNT, name: "Account Group".into() }],
        "group 0 always exists"
    );
    let id = |n: u64| AccessGroupId::new(n).unwrap();
    let group_42 = id(42);
    let ns = |network, name: &str, group_id| Namespace {
        network,
        name: NamespaceName::parse(name).unwrap(),
        retention_seconds: 0,
        group_id: id(group_id),
        geo_location: "US".into(),
        created_at: t0(),
        delete_at: None,
    };
    assert!(
        matches!(s.create_namespace(ns(Network::Production, "shop", 42), 20).await, Err(Error::NotFound { .. })),
        "a namespace needs a known group"
    );
    s.create_access_group(AccessGroup { group_id: group_42, name: "Shop".into() }, t0()).await.unwrap();
    assert!(matches!(
        s.create_access_group(AccessGroup { group_id: group_42, name: "Again".into() }, t0()).await,
        Err(Error::AlreadyExists { .. })
    ));
    s.create_namespace(ns(Network::Production, "shop", 42), 20).await.unwrap();
    s.create_namespace(ns(Network::Staging, "shop", 0), 20).await.unwrap();
    let shop = NamespaceName::parse("shop").unwrap();
    assert!(matches!(s.delete_access_group(group_42).await, Err(Error::Refused { .. })), "in use");
    assert!(matches!(s.delete_access_group(AccessGroupId::ACCOUNT).await, Err(Error::Refused { .. })));
    assert!(matches!(s.set_namespace_group(&shop, id(7)).await, Err(Error::NotFound { .. })), "unknown group");
    let moved = s.set_namespace_group(&shop, AccessGroupId::ACCOUNT).await.unwrap();
    assert_eq!(moved.len(), 2, "both networks");
    assert!(moved.iter().all(|n| n.group_id == AccessGroupId::ACCOUNT));
    assert!(s
        .set_namespace_group(&NamespaceName::parse("nowhere").unwrap(), AccessGroupId::ACCOUNT)
        .await
        .unwrap()
        .is_empty());
    s.delete_access_group(group_42).await.unwrap();
    assert!(matches!(s.delete_access_group(group_42).await, Err(Error::NotFound { .. })));

    // Scheduled deletion: the namespace serves until its time, can be cancelled, and goes
    // with its items (on that network only) once due.
    let key = ItemKey {
        network: Network::Production,
        namespace: shop.clone(),
        sandbox: String::new(),
        group: "g".into(),
        item: "i".into(),
    };
    s.put_item(key.clone(), b"v".to_vec(), t0()).await.unwrap();
    let at = t0() + chrono::Duration::hours(1);
    let n = s.schedule_namespace_delete(Network::Production, &shop, Some(at)).await.unwrap();
    assert_eq!(n.delete_at, Some(at));
    assert_eq!(s.get_namespace(Network::Production, &shop).await.unwrap().unwrap().delete_at, Some(at));
    assert!(s.delete_due_namespaces(at - chrono::Duration::seconds(1)).await.unwrap().is_empty());
    s.schedule_namespace_delete(Network::Production, &shop, None).await.unwrap();
    assert!(s.delete_due_namespaces(at).await.unwrap().is_empty(), "cancelled");
    s.schedule_namespace_delete(Network::Production, &shop, Some(at)).await.unwrap();
    assert_eq!(s.delete_due_namespaces(at).await.unwrap(), vec![(Network::Production, shop.clone())]);
    assert!(s.get_namespace(Network::Production, &shop).await.unwrap().is_none());
    assert!(s.get_item(&key, t0()).await.unwrap().is_none(), "items go with it");
    assert!(s.get_namespace(Network::Staging, &shop).await.unwrap().is_some(), "the other network keeps its own");
    assert!(matches!(
        s.schedule_namespace_delete(Network::Production, &shop, Some(at)).await,
        Err(Error::NotFound { .. })
    ));
}

#[doc(hidden)]
pub async fn namespaces(s: &dyn Store) {
    use edgeward_core::network::Network;
    use edgeward_core::store::{Created, ItemKey, Namespace};
    init(s).await;
    let ns = |name: &str, retention| Namespace {
        network: Network::Production,
        name: NamespaceName::parse(name).unwrap(),
        retention_seconds: retention,
        group_id: edgeward_core::names::AccessGroupId::ACCOUNT,
        geo_location: "US".into(),
        created_at: t0(),
        delete_at: None,
    };
    assert_eq!(s.create_namespace(ns("shop", 86_400), 3).await.unwrap().1, Created::New);
    assert_eq!(s.create_namespace(ns("shop", 86_400), 3).await.unwrap().1, Created::AlreadyThere);
    assert!(matches!(s.create_namespace(ns("shop", 0), 3).await, Err(Error::AlreadyExists { .. })));
    s.create_namespace(ns("blog", 0), 3).await.unwrap();
    assert!(matches!(s.create_namespace(ns("more", 0), 3).await, Err(Error::LimitExceeded(_))), "default counts");
    assert!(s.get_namespace(Network::Staging, &NamespaceName::parse("shop").unwrap()).await.unwrap().is_none());
    let names: Vec<_> =
        s.list_namespaces(Network::Production).await.unwrap().into_iter().map(|n| n.name.to_string()).collect();
    assert_eq!(names, vec!["blog", "default", "shop"]);
    let shop = NamespaceName::parse("shop").unwrap();
    assert_eq!(
        s.set_namespace_retention(Network::Production, &shop, 172_800, t0()).await.unwrap().retention_seconds,
        172_800
    );
    for (g, i) in [("g1", "a"), ("g1", "b"), ("g2", "c")] {
        let key = ItemKey {
            network: Network::Production,
            namespace: shop.clone(),
            sandbox: String::new(),
            group: g.into(),
            item: i.into(),
        };
        s.put_item(key, b"v".to_vec(), t0()).await.unwrap();
    }
    assert_eq!(s.list_groups(Network::Production, &shop, "", 10).await.unwrap(), vec!["g1", "g2"]);
    assert_eq!(s.list_item_keys(Network::Production, &shop, "", "g1", 1).await.unwrap(), vec!["a"]);
    s.delete_namespace(Network::Production, &shop, t0()).await.unwrap();
    assert!(s.list_groups(Network::Production, &shop, "", 10).await.unwrap().is_empty(), "items go with the namespace");
    assert!(matches!(s.delete_namespace(Network::Production, &shop, t0()).await, Err(Error::NotFound { .. })));
}

#[doc(hidden)]
pub async fn items(s: &dyn Store) {
    use edgeward_core::network::Network;
    use edgeward_core::store::ItemKey;
    init(s).await;
    let key = |network, ns: &str, sandbox: &str, item: &str| ItemKey {
        network,
        namespace: NamespaceName::parse(ns).unwrap(),
        sandbox: sandbox.into(),
        group: "g".into(),
        item: item.into(),
    };
    let k = key(Network::Production, "default", "", "a");
    assert!(s.get_item(&k, t0()).await.unwrap().is_none());
    s.put_item(k.clone(), b"v1".to_vec(), t0()).await.unwrap();
    s.put_item(k.clone(), b"v2".to_vec(), t0()).await.unwrap();
    assert_eq!(s.get_item(&k, t0()).await.unwrap().unwrap().value, b"v2");
    assert!(
        s.get_item(&key(Network::Staging, "default", "", "a"), t0()).await.unwrap().is_none(),
        "networks are separate"
    );
    assert!(
        s.get_item(&key(Network::Production, "default", "sb1", "a"), t0()).await.unwrap().is_none(),
        "sandboxes are separate"
    );
    assert!(matches!(
        s.put_item(key(Network::Production, "nowhere", "", "a"), b"x".to_vec(), t0()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(s.delete_item(k.clone(), t0()).await.unwrap());
    assert!(!s.delete_item(k.clone(), t0()).await.unwrap());
    // Retention (default: 15,724,800 s) hides older items in the same read.
    s.put_item(k.clone(), b"v3".to_vec(), t0()).await.unwrap();
    let later = |secs| t0() + chrono::Duration::seconds(secs);
    let alive = s.get_item(&k, later(15_724_799)).await.unwrap().expect("inside retention");
    assert_eq!(alive.expires_at, Some(later(15_724_800)), "the read says when retention ends it");
    assert!(s.get_item(&k, later(15_724_800)).await.unwrap().is_none());
    // The purge deletes what retention hides, in batches, and nothing younger.
    let young = key(Network::Production, "default", "", "young");
    s.put_item(young.clone(), b"y".to_vec(), later(100)).await.unwrap();
    s.put_item(key(Network::Staging, "default", "", "old2"), b"o".to_vec(), t0()).await.unwrap();
    assert_eq!(s.purge_expired_items(later(15_724_800), 1).await.unwrap(), 1);
    assert_eq!(s.purge_expired_items(later(15_724_800), 10).await.unwrap(), 1);
    assert_eq!(s.purge_expired_items(later(15_724_800), 10).await.unwrap(), 0);
    assert!(s.get_item(&young, later(15_724_800)).await.unwrap().is_some());
}

#[doc(hidden)]
pub async fn token_lifecycle(s: &dyn Store) {
    init(s).await;
    let new = new_token("auto", None, t0());
    let t = s.insert_token(new.clone(), MAX_TOKENS).await.unwrap();
    assert_eq!(t, new.token, "the token is stored as given");
    assert_eq!(t.cpcode, "1234567");
    let got = s.token_by_name(&t.name).await.unwrap().unwrap();
    assert_eq!(got.token, t);
    assert_eq!(s.token_by_uuid(t.uuid).await.unwrap().unwrap().token, t);
    let next = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    use edgeward_core::network::Network;
    use edgeward_core::store::TokenUsage;
    let u = |n, requests, secs| TokenUsage {
        uuid: t.uuid,
        network: n,
        requests,
        last_used: t0() + chrono::Duration::seconds(secs),
    };
    s.record_usage(vec![u(Network::Staging, 3, 10), u(Network::Production, 1, 5)]).await.unwrap();
    s.record_usage(vec![u(Network::Staging, 2, 7)]).await.unwrap();
    assert_eq!(s.token_usage(t.uuid).await.unwrap(), vec![u(Network::Production, 1, 5), u(Network::Staging, 5, 10)]);
    let r = s.refresh_token(&t.name, t0(), next).await.unwrap();
    assert_eq!((r.generation, r.next_refresh), (2, Some(next)));
    let exp = s
        .insert_token(new_token("exp", Some(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()), t0()), MAX_TOKENS)
        .await
        .unwrap();
    assert!(matches!(s.refresh_token(&exp.name, t0(), next).await, Err(Error::Refused { .. })));
    let revoked = s.revoke_token(t.uuid, t0()).await.unwrap();
    assert_eq!(revoked.uuid, t.uuid);
    assert!(s.token_by_name(&t.name).await.unwrap().is_none());
    assert!(s.token_by_uuid(t.uuid).await.unwrap().unwrap().token.revoked_at.is_some());
    assert!(matches!(s.revoke_token(t.uuid, t0()).await, Err(Error::NotFound { .. })));
    assert_eq!(s.revoked_token_uuids().await.unwrap(), vec![t.uuid]);
    let listed: Vec<_> = s.list_tokens(t0(), None).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(listed, vec![exp.name.clone()]);
    // The value of a revoked token is wiped.
    let _ = s.revoke_token(exp.uuid, t0()).await.unwrap();
    assert!(s.token_by_uuid(exp.uuid).await.unwrap().unwrap().sealed_value.is_none());
}

#[doc(hidden)]
pub async fn names_are_unique_among_live_tokens(s: Arc<dyn Store>) {
    init(&*s).await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.insert_token(new_token("same", None, t0()), MAX_TOKENS).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
}

#[doc(hidden)]
pub async fn the_token_limit_holds_under_concurrent_creation(s: Arc<dyn Store>) {
    init(&*s).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.insert_token(new_token(&format!("t{i}"), None, t0()), 7).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::LimitExceeded(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 7, "exactly the limit");
    assert_eq!(s.counted_tokens().await.unwrap(), 7, "the count the limit holds against");
    // A revocation frees one place.
    let one = s.list_tokens(t0(), None).await.unwrap()[0].uuid;
    s.revoke_token(one, t0()).await.unwrap();
    assert_eq!(s.counted_tokens().await.unwrap(), 6);
    s.insert_token(new_token("after", None, t0()), 7).await.unwrap();
    let err = s.insert_token(new_token("over", None, t0()), 7).await.unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err:?}");
}

#[doc(hidden)]
pub async fn expired_names_are_reusable_and_listing_windows(s: &dyn Store) {
    init(s).await;
    let expiry = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let old = s.insert_token(new_token("reuse", Some(expiry), t0()), MAX_TOKENS).await.unwrap();
    assert!(matches!(
        s.insert_token(new_token("reuse", None, t0()), MAX_TOKENS).await,
        Err(Error::AlreadyExists { .. })
    ));
    let after = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    assert!(s.list_tokens(after, None).await.unwrap().is_empty());
    let window = after - chrono::Duration::days(30);
    assert_eq!(s.list_tokens(after, Some(window)).await.unwrap().len(), 1);
    let fresh = s.insert_token(new_token("reuse", None, after), MAX_TOKENS).await.unwrap();
    assert_ne!(fresh.uuid, old.uuid);
    assert_eq!(s.token_by_name(&fresh.name).await.unwrap().unwrap().token.uuid, fresh.uuid);
    // Both stay listed with includeExpired, and counted against the limit, until the purge.
    assert_eq!(s.list_tokens(after, Some(window)).await.unwrap().len(), 2);
    assert_eq!(s.counted_tokens().await.unwrap(), 2);
    let at = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
    let purged = s.purge_tokens(at, at).await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(s.counted_tokens().await.unwrap(), 1);
    assert!(s.token_by_uuid(old.uuid).await.unwrap().is_none());
}

#[doc(hidden)]
pub async fn a_revoked_token_is_kept_while_its_value_could_be_valid(s: &dyn Store) {
    init(s).await;
    // Five months left when revoked; an auto-refreshing token (no value) revoked at the same time.
    let expiry = NaiveDate::from_ymd_opt(2027, 4, 28).unwrap();
    let long = s.insert_token(new_token("long", Some(expiry), t0()), MAX_TOKENS).await.unwrap();
    let auto = s.insert_token(new_token("auto", None, t0()), MAX_TOKENS).await.unwrap();
    s.revoke_token(long.uuid, t0()).await.unwrap();
    s.revoke_token(auto.uuid, t0()).await.unwrap();
    let retention = chrono::Duration::days(30);
    let purge_at = |now: DateTime<Utc>| async move { s.purge_tokens(now, now - retention).await.unwrap() };
    // 31 days on: past the retention, but the value would still pass its expiry check.
    assert_eq!(purge_at(t0() + chrono::Duration::days(31)).await, 1, "only the auto-refreshing one goes");
    assert!(s.token_by_uuid(auto.uuid).await.unwrap().is_none());
    let kept = s.token_by_uuid(long.uuid).await.unwrap().expect("kept until its value expires");
    assert!(kept.token.revoked_at.is_some());
    assert_eq!(s.revoked_token_uuids().await.unwrap(), vec![long.uuid], "still in the revocation list");
    // The last second of its expiry day: still kept; once it has passed, purged.
    let last = long.expires_at().unwrap();
    assert_eq!(purge_at(last).await, 0);
    assert_eq!(purge_at(last + chrono::Duration::seconds(1)).await, 1);
    assert!(s.token_by_uuid(long.uuid).await.unwrap().is_none());
    // A token revoked a day before its expiry is kept for the 30 days after the revocation.
    let short = s
        .insert_token(new_token("short", Some(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()), t0()), MAX_TOKENS)
        .await;
    let short = short.unwrap();
    s.revoke_token(short.uuid, t0()).await.unwrap();
    assert_eq!(purge_at(t0() + chrono::Duration::days(29)).await, 0);
    assert_eq!(purge_at(t0() + chrono::Duration::days(31)).await, 1);
}

#[doc(hidden)]
pub async fn the_overview_lists_every_stored_token_with_successor_and_last_use(s: &dyn Store) {
    init(s).await;
    assert!(s.token_overview().await.unwrap().is_empty());
    let expiry = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let old = s.insert_token(new_token("old", Some(expiry), t0()), MAX_TOKENS).await.unwrap();
    let new = s.insert_token(new_token("new", None, t0()), MAX_TOKENS).await.unwrap();
    let gone = s.insert_token(new_token("gone", None, t0()), MAX_TOKENS).await.unwrap();
    s.mark_replaced(old.uuid, new.uuid).await.unwrap();
    s.revoke_token(gone.uuid, t0()).await.unwrap();
    let seen = |network, at: DateTime<Utc>| edgeward_core::store::TokenUsage {
        uuid: old.uuid,
        network,
        requests: 1,
        last_used: at,
    };
    let later = t0() + chrono::Duration::hours(2);
    use edgeward_core::network::Network;
    s.record_usage(vec![seen(Network::Staging, later), seen(Network::Production, t0())]).await.unwrap();
    let listed = s.token_overview().await.unwrap();
    let names: Vec<_> = listed.iter().map(|l| l.stored.token.name.as_str()).collect();
    assert_eq!(names, vec!["gone", "new", "old"], "by name");
    let by = |n: &str| listed.iter().find(|l| l.stored.token.name.as_str() == n).unwrap();
    assert_eq!(by("old").replaced_by.as_deref(), Some("new"));
    assert_eq!(by("old").last_used, Some(later), "the latest use on any network");
    assert_eq!(by("old").stored.token.uuid, old.uuid);
    assert_eq!(by("old").stored.sealed_value.as_deref(), Some(&[1u8, 2, 3][..]), "with its sealed value");
    assert_eq!((by("new").replaced_by.as_deref(), by("new").last_used), (None, None));
    assert!(by("gone").stored.token.revoked_at.is_some(), "a revoked token is listed, marked revoked");
}

#[doc(hidden)]
pub async fn limits_and_namespaces(s: &dyn Store) {
    let uninit = s.insert_token(new_token("x", None, t0()), MAX_TOKENS).await;
    assert!(matches!(uninit, Err(Error::Refused { .. })));
    init(s).await;
    let mut t = new_token("x", None, t0());
    let first = s.insert_token(t.clone(), 1).await.unwrap();
    t.token.name = TokenName::parse("y").unwrap();
    t.token.uuid = Uuid::new_v4();
    assert!(matches!(s.insert_token(t.clone(), 1).await, Err(Error::LimitExceeded(_))));
    s.revoke_token(first.uuid, t0()).await.unwrap();
    s.insert_token(t.clone(), 1).await.unwrap();
    let mut bad = new_token("z", None, t0());
    bad.token.namespaces.insert(NamespaceName::parse("nowhere").unwrap(), Permissions::parse(&["r"]).unwrap());
    assert!(matches!(s.insert_token(bad, MAX_TOKENS).await, Err(Error::Invalid { .. })));
    assert_eq!(s.namespace_names(edgeward_core::network::Network::Production).await.unwrap().len(), 1);
}

#[doc(hidden)]
pub async fn api_clients(s: &dyn Store) {
    let owner = s
        .create_user(edgeward_core::notify::User {
            id: Uuid::new_v4(),
            name: "ops-owner".into(),
            email: None,
            email_registered: false,
            active: true,
            grants: Grants::all(),
            roles: Vec::new(),
            created_at: t0(),
        })
        .await
        .unwrap();
    let c = ApiClient {
        name: ClientName::parse("ops").unwrap(),
        client_token: "akab-ct".into(),
        access_token: "akab-at".into(),
        grants: Grants::all(),
        enabled: true,
        created_at: t0(),
        owner: Some(owner.id),
    };
    let v0 = s.api_clients_version().await.unwrap();
    s.insert_api_client(c.clone(), vec![9; 40]).await.unwrap();
    let v1 = s.api_clients_version().await.unwrap();
    assert_ne!(v0, v1, "an insert changes the version");
    assert!(matches!(s.insert_api_client(c.clone(), vec![]).await, Err(Error::AlreadyExists { .. })));
    let got = s.api_client_by_token("akab-ct").await.unwrap().unwrap();
    assert_eq!((got.client, got.sealed_secret), (c.clone(), vec![9; 40]));
    assert!(!s.set_api_client_enabled(&c.name, false).await.unwrap().enabled);
    let v2 = s.api_clients_version().await.unwrap();
    assert_ne!(v1, v2, "an update changes the version");
    assert!(!s.api_client_by_token("akab-ct").await.unwrap().unwrap().client.enabled);
    assert_eq!(s.list_api_clients().await.unwrap().len(), 1);
    s.delete_api_client(&c.name).await.unwrap();
    assert_ne!(s.api_clients_version().await.unwrap(), v2, "a delete changes the version");
    assert!(s.api_client_by_token("akab-ct").await.unwrap().is_none());
    assert!(matches!(s.delete_api_client(&c.name).await, Err(Error::NotFound { .. })));
}

fn admin_parts(i: usize) -> (edgeward_core::notify::User, ApiClient) {
    let user = edgeward_core::notify::User {
        id: Uuid::new_v4(),
        name: "admin".into(),
        email: None,
        email_registered: false,
        active: true,
        grants: Grants::all(),
        roles: Vec::new(),
        created_at: t0(),
    };
    let client = ApiClient {
        name: ClientName::parse("admin").unwrap(),
        client_token: format!("akab-ct-{i}"),
        access_token: format!("akab-at-{i}"),
        grants: Grants::all(),
        enabled: true,
        created_at: t0(),
        owner: Some(user.id),
    };
    (user, client)
}

#[doc(hidden)]
pub async fn the_first_administrator_is_made_once(s: Arc<dyn Store>) {
    // Servers starting together on an empty database: exactly one makes the administrator and
    // its client; the others find them made (false) or lose the race on the name (AlreadyExists).
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let (user, client) = admin_parts(i);
                let id = user.id;
                (id, s.create_first_administrator(user, format!("$argon2id$hash-{i}"), client, vec![7; 40]).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            (id, Ok(true)) => winners.push(id),
            (_, Ok(false) | Err(Error::AlreadyExists { .. })) => {}
            (_, Err(e)) => panic!("{e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one administrator is made");
    let users = s.list_users().await.unwrap();
    assert_eq!((users.len(), users[0].id, users[0].name.as_str()), (1, winners[0], "admin"));
    assert_eq!(users[0].grants, Grants::all());
    let clients = s.list_api_clients().await.unwrap();
    assert_eq!((clients.len(), clients[0].owner), (1, Some(winners[0])), "the administrator owns its client");
    let password = s.user_password("admin").await.unwrap().unwrap();
    assert_eq!(password.user_id, winners[0]);
    assert!(password.hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$hash-")));
    assert!(password.must_change, "the initial password must be changed");
    let (user, client) = admin_parts(99);
    assert!(!s.create_first_administrator(user, "x".into(), client, vec![]).await.unwrap(), "not a fresh install");
    assert_eq!(s.list_users().await.unwrap().len(), 1);
}

#[doc(hidden)]
pub async fn passwords(s: &dyn Store) {
    let ana = s.create_user(admin_parts(0).0).await.map(|u| u.id);
    let ana = ana.unwrap();
    // A database with a user is no fresh install: nothing is written.
    let (user, client) = admin_parts(1);
    assert!(!s.create_first_administrator(user, "x".into(), client, vec![]).await.unwrap());
    assert!(s.list_api_clients().await.unwrap().is_empty());
    assert_eq!(s.list_users().await.unwrap().len(), 1);

    // A user made without a password has none, and so cannot sign in.
    let p = s.user_password("admin").await.unwrap().unwrap();
    assert_eq!((p.user_id, p.hash, p.must_change), (ana, None, false));
    assert!(s.user_password("nobody").await.unwrap().is_none());
    let u = s.set_user_password("admin", "$argon2id$one".into(), true).await.unwrap();
    assert_eq!(u.id, ana);
    let p = s.user_password("admin").await.unwrap().unwrap();
    assert_eq!((p.hash.as_deref(), p.must_change), (Some("$argon2id$one"), true));
    assert!(!format!("{p:?}").contains("argon2id$one"), "Debug leaves the hash out");
    s.set_user_password("admin", "$argon2id$two".into(), false).await.unwrap();
    let p = s.user_password("admin").await.unwrap().unwrap();
    assert_eq!((p.hash.as_deref(), p.must_change), (Some("$argon2id$two"), false));
    assert!(matches!(s.set_user_password("nobody", "h".into(), false).await, Err(Error::NotFound { .. })));
    // The user's other fields are untouched.
    assert_eq!(s.list_users().await.unwrap()[0].grants, Grants::all());
}

#[doc(hidden)]
pub async fn sessions(s: &dyn Store) {
    use edgeward_core::session::NewSession;
    let t = |secs: i64| chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap();
    let ana = s.create_user(admin_parts(0).0).await.unwrap();
    let bo = {
        let mut u = admin_parts(1).0;
        u.name = "bo".into();
        s.create_user(u).await.unwrap()
    };
    let new = |id: &str, user: uuid::Uuid| NewSession {
        id_hash: id.into(),
        user,
        csrf: format!("csrf-{id}"),
        created_at: t(0),
        expires_at: t(3600),
    };
    s.create_session(new("a1", ana.id)).await.unwrap();
    s.create_session(new("a2", ana.id)).await.unwrap();
    s.create_session(new("b1", bo.id)).await.unwrap();
    assert!(
        matches!(s.create_session(new("x", uuid::Uuid::new_v4())).await, Err(Error::NotFound { .. })),
        "a session needs a user"
    );
    assert!(s.session("x").await.unwrap().is_none());

    let a1 = s.session("a1").await.unwrap().unwrap();
    assert_eq!((a1.user.id, a1.user.name.as_str(), a1.csrf.as_str()), (ana.id, "admin", "csrf-a1"));
    assert_eq!((a1.created_at, a1.last_seen_at, a1.expires_at), (t(0), t(0), t(3600)));
    assert!(!a1.must_change_password);
    assert!(!format!("{a1:?}").contains("csrf-a1"), "Debug leaves the CSRF token out");

    // A use is recorded; an older time never moves it back.
    s.touch_session("a1", t(120)).await.unwrap();
    s.touch_session("a1", t(60)).await.unwrap();
    assert_eq!(s.session("a1").await.unwrap().unwrap().last_seen_at, t(120));

    // Sign-out ends one session; ending it again is no error.
    s.end_session("a2").await.unwrap();
    s.end_session("a2").await.unwrap();
    assert!(s.session("a2").await.unwrap().is_none());

    // A password change ends all of the user's sessions, and only theirs.
    s.create_session(new("a3", ana.id)).await.unwrap();
    s.set_user_password("admin", "$argon2id$new".into(), false).await.unwrap();
    assert!(s.session("a1").await.unwrap().is_none());
    assert!(s.session("a3").await.unwrap().is_none());
    assert!(s.session("b1").await.unwrap().is_some());

    // So do deactivation and taking a role away (a grant may be lost); an update that leaves
    // the user active with every role they held ends none.
    use edgeward_core::names::RoleName;
    use edgeward_core::notify::UserUpdate;
    let viewer = |names: &[&str]| Some(names.iter().map(|n| RoleName::parse(n).unwrap()).collect::<Vec<_>>());
    s.update_user("bo", UserUpdate { roles: viewer(&["viewer"]), ..UserUpdate::default() }).await.unwrap();
    s.update_user("bo", UserUpdate { email: Some(Some("bo@example.test".into())), ..UserUpdate::default() })
        .await
        .unwrap();
    s.update_user("bo", UserUpdate { roles: viewer(&["viewer", "token-manager"]), ..UserUpdate::default() })
        .await
        .unwrap();
    assert!(s.session("b1").await.unwrap().is_some(), "nothing taken away");
    s.update_user("bo", UserUpdate { roles: viewer(&["token-manager"]), ..UserUpdate::default() }).await.unwrap();
    assert!(s.session("b1").await.unwrap().is_none(), "a role taken away");
    s.create_session(new("b2", bo.id)).await.unwrap();
    s.update_user("bo", UserUpdate { active: Some(false), ..UserUpdate::default() }).await.unwrap();
    assert!(s.session("b2").await.unwrap().is_none(), "deactivated");

    // Ending all of a user's sessions, and purging those that can no longer be live.
    s.create_session(new("a4", ana.id)).await.unwrap();
    s.create_session(new("a5", ana.id)).await.unwrap();
    assert_eq!(s.end_user_sessions(ana.id).await.unwrap(), 2);
    s.create_session(new("idle", ana.id)).await.unwrap();
    s.create_session(new("used", ana.id)).await.unwrap();
    s.touch_session("used", t(1000)).await.unwrap();
    s.create_session(NewSession { expires_at: t(1000), ..new("ended", ana.id) }).await.unwrap();
    // At t(1100) with 600 s of idle lifetime: `idle` (unused since 0) and `ended` go.
    assert_eq!(s.purge_sessions(t(1100), chrono::Duration::seconds(600)).await.unwrap(), 2);
    assert!(s.session("used").await.unwrap().is_some());
    assert!(s.session("idle").await.unwrap().is_none());
}

#[doc(hidden)]
pub async fn roles_and_what_users_may_do(s: &dyn Store) {
    use edgeward_core::capability::Capability as C;
    use edgeward_core::names::RoleName;
    use edgeward_core::notify::{User, UserUpdate};
    use edgeward_core::role::{self, Role};
    let name = |n: &str| RoleName::parse(n).unwrap();
    let custom = |n: &str, grants: &[C]| Role {
        name: name(n),
        description: format!("{n} team"),
        grants: Grants::new(grants.iter().copied()),
        built_in: false,
    };
    let user = |n: &str, grants: &[C], roles: &[&str]| User {
        id: Uuid::new_v4(),
        name: n.into(),
        email: None,
        email_registered: false,
        active: true,
        grants: Grants::new(grants.iter().copied()),
        roles: roles.iter().map(|r| name(r)).collect(),
        created_at: t0(),
    };
    // The built-in roles are listed first, and read like custom ones; none is stored.
    let built: Vec<Role> = role::built_ins();
    assert_eq!(s.list_roles().await.unwrap(), built);
    assert_eq!(s.role(&name("token-manager")).await.unwrap(), role::built_in("token-manager"));
    assert_eq!(s.role(&name("nobody")).await.unwrap(), None);
    // Custom roles: created (a taken name, built-in or not, is refused), read, listed by name.
    let releasers =
        s.create_role(Role { built_in: true, ..custom("releasers", &[C::CreateToken]) }, t0()).await.unwrap();
    assert!(!releasers.built_in, "a stored role is custom");
    s.create_role(custom("auditors", &[C::ViewAudit]), t0()).await.unwrap();
    assert!(matches!(s.create_role(custom("releasers", &[]), t0()).await, Err(Error::AlreadyExists { .. })));
    assert!(matches!(s.create_role(custom("viewer", &[]), t0()).await, Err(Error::AlreadyExists { .. })));
    let names: Vec<String> = s.list_roles().await.unwrap().iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names[built.len()..], ["auditors", "releasers"]);
    assert_eq!(s.role(&name("releasers")).await.unwrap(), Some(releasers.clone()));
    // Built-in roles are neither changed nor deleted; unknown ones are not found.
    for b in ["administrator", "viewer-staging"] {
        assert!(matches!(s.update_role(&name(b), None, Some(Grants::default())).await, Err(Error::Refused { .. })));
        assert!(matches!(s.delete_role(&name(b)).await, Err(Error::Refused { .. })));
    }
    assert!(matches!(s.update_role(&name("nobody"), None, None).await, Err(Error::NotFound { .. })));
    assert!(matches!(s.delete_role(&name("nobody")).await, Err(Error::NotFound { .. })));

    // Users hold roles; an unknown role is refused by name and nothing is written.
    let refused = s.create_user(user("cy", &[], &["releasers", "nope"])).await;
    assert_eq!(refused.unwrap_err(), edgeward_core::refusal::unknown_role(&name("nope")));
    assert!(s.list_users().await.unwrap().iter().all(|u| u.name != "cy"), "nothing written");
    let ana =
        s.create_user(user("ana", &[C::ManageNotifications], &["releasers", "viewer", "releasers"])).await.unwrap();
    assert_eq!(ana.roles, [name("releasers"), name("viewer")], "sorted, once each");
    let bo = s.create_user(user("bo", &[C::CreateToken], &[])).await.unwrap();
    assert!(bo.roles.is_empty());
    let listed = s.list_users().await.unwrap();
    assert_eq!(listed.iter().map(|u| u.roles.len()).collect::<Vec<_>>(), [2, 0]);

    // Effective grants: direct grants united with every held role's, read per request and for
    // the expiry check alike; a user without roles keeps exactly their grants.
    let ana_may = Grants::new([C::ManageNotifications, C::CreateToken, C::ViewToken, C::ViewNamespace]);
    let access = s.user_access(ana.id).await.unwrap().unwrap();
    assert_eq!((access.user.clone(), access.grants.clone()), (ana.clone(), ana_may.clone()));
    assert_eq!(s.user_access(bo.id).await.unwrap().unwrap().grants, bo.grants);
    assert_eq!(s.user_access(Uuid::new_v4()).await.unwrap(), None);
    let all = s.users_with_access().await.unwrap();
    assert_eq!(
        all.iter().map(|a| (a.user.name.as_str(), a.grants.clone())).collect::<Vec<_>>(),
        [("ana", ana_may), ("bo", bo.grants.clone())]
    );

    // A role's change holds for its holders from the next read on.
    let changed = s
        .update_role(&name("releasers"), Some("Release team".into()), Some(Grants::new([C::ViewAudit])))
        .await
        .unwrap();
    assert_eq!((changed.description.as_str(), changed.grants.clone()), ("Release team", Grants::new([C::ViewAudit])));
    let after = s.user_access(ana.id).await.unwrap().unwrap().grants;
    assert!(!after.has(C::CreateToken) && after.has(C::ViewAudit));
    let only_description = s.update_role(&name("releasers"), Some("Releases".into()), None).await.unwrap();
    assert_eq!(only_description.grants, Grants::new([C::ViewAudit]), "grants left as they were");

    // A held role cannot be deleted; once nobody holds it, it can.
    let held = s.delete_role(&name("releasers")).await.unwrap_err();
    assert_eq!(held, edgeward_core::refusal::role_held(&name("releasers"), 1));
    assert!(matches!(held, Error::InUse { .. }));
    let unknown = s
        .update_user(
            "ana",
            UserUpdate { active: Some(false), roles: Some(vec![name("gone")]), ..UserUpdate::default() },
        )
        .await;
    assert!(matches!(unknown, Err(Error::Invalid { field: "roles", .. })));
    assert!(s.user_access(ana.id).await.unwrap().unwrap().user.active, "a refused update changes nothing");
    let ana = s
        .update_user("ana", UserUpdate { roles: Some(vec![name("auditors")]), ..UserUpdate::default() })
        .await
        .unwrap();
    assert_eq!(ana.roles, [name("auditors")]);
    s.delete_role(&name("releasers")).await.unwrap();
    assert_eq!(s.role(&name("releasers")).await.unwrap(), None);
    let ana = s.update_user("ana", UserUpdate { roles: Some(vec![]), ..UserUpdate::default() }).await.unwrap();
    assert!(ana.roles.is_empty());
    assert_eq!(s.user_access(ana.id).await.unwrap().unwrap().grants, Grants::new([C::ManageNotifications]));
}
