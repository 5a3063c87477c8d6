//! House rules checked on the source tree: every Rust file says what it is for (a `//!` line
//! first); SQL text lives only in the store crate; no file points outside the repository; every
//! path of ARCHITECTURE.md's Code map exists; and the invariants ARCHITECTURE.md states that a
//! look at the sources can hold (which crates do no I/O, where files are written, where flags
//! and the environment are read, how signatures are compared, how items reach the store, where
//! permissions are checked, where errors become HTTP, that every served path is documented, that
//! Edgeward's own endpoints answer with typed shapes that the client returns and the CLI prints);
//! and what the lints cannot say of their exceptions (every allowed disallowed method or cast says
//! why, and an exception for files keeps the Clock rule).
#![allow(clippy::disallowed_methods, reason = "tidy reads the source tree it checks")]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&crates_dir(), &mut files);
    assert!(files.len() > 20, "found the sources");
    let missing: Vec<_> =
        files.iter().filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!")).collect();
    assert!(missing.is_empty(), "files without a leading //! line: {missing:#?}");
}

#[test]
fn sql_lives_only_in_the_store_crate() {
    let mut files = Vec::new();
    rust_files(&crates_dir(), &mut files);
    let store = crates_dir().join("edgeward-store");
    let loadtest = crates_dir().join("edgeward-loadtest"); // its raw-SQLite baseline is the point
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| !f.starts_with(&store) && !f.starts_with(&loadtest) && !f.ends_with("tidy.rs"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            ["SELECT ", "INSERT INTO", "UPDATE tokens", "DELETE FROM"].iter().any(|kw| text.contains(kw))
        })
        .collect();
    assert!(offenders.is_empty(), "SQL outside edgeward-store: {offenders:#?}");
}

fn repo_root() -> PathBuf {
    crates_dir().parent().unwrap().to_owned()
}

/// Every file of the repository, without build output, virtual environments and git's own files.
fn repo_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            if ["target", ".venv", ".git", "node_modules", "__pycache__", ".pytest_cache"].contains(&name.as_str()) {
                continue;
            }
            repo_files(&p, out);
        } else if name != ".git" {
            out.push(p);
        }
    }
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The part of `src` from `start` to the end of the item it opens (the next line that is `}`).
fn item_body<'a>(src: &'a str, start: &str) -> &'a str {
    let from = src.find(start).unwrap_or_else(|| panic!("`{start}` not found"));
    let len = src[from..].find("\n}\n").unwrap_or(src.len() - from);
    &src[from..from + len]
}

/// Rust files under the `src/` of every crate but the ones named.
fn library_sources(except: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(crates_dir()).unwrap() {
        let krate = entry.unwrap().path();
        if except.iter().any(|e| krate.ends_with(e)) {
            continue;
        }
        if krate.join("src").is_dir() {
            rust_files(&krate.join("src"), &mut files);
        }
    }
    files
}

#[test]
fn no_file_refers_to_files_outside_the_repository() {
    let mut files = Vec::new();
    repo_files(&repo_root(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("ARCHITECTURE.md")), "found the repository");
    // Spelled in pieces, so this file does not name them itself.
    let needles = [
        format!("{}{}", "../", "shared"),
        format!("{}{}", "/sha", "red/spec"),
        format!("{}{}", "client-", "compat.md"),
        format!("{}{}", "edgekv-", "api.md"),
    ];
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).ok()?; // binary files hold no references
            let found: Vec<&String> = needles.iter().filter(|n| text.contains(n.as_str())).collect();
            (!found.is_empty()).then(|| format!("{}: {found:?}", f.display()))
        })
        .collect();
    assert!(offenders.is_empty(), "files that point outside the repository: {offenders:#?}");
}

#[test]
fn every_place_in_where_to_change_what_exists() {
    let arch = text(&repo_root().join("ARCHITECTURE.md"));
    let section = arch.split("## Where to change what").nth(1).expect("a Where to change what section");
    let section = section.split("\n## ").next().unwrap();
    let paths: Vec<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|p| p.starts_with("crates/") || p.starts_with("docs/") || p.contains('.') && !p.contains(' '))
        .filter(|p| p.contains('/') || p.ends_with(".toml"))
        .collect();
    assert!(paths.len() >= 10, "found the places: {paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| !repo_root().join(p).exists()).collect();
    assert!(missing.is_empty(), "places in ARCHITECTURE.md's Where to change what that do not exist: {missing:?}");
}

