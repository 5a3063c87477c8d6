//! `--notify-check`: the daily expiry check over a large SQLite database.
//!
//! Fills a fresh database with `--check-tokens` tokens (written straight into the table in one
//! transaction, since creating them through the API is not what is measured), of which
//! `--check-due` expire within the widest threshold, plus 50 users who are told. Then it times,
//! in the same run: a full scan of the tokens table (what a check that reads every token would
//! at least cost), the real check (`run_check`: find, record, bundle, deliver), and a second
//! check the same day (nothing new to tell).
#![allow(clippy::disallowed_methods, reason = "the load tool drives a real server in real time")]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Result};
use chrono::{Days, Utc};
use rusqlite::params;

use edgeward_core::capability::{Capability, Grants};
use edgeward_core::notify::{User, DEFAULT_THRESHOLDS};
use edgeward_core::store::{Account, Store};
use edgeward_server::notify::{run_check, Outputs};
use edgeward_store::{SqliteOptions, SqliteStore};

pub async fn run(work: &Path, tokens: usize, due: usize) -> Result<()> {
    println!("# edgeward-loadtest --notify-check\n");
    println!("- machine: {} cores; tokens: {tokens}; due within 30 days: {due}", std::thread::available_parallelism()?);
    let db = work.join("edgeward.db");
    let sqlite = SqliteStore::open(&db, SqliteOptions::default())?;
    let data_key = edgeward_store::testing::random_data_key();
    let now = Utc::now();
    sqlite.open_references(&data_key, now).await?;
    let store: Arc<dyn Store> = Arc::new(sqlite);
    store
        .initialize_account(Account {
            cpcode: "1234567".into(),
            initialized_at: now,
            restrict_data_access: false,
            allow_namespace_policy_override: true,
        })
        .await?;
    for i in 0..50 {
        store
            .create_user(User {
                id: uuid::Uuid::new_v4(),
                name: format!("user{i}"),
                email: Some(format!("user{i}@example.test")),
                email_registered: true,
                active: true,
                grants: Grants::new([Capability::CreateToken]),
                roles: Vec::new(),
                created_at: now,
            })
            .await?;
    }
    let t0 = Instant::now();
    {
        let mut c = rusqlite::Connection::open(&db)?;
        let tx = c.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO tokens (uuid, name, live_name, allow_staging, allow_production, ewids, namespaces, expiry, \
                 expires_at, issued_at, next_refresh, generation, cpcode, sealed_value) \
                 VALUES (?1, ?2, ?2, 1, 1, 'all', 'default:rw', ?3, ?4, ?5, NULL, 1, '1234567', X'00')",
            )?;
            let today = now.date_naive();
            for i in 0..tokens {
                // The due ones spread over the next 30 days; the rest 31 to 180 days out.
                let days = if i < due { 1 + (i % 30) } else { 31 + (i % 150) } as u64;
                let expiry = today + Days::new(days);
                let expires_at = edgeward_core::token::expiry_instant(expiry).timestamp_millis();
                insert.execute(params![
                    uuid::Uuid::new_v4().to_string(),
                    format!("t{i}"),
                    expiry.to_string(),
                    expires_at,
                    now.timestamp_millis()
                ])?;
            }
        }
        tx.commit()?;
    }
    println!("- filled {tokens} tokens in {:.1} s", t0.elapsed().as_secs_f64());

    let c = rusqlite::Connection::open(&db)?;
    let t0 = Instant::now();
    let counted: i64 = c.query_row("SELECT COUNT(*) FROM tokens WHERE namespaces <> ''", [], |r| r.get(0))?;
    let scan = t0.elapsed();
    let plan: String = c.query_row(
        "EXPLAIN QUERY PLAN SELECT uuid FROM tokens WHERE revoked_at IS NULL AND expires_at >= 0 AND expires_at <= 1",
        [],
        |r| r.get(3),
    )?;

    let t0 = Instant::now();
    let report =
        run_check(store.as_ref(), now, "bench", &DEFAULT_THRESHOLDS, Outputs { email: true, webhook: true }, false)
            .await?;
    let first = t0.elapsed();
    let t0 = Instant::now();
    let again =
        run_check(store.as_ref(), now, "bench", &DEFAULT_THRESHOLDS, Outputs { email: true, webhook: true }, false)
            .await?;
    let second = t0.elapsed();
    if report.due.len() != due || again.notices != 0 || usize::try_from(counted).ok() != Some(tokens) {
        bail!("unexpected result: {} due, {} notices on the second check", report.due.len(), again.notices);
    }
    println!("- query plan of the check's token lookup: {plan}");
    println!("- baseline, a full scan of the tokens table: {:.0} ms", scan.as_secs_f64() * 1000.0);
    println!(
        "- the check: {:.0} ms ({} due, {} panel notices, e-mail and webhook events queued) = {:.2}× the full scan",
        first.as_secs_f64() * 1000.0,
        report.due.len(),
        report.notices,
        first.as_secs_f64() / scan.as_secs_f64()
    );
    println!("- a second check the same day: {:.0} ms (nothing new)", second.as_secs_f64() * 1000.0);
    println!("\n| target | measured | verdict |\n|---|---|---|");
    println!(
        "| daily check over {tokens} tokens ({due} due) ≤ 2 s | {:.0} ms | {} |",
        first.as_secs_f64() * 1000.0,
        if first.as_secs_f64() <= 2.0 { "met" } else { "MISSED" }
    );
    Ok(())
}
