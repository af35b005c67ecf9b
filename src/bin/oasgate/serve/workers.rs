//! The threads that serve connections, one single-threaded runtime each.
//!
//! A connection is handed to one worker when it is accepted and stays there until it closes,
//! with everything its requests start: hyper's tasks, the upstream connections of that
//! worker's own pool (see `upstream::Pool`), their timers. A proxied request wakes the client
//! side, the layer and the upstream side on one thread, through that thread's own queue,
//! instead of through a shared, work-stealing runtime where each side may wake on another
//! thread; the gateway's user CPU per request fell by about a quarter (docs/performance.md, "One
//! runtime per worker"). The cost: a worker busy with a heavy request does not give its other
//! connections away, so connections are placed on the worker with the fewest open.

use std::cell::Cell;
use std::future::Future;
use std::num::NonZero;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

thread_local! {
    /// This thread's place among the workers; 0 on any other thread.
    static INDEX: Cell<usize> = const { Cell::new(0) };
}

/// The worker running the calling code (0 off the workers), to pick its share of a
/// per-worker resource.
pub fn index() -> usize {
    INDEX.with(Cell::get)
}

/// How many workers `server.workers` asks for: one per core the process may use (a CPU limit
/// counts) when it is not set.
pub fn count(configured: Option<usize>) -> usize {
    configured.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZero::get))
}

struct Worker {
    handle: Handle,
    /// Connections open on this worker, to place the next one.
    open: Arc<AtomicUsize>,
    /// Dropped to stop the worker: its runtime then ends with what still runs on it.
    _stop: oneshot::Sender<()>,
}

/// The running workers; dropping them stops their threads.
pub struct Workers {
    workers: Vec<Worker>,
    /// Where the search for the least busy worker starts, turning so that ties spread.
    next: usize,
}

impl Workers {
    /// Starts `count` worker threads (at least one).
    pub fn start(count: usize) -> std::io::Result<Self> {
        let mut workers = Vec::with_capacity(count.max(1));
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("oasgate-worker-{index}"))
                .spawn(move || {
                    INDEX.with(|place| place.set(index));
                    // Runs the connections spawned onto it until the sender is dropped.
                    let _ = runtime.block_on(stopped);
                })?;
            workers.push(Worker {
                handle,
                open: Arc::new(AtomicUsize::new(0)),
                _stop: stop,
            });
        }
        Ok(Self { workers, next: 0 })
    }

    /// How many workers run.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Runs `connection` on the worker with the fewest open connections.
    pub fn spawn<F>(&mut self, connection: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let count = self.workers.len();
        let start = self.next;
        self.next = (start + 1) % count;
        let chosen = (0..count)
            .map(|offset| &self.workers[(start + offset) % count])
            .min_by_key(|worker| worker.open.load(Ordering::Relaxed))
            .expect("there is at least one worker");
        let open = chosen.open.clone();
        open.fetch_add(1, Ordering::Relaxed);
        chosen.handle.spawn(async move {
            let _closed = Closed(open);
            connection.await;
        });
    }
}

/// Counts a connection out however its task ends (finished, or dropped with its runtime).
struct Closed(Arc<AtomicUsize>);

impl Drop for Closed {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// A connection's task runs on a worker thread, which knows its place; connections go to
    /// the least busy worker.
    #[test]
    fn places_connections_on_the_least_busy_worker() {
        let mut workers = Workers::start(2).expect("two workers start");
        assert_eq!(workers.len(), 2);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release, released) = tokio::sync::watch::channel(false);
        let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..4 {
            let (seen, started) = (seen.clone(), started.clone());
            let mut released = released.clone();
            workers.spawn(async move {
                let name = std::thread::current().name().map(str::to_owned);
                seen.lock().unwrap().push((index(), name));
                let _ = started.send(());
                // Held open until released, so the next placement sees it.
                let _ = released.wait_for(|done| *done).await;
            });
            starts
                .blocking_recv()
                .expect("the connection's task started");
        }
        let seen = seen.lock().unwrap().clone();
        let on = |place: usize| seen.iter().filter(|(index, _)| *index == place).count();
        assert_eq!((on(0), on(1)), (2, 2), "{seen:?}");
        for (index, name) in &seen {
            assert_eq!(
                name.as_deref(),
                Some(format!("oasgate-worker-{index}").as_str())
            );
        }
        release.send(true).unwrap();
        // Once closed, both are free again: the counts went back down.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while workers
            .workers
            .iter()
            .any(|w| w.open.load(Ordering::Relaxed) != 0)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "connections not counted out"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(index(), 0, "the test's own thread is no worker");
    }
}