#[test]
fn every_path_in_the_architecture_code_map_exists() {
    let arch = text(&repo_root().join("ARCHITECTURE.md"));
    let map = arch.split("## Code map").nth(1).expect("a Code map section");
    let block = map.split("```").nth(1).expect("a code block in the Code map");
    // Entries start within the first few columns; their descriptions (and the descriptions'
    // continuation lines) are aligned further right. An entry indented under a directory is
    // inside it.
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut checked = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        if indent > 8 {
            continue;
        }
        let entry = line.split_whitespace().next().unwrap();
        parents.retain(|(i, _)| *i < indent);
        let path = parents.last().map_or(entry.to_owned(), |(_, p)| format!("{p}{entry}"));
        if entry.ends_with('/') {
            parents.push((indent, path.clone()));
        }
        let full = repo_root().join(&path);
        let exists = match path.split_once('*') {
            // `dir/*.json`: at least one such file.
            Some((dir_and_prefix, suffix)) => {
                let (dir, prefix) = dir_and_prefix.rsplit_once('/').unwrap_or(("", dir_and_prefix));
                std::fs::read_dir(repo_root().join(dir)).is_ok_and(|mut d| {
                    d.any(|e| {
                        let n = e.unwrap().file_name().to_string_lossy().into_owned();
                        n.starts_with(prefix) && n.ends_with(suffix)
                    })
                })
            }
            None if entry.ends_with('/') => full.is_dir(),
            None => full.is_file(),
        };
        assert!(exists, "ARCHITECTURE.md's Code map names {path}, which does not exist");
        checked += 1;
    }
    assert!(checked > 10, "read the Code map ({checked} entries)");
}

#[test]
fn the_pure_crates_do_no_io() {
    // ARCHITECTURE.md: edgeward-core has no I/O and no HTTP types; edgeward-token and
    // edgeward-notice are pure.
    let forbidden_deps = ["tokio", "axum", "hyper", "http", "reqwest", "sqlx", "rusqlite", "tracing"];
    let forbidden_code = ["std::fs", "std::net", "std::env", "std::process", "tokio::", "axum::", "http::"];
    for krate in ["edgeward-core", "edgeward-token", "edgeward-notice"] {
        let dir = crates_dir().join(krate);
        let manifest: toml::Table = toml::from_str(&text(&dir.join("Cargo.toml"))).unwrap();
        let deps = manifest["dependencies"].as_table().unwrap();
        for d in forbidden_deps {
            assert!(!deps.contains_key(d), "{krate} depends on {d}");
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for f in files {
            let src = text(&f);
            for c in forbidden_code {
                assert!(!src.contains(c), "{} uses {c}", f.display());
            }
        }
    }
}

#[test]
fn edgegrid_signatures_are_compared_in_constant_time() {
    let src = text(&crates_dir().join("edgeward-edgegrid/src/lib.rs"));
    let verify = item_body(&src, "pub fn verify(");
    assert!(verify.contains(".ct_eq(header.signature"), "verify compares with subtle's ct_eq: {verify}");
    assert!(!verify.contains("=="), "no short-circuiting comparison in verify: {verify}");
}

#[test]
fn only_the_problem_module_chooses_error_statuses_and_edgekv_codes() {
    // ARCHITECTURE.md: `problem` is the one place where errors become HTTP. Elsewhere in the
    // server no `EKV_` code is written, and a status is named only for an answer that is not a
    // problem (a success; the plain-text "not ready" of /readyz and of a port still starting;
    // GET /initialize's `UNINITIALIZED` body) or when reading one (a connection's timeout, a
    // webhook's answer). The console's pages are HTML, not problems: an operation's failure
    // takes its status from `problem.rs` (`console::pages::error_page`), and the few statuses
    // of the console's own (a form to correct, a failed or limited sign-in, a refused CSRF
    // check, a static file not modified) are chosen in one place each.
    let src = crates_dir().join("edgeward-server/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let not_problems: [(&str, &[&str]); 7] = [
        ("console/pages.rs", &["BAD_REQUEST", "UNAUTHORIZED", "TOO_MANY_REQUESTS", "FORBIDDEN"]),
        ("console/mod.rs", &["NOT_MODIFIED"]),
        ("routes/ops.rs", &["SERVICE_UNAVAILABLE"]),
        ("server.rs", &["SERVICE_UNAVAILABLE"]),
        ("routes/initialize.rs", &["NOT_FOUND"]),
        ("listen.rs", &["REQUEST_TIMEOUT"]),
        ("webhook.rs", &["REQUEST_TIMEOUT", "TOO_MANY_REQUESTS"]),
    ];
    let successes = ["OK", "CREATED", "ACCEPTED", "NO_CONTENT"];
    let mut offenders = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("problem.rs")) {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        let code = text(f);
        if code.contains("\"EKV_") {
            offenders.push(format!("{rel}: an EdgeKV code"));
        }
        let allowed = not_problems.iter().find(|(file, _)| *file == rel).map_or(&[][..], |(_, s)| *s);
        for (at, _) in code.match_indices("StatusCode::") {
            let name: String = code[at + 12..].chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
            if !successes.contains(&name.as_str()) && !allowed.contains(&name.as_str()) {
                offenders.push(format!("{rel}: StatusCode::{name}"));
            }
        }
    }
    assert!(offenders.is_empty(), "errors made HTTP outside problem.rs: {offenders:#?}");
}

