//! The first start on an empty database: the `admin` user, who owns the administrator API
//! client, and its one-time initial password.
#![allow(
    clippy::disallowed_methods,
    reason = "tests and benchmarks run real servers against the system time, in data directories they make and inspect"
)]

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use crate::common::*;
use edgeward_core::capability::Grants;
use edgeward_core::clock::SystemClock;
use reqwest::Method;

#[tokio::test]
async fn a_fresh_install_has_an_admin_user_who_owns_the_admin_client_and_a_one_time_password() {
    let app = spawn_app().await;
    let store = &app.server.state.store;
    let users = store.list_users().await.unwrap();
    assert_eq!(users.len(), 1, "{users:?}");
    let admin = &users[0];
    assert_eq!((admin.name.as_str(), admin.active, &admin.grants), ("admin", true, &Grants::all()));
    let clients = store.list_api_clients().await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!((clients[0].name.as_str(), clients[0].owner), ("admin", Some(admin.id)), "the admin user owns it");

    // The initial password: 0600, random, and it verifies against the stored hash.
    let file = app.dir.path().join("admin-password");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    let password = text.trim_end_matches('\n');
    assert!(password.len() >= 20 && !password.contains(char::is_whitespace), "{password:?}");
    let stored = store.user_password("admin").await.unwrap().unwrap();
    assert!(stored.must_change, "the initial password must be changed");
    let hash = stored.hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(edgeward_server::password::verify(password, Some(&hash)));
    assert!(!edgeward_server::password::verify("not the password", Some(&hash)));

    // The administrator's client reads its own (empty) notification panel.
    let (s, _, r) = raw(&app.admin, Method::GET, "/edgeward/v1/notifications", None).await;
    assert_eq!((s, r["unread"].as_u64()), (200, Some(0)), "{r}");

    // A restart is no first start: nothing is made again and the password is kept.
    let dir = app.dir;
    app.server.shutdown().await;
    let again = edgeward_server::spawn(config(dir.path()), Arc::new(SystemClock)).await.expect("restarts");
    assert_eq!(again.state.store.list_users().await.unwrap(), users);
    assert_eq!(again.state.store.list_api_clients().await.unwrap(), clients);
    assert_eq!(again.state.store.user_password("admin").await.unwrap().unwrap().hash, Some(hash));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    again.shutdown().await;
}

#[tokio::test]
async fn an_existing_install_with_users_gets_no_admin_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = edgeward_server::spawn(config(dir.path()), Arc::new(SystemClock)).await.unwrap();
    let store = server.state.store.clone();
    // Every API client deleted: the next start makes a new administrator client, owned by no
    // one (as before there were users), and no second user or password.
    store.delete_api_client(&edgeward_core::names::ClientName::parse("admin").unwrap()).await.unwrap();
    server.shutdown().await;
    std::fs::remove_file(dir.path().join("admin-password")).unwrap();
    let server = edgeward_server::spawn(config(dir.path()), Arc::new(SystemClock)).await.unwrap();
    let clients = server.state.store.list_api_clients().await.unwrap();
    assert_eq!((clients.len(), clients[0].owner), (1, None), "a new administrator client, owned by no one");
    assert_eq!(server.state.store.list_users().await.unwrap().len(), 1, "no second user");
    assert!(!dir.path().join("admin-password").exists(), "no new password");
    server.shutdown().await;
}
