//! `edgeward role …` and `edgeward user … --role` through the admin API (`--data-dir` names the
//! local server's edgerc): roles listed,
//! shown (as text and `--json`), created, changed and deleted; built-in roles left alone; users
//! given roles, an unknown role refused by name; every change audited.
#![allow(clippy::disallowed_methods, reason = "tests run real servers against the system time")]

use crate::common::*;

#[test]
fn roles_are_managed_with_the_cli_and_given_to_users() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let d = dir.to_str().unwrap();
    let server = start(&dir);
    let ok = |args: &[&str]| {
        let (code, out, err) = cli(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    let refused = |args: &[&str]| {
        let (code, out, err) = cli(args);
        assert_ne!(code, 0, "{args:?}: {out}");
        err
    };

    let list = ok(&["role", "list", "--data-dir", d]);
    for name in ["administrator", "token-manager-staging", "viewer"] {
        assert!(list.contains(name), "{list}");
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["role", "show", "token-manager", "--json", "--data-dir", d])).unwrap();
    assert_eq!(shown["grants"], serde_json::json!(["CREATE_TOKEN", "VIEW_TOKEN", "REVOKE_TOKEN"]));
    assert_eq!(shown["builtIn"], true);

    ok(&[
        "role",
        "create",
        "releasers",
        "--grants",
        "CREATE_TOKEN,VIEW_TOKEN",
        "--description",
        "Release team",
        "--data-dir",
        d,
    ]);
    let shown = ok(&["role", "show", "releasers", "--data-dir", d]);
    assert!(shown.contains("custom") && shown.contains("Release team") && shown.contains("CREATE_TOKEN"), "{shown}");
    // A name that cannot be a role's is a usage error (2), checked before any request.
    for args in [
        &["role", "create", "Bad", "--grants", "VIEW_TOKEN", "--data-dir", d][..],
        &["user", "create", "cy", "--role", "bad!", "--data-dir", d][..],
        &["user", "update", "cy", "--role", "bad!", "--data-dir", d][..],
    ] {
        let (code, out, err) = cli(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("is not a role name") && err.contains("a-z, 0-9"), "{args:?}: {err}");
    }
    assert!(refused(&["role", "update", "viewer", "--grants", "VIEW_TOKEN", "--data-dir", d]).contains("is built in"));
    assert!(refused(&["role", "delete", "administrator", "--data-dir", d]).contains("is built in"));

    // Users hold roles; an unknown one is refused by name and nothing is made.
    ok(&["user", "create", "ana", "--role", "releasers", "--role", "viewer", "--data-dir", d]);
    let err = refused(&["user", "create", "bo", "--role", "ghost", "--data-dir", d]);
    assert!(err.contains("Role ghost does not exist"), "{err}");
    let users = ok(&["user", "list", "--data-dir", d]);
    assert!(users.contains("releasers,viewer") && !users.contains("bo "), "{users}");

    // A held role is not deleted; changed, then taken away, then deleted.
    assert!(refused(&["role", "delete", "releasers", "--data-dir", d]).contains("held by 1 user(s)"));
    ok(&["role", "update", "releasers", "--grants", "VIEW_TOKEN", "--data-dir", d]);
    let out = ok(&["user", "update", "ana", "--role", "token-manager", "--data-dir", d]);
    assert!(out.contains("roles token-manager"), "{out}");
    ok(&["user", "update", "ana", "--no-roles", "--data-dir", d]);
    ok(&["role", "delete", "releasers", "--data-dir", d]);
    assert!(refused(&["role", "show", "releasers", "--data-dir", d]).contains("does not exist"));

    let audit = ok(&["audit", "list", "--action", "role.", "--json", "--data-dir", d]);
    let records: serde_json::Value = serde_json::from_str(audit.trim()).unwrap();
    let done: Vec<(&str, &str)> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "success")
        .map(|r| (r["action"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        done,
        [("role.delete", "role/releasers"), ("role.update", "role/releasers"), ("role.create", "role/releasers")],
        "{audit}"
    );
    // Through the admin API: audited as the API client's, and refused by the server's rules,
    // with the server's status in JSON.
    assert!(records["records"].as_array().unwrap().iter().all(|r| r["actor"] == "client:admin"), "{records}");
    let (code, out, _) = cli(&["user", "create", "bo", "--email", "not-an-address", "--json", "--data-dir", d]);
    let err: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((code, err["error"]["status"].as_u64()), (1, Some(400)), "{out}");
    let (code, _, _) = cli(&["contact", "add", "x@example.com", "--name", "", "--data-dir", d]);
    assert_eq!(code, 1);
    let (code, _, err) = cli(&["user", "create", "bo", "--grants", "FLY", "--data-dir", d]);
    assert!(code == 2 && err.contains("VIEW_TOKEN"), "an unknown grant names those that exist: {err}");
    let users = ok(&["user", "list", "--json", "--data-dir", d]);
    let users: serde_json::Value = serde_json::from_str(users.trim()).unwrap();
    assert!(users["users"].as_array().unwrap().iter().all(|u| u["name"] != "bo"), "nothing was created: {users}");
    let help = ok(&["role", "--help"]);
    assert!(help.contains("Examples:") && help.contains("edgeward role create releasers"), "{help}");
    drop(server);
}
