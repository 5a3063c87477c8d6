//! `edgeward status` (alias `whoami`): which server the credentials reach, its version, schema
//! and clock, the account, who the caller is and what it may do, tokens used of the limit and
//! the soonest expiry. The first command to run when something does not work.

use anyhow::Result;

use crate::token_cmd::{api, client, Conn};

/// Print the server's status as the caller sees it.
pub async fn run(conn: &Conn) -> Result<()> {
    let c = client(conn)?;
    let s = c.status().await.map_err(api)?;
    if conn.json {
        println!("{}", serde_json::json!({ "server": c.host(), "status": s }));
        return Ok(());
    }
    let server_time = chrono::DateTime::parse_from_rfc3339(&s.server_time).map(|t| t.with_timezone(&chrono::Utc));
    let clock = match (&server_time, s.development_clock) {
        (Ok(t), true) => {
            let ahead = (*t - crate::now()).num_minutes();
            format!(
                "{} (DEVELOPMENT CLOCK, {} minutes {} this machine's; expiry warnings count from it)",
                s.server_time,
                ahead.abs(),
                if ahead >= 0 { "ahead of" } else { "behind" }
            )
        }
        _ => s.server_time.clone(),
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("Server", format!("{} (Edgeward {}, schema {})", c.host(), s.version, s.schema_version)),
        ("Server time", clock),
        ("Account", s.cpcode.as_deref().map_or_else(|| "not initialized".to_owned(), |cp| format!("CP code {cp}"))),
        (
            "Caller",
            match &s.caller.user {
                Some(u) => format!("{} {}, acting for user {u}", s.caller.kind, s.caller.name),
                None => format!("{} {}", s.caller.kind, s.caller.name),
            },
        ),
        ("Grants", if s.caller.grants.is_empty() { "none".to_owned() } else { s.caller.grants.join(", ") }),
        (
            "Tokens",
            match s.tokens_used {
                Some(n) => format!("{n} of {}", s.tokens_limit),
                None => format!("? of {} (counting them needs VIEW_TOKEN)", s.tokens_limit),
            },
        ),
    ];
    if let Some(e) = &s.soonest_expiry {
        let days = match (e.expiry.parse::<chrono::NaiveDate>(), &server_time) {
            (Ok(d), Ok(t)) => format!(" (in {} days)", (d - t.date_naive()).num_days()),
            _ => String::new(),
        };
        rows.push(("Soonest expiry", format!("{} on {}{days}", e.name, e.expiry)));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (k, v) in rows {
        println!("{:<width$} {v}", format!("{k}:"));
    }
    Ok(())
}
