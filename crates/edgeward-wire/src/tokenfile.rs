//! `edgekv_tokens.js`: the token file bundled with edge code, read leniently (files written by
//! Akamai's CLI included, bare namespace keys too) and written strictly: one `"namespace-<ns>"`
//! entry per namespace, a valid ES module that `edgekv.js` imports.
//!
//! Pure: text in, text out. The one writer of the file: the CLI (whose `bundle` module does the
//! file and archive I/O) and the server's console (which offers the file as a download) both
//! write it through [`TokenFile`].

use serde_json::{Map, Value};

use crate::TokenObject;

/// The file name inside a bundle or directory.
pub const FILE_NAME: &str = "edgekv_tokens.js";
const VAR: &str = "edgekv_access_tokens";
const PREFIX: &str = "namespace-";

/// Why a token file could not be read. `line` and `column` are 1-based, in the whole file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid EdgeKV token file: {message} (line {line}, column {column})")]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub line: usize,
    /// Where.
    pub column: usize,
}

/// One entry: `{ "name": …, "value": … }` or `{ "name": …, "reference": … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The token's name (informational for `edgekv.js`).
    pub name: Option<String>,
    /// A token value (sent as `X-Akamai-EdgeDB-Auth`).
    pub value: Option<String>,
    /// A token uuid (sent as `X-Akamai-EdgeDB-Auth-Ref`).
    pub reference: Option<String>,
}

impl Entry {
    /// The entry `edgekv.js` needs for `t`: its value (an expiring token), else its uuid as the
    /// reference (an auto-refreshing token).
    pub fn of(t: &TokenObject) -> Self {
        match &t.value {
            Some(v) => Self { name: Some(t.name.clone()), value: Some(v.clone()), reference: None },
            None => Self { name: Some(t.name.clone()), value: None, reference: Some(t.uuid.clone()) },
        }
    }

    fn from_json(v: &Value) -> Option<Self> {
        let o = v.as_object()?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self { name: s("name"), value: s("value"), reference: s("reference") })
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(n) = &self.name {
            m.insert("name".into(), Value::String(n.clone()));
        }
        if let Some(v) = &self.value {
            m.insert("value".into(), Value::String(v.clone()));
        }
        if let Some(r) = &self.reference {
            m.insert("reference".into(), Value::String(r.clone()));
        }
        Value::Object(m)
    }
}

/// The entries of a token file, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenFile {
    entries: Map<String, Value>,
    /// What comes before the declaration's line (a header comment, say), kept as written.
    prelude: String,
    /// What comes after the `export` statement, kept as written.
    trailer: String,
    /// Comments inside the token object: read past, but not kept (the object is rewritten).
    dropped_comments: usize,
}

/// Where an entry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    /// The key as written.
    pub key: String,
    /// The namespace it is for.
    pub namespace: String,
    /// Whether the key lacks the `namespace-` prefix (`edgekv.js` cannot find such entries).
    pub bare: bool,
    /// The entry, if it has the expected shape.
    pub entry: Option<Entry>,
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn error_at(text: &str, offset: usize, message: impl Into<String>) -> ParseError {
    let (line, column) = position(text, offset);
    ParseError { message: message.into(), line, column }
}

