//! [`Manager`]: the job registry (ids to shared jobs), creation, lookup and enumeration, plus the
//! engine it starts. [`ManagerBuilder`] configures limits, owner, engine and transports.

use crate::engine::{EngineConfig, EngineHandle};
use crate::job::{validate, JobShared};
use crate::notify::Notifier;
use crate::transport::Transport;
use crate::{BackgroundCopyJob, BackgroundCopyManager, BgError, BgJobType, Job, JobId, Result};
use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Job limits of a manager; the defaults are the BITS policy defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) jobs_per_owner: u32,
    pub(crate) jobs_per_manager: u32,
    pub(crate) files_per_job: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { jobs_per_owner: 60, jobs_per_manager: 300, files_per_job: 200 }
    }
}

/// What a manager shares with its jobs and its engine.
pub(crate) struct ManagerCore {
    registry: Mutex<Registry>,
    pub(crate) limits: Limits,
    pub(crate) notifier: Arc<Notifier>,
    /// URL schemes beyond http, https and file that registered transports serve (lower case).
    pub(crate) schemes: Vec<String>,
    /// Bumped (and the engine woken) whenever something matters to scheduling.
    signal: Mutex<u64>,
    signal_cv: Condvar,
}

#[derive(Default)]
struct Registry {
    jobs: HashMap<JobId, Arc<JobShared>>,
    /// The owner of each registered job, as the registry counts it (kept here so that counting
    /// never takes a job lock: the lock order is registry, then job).
    owner_of: HashMap<JobId, Arc<str>>,
    /// How many registered jobs each owner has (for the jobs-per-owner limit in O(1)).
    per_owner: HashMap<Arc<str>, u32>,
    next_seq: u64,
}

impl Registry {
    fn count(&mut self, owner: &Arc<str>, up: bool) {
        let count = self.per_owner.entry(Arc::clone(owner)).or_insert(0);
        if up {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_owner.remove(owner);
            }
        }
    }

    fn owned_by(&self, owner: &str) -> u32 {
        self.per_owner.get(owner).copied().unwrap_or(0)
    }
}

impl ManagerCore {
    /// Removes a job that reached a final state.
    pub(crate) fn remove(&self, id: JobId) {
        let mut registry = self.registry.lock();
        registry.jobs.remove(&id);
        if let Some(owner) = registry.owner_of.remove(&id) {
            registry.count(&owner, false);
        }
    }

    /// A job changed owner (`take_ownership`). Call without the job lock.
    pub(crate) fn set_owner(&self, id: JobId, owner: &Arc<str>) {
        let mut registry = self.registry.lock();
        let Some(old) = registry.owner_of.get(&id).cloned() else { return };
        if *old != **owner {
            registry.count(&old, false);
            registry.count(owner, true);
            registry.owner_of.insert(id, Arc::clone(owner));
        }
    }

    /// Wakes the engine: a job was queued, suspended, cancelled, re-prioritised, or a claim ended.
    pub(crate) fn wake(&self) {
        *self.signal.lock() += 1;
        self.signal_cv.notify_all();
    }

    /// The current wake-up count (to wait for a change after reading it).
    pub(crate) fn signal_count(&self) -> u64 {
        *self.signal.lock()
    }

    /// Waits until the wake-up count differs from `seen` or `timeout` passes.
    pub(crate) fn wait_signal(&self, seen: u64, timeout: std::time::Duration) {
        let mut count = self.signal.lock();
        if *count == seen {
            let _ = self.signal_cv.wait_for(&mut count, timeout);
        }
    }

    /// Every job in the registry, in creation order.
    pub(crate) fn jobs(&self) -> Vec<Arc<JobShared>> {
        let mut jobs: Vec<_> = self.registry.lock().jobs.values().cloned().collect();
        jobs.sort_by_key(|job| job.seq);
        jobs
    }
}

