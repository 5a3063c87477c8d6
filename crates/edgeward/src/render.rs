//! How the CLI prints what Edgeward's own endpoints answer: one typed value (an
//! `edgeward_wire` shape), shown either as text or, with `--json`, as the JSON the server sent;
//! and the one way its lists are laid out as tables ([`table`]).

use std::fmt::Write as _;

use serde::Serialize;

use edgeward_wire::{CheckReport, MarkedRead, NoticeList, NotifyStatus};

/// A value a command prints.
pub trait Render: Serialize {
    /// The text form, every line ending in a newline.
    fn text(&self) -> String;
}

/// The value as the command prints it: text, or one line of JSON.
pub fn rendered<T: Render>(value: &T, json: bool) -> String {
    if json {
        let mut s = serde_json::to_string(value).expect("the wire types serialize");
        s.push('\n');
        s
    } else {
        value.text()
    }
}

/// Print the value to stdout.
pub fn print<T: Render>(value: &T, json: bool) {
    print!("{}", rendered(value, json));
}

impl Render for NoticeList {
    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{} unread", self.unread);
        for n in &self.notifications {
            let mark = if n.read { " " } else { "*" };
            let _ = writeln!(s, "{mark} #{} {} {}", n.id, n.created_at, n.subject);
            for t in &n.tokens {
                let nets: Vec<&str> = [("staging", t.allow_on_staging), ("production", t.allow_on_production)]
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(net, _)| *net)
                    .collect();
                let ns: Vec<String> = t.namespaces.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                let _ = writeln!(
                    s,
                    "    {} expires {} on {} [{}] last used {}",
                    t.name,
                    t.expiry,
                    nets.join("+"),
                    ns.join(" "),
                    t.last_used.as_deref().unwrap_or("never")
                );
            }
        }
        if let Some(next) = self.next {
            let _ = writeln!(s, "more: --before {next}");
        }
        s
    }
}

impl Render for MarkedRead {
    fn text(&self) -> String {
        format!("{} marked read\n", self.marked)
    }
}

impl Render for CheckReport {
    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} token(s) due, {} notice(s) delivered",
            if self.dry_run { "Dry run" } else { "Expiry check" },
            self.due.len(),
            self.notices
        );
        for d in &self.due {
            let _ = writeln!(s, "  {} expires {} ({}-day notice)", d.name, d.expiry, d.threshold_days);
        }
        untold(&mut s, &self.undelivered);
        s
    }
}

/// The due tokens nobody would hear of, when there are any.
fn untold(s: &mut String, undelivered: &[edgeward_wire::DueToken]) {
    if undelivered.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "{} token(s) with nobody to tell (no user whose roles grant CREATE_TOKEN for their networks, no contact, \
         no webhook); the first such recipient added before they expire is told at the next check:",
        undelivered.len()
    );
    for d in undelivered {
        let _ = writeln!(s, "  {} expires {} ({}-day notice)", d.name, d.expiry, d.threshold_days);
    }
}

