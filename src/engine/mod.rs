//! The built-in "service": a scheduler thread and worker threads that run queued jobs through
//! [`Transport`]s, using only the public [driver API](crate::JobDriver), so a downloader driving
//! jobs from its own code gets the same guarantees.
//!
//! - [`scheduler`]: one thread; on every change it retries or gives up on jobs in
//!   `TransientError` ([`retry`]) and hands queued jobs to workers by priority ([`policy`]).
//! - [`worker`]: `workers` threads; each claims the job it is given and moves its files in order
//!   through the transport of their scheme ([`sink`] reports `Transferring` and honours the
//!   scheduler's requests to stop).
//! - [`clock`]: the monotonic clock every delay is measured on, injectable for tests.
//!
//! Dropping the [`EngineHandle`] (with the last [`Manager`](crate::Manager) handle) stops the
//! engine: running jobs give their worker back (`Queued`), the threads are joined.

mod clock;
mod policy;
mod retry;
mod scheduler;
mod sink;
mod worker;

pub use clock::{Clock, ClockWaker, ManualClock, SystemClock};

use crate::manager::ManagerCore;
use crate::transport::{LocalTransport, Transport};
use crate::{Job, JobId};
use parking_lot::{Condvar, Mutex};
use policy::Running;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;
use worker::{Stop, StopFlag};

/// Default time slice of a background job when another job of its level waits.
const DEFAULT_TIME_SLICE: Duration = Duration::from_secs(5);
/// Default worker count: sized for a 2-core machine (one background job plus foreground work).
const DEFAULT_WORKERS: usize = 2;
/// How long a job whose claim was refused (another driver holds it) is left alone.
const CLAIM_BACKOFF: Duration = Duration::from_millis(20);
/// How long [`EngineHandle::wait_pass`] waits at most.
const PASS_WAIT_LIMIT: Duration = Duration::from_secs(10);

/// Engine settings, for [`ManagerBuilder::engine_config`](crate::ManagerBuilder::engine_config):
/// worker count, transports, time slice and clock.
///
/// The defaults: 2 workers, the `local` transport (plus `http` with that feature), a 5 s time
/// slice and the [`SystemClock`]. Background jobs (`High`, `Normal`, `Low`) run one fewer at a
/// time than there are workers (at least one), so a worker stays free for `Foreground` jobs,
/// which run alongside them as in BITS.
///
/// ```
/// use bgcopy::*;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let clock = Arc::new(ManualClock::new());
/// let config = EngineConfig::default()
///     .workers(3)
///     .time_slice(Duration::from_secs(2))
///     .clock(clock.clone());
/// let manager = Manager::builder().engine_config(config).build();
/// assert!(manager.has_engine());
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    pub(crate) workers: usize,
    pub(crate) transports: Vec<Arc<dyn Transport>>,
    time_slice: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: DEFAULT_WORKERS,
            transports: vec![
                Arc::new(LocalTransport),
                #[cfg(feature = "http")]
                Arc::new(crate::transport::HttpTransport::new()),
            ],
            time_slice: DEFAULT_TIME_SLICE,
            clock: Arc::new(SystemClock::new()),
        }
    }
}

impl EngineConfig {
    /// Worker threads (default 2; at least 1).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Adds (or, for a scheme already served, replaces) a transport for the schemes it names.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.add_transport(transport);
        self
    }

    /// How long a background job runs before it gives its worker to a waiting job of the same
    /// level (default 5 s; at least 1 ms). A waiting job of a higher level does not wait for it.
    pub fn time_slice(mut self, slice: Duration) -> Self {
        self.time_slice = slice.max(Duration::from_millis(1));
        self
    }

    /// The clock delays are measured on (default [`SystemClock`]); tests use a [`ManualClock`]
    /// to let a retry delay or a no-progress timeout pass at once.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Schemes served beyond the built-in `http`, `https` and `file`, lower case.
    pub(crate) fn extra_schemes(&self) -> Vec<String> {
        let builtin = ["http", "https", "file"];
        let mut schemes: Vec<String> = self
            .transports
            .iter()
            .flat_map(|t| t.schemes().iter().map(|s| s.to_ascii_lowercase()))
            .filter(|s| !builtin.contains(&s.as_str()))
            .collect();
        schemes.sort();
        schemes.dedup();
        schemes
    }

    pub(crate) fn add_transport(&mut self, transport: Arc<dyn Transport>) {
        self.transports.retain(|t| !t.schemes().iter().any(|s| transport.schemes().contains(s)));
        self.transports.push(transport);
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("workers", &self.workers)
            .field("transports", &self.transports)
            .field("time_slice", &self.time_slice)
            .field("clock", &self.clock)
            .finish()
    }
}

/// What the engine threads share.
pub(crate) struct Engine {
    core: Arc<ManagerCore>,
    clock: Arc<dyn Clock>,
    /// Transport per lower-case scheme.
    transports: HashMap<String, Arc<dyn Transport>>,
    time_slice: Duration,
    background_limit: usize,
    /// The caller name of the job handles the engine makes (never used for ownership).
    caller: Arc<str>,
    workers: Mutex<Workers>,
    /// Signalled when a worker is given a job or on shutdown.
    work_cv: Condvar,
    passes: Mutex<Passes>,
    passes_cv: Condvar,
    /// When a worker last failed each job: the clock read just before `JobDriver::fail`.
    failures: Mutex<HashMap<JobId, Duration>>,
}

/// The workers' slots, under one lock (taken briefly; never while holding a job lock).
struct Workers {
    shutdown: bool,
    slots: Vec<Slot>,
    /// Jobs whose last claim failed because an earlier driver (a caller's own) still holds them,
    /// with when that was: not handed out again for [`CLAIM_BACKOFF`], so that a driver kept
    /// alive does not make the engine spin. (Dropping that driver wakes the scheduler anyway.)
    claim_blocked: HashMap<crate::JobId, std::time::Instant>,
}

