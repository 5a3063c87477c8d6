//! An example for every subcommand, shown at the end of its `--help`: written once here, attached
//! to the commands before parsing ([`with_examples`]), and each one parsed by a test, so an
//! example that no longer runs fails the build's tests.

/// `(subcommand path, examples)`; each example is the arguments after `edgeward`.
pub const EXAMPLES: &[(&str, &[&str])] = &[
    ("serve", &["serve --data-dir ./edgeward-data", "serve --config /etc/edgeward.toml", "serve --log-format json --data-dir /var/lib/edgeward"]),
    ("apiclient create", &["apiclient create ci --grants CREATE_STAGING_TOKEN,VIEW_STAGING_TOKEN --data-dir ./edgeward-data"]),
    ("apiclient list", &["apiclient list --data-dir ./edgeward-data"]),
    ("apiclient disable", &["apiclient disable ci --data-dir ./edgeward-data"]),
    ("apiclient enable", &["apiclient enable ci --data-dir ./edgeward-data"]),
    ("apiclient delete", &["apiclient delete ci --data-dir ./edgeward-data"]),
    ("accessgroup create", &["accessgroup create 4284 --name Shop --data-dir ./edgeward-data"]),
    ("accessgroup list", &["accessgroup list --data-dir ./edgeward-data"]),
    ("accessgroup delete", &["accessgroup delete 4284 --data-dir ./edgeward-data"]),
    (
        "token create",
        &[
            "token create shop_ro --namespace default+r --staging allow --production allow --expiry 2027-03-01 --edgerc edgeward-data/edgerc",
            "token create edge_rw --namespace default+rw --staging deny --production allow --save-path ./my-edgeworker.tgz --edgerc edgeward-data/edgerc",
        ],
    ),
    ("token list", &["token list --edgerc edgeward-data/edgerc", "token list --include-expired --include-revoked --json --edgerc edgeward-data/edgerc"]),
    ("token show", &["token show shop_ro --save-path ./my-edgeworker --edgerc edgeward-data/edgerc"]),
    ("token refresh", &["token refresh edge_rw --edgerc edgeward-data/edgerc"]),
    (
        "token revoke",
        &[
            "token revoke shop_ro --edgerc edgeward-data/edgerc",
            "token revoke shop_ro --after 2d --edgerc edgeward-data/edgerc",
            "token revoke shop_ro --cancel --edgerc edgeward-data/edgerc",
        ],
    ),
    (
        "token rotate",
        &["token rotate shop_ro --to shop_ro_2 --save-path ./my-edgeworker.tgz --revoke-old-after 0s --edgerc edgeward-data/edgerc"],
    ),
    ("bundle check", &["bundle check ./my-edgeworker.tgz --warn-days 14 --edgerc edgeward-data/edgerc"]),
    ("initialize status", &["initialize status --data-dir ./edgeward-data", "initialize status --json --edgerc ~/.edgerc"]),
    ("initialize run", &["initialize run --data-dir ./edgeward-data", "initialize run --restrict-data-access false --edgerc ~/.edgerc"]),
    ("namespace list", &["namespace list --data-dir ./edgeward-data", "namespace list --network production --json --data-dir ./edgeward-data"]),
    (
        "namespace create",
        &[
            "namespace create shop --network staging --retention 30d --data-dir ./edgeward-data",
            "namespace create shop --network production --retention 0 --group-id 4284 --geo-location EU --data-dir ./edgeward-data",
        ],
    ),
    ("namespace show", &["namespace show shop --network staging --data-dir ./edgeward-data"]),
    (
        "namespace update",
        &[
            "namespace update shop --network staging --retention 90d --data-dir ./edgeward-data",
            "namespace update shop --network production --group-id 4284 --data-dir ./edgeward-data",
        ],
    ),
    (
        "namespace delete",
        &[
            "namespace delete shop --network staging --data-dir ./edgeward-data",
            "namespace delete shop --network staging --after 2d --data-dir ./edgeward-data",
            "namespace delete shop --network staging --at 2027-01-01T06:00:00Z --data-dir ./edgeward-data",
            "namespace delete shop --network staging --cancel --data-dir ./edgeward-data",
        ],
    ),
    ("group list", &["group list shop --network staging --data-dir ./edgeward-data"]),
    ("item list", &["item list shop countries --network staging --max-items 1000 --data-dir ./edgeward-data"]),
    ("item read", &["item read shop countries DE --network staging --data-dir ./edgeward-data"]),
    (
        "item write",
        &[
            "item write shop countries DE --network staging --text Germany --data-dir ./edgeward-data",
            "item write shop countries FR --network staging --json-value {\"name\":\"France\"} --data-dir ./edgeward-data",
            "item write shop config main --network production --json-file ./config.json --data-dir ./edgeward-data",
            "item write shop pages home --network staging --file - --data-dir ./edgeward-data",
        ],
    ),
    ("item delete", &["item delete shop countries DE --network staging --data-dir ./edgeward-data"]),
    ("keys rotate", &["keys rotate --data-dir ./edgeward-data"]),
    ("keys list", &["keys list --data-dir ./edgeward-data"]),
    ("keys retire", &["keys retire KID --data-dir ./edgeward-data"]),
    ("keys rotate-data-key", &["keys rotate-data-key --data-dir ./edgeward-data"]),
    ("audit list", &["audit list --action token. --data-dir ./edgeward-data"]),
    ("user create", &["user create ana --email ana@example.com --registered --role token-manager --data-dir ./edgeward-data"]),
    ("user list", &["user list --data-dir ./edgeward-data"]),
    ("user update", &["user update ana --role viewer --data-dir ./edgeward-data"]),
    ("user set-password", &["user set-password admin --data-dir ./edgeward-data"]),
    ("role list", &["role list --data-dir ./edgeward-data"]),
    ("role show", &["role show token-manager --data-dir ./edgeward-data"]),
    ("role create", &["role create releasers --grants CREATE_TOKEN,VIEW_TOKEN --data-dir ./edgeward-data"]),
    ("role update", &["role update releasers --grants CREATE_TOKEN,VIEW_TOKEN,REVOKE_TOKEN --data-dir ./edgeward-data"]),
    ("role delete", &["role delete releasers --data-dir ./edgeward-data"]),
    ("contact add", &["contact add oncall@example.com --name On-call --data-dir ./edgeward-data"]),
    ("contact list", &["contact list --data-dir ./edgeward-data"]),
    ("contact remove", &["contact remove oncall@example.com --data-dir ./edgeward-data"]),
    ("notify list", &["notify list --edgerc edgeward-data/edgerc"]),
    ("notify read", &["notify read --edgerc edgeward-data/edgerc"]),
    ("notify run", &["notify run --dry-run --edgerc edgeward-data/edgerc"]),
    ("notify status", &["notify status --edgerc edgeward-data/edgerc"]),
    ("migrate", &["migrate --data-dir ./edgeward-data"]),
    (
        "backup",
        &[
            "backup --to /var/backups/edgeward/2026-05-01.backup --data-dir ./edgeward-data",
            "backup --to ./edgeward.backup --include-keys --passphrase-file ./backup-passphrase --overwrite --data-dir ./edgeward-data",
        ],
    ),
    (
        "restore",
        &[
            "restore --from ./edgeward.backup --data-dir ./edgeward-restored",
            "restore --from ./edgeward.backup --passphrase-file ./backup-passphrase --force --data-dir ./edgeward-data",
        ],
    ),
    ("openapi", &["openapi", "openapi --data-plane"]),
    ("config print", &["config print --config /etc/edgeward.toml"]),
    ("status", &["status --edgerc edgeward-data/edgerc", "status --json --edgerc edgeward-data/edgerc"]),
    ("edgerc set-host", &["edgerc set-host lb.example.com --data-dir ./edgeward-data", "edgerc set-host 127.0.0.1:9443 --section ci --edgerc ~/.edgerc"]),
    ("completions", &["completions bash", "completions zsh", "completions fish"]),
];