/// The job queue: creates, finds and lists jobs (`IBackgroundCopyManager`), and runs them.
///
/// `Manager::new()` starts the engine (worker threads that transfer queued jobs); use
/// [`Manager::builder`] to configure it or to run without one. Handles are cheap clones; when the
/// last handle is dropped the engine threads stop (jobs not yet finished stay where they are; their
/// handles keep working but nothing transfers them). Two managers are independent.
///
/// ```
/// use bgcopy::*;
/// let manager = Manager::builder().without_engine().max_jobs_per_owner(2).build();
/// let job = manager.create_job("first", BgJobType::Download)?;
/// assert_eq!(manager.get_job(job.get_id())?.get_display_name(), "first");
/// manager.create_job("second", BgJobType::Download)?;
/// let err = manager.create_job("third", BgJobType::Download).unwrap_err();
/// assert_eq!(err.hresult(), hresult::BG_E_TOO_MANY_JOBS_PER_USER);
/// # Ok::<(), BgError>(())
/// ```
#[derive(Clone)]
pub struct Manager {
    pub(crate) core: Arc<ManagerCore>,
    owner: Arc<str>,
    engine: Option<Arc<EngineHandle>>,
}

impl Manager {
    /// A manager with the engine running and the default transports (`local`, plus `http` with the
    /// `http` feature), owned by the current user.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Manager {
        Manager::builder().build()
    }

    /// A builder to configure workers, transports, limits, owner, or to run without an engine.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// The owner this handle acts as; jobs it creates belong to this owner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// A handle on the same manager acting as another owner (as an administrator may): it sees the
    /// same jobs through `get_job`, lists that owner's jobs in `enum_jobs`, creates jobs for that
    /// owner, and `take_ownership()` on a job obtained through it makes that owner the job's owner.
    pub fn as_owner(&self, owner: &str) -> Manager {
        Manager { core: Arc::clone(&self.core), owner: owner.into(), engine: self.engine.clone() }
    }

    /// Every job of every owner (`EnumJobs` with `BG_JOB_ENUM_ALL_USERS`), in creation order.
    pub fn enum_all_jobs(&self) -> Vec<Job> {
        self.core.jobs().into_iter().map(|shared| self.handle(shared)).collect()
    }

    /// Whether this manager runs an engine.
    pub fn has_engine(&self) -> bool {
        self.engine.is_some()
    }

    /// Test hook: waits until the engine's scheduler has looked at every job once after this
    /// call (for example after advancing a [`ManualClock`](crate::ManualClock)), at most ten
    /// seconds. Returns at once without an engine. Not part of the stable API.
    #[doc(hidden)]
    pub fn wait_engine_pass(&self) {
        if let Some(engine) = &self.engine {
            engine.wait_pass();
        }
    }

    /// Test hook: waits until no engine worker holds a job (every running transfer returned, for
    /// example after a suspend), at most ten seconds. Not part of the stable API.
    #[doc(hidden)]
    pub fn wait_engine_idle(&self) {
        if let Some(engine) = &self.engine {
            engine.wait_idle();
        }
    }

    fn handle(&self, shared: Arc<JobShared>) -> Job {
        Job { shared, caller: Arc::clone(&self.owner) }
    }
}

impl BackgroundCopyManager for Manager {
    type Job = Job;

    fn create_job(&self, display_name: &str, job_type: BgJobType) -> Result<Job> {
        validate::display_name_for_create(display_name)?;
        if job_type != BgJobType::Download {
            return Err(BgError::NotImplemented("only download jobs are supported"));
        }
        let limits = self.core.limits;
        let mut registry = self.core.registry.lock();
        if registry.jobs.len() >= limits.jobs_per_manager as usize {
            return Err(BgError::TooManyJobsPerMachine { limit: limits.jobs_per_manager });
        }
        if registry.owned_by(&self.owner) >= limits.jobs_per_owner {
            return Err(BgError::TooManyJobsPerUser { limit: limits.jobs_per_owner });
        }
        let id = loop {
            let id = JobId::new_random();
            if !registry.jobs.contains_key(&id) {
                break id;
            }
        };
        let seq = registry.next_seq;
        registry.next_seq += 1;
        let shared = Arc::new(JobShared::new(
            id,
            seq,
            display_name,
            &self.owner,
            Arc::downgrade(&self.core),
            Arc::clone(&self.core.notifier),
            limits.files_per_job,
        ));
        registry.jobs.insert(id, Arc::clone(&shared));
        registry.owner_of.insert(id, Arc::clone(&self.owner));
        registry.count(&self.owner, true);
        Ok(self.handle(shared))
    }

