//! The data plane's threads: one single-threaded tokio runtime per thread (`data_plane.threads`).
//!
//! A cached data-plane request costs little next to what the multi-thread runtime spends on it,
//! its workers parking and waking each other. So the data-plane listeners' accept loops (which
//! run on the main runtime, with every other listener and the background tasks) hand each
//! connection they accept to one of these threads, in turn ([`WorkerHandles::next`]); the
//! connection is registered with that thread's reactor and stays there, with every task its
//! requests spawn. The accept loop still owns the connection's task (its `JoinSet`), its permit
//! and its stop signal, so limits and the graceful drain are those of every listener
//! ([`crate::listen`]).
//!
//! [`DataPlaneWorkers::shutdown`] ends the threads once the listeners have drained, and joins
//! them. Dropping a [`DataPlaneWorkers`] (a server dropped without shutdown) tells them to stop
//! too: each drops its runtime, with whatever tasks it still held, and ends on its own.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// One data-plane thread: how to stop it, and how to know it has ended.
struct Worker {
    /// Dropping or sending ends the thread's runtime.
    stop: oneshot::Sender<()>,
    /// Resolves (with an error: its sender is dropped) when the thread has dropped its runtime.
    ended: oneshot::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

/// The running data-plane threads, each with its own `current_thread` runtime.
pub struct DataPlaneWorkers {
    workers: Vec<Worker>,
    handles: WorkerHandles,
}

/// The data-plane threads' runtimes, handed out in turn; cheap to clone (the listeners share one
/// turn, so that a production and a staging listener spread their connections together).
#[derive(Clone, Debug)]
pub struct WorkerHandles {
    handles: Arc<[Handle]>,
    turn: Arc<AtomicUsize>,
}

impl WorkerHandles {
    /// The runtime of the thread whose turn it is.
    pub fn next(&self) -> &Handle {
        let i = self.turn.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        &self.handles[i]
    }

    /// How many threads there are.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Never: a pool has at least one thread.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}

impl DataPlaneWorkers {
    /// Start `threads` threads (at least one), named `edgeward-data-0`, `edgeward-data-1`, …,
    /// each running its own runtime until [`Self::shutdown`] or drop.
    pub async fn start(threads: usize) -> io::Result<Self> {
        let mut workers = Vec::with_capacity(threads.max(1));
        let mut handles = Vec::with_capacity(threads.max(1));
        for i in 0..threads.max(1) {
            let (worker, handle) = start_one(i).await?;
            workers.push(worker);
            handles.push(handle);
        }
        Ok(Self { workers, handles: WorkerHandles { handles: handles.into(), turn: Arc::new(AtomicUsize::new(0)) } })
    }

    /// The threads' runtimes, for the accept loops.
    pub fn handles(&self) -> WorkerHandles {
        self.handles.clone()
    }

    /// Stop every thread and wait until each has ended. Call it once the listeners that hand
    /// connections to these threads have drained: tasks still on a thread are dropped.
    pub async fn shutdown(self) {
        for worker in self.workers {
            let _ = worker.stop.send(());
            let _ = worker.ended.await;
            // The thread has dropped its runtime and is returning: this join does not wait.
            if worker.thread.join().is_err() {
                tracing::warn!("a data-plane thread panicked");
            }
        }
    }
}

/// Start thread `i` and wait until its runtime is built.
async fn start_one(i: usize) -> io::Result<(Worker, Handle)> {
    let name = format!("edgeward-data-{i}");
    let (ready_tx, ready) = oneshot::channel::<io::Result<Handle>>();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let (ended_tx, ended) = oneshot::channel::<()>();
    let blocking_name = format!("{name}-blocking");
    // The runtime is built on its own thread: one that failed to start would otherwise be
    // dropped here, inside the main runtime, where dropping a runtime panics.
    let thread = std::thread::Builder::new().name(name).spawn(move || {
        let _ended = ended_tx;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().thread_name(blocking_name).build();
        let runtime = match runtime {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        if ready_tx.send(Ok(runtime.handle().clone())).is_err() {
            return;
        }
        // Sent or dropped, the stop ends the runtime.
        runtime.block_on(async move {
            let _ = stop_rx.await;
        });
        drop(runtime);
    })?;
    let handle = match ready.await {
        Ok(Ok(handle)) => handle,
        Ok(Err(e)) => {
            let _ = thread.join();
            return Err(e);
        }
        Err(_) => {
            let _ = thread.join();
            return Err(io::Error::other("a data-plane thread ended before its runtime was built"));
        }
    };
    Ok((Worker { stop, ended, thread }, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn threads_take_turns_and_end_at_shutdown() {
        let workers = DataPlaneWorkers::start(2).await.unwrap();
        let handles = workers.handles();
        assert_eq!(handles.len(), 2);
        let mut names = Vec::new();
        for _ in 0..4 {
            let name = handles
                .next()
                .spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
                .unwrap();
            names.push(name);
        }
        assert_eq!(names, ["edgeward-data-0", "edgeward-data-1", "edgeward-data-0", "edgeward-data-1"]);
        let first = handles.next().clone();
        workers.shutdown().await;
        // The runtimes are gone: a task handed to one now is cancelled, not run.
        assert!(first.spawn(async {}).await.unwrap_err().is_cancelled());
    }

    #[tokio::test]
    async fn zero_threads_means_one() {
        let workers = DataPlaneWorkers::start(0).await.unwrap();
        assert_eq!(workers.handles().len(), 1);
        workers.shutdown().await;
    }
}
