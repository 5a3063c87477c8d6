//! The nonces of signed admin requests on PostgreSQL, written in groups.
//!
//! Every signed request records its nonce before it is served, so this is the one write that
//! every admin request makes. Requests that arrive while an insert is on its way to PostgreSQL
//! wait for the next one and go in together: one statement (`INSERT … SELECT FROM UNNEST … ON
//! CONFLICT DO NOTHING RETURNING`) records a whole group and tells each request whether its
//! nonce was new. With one request at a time a group is that request alone; under load a round
//! trip carries many nonces, which on a machine shared with PostgreSQL is most of the cost of a
//! signed read. At most [`IN_FLIGHT`] groups are written at once, each of at most [`MAX_GROUP`].
//!
//! The inserts run on the store's nonce connections, whose commits do not wait for the WAL
//! flush (see `PostgresStore::connect`): a PostgreSQL crash may lose the last few hundred
//! milliseconds of nonces (at most three times `wal_writer_delay`); a restart of PostgreSQL
//! itself takes about as long as that, and the requests concerned are then that much closer to
//! leaving the timestamp window. A nonce acknowledged as new was in a committed insert.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use edgeward_core::Error;

use super::db_err;

/// Most nonces in one insert.
const MAX_GROUP: usize = 256;
/// Most inserts on their way at once.
const IN_FLIGHT: usize = 4;
/// Most requests waiting for a group; beyond it a request waits to join the queue.
const QUEUE: usize = 4096;

/// Records a group of nonces; returns those that were new.
const INSERT_NONCES: &str = "INSERT INTO nonces (client_token, ts, nonce) \
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING \
     RETURNING client_token, ts, nonce";

/// One request's nonce, and where its answer goes.
struct Pending {
    key: NonceKey,
    reply: oneshot::Sender<Result<bool, Error>>,
}

/// A nonce as the table's primary key holds it: client token, timestamp (epoch ms), nonce.
type NonceKey = (String, i64, String);

/// The queue of nonces to record, and the task that writes them. The task stops when the last
/// clone of the store is dropped.
pub(super) struct NonceWriter {
    queue: mpsc::Sender<Pending>,
    task: tokio::task::AbortHandle,
}

impl Drop for NonceWriter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl NonceWriter {
    /// Start the writer on `pool` (the nonce connections).
    pub(super) fn start(pool: PgPool) -> Self {
        let (queue, requests) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_groups(pool, requests)).abort_handle();
        Self { queue, task }
    }

    /// Record a nonce: `true` when it was new, `false` when it was already recorded.
    pub(super) async fn record(&self, client_token: &str, ts: i64, nonce: &str) -> Result<bool, Error> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { key: (client_token.to_owned(), ts, nonce.to_owned()), reply };
        let stopped = || Error::Unavailable("postgres: the nonce writer has stopped".into());
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Take what has queued (up to [`MAX_GROUP`]) and write it as one insert, with at most
/// [`IN_FLIGHT`] inserts on their way.
async fn write_groups(pool: PgPool, mut requests: mpsc::Receiver<Pending>) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = requests.recv().await {
        let mut group = vec![first];
        let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
        // Whatever arrived while waiting for a free slot goes in this group too.
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            write_group(&pool, group).await;
            drop(permit);
        });
    }
}

/// Insert one group and answer each of its requests.
async fn write_group(pool: &PgPool, group: Vec<Pending>) {
    // The same nonce twice in one group: the second is a replay of the first.
    let mut seen = HashSet::with_capacity(group.len());
    let (mut first, mut repeats) = (Vec::with_capacity(group.len()), Vec::new());
    for p in group {
        if seen.insert(p.key.clone()) {
            first.push(p);
        } else {
            repeats.push(p);
        }
    }
    for p in repeats {
        let _ = p.reply.send(Ok(false));
    }
    let tokens: Vec<&str> = first.iter().map(|p| p.key.0.as_str()).collect();
    let times: Vec<i64> = first.iter().map(|p| p.key.1).collect();
    let nonces: Vec<&str> = first.iter().map(|p| p.key.2.as_str()).collect();
    let inserted: Result<Vec<NonceKey>, Error> =
        sqlx::query_as(INSERT_NONCES).bind(&tokens).bind(&times).bind(&nonces).fetch_all(pool).await.map_err(db_err);
    match inserted {
        Ok(rows) => {
            let new: HashSet<NonceKey> = rows.into_iter().collect();
            for p in first {
                let _ = p.reply.send(Ok(new.contains(&p.key)));
            }
        }
        Err(e) => {
            for p in first {
                let _ = p.reply.send(Err(e.clone()));
            }
        }
    }
}