impl Render for NotifyStatus {
    fn text(&self) -> String {
        let mut s = String::new();
        let thresholds: Vec<String> = self.thresholds.iter().map(u32::to_string).collect();
        let _ = writeln!(s, "Daily at {} UTC; thresholds [{}] days", self.check_time, thresholds.join(","));
        let _ = writeln!(
            s,
            "E-mail: {} ({} queued); webhook: {} ({} queued, {} given up)",
            self.email, self.emails_pending, self.webhook, self.webhooks_pending, self.webhooks_failed
        );
        for f in &self.emails_failed {
            let _ = writeln!(
                s,
                "  e-mail to {} given up after {} tries: {} ({})",
                f.recipient, f.attempts, f.error, f.subject
            );
        }
        for r in &self.runs {
            let _ = writeln!(
                s,
                "  {} by {} at {}{}: {} due, {} notices",
                r.check_day,
                r.server,
                r.started_at,
                if r.dry_run { " (dry run)" } else { "" },
                r.due,
                r.notices
            );
        }
        untold(&mut s, &self.undelivered);
        s
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use edgeward_wire::{CheckRunObject, DueToken, FailedEmailObject, NoticeObject, NoticeToken};

    use super::*;

    fn panel() -> NoticeList {
        NoticeList {
            notifications: vec![NoticeObject {
                id: 7,
                threshold_days: 7,
                created_at: "2026-12-01T06:00:00Z".into(),
                read: false,
                subject: "Access token soon expires on 2026-12-07 (7-day notice)".into(),
                tokens: vec![NoticeToken {
                    name: "soon".into(),
                    uuid: "4b0f2d6e-0000-4000-8000-000000000001".into(),
                    expiry: "2026-12-07".into(),
                    allow_on_staging: true,
                    allow_on_production: true,
                    namespaces: BTreeMap::from([("default".into(), "r".into()), ("shop".into(), "rw".into())]),
                    last_used: None,
                }],
            }],
            unread: 1,
            next: Some(7),
        }
    }

    #[test]
    fn the_panel_as_text_and_as_json() {
        let p = panel();
        assert_eq!(
            rendered(&p, false),
            "1 unread\n\
             * #7 2026-12-01T06:00:00Z Access token soon expires on 2026-12-07 (7-day notice)\n    \
             soon expires 2026-12-07 on staging+production [default:r shop:rw] last used never\n\
             more: --before 7\n"
        );
        assert_eq!(
            rendered(&p, true),
            concat!(
                r#"{"notifications":[{"id":7,"thresholdDays":7,"createdAt":"2026-12-01T06:00:00Z","read":false,"#,
                r#""subject":"Access token soon expires on 2026-12-07 (7-day notice)","tokens":[{"name":"soon","#,
                r#""uuid":"4b0f2d6e-0000-4000-8000-000000000001","expiry":"2026-12-07","allowOnStaging":true,"#,
                r#""allowOnProduction":true,"namespaces":{"default":"r","shop":"rw"},"lastUsed":null}]}],"#,
                r#""unread":1,"next":7}"#,
                "\n"
            )
        );
    }

    #[test]
    fn a_check_its_status_and_marking_read_as_text() {
        let report = CheckReport {
            ran: true,
            dry_run: true,
            due: vec![DueToken { name: "soon".into(), expiry: "2026-12-07".into(), threshold_days: 7 }],
            notices: 0,
            undelivered: Vec::new(),
        };
        assert_eq!(
            rendered(&report, false),
            "Dry run: 1 token(s) due, 0 notice(s) delivered\n  soon expires 2026-12-07 (7-day notice)\n"
        );
        let untold = CheckReport {
            undelivered: vec![DueToken { name: "soon".into(), expiry: "2026-12-07".into(), threshold_days: 7 }],
            ..report.clone()
        };
        assert!(
            rendered(&untold, false).ends_with(
                "1 token(s) with nobody to tell (no user whose roles grant CREATE_TOKEN for their networks, no \
                 contact, no webhook); the first such recipient added before they expire is told at the next \
                 check:\n  soon expires 2026-12-07 (7-day notice)\n"
            ),
            "{}",
            rendered(&untold, false)
        );
        let status = NotifyStatus {
            thresholds: vec![30, 7, 1],
            check_time: "06:00".into(),
            email: "smtp".into(),
            emails_pending: 2,
            webhook: "off".into(),
            webhooks_pending: 0,
            webhooks_failed: 1,
            emails_failed: vec![FailedEmailObject {
                recipient: "ana@example.com".into(),
                subject: "Edgeward: soon expires".into(),
                attempts: 5,
                error: "550 no such user".into(),
                queued_at: "2026-12-01T06:00:00Z".into(),
            }],
            runs: vec![CheckRunObject {
                check_day: "2026-12-01".into(),
                server: "node-a".into(),
                started_at: "2026-12-01T06:00:00Z".into(),
                finished_at: "2026-12-01T06:00:01Z".into(),
                dry_run: true,
                due: 3,
                notices: 0,
            }],
            undelivered: Vec::new(),
        };
        assert_eq!(
            rendered(&status, false),
            "Daily at 06:00 UTC; thresholds [30,7,1] days\n\
             E-mail: smtp (2 queued); webhook: off (0 queued, 1 given up)\n  \
             e-mail to ana@example.com given up after 5 tries: 550 no such user (Edgeward: soon expires)\n  \
             2026-12-01 by node-a at 2026-12-01T06:00:00Z (dry run): 3 due, 0 notices\n"
        );
        let untold = NotifyStatus {
            undelivered: vec![DueToken { name: "soon".into(), expiry: "2026-12-02".into(), threshold_days: 1 }],
            ..status
        };
        assert!(
            rendered(&untold, false).ends_with(
                "0 notices\n1 token(s) with nobody to tell (no user whose roles grant CREATE_TOKEN for their \
                 networks, no contact, no webhook); the first such recipient added before they expire is told at \
                 the next check:\n  soon expires 2026-12-02 (1-day notice)\n"
            ),
            "{}",
            rendered(&untold, false)
        );
        assert_eq!(rendered(&MarkedRead { marked: 2 }, false), "2 marked read\n");
        assert_eq!(rendered(&MarkedRead { marked: 2 }, true), "{\"marked\":2}\n");
    }
}

/// A table: a header row and rows of cells, each column as wide as its widest cell (counted in
/// characters) plus two spaces, the last column unpadded. Whatever the content, the columns
/// line up.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 < widths.len() {
                let _ = write!(text, "{cell}{}", " ".repeat(widths[i] - cell.chars().count() + 2));
            } else {
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod table_tests {
    use super::table;

    #[test]
    fn columns_line_up_whatever_the_content() {
        let rows = vec![
            vec!["a".to_owned(), "a-very-long-e-mail-address@example.com".to_owned(), "x".to_owned()],
            vec!["bébé".to_owned(), "-".to_owned(), "y".to_owned()],
        ];
        let t = table(&["NAME", "E-MAIL", "ROLES"], &rows);
        assert_eq!(
            t,
            "NAME  E-MAIL                                  ROLES\n\
             a     a-very-long-e-mail-address@example.com  x\n\
             bébé  -                                       y\n"
        );
    }
}