/// `cmd` with each subcommand's examples at the end of its `--help` (after any help text of
/// its own).
pub fn with_examples(cmd: clap::Command) -> clap::Command {
    attach(cmd, "")
}

fn attach(mut cmd: clap::Command, path: &str) -> clap::Command {
    if let Some((_, examples)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        let mut text = String::from("Examples:");
        for e in *examples {
            text.push_str("\n  edgeward ");
            text.push_str(e);
        }
        let text = match cmd.get_after_help() {
            Some(own) => format!("{own}\n\n{text}"),
            None => text,
        };
        cmd = cmd.after_help(text);
    }
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_owned()).collect();
    for name in names {
        let sub_path = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
        cmd = cmd.mut_subcommand(&name, |s| attach(s, &sub_path));
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| s.get_name() != "help").collect();
        if subs.is_empty() && !path.is_empty() {
            out.push(path.to_owned());
        }
        for s in subs {
            let p = if path.is_empty() { s.get_name().to_owned() } else { format!("{path} {}", s.get_name()) };
            leaves(s, &p, out);
        }
    }

    #[test]
    fn every_subcommand_has_examples_and_every_example_parses() {
        let cmd = crate::Cli::command();
        let mut all = Vec::new();
        leaves(&cmd, "", &mut all);
        let missing: Vec<&String> = all.iter().filter(|p| !EXAMPLES.iter().any(|(e, _)| e == p)).collect();
        assert!(missing.is_empty(), "subcommands without examples: {missing:?}");
        for (path, examples) in EXAMPLES {
            assert!(all.iter().any(|p| p == path), "examples for {path}, which is no subcommand");
            for e in *examples {
                let args = std::iter::once("edgeward").chain(e.split_whitespace());
                if let Err(err) = crate::Cli::command().try_get_matches_from(args) {
                    panic!("the example `edgeward {e}` does not parse: {err}");
                }
                assert!(e.starts_with(path), "the example `{e}` is not of `{path}`");
            }
        }
        let help = with_examples(crate::Cli::command())
            .find_subcommand_mut("token")
            .unwrap()
            .find_subcommand_mut("rotate")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(help.contains("Examples:\n  edgeward token rotate shop_ro"), "{help}");
    }
}