/// What one worker runs.
struct Slot {
    current: Option<Assignment>,
    /// Set to ask the worker to give its job back; reset when the slot is freed.
    stop: Arc<StopFlag>,
}

/// A job given to a worker.
struct Assignment {
    job: Job,
    running: Running,
}

/// Scheduler passes started and finished (for [`EngineHandle::wait_pass`]).
#[derive(Default)]
struct Passes {
    started: u64,
    finished: u64,
}

impl Engine {
    fn transport_for(&self, scheme: &str) -> Option<&Arc<dyn Transport>> {
        self.transports.get(&scheme.to_ascii_lowercase())
    }

    /// Records that a worker is about to fail job `id` now (see `worker::fail`).
    fn note_failure(&self, id: JobId) {
        let now = self.clock.now();
        self.failures.lock().insert(id, now);
    }

    /// When a worker failed job `id` last, if the scheduler has not taken it yet.
    fn take_failure(&self, id: JobId) -> Option<Duration> {
        self.failures.lock().remove(&id)
    }
}

/// The running engine; dropping it stops and joins the threads.
pub(crate) struct EngineHandle {
    engine: Arc<Engine>,
    threads: Vec<JoinHandle<()>>,
}

impl EngineHandle {
    /// Starts the scheduler and `config.workers` workers for `core`'s jobs. If the system refuses
    /// a thread, the engine runs with the workers it got (without a scheduler thread, nothing
    /// runs, as with [`without_engine`](crate::ManagerBuilder::without_engine)).
    pub(crate) fn start(core: &Arc<ManagerCore>, config: EngineConfig) -> EngineHandle {
        let mut transports = HashMap::new();
        for transport in &config.transports {
            for scheme in transport.schemes() {
                transports.insert(scheme.to_ascii_lowercase(), Arc::clone(transport));
            }
        }
        let workers = config.workers.max(1);
        let slots = (0..workers)
            .map(|_| Slot { current: None, stop: Arc::new(StopFlag::default()) })
            .collect();
        let engine = Arc::new(Engine {
            core: Arc::clone(core),
            clock: Arc::clone(&config.clock),
            transports,
            time_slice: config.time_slice,
            background_limit: workers.saturating_sub(1).max(1),
            caller: Arc::from("bgcopy-engine"),
            workers: Mutex::new(Workers { shutdown: false, slots, claim_blocked: HashMap::new() }),
            work_cv: Condvar::new(),
            passes: Mutex::new(Passes::default()),
            passes_cv: Condvar::new(),
            failures: Mutex::new(HashMap::new()),
        });
        let weak_core = Arc::downgrade(core);
        config
            .clock
            .subscribe(Box::new(move || weak_core.upgrade().map(|core| core.wake()).is_some()));
        let mut threads = Vec::with_capacity(workers + 1);
        for index in 0..workers {
            let shared = Arc::clone(&engine);
            match thread::Builder::new()
                .name(format!("bgcopy-worker-{index}"))
                .spawn(move || worker::work(&shared, index))
            {
                Ok(handle) => threads.push(handle),
                Err(_) => {
                    // Fewer workers: only the slots that have a thread get jobs.
                    engine.workers.lock().slots.truncate(index);
                    break;
                }
            }
        }
        let shared = Arc::clone(&engine);
        if let Ok(handle) = thread::Builder::new()
            .name("bgcopy-scheduler".into())
            .spawn(move || scheduler::schedule(&shared))
        {
            threads.push(handle);
        }
        EngineHandle { engine, threads }
    }

    /// Waits until the scheduler has finished a pass that started after this call (so it saw
    /// every change made before it, including a clock advance), or the engine stopped, or ten
    /// seconds passed.
    pub(crate) fn wait_pass(&self) {
        let engine = &self.engine;
        let target = engine.passes.lock().started + 1;
        engine.core.wake();
        let deadline = std::time::Instant::now() + PASS_WAIT_LIMIT;
        let mut passes = engine.passes.lock();
        while passes.finished < target && std::time::Instant::now() < deadline {
            if engine.workers.lock().shutdown {
                return;
            }
            engine.passes_cv.wait_for(&mut passes, Duration::from_millis(50));
        }
    }

    /// Waits until no worker holds a job (every running transfer has returned), or the engine
    /// stopped, or ten seconds passed.
    pub(crate) fn wait_idle(&self) {
        let engine = &self.engine;
        let deadline = std::time::Instant::now() + PASS_WAIT_LIMIT;
        let mut workers = engine.workers.lock();
        while workers.slots.iter().any(|slot| slot.current.is_some())
            && !workers.shutdown
            && std::time::Instant::now() < deadline
        {
            engine.work_cv.wait_for(&mut workers, Duration::from_millis(50));
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        {
            let mut workers = self.engine.workers.lock();
            workers.shutdown = true;
            for slot in &workers.slots {
                slot.stop.set(Stop::Shutdown);
            }
        }
        self.engine.work_cv.notify_all();
        self.engine.core.wake();
        let me = thread::current().id();
        for handle in self.threads.drain(..) {
            // The last manager handle may be dropped by a transport or callback running on an
            // engine thread; that thread cannot join itself and ends on its own.
            if handle.thread().id() != me {
                let _ = handle.join();
            }
        }
    }
}

impl fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let workers = self.engine.workers.lock();
        f.debug_struct("EngineHandle")
            .field("workers", &workers.slots.len())
            .field("busy", &workers.slots.iter().filter(|s| s.current.is_some()).count())
            .field("shutdown", &workers.shutdown)
            .finish()
    }
}
