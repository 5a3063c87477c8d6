//! Edgeward's notification endpoints over HTTPS + EdgeGrid.
#![allow(clippy::disallowed_methods, reason = "tests and benchmarks run real servers against the system time")]

use crate::common::*;
use chrono::{Duration, TimeZone, Utc};
use edgeward_core::capability::Capability;
use edgeward_core::clock::Clock;
use reqwest::Method;

/// A clock before the day's check time that stays there: the server's own scheduled check is not
/// owed, so only the checks a test runs decide what is due and delivered.
fn before_the_check_time() -> edgeward_core::clock::ManualClock {
    edgeward_core::clock::ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0).unwrap())
}

#[tokio::test]
async fn a_replaced_token_gets_no_more_notices() {
    let clock = before_the_check_time();
    let today = clock.now().date_naive();
    let app = spawn_app_at(clock).await;
    let c = &app.admin;
    let soon = (today + Duration::days(5)).to_string();
    let far = (today + Duration::days(90)).to_string();
    for (name, expiry) in [("old", soon.as_str()), ("new", far.as_str()), ("other", soon.as_str())] {
        let body = cli_body(name, true, true, expiry, &[("default", "r")]);
        assert_eq!(raw(c, Method::POST, "/edgekv/v1/tokens", Some(&body)).await.0, 200);
    }
    let dry = raw(c, Method::POST, "/edgeward/v1/notify/run?dryRun=true", None).await.2;
    assert_eq!(dry["due"].as_array().unwrap().len(), 2, "{dry}");

    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/old/replaced-by", Some(r#"{"name":"new"}"#)).await;
    assert_eq!(s, 204, "{r}");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"ghost"}"#)).await;
    assert_edgekv_error(s, &r, 404, "EKV_3000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"other"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"nom":"new"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let viewer = app.client_with("viewer", &[Capability::ViewToken]).await;
    let (s, _, r) =
        raw(&viewer, Method::POST, "/edgeward/v1/tokens/other/replaced-by", Some(r#"{"name":"new"}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");

    let run = raw(c, Method::POST, "/edgeward/v1/notify/run", None).await.2;
    let due: Vec<&str> = run["due"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(due, ["other"], "old was replaced: {run}");
    // Without MANAGE_NOTIFICATIONS the check cannot be run or read.
    for (m, p) in [(Method::POST, "/edgeward/v1/notify/run"), (Method::GET, "/edgeward/v1/notify/status")] {
        let (s, _, r) = raw(&viewer, m, p, None).await;
        assert_edgekv_error(s, &r, 400, "EKV_1002");
        assert!(r["detail"].as_str().unwrap().contains("MANAGE_NOTIFICATIONS"));
    }
    // Panel paging parameters are checked.
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/notifications?limit=0", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().starts_with("limit must be"), "{r}");
    // The administrator's client belongs to the admin user; a client created without an owner
    // has no panel, and is told so.
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/notifications", None).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, r) = raw(&viewer, Method::GET, "/edgeward/v1/notifications", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().contains("belongs to no user"), "{r}");
    app.server.shutdown().await;
}

#[tokio::test]
async fn users_and_contacts_through_the_admin_api() {
    let app = spawn_app().await;
    let c = &app.admin;
    let ana = r#"{"name":"ana","email":"ana@example.com","emailRegistered":true,"grants":["CREATE_TOKEN"]}"#;
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/users", Some(ana)).await;
    assert_eq!((s, r["active"].as_bool()), (201, Some(true)), "{r}");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/users", Some(ana)).await;
    assert_edgekv_error(s, &r, 409, "EKV_3000");
    for bad in [
        r#"{"name":"bo","email":"not an address","grants":[]}"#,
        r#"{"name":"bo","grants":["NOT_A_GRANT"]}"#,
        r#"{"name":"bo","emailRegistered":true,"grants":[]}"#,
        r#"{"name":"","grants":[]}"#,
        r#"{"name":"bo","grants":[],"role":"x"}"#,
    ] {
        let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/users", Some(bad)).await;
        assert_edgekv_error(s, &r, 400, "EKV_2000");
    }
    let (s, _, r) = raw(c, Method::PATCH, "/edgeward/v1/users/ana", Some(r#"{"email":"ana@new.example.com"}"#)).await;
    assert_eq!((s, r["emailRegistered"].as_bool()), (200, Some(false)), "a new address is unconfirmed: {r}");
    let (s, _, r) = raw(c, Method::PATCH, "/edgeward/v1/users/ghost", Some(r#"{"active":false}"#)).await;
    assert_edgekv_error(s, &r, 404, "EKV_3000");
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/users", None).await;
    assert_eq!((s, r[0]["name"].as_str()), (200, Some("admin")), "the first start's administrator: {r}");
    assert_eq!((r[1]["name"].as_str(), r[1]["grants"][0].as_str()), (Some("ana"), Some("CREATE_TOKEN")));

    let (s, _, _) =
        raw(c, Method::POST, "/edgeward/v1/contacts", Some(r#"{"email":"oncall@example.com","name":"On call"}"#)).await;
    assert_eq!(s, 200);
    assert_eq!(raw(c, Method::GET, "/edgeward/v1/contacts", None).await.2[0]["name"], "On call");
    assert_eq!(raw(c, Method::DELETE, "/edgeward/v1/contacts/oncall@example.com", None).await.0, 204);
    let (s, _, r) = raw(c, Method::DELETE, "/edgeward/v1/contacts/oncall@example.com", None).await;
    assert_edgekv_error(s, &r, 404, "EKV_3000");

    let viewer = app.client_with("viewer", &[Capability::ViewToken]).await;
    let (s, _, r) = raw(&viewer, Method::GET, "/edgeward/v1/users", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_1002");
    app.server.shutdown().await;
}

#[tokio::test]
async fn lists_in_request_bodies_are_capped() {
    let app = spawn_app().await;
    let st = &app.server.state;
    let user = st
        .store
        .create_user(edgeward_core::notify::User {
            id: uuid::Uuid::new_v4(),
            name: "ana".into(),
            email: None,
            email_registered: false,
            active: true,
            grants: edgeward_core::capability::Grants::new([]),
            roles: Vec::new(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let creds = edgeward_server::bootstrap::create_api_client(
        st.store.as_ref(),
        &st.data_key,
        edgeward_core::names::ClientName::parse("ana-client").unwrap(),
        edgeward_core::capability::Grants::new([]),
        Some(user.id),
        app.clock.as_ref(),
    )
    .await
    .unwrap();
    let edgerc = edgeward_client::Edgerc {
        host: app.admin.host().to_owned(),
        credentials: creds,
        max_body: 131_072,
        account_key: None,
    };
    let ana = edgeward_client::Client::new(edgerc, Some(&app.server.prepared.tls_cert)).unwrap();
    let ids = |n: i64| serde_json::json!({ "ids": (1..=n).collect::<Vec<_>>() }).to_string();
    let (s, _, r) = raw(&ana, Method::POST, "/edgeward/v1/notifications/read", Some(&ids(1_000))).await;
    assert_eq!((s, r["marked"].as_u64()), (200, Some(0)), "{r}");
    let (s, _, r) = raw(&ana, Method::POST, "/edgeward/v1/notifications/read", Some(&ids(1_001))).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().contains("at most 1000"), "{r}");

    // A user's grants: at most one of each capability.
    let all = Capability::ALL.len();
    let grants: Vec<&str> = std::iter::repeat_n("CREATE_TOKEN", all + 1).collect();
    let bo = serde_json::json!({ "name": "bo", "grants": grants }).to_string();
    let (s, _, r) = raw(&app.admin, Method::POST, "/edgeward/v1/users", Some(&bo)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().contains(&format!("at most {all}")), "{r}");
    app.server.shutdown().await;
}

/// Every answer of the notification, user and contact endpoints is read by the client's types
/// exactly as the handlers write it (`exact`), and the client's typed methods read the same.
#[tokio::test]
async fn the_client_reads_every_answer_as_the_handlers_write_it() {
    use edgeward_wire::{CheckReport, ContactObject, MarkedRead, NoticeList, NotifyStatus, UserChange, UserObject};
    let clock = before_the_check_time();
    let today = clock.now().date_naive();
    let app = spawn_app_at(clock).await;
    let c = &app.admin;
    let st = &app.server.state;

    let ana = UserObject {
        name: "ana".into(),
        email: Some("ana@example.com".into()),
        email_registered: true,
        active: true,
        grants: vec!["CREATE_TOKEN".into(), "MANAGE_NOTIFICATIONS".into()],
        roles: vec![],
    };
    assert_eq!(c.create_user(&ana).await.unwrap(), ana);
    let users: Vec<UserObject> = exact(c, Method::GET, "/edgeward/v1/users", None).await;
    // The first start's administrator comes first, by name.
    assert_eq!(users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["admin", "ana"]);
    assert_eq!((&users[1], c.list_users().await.unwrap()), (&ana, users.clone()));
    let change = UserChange { email: Some("ana@new.example.com".into()), ..UserChange::default() };
    let changed = c.update_user("ana", &change).await.unwrap();
    assert_eq!((changed.email.as_deref(), changed.email_registered), (Some("ana@new.example.com"), false));

    let on_call = ContactObject { email: "oncall@example.com".into(), name: "On call".into() };
    assert_eq!(c.put_contact(&on_call).await.unwrap(), on_call);
    let contacts: Vec<ContactObject> = exact(c, Method::GET, "/edgeward/v1/contacts", None).await;
    assert_eq!((contacts.clone(), c.list_contacts().await.unwrap()), (vec![on_call], contacts));
    c.remove_contact("oncall@example.com").await.unwrap();
    let gone = c.remove_contact("oncall@example.com").await.unwrap_err();
    assert!(matches!(gone, edgeward_client::ClientError::Api { status: 404, .. }), "{gone}");

    // Ana's own client, for her panel.
    let user = st.store.list_users().await.unwrap().into_iter().find(|u| u.name == "ana").unwrap();
    let creds = edgeward_server::bootstrap::create_api_client(
        st.store.as_ref(),
        &st.data_key,
        edgeward_core::names::ClientName::parse("ana-client").unwrap(),
        edgeward_core::capability::Grants::new([]),
        Some(user.id),
        app.clock.as_ref(),
    )
    .await
    .unwrap();
    let edgerc =
        edgeward_client::Edgerc { host: c.host().to_owned(), credentials: creds, max_body: 131_072, account_key: None };
    let ana_client = edgeward_client::Client::new(edgerc, Some(&app.server.prepared.tls_cert))
        .unwrap()
        .with_clock(app.clock.clone());

    let soon = (today + Duration::days(5)).to_string();
    let far = (today + Duration::days(90)).to_string();
    for (name, expiry) in [("soon", soon.as_str()), ("next", far.as_str())] {
        let body = cli_body(name, true, false, expiry, &[("default", "rw")]);
        assert_eq!(raw(c, Method::POST, "/edgekv/v1/tokens", Some(&body)).await.0, 200);
    }
    let dry: CheckReport = exact(c, Method::POST, "/edgeward/v1/notify/run?dryRun=true", None).await;
    assert_eq!((dry.dry_run, dry.due.len(), dry.notices), (true, 1, 0), "{dry:?}");
    assert_eq!(c.run_expiry_check(true).await.unwrap(), dry);
    let run = c.run_expiry_check(false).await.unwrap();
    assert_eq!((run.dry_run, run.due.len(), run.notices), (false, 1, 2), "ana and the administrator: {run:?}");
    assert_eq!(c.notifications(20, None).await.unwrap().unread, 1, "the administrator is told too");

    let panel: NoticeList = exact(&ana_client, Method::GET, "/edgeward/v1/notifications?limit=20", None).await;
    assert_eq!(ana_client.notifications(20, None).await.unwrap(), panel);
    assert_eq!(panel.unread, 1);
    let token = &panel.notifications[0].tokens[0];
    assert_eq!(
        (token.name.as_str(), token.expiry.as_str(), token.allow_on_staging, token.namespaces["default"].as_str()),
        ("soon", soon.as_str(), true, "rw")
    );
    let status: NotifyStatus = exact(c, Method::GET, "/edgeward/v1/notify/status", None).await;
    assert_eq!(c.expiry_check_status().await.unwrap(), status);
    let newest = &status.runs[0];
    assert_eq!((newest.dry_run, newest.due, newest.notices, status.email.as_str()), (false, 1, 2, "off"), "{status:?}");

    let all = serde_json::json!({});
    let marked: MarkedRead = exact(&ana_client, Method::POST, "/edgeward/v1/notifications/read", Some(&all)).await;
    assert_eq!(marked.marked, 1);
    assert_eq!(ana_client.mark_notifications_read(&[]).await.unwrap().marked, 0);
    c.mark_replaced("soon", "next").await.unwrap();
    app.server.shutdown().await;
}

/// Roles over the API: listed (built-in first), read, created, changed and deleted, each answer
/// read by the client's types as the handler writes it; users are given roles on create and
/// PATCH; every refusal is a clear EdgeKV problem, and nothing changes on one.
#[tokio::test]
async fn roles_are_managed_through_the_api_and_given_to_users() {
    use edgeward_wire::{NewRole, RoleChange, RoleObject, UserChange, UserObject};
    let app = spawn_app().await;
    let c = &app.admin;
    let roles: Vec<RoleObject> = exact(c, Method::GET, "/edgeward/v1/roles", None).await;
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "administrator",
            "administrator-staging",
            "token-manager",
            "token-manager-staging",
            "viewer",
            "viewer-staging"
        ]
    );
    let manager: RoleObject = exact(c, Method::GET, "/edgeward/v1/roles/token-manager", None).await;
    assert_eq!((manager.grants.len(), manager.built_in), (3, true));

    let new =
        NewRole { name: "releasers".into(), description: " Release team ".into(), grants: vec!["CREATE_TOKEN".into()] };
    let created = c.create_role(&new).await.unwrap();
    assert_eq!(
        created,
        RoleObject {
            name: "releasers".into(),
            description: "Release team".into(),
            grants: vec!["CREATE_TOKEN".into()],
            built_in: false
        }
    );
    assert_eq!(c.role("releasers").await.unwrap(), created);
    assert_eq!(c.list_roles().await.unwrap().len(), 7);

    // A user given roles on create and on PATCH; an unknown role is refused by name, before
    // anything is stored.
    let ana = UserObject {
        name: "ana".into(),
        email: None,
        email_registered: false,
        active: true,
        grants: vec![],
        roles: vec!["viewer".into(), "releasers".into()],
    };
    let shown = c.create_user(&ana).await.unwrap();
    assert_eq!(shown.roles, ["releasers", "viewer"]);
    let bo = r#"{"name":"bo","roles":["releasers","ghost"]}"#;
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/users", Some(bo)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert_eq!(r["detail"], "Role ghost does not exist.");
    assert!(c.list_users().await.unwrap().iter().all(|u| u.name != "bo"), "nothing stored");
    let (s, _, r) =
        raw(c, Method::PATCH, "/edgeward/v1/users/ana", Some(r#"{"active":false,"roles":["Ghost"]}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    assert!(r["detail"].as_str().unwrap().contains("is not a role name"), "{r}");
    assert!(c.list_users().await.unwrap().iter().any(|u| u.name == "ana" && u.active), "nothing changed");
    let changed = c
        .update_user("ana", &UserChange { roles: Some(vec!["token-manager".into()]), ..UserChange::default() })
        .await
        .unwrap();
    assert_eq!(changed.roles, ["token-manager"]);
    let st = &app.server.state;
    let id = st.store.list_users().await.unwrap().into_iter().find(|u| u.name == "ana").unwrap().id;
    let may = st.store.user_access(id).await.unwrap().unwrap().grants;
    assert!(may.has(Capability::RevokeToken) && !may.has(Capability::ViewNamespace), "{may:?}");

    // Changing a custom role; built-in roles are neither changed nor deleted.
    let change = RoleChange { grants: Some(vec!["VIEW_TOKEN".into(), "VIEW_AUDIT".into()]), ..RoleChange::default() };
    let updated = c.update_role("releasers", &change).await.unwrap();
    assert_eq!((updated.description.as_str(), updated.grants.len()), ("Release team", 2));
    let (s, _, r) = raw(c, Method::PUT, "/edgeward/v1/roles/viewer", Some(r#"{"grants":[]}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_3000");
    assert!(r["detail"].as_str().unwrap().starts_with("Role viewer is built in"), "{r}");
    let (s, _, r) = raw(c, Method::DELETE, "/edgeward/v1/roles/administrator", None).await;
    assert_edgekv_error(s, &r, 400, "EKV_3000");
    let (s, _, r) = raw(c, Method::PUT, "/edgeward/v1/roles/releasers", Some(r#"{"grants":["NOPE"]}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/roles", Some(r#"{"name":"Bad Name","grants":[]}"#)).await;
    assert_edgekv_error(s, &r, 400, "EKV_2000");
    let (s, _, r) = raw(c, Method::POST, "/edgeward/v1/roles", Some(r#"{"name":"viewer","grants":[]}"#)).await;
    assert_edgekv_error(s, &r, 409, "EKV_3000");
    let (s, _, r) = raw(c, Method::GET, "/edgeward/v1/roles/ghost", None).await;
    assert_edgekv_error(s, &r, 404, "EKV_3000");

    // A held role cannot be deleted (409 naming its holders); once nobody holds it, it can.
    let update = UserChange { roles: Some(vec!["releasers".into()]), ..UserChange::default() };
    c.update_user("ana", &update).await.unwrap();
    let (s, _, r) = raw(c, Method::DELETE, "/edgeward/v1/roles/releasers", None).await;
    assert_edgekv_error(s, &r, 409, "EKV_3000");
    assert_eq!(r["detail"], "Role releasers is held by 1 user(s); take it from them first.");
    c.update_user("ana", &UserChange { roles: Some(vec![]), ..UserChange::default() }).await.unwrap();
    c.delete_role("releasers").await.unwrap();
    assert!(matches!(c.role("releasers").await.unwrap_err(), edgeward_client::ClientError::Api { status: 404, .. }));

    // Without MANAGE_NOTIFICATIONS, roles can be neither read nor changed.
    let viewer = app.client_with("viewer", &[Capability::ViewToken]).await;
    for (m, p, b) in [
        (Method::GET, "/edgeward/v1/roles", None),
        (Method::GET, "/edgeward/v1/roles/viewer", None),
        (Method::POST, "/edgeward/v1/roles", Some(r#"{"name":"x","grants":[]}"#)),
        (Method::PUT, "/edgeward/v1/roles/x", Some("{}")),
        (Method::DELETE, "/edgeward/v1/roles/x", None),
    ] {
        let (s, _, r) = raw(&viewer, m, p, b).await;
        assert_edgekv_error(s, &r, 400, "EKV_1002");
        assert!(r["detail"].as_str().unwrap().contains("MANAGE_NOTIFICATIONS"), "{r}");
    }
    app.server.shutdown().await;
}

#[tokio::test]
async fn managing_people_never_raises_anyone_above_the_manager() {
    let app = spawn_app().await;
    // A team lead: manages people, and may create, view and revoke tokens.
    let lead = app
        .client_with(
            "lead",
            &[Capability::ManageNotifications, Capability::CreateToken, Capability::ViewToken, Capability::RevokeToken],
        )
        .await;
    let missing = |status: u16, body: &serde_json::Value, cap: &str| {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errorCode"], "EKV_1002", "{body}");
        assert!(body["detail"].as_str().unwrap_or("").contains(cap), "{body}");
    };
    // What the lead holds may be given: a token manager.
    let (s, _, b) =
        raw(&lead, Method::POST, "/edgeward/v1/users", Some(r#"{"name":"tm","roles":["token-manager"]}"#)).await;
    assert_eq!(s, 201, "{b}");
    // More than that may not: directly, through a built-in role, or through a custom role.
    let (s, _, b) =
        raw(&lead, Method::POST, "/edgeward/v1/users", Some(r#"{"name":"x","grants":["WRITE_DATA"]}"#)).await;
    missing(s, &b, "WRITE_DATA");
    let (s, _, b) = raw(&lead, Method::PATCH, "/edgeward/v1/users/tm", Some(r#"{"roles":["administrator"]}"#)).await;
    assert_eq!((s, b["errorCode"].as_str()), (400, Some("EKV_1002")), "{b}");
    let (s, _, b) =
        raw(&lead, Method::POST, "/edgeward/v1/roles", Some(r#"{"name":"everything","grants":["VIEW_AUDIT"]}"#)).await;
    missing(s, &b, "VIEW_AUDIT");
    // Nor may the lead act on someone who holds more: the administrator.
    let (s, _, b) = raw(&lead, Method::PATCH, "/edgeward/v1/users/admin", Some(r#"{"active":false}"#)).await;
    assert_eq!((s, b["errorCode"].as_str()), (400, Some("EKV_1002")), "{b}");
    let users = app.server.state.store.list_users().await.unwrap();
    assert!(users.iter().find(|u| u.name == "admin").unwrap().active, "the administrator is untouched");
    assert!(users.iter().all(|u| u.name != "x"));
    let tm = users.iter().find(|u| u.name == "tm").unwrap();
    assert_eq!(tm.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["token-manager"], "nothing was raised");
    // The administrator, who holds everything, may.
    let (s, _, b) =
        raw(&app.admin, Method::PATCH, "/edgeward/v1/users/tm", Some(r#"{"roles":["administrator"]}"#)).await;
    assert_eq!(s, 200, "{b}");
}
