//! The PostgreSQL side of the load test: a fresh database per run (dropped at the end), the raw
//! durable commit baseline, and the cross-server revocation delay.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::Connection;

/// A database created for one run on the server at `admin_url`, dropped when done.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl BenchDatabase {
    pub async fn create(admin_url: &str) -> Result<Self> {
        let name = format!("edgeward_bench_{}", uuid::Uuid::new_v4().simple());
        let mut c =
            sqlx::PgConnection::connect(admin_url).await.with_context(|| format!("connecting to {admin_url}"))?;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut c).await?;
        c.close().await?;
        let url = edgeward_store::testing::with_database(admin_url, &name);
        Ok(Self { admin_url: admin_url.to_owned(), name, url })
    }

    pub async fn drop_now(self) -> Result<()> {
        let mut c = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut c).await?;
        Ok(())
    }
}

/// Raw durable PostgreSQL commits (one ~600-byte row per transaction) for `seconds` over
/// `connections` concurrent connections: what the server's token creation is compared with.
pub async fn commit_baseline(url: &str, seconds: u64, connections: usize) -> Result<f64> {
    let mut setup = sqlx::PgConnection::connect(url).await?;
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS bench_baseline (id TEXT PRIMARY KEY, v BYTEA NOT NULL)")
        .execute(&mut setup)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            let payload = vec![7u8; 600];
            let mut n = 0u64;
            while Instant::now() < deadline {
                let mut tx = c.begin().await?;
                sqlx::query("INSERT INTO bench_baseline (id, v) VALUES ($1, $2)")
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    sqlx::raw_sql("DROP TABLE bench_baseline").execute(&mut setup).await?;
    Ok(total as f64 / start.elapsed().as_secs_f64())
}