    fn get_job(&self, id: JobId) -> Result<Job> {
        let shared = self.core.registry.lock().jobs.get(&id).cloned().ok_or(BgError::NotFound)?;
        let job = self.handle(shared);
        if job.get_state().is_final() {
            return Err(BgError::NotFound);
        }
        Ok(job)
    }

    fn enum_jobs(&self) -> Vec<Job> {
        self.core
            .jobs()
            .into_iter()
            .filter(|job| !job.counters.state().is_final() && job.inner.lock().owner == *self.owner)
            .map(|shared| self.handle(shared))
            .collect()
    }

    fn get_error_description(&self, hresult: u32) -> Result<String> {
        crate::hresult::description(hresult).ok_or(BgError::NoDescription { hresult })
    }
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("owner", &self.owner)
            .field("jobs", &self.core.registry.lock().jobs.len())
            .field("engine", &self.engine.is_some())
            .finish()
    }
}

/// Configures a [`Manager`]: limits, owner, engine workers and transports.
///
/// ```
/// use bgcopy::*;
/// let manager = Manager::builder()
///     .owner("backup-service")
///     .max_files_per_job(10)
///     .workers(4)
///     .build();
/// assert_eq!(manager.owner(), "backup-service");
/// ```
pub struct ManagerBuilder {
    limits: Limits,
    owner: Option<String>,
    engine: Option<EngineConfig>,
}

impl Default for ManagerBuilder {
    fn default() -> Self {
        ManagerBuilder {
            limits: Limits::default(),
            owner: None,
            engine: Some(EngineConfig::default()),
        }
    }
}

impl ManagerBuilder {
    /// Jobs one owner may have at once (default 60, `BG_E_TOO_MANY_JOBS_PER_USER` past it).
    pub fn max_jobs_per_owner(mut self, limit: u32) -> Self {
        self.limits.jobs_per_owner = limit;
        self
    }

    /// Jobs the manager may hold at once, all owners together (default 300,
    /// `BG_E_TOO_MANY_JOBS_PER_MACHINE` past it).
    pub fn max_jobs(mut self, limit: u32) -> Self {
        self.limits.jobs_per_manager = limit;
        self
    }

    /// Files one job may hold (default 200, `BG_E_TOO_MANY_FILES_IN_JOB` past it).
    pub fn max_files_per_job(mut self, limit: u32) -> Self {
        self.limits.files_per_job = limit;
        self
    }

    /// The owner of the jobs this manager creates (default: the `USER` or `USERNAME` environment
    /// variable, else `"unknown"`).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// No engine: jobs only move when a driver (your own code, through [`Job::claim`]) moves them.
    pub fn without_engine(mut self) -> Self {
        self.engine = None;
        self
    }

    /// Engine worker threads (default 2: sized for a 2-core machine; at least 1). Turns the engine
    /// back on if [`without_engine`](Self::without_engine) was called.
    pub fn workers(mut self, workers: usize) -> Self {
        self.engine.get_or_insert_with(EngineConfig::default).workers = workers.max(1);
        self
    }

    /// Adds (or, for a scheme already served, replaces) a transport for the schemes it names.
    /// Turns the engine back on if it was off.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.engine.get_or_insert_with(EngineConfig::default).add_transport(transport);
        self
    }

    /// Engine settings beyond the common ones (time slice, clock); see [`EngineConfig`]. Replaces
    /// the engine settings made so far (call it before [`workers`](Self::workers) and
    /// [`transport`](Self::transport)).
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.engine = Some(config);
        self
    }

    /// Builds the manager and starts its engine (if enabled).
    pub fn build(self) -> Manager {
        let owner = self.owner.unwrap_or_else(default_owner);
        let core = Arc::new(ManagerCore {
            registry: Mutex::new(Registry::default()),
            limits: self.limits,
            notifier: Notifier::new(),
            schemes: self.engine.as_ref().map(EngineConfig::extra_schemes).unwrap_or_default(),
            signal: Mutex::new(0),
            signal_cv: Condvar::new(),
        });
        let engine = self.engine.map(|config| Arc::new(EngineHandle::start(&core, config)));
        Manager { core, owner: owner.into(), engine }
    }
}

impl fmt::Debug for ManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerBuilder")
            .field("limits", &self.limits)
            .field("owner", &self.owner)
            .field("engine", &self.engine)
            .finish()
    }
}

fn default_owner() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