impl TokenFile {
    /// Parse a token file.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        // Searched with comments blanked out: a commented-out declaration (an old one kept for
        // reference) is not the one read.
        let (blanked, _) = blank_comments(text);
        let var_at =
            blanked.find(VAR).ok_or_else(|| error_at(text, 0, format!("no `var {VAR} = {{…}}` declaration")))?;
        let eq = blanked[var_at..]
            .find('=')
            .map(|i| var_at + i)
            .ok_or_else(|| error_at(text, var_at, "no `=` after the variable name"))?;
        let open = eq + 1 + blanked[eq + 1..].len() - blanked[eq + 1..].trim_start().len();
        if !blanked[open..].starts_with('{') {
            return Err(error_at(text, open, "the token object must start with `{`"));
        }
        // The object ends at the brace matching the first one (strings may hold braces, and
        // comments are blanked out: JSON has none).
        let object = &blanked[open..];
        let bytes = object.as_bytes();
        let (mut depth, mut in_str, mut esc, mut end) = (0i32, false, false, None);
        for (i, &b) in bytes.iter().enumerate() {
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = open + end.ok_or_else(|| error_at(text, open, "the token object is not closed"))?;
        let object = &object[..end - open];
        let dropped_comments = blank_comments(&text[open..end]).1;
        let entries: Map<String, Value> = serde_json::from_str(object).map_err(|e| {
            let (l, c) = (e.line(), e.column());
            let (ol, oc) = position(text, open);
            let line = ol + l - 1;
            let column = if l == 1 { oc + c.saturating_sub(1) } else { c };
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            ParseError { message: msg, line, column }
        })?;
        let rest = text[end..].trim_start().trim_start_matches(';');
        let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        if !compact.starts_with(&format!("export{{{VAR}}}")) {
            return Err(error_at(text, end, format!("expected `export {{ {VAR} }};` after the object")));
        }
        // Kept as written: the lines before the declaration, and what follows `export { … };`.
        let prelude = text[..text[..var_at].rfind('\n').map_or(0, |i| i + 1)].to_owned();
        let export_end = rest.find('}').map(|i| i + 1).unwrap_or(rest.len());
        let after = rest[export_end..].strip_prefix(';').unwrap_or(&rest[export_end..]);
        let after = after.strip_prefix("\r\n").or_else(|| after.strip_prefix('\n')).unwrap_or(after);
        Ok(Self { entries, prelude, trailer: after.to_owned(), dropped_comments })
    }

    /// How many comments inside the token object were read past: a rewritten file does not keep
    /// them (those before the declaration and after the `export` are kept).
    pub fn dropped_comments(&self) -> usize {
        self.dropped_comments
    }

    /// The entries with their namespaces.
    pub fn entries(&self) -> Vec<Keyed> {
        self.entries
            .iter()
            .map(|(k, v)| {
                let (namespace, bare) = match k.strip_prefix(PREFIX) {
                    Some(ns) => (ns.to_owned(), false),
                    None => (k.clone(), true),
                };
                Keyed { key: k.clone(), namespace, bare, entry: Entry::from_json(v) }
            })
            .collect()
    }

    /// The entry for `namespace`, under its prefixed or its bare key.
    pub fn get(&self, namespace: &str) -> Option<Keyed> {
        self.entries().into_iter().find(|k| k.namespace == namespace)
    }

    /// Set the entry for `namespace` under `namespace-<ns>`, removing a bare-key duplicate.
    /// Refused (returning the existing entry) when an entry differs and `overwrite` is false.
    pub fn put(&mut self, namespace: &str, entry: Entry, overwrite: bool) -> Result<PutOutcome, Box<Keyed>> {
        let key = format!("{PREFIX}{namespace}");
        let existing = self.get(namespace);
        let outcome = match &existing {
            None => PutOutcome::Added,
            Some(k) if k.entry.as_ref() == Some(&entry) && !k.bare => return Ok(PutOutcome::Unchanged),
            Some(_) if overwrite => PutOutcome::Replaced,
            Some(k) => return Err(Box::new(k.clone())),
        };
        if let Some(k) = existing {
            if k.key != key {
                // Keep the file order: the prefixed key takes the bare key's place.
                self.entries = std::mem::take(&mut self.entries)
                    .into_iter()
                    .map(|(kk, v)| if kk == k.key { (key.clone(), v) } else { (kk, v) })
                    .collect();
            }
        }
        self.entries.insert(key, entry.to_json());
        Ok(outcome)
    }

    /// Rewrite bare keys as `namespace-<ns>`; returns the namespaces fixed.
    pub fn fix_bare_keys(&mut self) -> Vec<String> {
        let mut fixed = Vec::new();
        let taken: std::collections::HashSet<String> = self.entries.keys().cloned().collect();
        self.entries = std::mem::take(&mut self.entries)
            .into_iter()
            .filter_map(|(k, v)| {
                if k.starts_with(PREFIX) {
                    return Some((k, v));
                }
                let prefixed = format!("{PREFIX}{k}");
                if taken.contains(&prefixed) {
                    fixed.push(k);
                    return None; // a prefixed entry already serves this namespace
                }
                fixed.push(k);
                Some((prefixed, v))
            })
            .collect();
        fixed
    }

