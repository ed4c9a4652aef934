//! The built-in "service": a scheduler thread and worker threads that run queued jobs through
//! [`Transport`]s. It moves jobs through the [driver API](crate::JobDriver) (claims, file
//! transfers, failures), so a downloader driving jobs from its own code gets the same guarantees;
//! beside it, it reads what the scheduler and workers need of the job model inside the crate (a
//! file's protocol, a job's creation order, its retry deadlines and handles made from its state).
//!
//! - [`scheduler`]: one thread; on every change it retries or gives up on jobs in
//!   `TransientError` ([`retry`]) and hands queued jobs to workers by priority ([`policy`]).
//! - [`worker`]: `workers` threads; each claims the job it is given and moves its files in order
//!   through the transport of their scheme ([`sink`] reports `Transferring` and honours the
//!   scheduler's requests to stop, [`stop`]).
//!
//! The engine finds jobs in the manager's registry and waits on the registry's signal; it knows
//! nothing of the manager. [`EngineHandle::stop`] asks the threads to stop without waiting for
//! them (running jobs give their worker back, `Queued`); [`EngineHandle::join`] waits for them,
//! at most a given time.

mod download_time;
mod on_demand;
mod policy;
mod ranged;
mod ranged_segments;
mod retry;
mod scheduler;
mod sink;
mod sources;
mod stop;
mod worker;

pub(crate) use crate::clock::{Clock, SystemClock};

use crate::job::{JobShared, Keepalive};
use crate::registry::Registry;
use crate::transport::Transport;
use crate::{Job, JobId};
use parking_lot::{Condvar, Mutex};
use policy::Running;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use stop::{Stop, StopFlag};

/// Default time slice of a background job when another job of its level waits.
pub(crate) const DEFAULT_TIME_SLICE: Duration = Duration::from_secs(5);
/// How long a job whose claim was refused (another driver holds it) is left alone.
const CLAIM_BACKOFF: Duration = Duration::from_millis(20);
/// How long [`EngineHandle::wait_pass`] waits at most.
const PASS_WAIT_LIMIT: Duration = Duration::from_secs(10);

/// The default worker count: one per core the process may use, at least 2 (one background job
/// plus room for foreground work) and at most 8 (transfers wait on the network and the disk, not
/// on the CPU, and each worker is a thread).
pub(crate) fn default_workers() -> usize {
    thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8)
}

/// What the engine runs with (set on the [`ManagerBuilder`](crate::ManagerBuilder)).
#[derive(Clone)]
pub(crate) struct EngineSettings {
    pub(crate) workers: usize,
    pub(crate) transports: Vec<Arc<dyn Transport>>,
    pub(crate) time_slice: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// The network-cost source (DESIGN 6.3).
    pub(crate) network_cost: Arc<dyn crate::NetworkCost>,
    /// The cache host (`host[:port]`) and its fallback delay (DESIGN 6.2).
    pub(crate) cache_host: Option<(String, Duration)>,
}

impl fmt::Debug for EngineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSettings")
            .field("workers", &self.workers)
            .field("transports", &self.transports)
            .field("time_slice", &self.time_slice)
            .field("clock", &self.clock)
            .field("network_cost", &self.network_cost)
            .field("cache_host", &self.cache_host)
            .finish()
    }
}