#[test]
fn permissions_are_checked_only_in_the_permit_module() {
    // ARCHITECTURE.md: `permit` is the one permission check of the admin API. Core's
    // `capability.rs` states the rule (`Grants::allows`); only `permit` applies it to a caller
    // and makes its refusal, `Error::Forbidden`. Two other places may name them: the expiry
    // notices' recipients (who is told of a token is who may create it, no
    // refusal; core's `role.rs`, `UserAccess::is_told_about`, over the user's effective grants)
    // and `problem.rs`, which turns the refusal into HTTP.
    let at = |p: &str| crates_dir().join(p);
    let (permit, rule) = (at("edgeward-server/src/permit.rs"), at("edgeward-core/src/capability.rs"));
    let excepted = [
        (at("edgeward-core/src/role.rs"), "grants.allows("),
        (at("edgeward-server/src/problem.rs"), "Error::Forbidden("),
    ];
    let checks =
        ["grants.has(", "grants.allows(", ".check_network(", ".check_token(", "any_grant(", "Error::Forbidden("];
    let mut offenders = Vec::new();
    for f in library_sources(&[]).into_iter().filter(|f| *f != permit && *f != rule) {
        let src = text(&f);
        for check in checks.iter().filter(|c| src.contains(**c)) {
            if !excepted.iter().any(|(file, allowed)| *file == f && allowed == check) {
                offenders.push(format!("{}: {check}", f.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "permission checks outside edgeward-server/src/permit.rs: {offenders:#?}");
    assert!(text(&permit).contains("grants.allows("), "permit.rs applies the rule");
}

#[test]
fn items_reach_the_store_only_through_the_items_module() {
    // ARCHITECTURE.md: every item read and write goes through `items`, which keeps the item
    // cache exact (a write invalidates its key after the store call).
    let items = crates_dir().join("edgeward-server/src/items.rs");
    let offenders: Vec<_> = library_sources(&["edgeward-store", "edgeward-core", "edgeward-loadtest"])
        .into_iter()
        .filter(|f| *f != items)
        .filter(|f| {
            let src = text(f);
            [".get_item(", ".put_item(", ".delete_item("].iter().any(|c| src.contains(c))
        })
        .collect();
    assert!(offenders.is_empty(), "item store calls outside edgeward-server/src/items.rs: {offenders:#?}");
    let src = text(&items);
    for (call, then) in [(".put_item(", "invalidate(&key)"), (".delete_item(", "invalidate(&key)")] {
        let at = src.find(call).unwrap();
        assert!(src[at..].find(then).is_some_and(|i| i < 200), "items.rs: {call} is followed by {then}");
    }
}

#[test]
fn every_served_path_is_in_an_openapi_document() {
    let normalize = |p: &str| {
        let mut out = String::new();
        let mut in_param = false;
        for ch in p.chars() {
            match ch {
                '{' => {
                    in_param = true;
                    out.push_str("{}");
                }
                '}' => in_param = false,
                c if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut documented = std::collections::HashSet::new();
    for doc in ["admin.json", "data-plane.json"] {
        let v: serde_json::Value = serde_json::from_str(&text(&repo_root().join("openapi").join(doc))).unwrap();
        documented.extend(v["paths"].as_object().unwrap().keys().map(|k| normalize(k)));
    }
    let app = text(&crates_dir().join("edgeward-server/src/app.rs"));
    let mut served = Vec::new();
    for piece in app.split(".route(").skip(1) {
        let piece = piece.trim_start();
        if let Some(rest) = piece.strip_prefix('"') {
            served.push(rest.split('"').next().unwrap().to_owned());
        }
    }
    assert!(served.len() > 20, "read the routers ({} routes)", served.len());
    let missing: Vec<_> = served.iter().filter(|p| !documented.contains(&normalize(p))).collect();
    assert!(missing.is_empty(), "served but in no OpenAPI document (list them in openapi.rs): {missing:#?}");
}

#[test]
fn edgewards_own_endpoints_answer_with_wire_types() {
    // ARCHITECTURE.md: the bodies of `/edgeward/v1/…` are `edgeward_wire` types; the client's
    // methods return them and the CLI prints them, never reading a field by its name in a string.
    let routes = crates_dir().join("edgeward-server/src/routes");
    for f in ["notifications.rs", "people.rs", "audit.rs"] {
        let src = text(&routes.join(f));
        assert!(!src.contains("json!") && !src.contains("serde_json::Value"), "routes/{f} builds an untyped body");
        assert!(!src.contains("body = Object"), "routes/{f} documents a body as a bare object");
    }
    let client = text(&crates_dir().join("edgeward-client/src/lib.rs"));
    assert!(!client.contains("Result<serde_json::Value"), "a client method returns an untyped body");
    let mut files = Vec::new();
    rust_files(&crates_dir().join("edgeward/src"), &mut files);
    for f in files {
        let src = text(&f);
        // `v["name"]` (a field looked up by name), but not `vec!["…"]`.
        let by_name = src.match_indices("[\"").any(|(i, _)| {
            src[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ']' || c == ')')
        });
        assert!(!by_name && !src.contains(".as_str().unwrap_or("), "{} reads a JSON field by its name", f.display());
    }
}

#[test]
fn only_the_binaries_read_flags_and_the_environment() {
    // Test support is the one exception: it picks the test database from the environment.
    let testing = crates_dir().join("edgeward-store/src/testing.rs");
    let offenders: Vec<_> = library_sources(&["edgeward", "edgeward-loadtest"])
        .into_iter()
        .filter(|f| *f != testing)
        .filter(|f| {
            let src = text(f);
            ["env::var", "env::args", "clap::", "#[arg("].iter().any(|c| src.contains(c))
        })
        .collect();
    assert!(offenders.is_empty(), "flags or environment read outside the binaries: {offenders:#?}");
}

#[test]
fn in_the_server_only_bootstrap_writes_files() {
    let bootstrap = crates_dir().join("edgeward-server/src/bootstrap.rs");
    let mut files = Vec::new();
    rust_files(&crates_dir().join("edgeward-server/src"), &mut files);
    let writes = [
        "fs::write",
        "File::create",
        "OpenOptions",
        "create_dir",
        "fs::rename",
        "remove_file",
        "set_permissions",
        "NamedTempFile",
    ];
    let offenders: Vec<_> =
        files.iter().filter(|f| **f != bootstrap && writes.iter().any(|w| text(f).contains(w))).collect();
    assert!(offenders.is_empty(), "files written outside bootstrap.rs: {offenders:#?}");
}

#[test]
fn token_files_are_written_only_through_a_temporary_file_and_a_rename() {
    let src = crates_dir().join("edgeward/src");
    for f in ["bundle.rs", "tokenfile.rs", "token_cmd.rs"] {
        let text = text(&src.join(f));
        for w in ["fs::write", "File::create", "OpenOptions", "fs::copy"] {
            assert!(!text.contains(w), "{f} writes with {w}");
        }
    }
    // The writer itself (`edgeward_wire::tokenfile`, shared with the console) does no I/O at all.
    let writer = text(&crates_dir().join("edgeward-wire/src/tokenfile.rs"));
    for w in ["std::fs", "std::io", "std::env", "std::net"] {
        assert!(!writer.contains(w), "edgeward-wire/src/tokenfile.rs uses {w}");
    }
    let bundle = text(&src.join("bundle.rs"));
    let store = item_body(&bundle, "    pub fn store(");
    assert_eq!(store.matches("write_atomic(").count(), 2, "both kinds of target are written atomically");
    let atomic = item_body(&bundle, "pub fn write_atomic(");
    assert!(atomic.contains("NamedTempFile::new_in(dir)") && atomic.contains(".persist(path)"), "{atomic}");
}

/// The lint-level attributes of `src` (`#[allow(…)]`, `#![allow(…)]` and the same with
/// `expect`), each whole, to its closing `)]`.
fn lint_attributes(src: &str) -> Vec<&str> {
    // Spelled in pieces, so that this file's own text holds none of them.
    let openers = ["allow(", "expect("].into_iter().flat_map(|l| [format!("#{}{l}", "["), format!("#!{}{l}", "[")]);
    let mut found = Vec::new();
    for opener in openers {
        let mut from = 0;
        while let Some(at) = src[from..].find(&opener) {
            let start = from + at;
            let end = src[start..].find(")]").map_or(src.len(), |e| start + e + 2);
            found.push(&src[start..end]);
            from = end;
        }
    }
    found
}

/// The lints whose exceptions must say why: clippy.toml's disallowed methods (system time,
/// files, sleeps) and the workspace's cast lints.
fn needs_reason(attribute: &str) -> bool {
    attribute.contains("clippy::disallowed_methods") || attribute.contains("clippy::cast_")
}

#[test]
fn every_allowed_disallowed_method_or_cast_says_why() {
    let mut files = Vec::new();
    rust_files(&crates_dir(), &mut files);
    let mut checked = 0;
    let mut offenders = Vec::new();
    for f in &files {
        let src = text(f);
        for attribute in lint_attributes(&src).into_iter().filter(|a| needs_reason(a)) {
            checked += 1;
            if !attribute.contains("reason = \"") {
                offenders.push(format!("{}: {attribute}", f.display()));
            }
        }
    }
    assert!(checked > 20, "found the exceptions ({checked})");
    assert!(offenders.is_empty(), "exceptions without a `reason = \"…\"`: {offenders:#?}");
}

#[test]
fn an_exception_for_files_keeps_the_clock_rule() {
    // clippy.toml's rules are one lint, `disallowed_methods`: code allowed to touch files is also
    // allowed to read the system time and to sleep. A file whose exceptions are for files only
    // (no reason names time) must do neither.
    let mut files = Vec::new();
    rust_files(&crates_dir(), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let src = text(f);
            let exceptions: Vec<&str> =
                lint_attributes(&src).into_iter().filter(|a| a.contains("clippy::disallowed_methods")).collect();
            if exceptions.is_empty() || exceptions.iter().any(|a| a.contains("time")) {
                return None;
            }
            // In pieces, like the openers.
            let calls =
                [format!("{}::now()", "Utc"), format!("{}::now()", "SystemTime"), format!("{}::sleep(", "thread")];
            let found: Vec<String> = calls.into_iter().filter(|c| src.contains(c.as_str())).collect();
            (!found.is_empty()).then(|| format!("{}: {found:?}", f.display()))
        })
        .collect();
    assert!(offenders.is_empty(), "the system time or a sleep where only files are excepted: {offenders:#?}");
}