    /// A file holding `t`'s entry for each of its namespaces.
    pub fn of_token(t: &TokenObject) -> Self {
        let mut file = Self::default();
        for ns in t.namespace_permissions.keys() {
            file.entries.insert(format!("{PREFIX}{ns}"), Entry::of(t).to_json());
        }
        file
    }

    /// Render as the ES module `edgekv.js` imports.
    pub fn render(&self) -> String {
        format!("{}var {VAR} = {};\nexport {{ {VAR} }};\n{}", self.prelude, self.object(), self.trailer)
    }

    /// The entries alone, as they stand inside the file's object (what to paste into a file).
    pub fn render_entries(&self) -> String {
        let object = self.object();
        let inner = object.strip_prefix("{\n").and_then(|o| o.strip_suffix("\n}")).unwrap_or("");
        inner.lines().map(|l| l.strip_prefix("  ").unwrap_or(l)).collect::<Vec<_>>().join("\n")
    }

    fn object(&self) -> String {
        serde_json::to_string_pretty(&Value::Object(self.entries.clone())).expect("JSON renders")
    }
}

/// `text` with its JavaScript comments (`// …` to the end of the line, `/* … */`) outside
/// strings replaced by spaces, offsets unchanged (so errors still say where), and how many there
/// were. An unclosed block comment runs to the end.
fn blank_comments(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let (mut i, mut count, mut in_str, mut esc) = (0, 0, false, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1)) {
            (b'"', _) => in_str = true,
            (b'/', Some(b'/')) => {
                count += 1;
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            (b'/', Some(b'*')) => {
                count += 1;
                let close = text[i + 2..].find("*/").map_or(bytes.len(), |j| i + 2 + j + 2);
                for o in &mut out[i..close] {
                    if *o != b'\n' {
                        *o = b' ';
                    }
                }
                i = close;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII bytes were replaced, and only whole comments: still UTF-8.
    (String::from_utf8(out).unwrap_or_else(|_| text.to_owned()), count)
}

/// What [`TokenFile::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new entry.
    Added,
    /// An existing entry was replaced (`--overwrite`).
    Replaced,
    /// The same entry was already there.
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKAMAI_WRITTEN: &str = "var edgekv_access_tokens = {\n\"default\" : { \n\"name\": \"tok_b\",\n\"reference\" : \"11111111-2222-3333-4444-555555555555\"\n},\n\"namespace-marketing\" : { \n\"name\": \"tok_a\",\n\"value\" : \"aaa.bbb.ccc\"\n}\n}\nexport { edgekv_access_tokens };";

    fn reference(name: &str, uuid: &str) -> Entry {
        Entry { name: Some(name.into()), value: None, reference: Some(uuid.into()) }
    }

    #[test]
    fn reads_files_written_by_akamais_cli_with_bare_keys() {
        let f = TokenFile::parse(AKAMAI_WRITTEN).unwrap();
        let e = f.entries();
        assert_eq!(e.len(), 2);
        assert!(e[0].bare && e[0].namespace == "default");
        assert!(!e[1].bare && e[1].namespace == "marketing");
        assert_eq!(e[1].entry.as_ref().unwrap().value.as_deref(), Some("aaa.bbb.ccc"));
    }

    #[test]
    fn put_adds_refuses_replaces_and_fixes_bare_keys() {
        let mut f = TokenFile::parse(AKAMAI_WRITTEN).unwrap();
        assert_eq!(f.put("sales", reference("t", "u1"), false), Ok(PutOutcome::Added));
        assert!(f.put("default", reference("other", "u2"), false).is_err(), "a different entry needs --overwrite");
        assert_eq!(f.put("default", reference("other", "u2"), true), Ok(PutOutcome::Replaced));
        assert_eq!(f.put("default", reference("other", "u2"), false), Ok(PutOutcome::Unchanged));
        let keys: Vec<_> = f.entries().into_iter().map(|k| k.key).collect();
        assert_eq!(
            keys,
            vec!["namespace-default", "namespace-marketing", "namespace-sales"],
            "order kept, bare key replaced"
        );
        let again = TokenFile::parse(&f.render()).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn fix_rewrites_bare_keys() {
        let mut f = TokenFile::parse(AKAMAI_WRITTEN).unwrap();
        assert_eq!(f.fix_bare_keys(), vec!["default"]);
        assert!(f.entries().iter().all(|k| !k.bare));
    }

    #[test]
    fn a_token_is_written_under_each_of_its_namespaces() {
        let t: TokenObject = serde_json::from_value(serde_json::json!({
            "name": "tok", "uuid": "11111111-2222-3333-4444-555555555555", "allowOnProduction": false,
            "allowOnStaging": true, "cpcode": "1", "expiry": "9999-12-31", "issueDate": "2026-11-28",
            "latestRefreshDate": null, "nextScheduledRefreshDate": "2027-01-27",
            "namespacePermissions": {"b": ["r"], "a": ["r", "w"]}, "restrictToEdgeWorkerIds": ["all"],
            "tokenActivationStatus": "COMPLETE"
        }))
        .unwrap();
        let f = TokenFile::of_token(&t);
        let again = TokenFile::parse(&f.render()).unwrap();
        assert_eq!(again, f);
        let keys: Vec<_> = again.entries().into_iter().map(|k| k.key).collect();
        assert_eq!(keys, vec!["namespace-a", "namespace-b"]);
        assert_eq!(again.get("a").unwrap().entry, Some(reference("tok", "11111111-2222-3333-4444-555555555555")));
        assert_eq!(
            f.render_entries(),
            "\"namespace-a\": {\n  \"name\": \"tok\",\n  \"reference\": \"11111111-2222-3333-4444-555555555555\"\n},\n\
             \"namespace-b\": {\n  \"name\": \"tok\",\n  \"reference\": \"11111111-2222-3333-4444-555555555555\"\n}"
        );
    }

    #[test]
    fn comments_around_the_object_are_kept_and_those_inside_are_counted() {
        let text = "// Tokens for the shop EdgeWorker.\n/* do not edit by hand */\nvar edgekv_access_tokens = {\n  // production\n  \"namespace-a\": { \"name\": \"t\", \"value\": \"x//y\" } /* end */\n};\nexport { edgekv_access_tokens };\n// trailing note\n";
        let mut f = TokenFile::parse(text).unwrap();
        assert_eq!(f.dropped_comments(), 2, "the two inside the object; the value's // is no comment");
        assert_eq!(f.get("a").unwrap().entry.unwrap().value.as_deref(), Some("x//y"));
        f.put("b", reference("r", "u"), false).unwrap();
        let out = f.render();
        assert!(
            out.starts_with(
                "// Tokens for the shop EdgeWorker.\n/* do not edit by hand */\nvar edgekv_access_tokens = {"
            ),
            "{out}"
        );
        assert!(out.ends_with("export { edgekv_access_tokens };\n// trailing note\n"), "{out}");
        let again = TokenFile::parse(&out).unwrap();
        assert_eq!((again.entries().len(), again.dropped_comments()), (2, 0));
        assert_eq!(TokenFile::parse(&again.render()).unwrap().render(), again.render(), "stable");
    }

    #[test]
    fn a_commented_out_declaration_is_not_the_one_read() {
        let text = "// var edgekv_access_tokens = { \"namespace-old\": { \"name\": \"o\", \"reference\": \"r\" } };\n/* var edgekv_access_tokens = {} */\nvar /* the live one */ edgekv_access_tokens = /* here */ {\n  \"namespace-a\": { \"name\": \"t\", \"reference\": \"u\" }\n};\nexport { edgekv_access_tokens };\n";
        let f = TokenFile::parse(text).unwrap();
        assert!(f.get("old").is_none());
        assert_eq!(f.get("a").unwrap().entry.unwrap().name.as_deref(), Some("t"));
        assert!(f.render().starts_with("// var edgekv_access_tokens = { \"namespace-old\""), "kept as written");
    }

    #[test]
    fn errors_say_where() {
        let broken = "var edgekv_access_tokens = {\n  \"namespace-a\": { \"name\": \"x\", },\n}\nexport { edgekv_access_tokens };\n";
        let e = TokenFile::parse(broken).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(TokenFile::parse("hello").unwrap_err().message.contains("declaration"));
        assert!(TokenFile::parse("var edgekv_access_tokens = {};").unwrap_err().message.contains("export"));
        let spaced = "var edgekv_access_tokens = {}\nexport{edgekv_access_tokens}";
        assert!(TokenFile::parse(spaced).is_ok(), "Akamai's spacing variants are read");
    }
}