/// What the engine threads share.
pub(crate) struct Engine {
    registry: Arc<Registry<JobShared>>,
    clock: Arc<dyn Clock>,
    /// The network-cost source jobs' `CostFlags` are checked against.
    network_cost: Arc<dyn crate::NetworkCost>,
    /// Transport per lower-case scheme.
    transports: HashMap<String, Arc<dyn Transport>>,
    time_slice: Duration,
    /// The cache host and its fallback delay.
    cache_host: Option<(String, Duration)>,
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
    /// Threads started and threads ended (for [`EngineHandle::join`]).
    threads: Mutex<(usize, usize)>,
    threads_cv: Condvar,
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
    /// A handle for the engine's own use: it does not keep the engine running.
    fn handle(&self, shared: Arc<JobShared>) -> Job {
        Job::from_parts(shared, Arc::clone(&self.caller), Keepalive::default())
    }

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

/// The running engine; dropping it stops the threads without waiting for them.
pub(crate) struct EngineHandle {
    engine: Arc<Engine>,
}

/// Counts a thread as ended when it returns (or unwinds).
struct ThreadEnd(Arc<Engine>);

impl Drop for ThreadEnd {
    fn drop(&mut self) {
        self.0.threads.lock().1 += 1;
        self.0.threads_cv.notify_all();
    }
}

impl EngineHandle {
    /// Starts the scheduler and `settings.workers` workers for the jobs of `registry`. If the
    /// system refuses a thread, the engine runs with the workers it got (without a scheduler
    /// thread, nothing runs, as without an engine).
    pub(crate) fn start(
        registry: &Arc<Registry<JobShared>>,
        settings: EngineSettings,
    ) -> EngineHandle {
        let mut transports = HashMap::new();
        for transport in &settings.transports {
            for scheme in transport.schemes() {
                transports.insert(scheme.to_ascii_lowercase(), Arc::clone(transport));
            }
        }
        let workers = settings.workers.max(1);
        let slots = (0..workers)
            .map(|_| Slot { current: None, stop: Arc::new(StopFlag::default()) })
            .collect();
        let engine = Arc::new(Engine {
            registry: Arc::clone(registry),
            clock: Arc::clone(&settings.clock),
            network_cost: Arc::clone(&settings.network_cost),
            transports,
            time_slice: settings.time_slice,
            cache_host: settings.cache_host.clone(),
            background_limit: workers.saturating_sub(1).max(1),
            caller: Arc::from("bgcopy-engine"),
            workers: Mutex::new(Workers { shutdown: false, slots, claim_blocked: HashMap::new() }),
            work_cv: Condvar::new(),
            passes: Mutex::new(Passes::default()),
            passes_cv: Condvar::new(),
            failures: Mutex::new(HashMap::new()),
            threads: Mutex::new((0, 0)),
            threads_cv: Condvar::new(),
        });
        let weak = Arc::downgrade(registry);
        settings.clock.subscribe(Box::new(move || {
            weak.upgrade().map(|registry| registry.signal().wake()).is_some()
        }));
        let spawn = |name: String, body: Box<dyn FnOnce(&Engine) + Send>| {
            let end = ThreadEnd(Arc::clone(&engine));
            let spawned = thread::Builder::new().name(name).spawn(move || {
                let end = end;
                body(&end.0);
            });
            if spawned.is_ok() {
                engine.threads.lock().0 += 1;
            }
            spawned.is_ok()
        };
        for index in 0..workers {
            if !spawn(format!("bgcopy-worker-{index}"), Box::new(move |e| worker::work(e, index))) {
                // Fewer workers: only the slots that have a thread get jobs.
                engine.workers.lock().slots.truncate(index);
                break;
            }
        }
        spawn("bgcopy-scheduler".into(), Box::new(scheduler::schedule));
        EngineHandle { engine }
    }

    /// Asks every thread to stop (a running transfer stops at its next step and its job goes back
    /// to `Queued`); returns at once.
    pub(crate) fn stop(&self) {
        {
            let mut workers = self.engine.workers.lock();
            workers.shutdown = true;
            for slot in &workers.slots {
                slot.stop.set(Stop::Shutdown);
            }
        }
        self.engine.work_cv.notify_all();
        self.engine.registry.signal().wake();
    }

    /// Waits until every engine thread has ended, at most `timeout`; whether they all did.
    /// Call [`stop`](Self::stop) first.
    pub(crate) fn join(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut threads = self.engine.threads.lock();
        while threads.1 < threads.0 {
            match deadline {
                None => self.engine.threads_cv.wait(&mut threads),
                Some(deadline) => {
                    if self.engine.threads_cv.wait_until(&mut threads, deadline).timed_out() {
                        return threads.1 >= threads.0;
                    }
                }
            }
        }
        true
    }

    /// Waits until the scheduler has finished a pass that started after this call (so it saw
    /// every change made before it, including a clock advance), or the engine stopped, or ten
    /// seconds passed.
    #[cfg_attr(not(feature = "_test-hooks"), allow(dead_code))]
    pub(crate) fn wait_pass(&self) {
        let engine = &self.engine;
        let target = engine.passes.lock().started + 1;
        engine.registry.signal().wake();
        let deadline = Instant::now() + PASS_WAIT_LIMIT;
        let mut passes = engine.passes.lock();
        while passes.finished < target && Instant::now() < deadline {
            if engine.workers.lock().shutdown {
                return;
            }
            engine.passes_cv.wait_for(&mut passes, Duration::from_millis(50));
        }
    }

    /// Waits until no worker holds a job (every running transfer has returned), or the engine
    /// stopped, or ten seconds passed.
    #[cfg_attr(not(feature = "_test-hooks"), allow(dead_code))]
    pub(crate) fn wait_idle(&self) {
        let engine = &self.engine;
        let deadline = Instant::now() + PASS_WAIT_LIMIT;
        let mut workers = engine.workers.lock();
        while workers.slots.iter().any(|slot| slot.current.is_some())
            && !workers.shutdown
            && Instant::now() < deadline
        {
            engine.work_cv.wait_for(&mut workers, Duration::from_millis(50));
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        // Never waits: the last handle may be dropped on an async executor's thread, or by a
        // callback or transport running on an engine thread. The threads end on their own.
        self.stop();
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_worker_count_comes_from_the_machine_within_bounds() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(super::default_workers(), cores.clamp(2, 8));
    }
}
