//! House rules checked on the source tree: every Rust file says what it is for (a `//!` line
//! first), and SQL text lives only in the store crate.

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
