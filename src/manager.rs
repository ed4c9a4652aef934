//! [`Manager`]: creates, finds and lists jobs, and runs the service behind them (the engine,
//! the store and its checkpointer); [`ManagerBuilder`] configures limits, owner, engine,
//! transports, schemes and store. The top layer: it wires the registry, the jobs' context, the
//! restored jobs, the engine and the store together. Everything about the store compiles only
//! with the `store` feature.

use crate::engine::{
    Clock, DEFAULT_TIME_SLICE, EngineHandle, EngineSettings, SystemClock, default_workers,
};
#[cfg(feature = "store")]
use crate::job::record::recorder::Persist;
use crate::job::record::snapshot::JobSnapshot;
use crate::job::{JobContext, JobShared, Keepalive, Schemes, validate};
use crate::limit::Limiter;
use crate::registry::{JobLimits, Membership, Registry};
#[cfg(feature = "store")]
use crate::store::checkpoint::{self, Checkpointer};
#[cfg(feature = "store")]
use crate::store::{ReadOnly, Store, StoreOptions, recover};
use crate::transport::{LocalTransport, Transport};
use crate::{
    BackgroundCopyFile, BackgroundCopyJob, BackgroundCopyManager, BgError, BgFileInfo, BgJobType,
    Job, JobId, Result, Subscription,
};
use parking_lot::Mutex;
use std::any::Any;
use std::fmt;
use std::path::Path;
#[cfg(feature = "store")]
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;
#[cfg(feature = "store")]
use std::time::SystemTime;

/// Default files per job (the BITS policy default).
const DEFAULT_FILES_PER_JOB: u32 = 200;
/// Default retention of untouched jobs in a store: 90 days, BITS's `JobInactivityTimeout`.
#[cfg(feature = "store")]
const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// What every handle of a manager keeps running: the engine, and the store with its
/// checkpointer. Dropped with the last handle of any kind ([`Manager`], [`Job`],
/// [`JobFile`](crate::JobFile), [`JobError`](crate::JobError), a pending
/// [`JobSettled`](crate::JobSettled), a [`Subscription`]); its drop asks the engine and the
/// checkpointer to stop without waiting for them, and releases the store at once.
struct Service {
    engine: Mutex<Option<EngineHandle>>,
    #[cfg(feature = "store")]
    store: Option<Arc<Store>>,
    #[cfg(feature = "store")]
    checkpointer: Option<Checkpointer>,
    /// Records of the store that could not be read when it was opened.
    unreadable: Vec<UnreadableJob>,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(engine) = self.engine.get_mut().take() {
            engine.stop();
        }
        #[cfg(feature = "store")]
        {
            if let Some(checkpointer) = &self.checkpointer {
                checkpointer.stop(false);
            }
            // The store's lock is released now, so that the store can be opened again at once.
            if let Some(store) = &self.store {
                store.close();
            }
        }
    }
}

/// A record of the store that could not be read when it was opened: it is left in the store as
/// it is (a later bgcopy may read it), and the other jobs are restored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnreadableJob {
    /// The job's id, if the record's key is one.
    pub id: Option<JobId>,
    /// Why it could not be read.
    pub reason: String,
}

/// The job queue: creates, finds and lists jobs (`IBackgroundCopyManager`), and runs them.
///
/// `Manager::new()` starts the engine (worker threads that transfer queued jobs); use
/// [`Manager::builder`] to configure it or to run without one. Handles are cheap clones. The
/// engine runs while any handle of the manager or of one of its jobs, files or errors exists (a
/// job never waits in `Queued` because the `Manager` value was dropped); it stops when the last
/// one is gone, without blocking that drop, or at once with [`shutdown`](Manager::shutdown).
/// Two managers are independent.
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
    registry: Arc<Registry<JobShared>>,
    ctx: Arc<JobContext>,
    owner: Arc<str>,
    service: Arc<Service>,
}

impl Default for Manager {
    /// The same as [`Manager::new`].
    fn default() -> Self {
        Manager::new()
    }
}

impl Manager {
    /// A manager with the engine running and the default transports (`local`, plus `http` with the
    /// `http` feature), owned by the current user.
    pub fn new() -> Manager {
        Manager::builder().build()
    }

    /// A builder to configure workers, transports, limits, owner, or to run without an engine.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// Caps all the jobs of this manager together at `limit` body bytes per second (`None`: no
    /// cap), from the next grant on: running transfers slow down or speed up at once. The same
    /// cap as [`ManagerBuilder::max_bytes_per_second`], which sets it at the start; it is a
    /// setting of this manager, not of a job, so the store does not keep it.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// assert_eq!(manager.get_max_bytes_per_second(), None);
    /// manager.set_max_bytes_per_second(Some(4 << 20))?;
    /// assert_eq!(manager.get_max_bytes_per_second(), Some(4 << 20));
    /// assert_eq!(manager.set_max_bytes_per_second(Some(0)).unwrap_err().hresult(), hresult::E_INVALIDARG);
    /// manager.set_max_bytes_per_second(None)?;
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Errors
    /// [`BgError::InvalidArgument`] (`E_INVALIDARG`) for `Some(0)`; the cap is then unchanged.
    pub fn set_max_bytes_per_second(&self, limit: Option<u64>) -> Result<()> {
        if limit == Some(0) {
            return Err(BgError::InvalidArgument(
                "a cap of 0 bytes per second (use None for no cap)".to_owned(),
            ));
        }
        self.ctx.limiter.set_manager_cap(limit);
        Ok(())
    }

    /// The manager's cap for all its jobs together, in bytes per second (`None`: no cap).
    pub fn get_max_bytes_per_second(&self) -> Option<u64> {
        self.ctx.limiter.manager_cap()
    }

    /// The job of this manager's owner that is not final and has exactly `files` (remote and
    /// local names, in the order added), if there is one: find-or-create for a downloader that
    /// may have been interrupted, as `bgcopy transfer` continues the job it started before.
    ///
    /// ```
    /// use bgcopy::*;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let manager = Manager::builder().without_engine().build();
    /// let source = dir.path().join("source.bin").to_string_lossy().into_owned();
    /// let files = [BgFileInfo::new(source, dir.path().join("a.bin"))];
    /// let job = match manager.find_job_with_files(&files) {
    ///     Some(job) => job, // continues where it stopped
    ///     None => {
    ///         let job = manager.create_job("a.bin", BgJobType::Download)?;
    ///         job.add_file_set(&files)?;
    ///         job
    ///     }
    /// };
    /// assert_eq!(manager.find_job_with_files(&files).map(|j| j.get_id()), Some(job.get_id()));
    /// // Other names, or a job that is final, do not match.
    /// let other = [BgFileInfo::new(files[0].remote_name.clone(), dir.path().join("b.bin"))];
    /// assert!(manager.find_job_with_files(&other).is_none());
    /// job.cancel()?;
    /// assert!(manager.find_job_with_files(&files).is_none());
    /// # Ok(()) }
    /// ```
    pub fn find_job_with_files(&self, files: &[BgFileInfo]) -> Option<Job> {
        self.enum_jobs().into_iter().find(|job| {
            let have = job.enum_files();
            have.len() == files.len()
                && have.iter().zip(files).all(|(have, want)| {
                    have.get_remote_name() == want.remote_name
                        && have.get_local_name() == want.local_name
                })
        })
    }

    /// A manager whose jobs live in the durable store in directory `store` (created if
    /// missing), with the engine running and the defaults otherwise: the same as
    /// `Manager::builder().store(store).try_build()`. See [`ManagerBuilder::store`] for what is
    /// kept and what survives.
    ///
    /// ```
    /// use bgcopy::*;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let id = {
    ///     let manager = Manager::open(dir.path())?;
    ///     let job = manager.create_job("kept", BgJobType::Download)?;
    ///     job.set_description("survives an exit")?; // durable once it returns
    ///     job.get_id()
    /// }; // the last handle is gone: the store is released
    /// let manager = Manager::open(dir.path())?;
    /// assert_eq!(manager.get_job(id)?.get_description(), "survives an exit");
    /// // One process at a time: a second open fails at once, naming the holder.
    /// let err = Manager::open(dir.path()).unwrap_err();
    /// assert_eq!(err.hresult(), 0x8007_0020);
    /// # Ok(()) }
    /// ```
    ///
    /// # Blocking
    /// Opens or creates the store and reads every job from it: disk work, with syncs.
    ///
    /// # Errors
    /// As [`ManagerBuilder::try_build`].
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn open(store: impl AsRef<Path>) -> Result<Manager> {
        Manager::builder().store(store.as_ref()).try_build()
    }

    /// The directory of this manager's store, if it has one (never without the `store`
    /// feature).
    pub fn store_dir(&self) -> Option<&Path> {
        self.service.store_dir()
    }

    /// The records of the store that could not be read when it was opened (empty without a
    /// store). They stay in the store untouched.
    pub fn unreadable_jobs(&self) -> &[UnreadableJob] {
        &self.service.unreadable
    }

    /// The owner this handle acts as; jobs it creates belong to this owner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// A handle on the same manager acting as another owner (as an administrator may): it sees the
    /// same jobs through `get_job`, lists that owner's jobs in `enum_jobs`, creates jobs for that
    /// owner, and `take_ownership()` on a job obtained through it makes that owner the job's owner.
    pub fn as_owner(&self, owner: &str) -> Manager {
        Manager { owner: owner.into(), ..self.clone() }
    }

    /// Every job of every owner (`EnumJobs` with `BG_JOB_ENUM_ALL_USERS`), in creation order.
    pub fn enum_all_jobs(&self) -> Vec<Job> {
        self.listed(|_| true)
    }

    /// Whether this manager's engine runs (not built [`without_engine`](ManagerBuilder::without_engine),
    /// and not [`shutdown`](Manager::shutdown)).
    pub fn has_engine(&self) -> bool {
        self.service.engine.lock().is_some()
    }

    /// Subscribes to the [`Notification`](crate::Notification)s of every job of this manager,
    /// every owner's, from now on (see [`Job::subscribe`]). Unlike a job's subscription it does
    /// not start with the current states: it hears changes only (read the states of the jobs
    /// that exist with [`enum_all_jobs`](Manager::enum_all_jobs) after subscribing). The
    /// iterator ends when the manager shuts down.
    pub fn subscribe(&self) -> Subscription {
        let (subscription, queue) =
            Subscription::new(Arc::clone(&self.ctx.hub), None, self.keepalive(), None);
        self.ctx.hub.subscribe_all(&queue);
        subscription
    }

    /// Stops the engine now, deterministically: every running transfer stops at its next step
    /// and its job goes back to `Queued` (the bytes already written stay), then this waits for
    /// the engine's threads to end, at most `timeout`. With a store, the bytes of every job are
    /// then checkpointed, so that the next open resumes from all of them. Returns whether the
    /// engine's threads all ended in time (a transport blocked in a read without looking at its
    /// sink may hold one longer; it ends on its own). Jobs keep their state and every handle
    /// keeps working (changes are still recorded), but nothing transfers them any more, and
    /// manager-wide subscriptions end. A manager without an engine returns `true` at once.
    ///
    /// ```
    /// use bgcopy::*;
    /// use std::time::Duration;
    /// let manager = Manager::new();
    /// assert!(manager.shutdown(Duration::from_secs(10)));
    /// assert!(!manager.has_engine());
    /// ```
    ///
    /// # Blocking
    /// Waits up to `timeout` for the engine's threads to stop.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let engine = self.service.engine.lock().take();
        self.ctx.hub.close();
        let stopped = match engine {
            Some(engine) => {
                engine.stop();
                engine.join(timeout)
            }
            None => true,
        };
        #[cfg(feature = "store")]
        if let Some(checkpointer) = &self.service.checkpointer {
            checkpointer.stop(true);
            checkpoint::checkpoint_all(&self.registry);
        }
        stopped
    }

    /// Test hook: waits until the engine's scheduler has looked at every job once after this
    /// call, at most ten seconds. Not part of the API (feature `_test-hooks`).
    #[cfg(feature = "_test-hooks")]
    #[doc(hidden)]
    pub fn wait_engine_pass(&self) {
        if let Some(engine) = &*self.service.engine.lock() {
            engine.wait_pass();
        }
    }

    /// Test hook: waits until no engine worker holds a job, at most ten seconds. Not part of the
    /// API (feature `_test-hooks`).
    #[cfg(feature = "_test-hooks")]
    #[doc(hidden)]
    pub fn wait_engine_idle(&self) {
        if let Some(engine) = &*self.service.engine.lock() {
            engine.wait_idle();
        }
    }

    /// Says that the network's cost may have changed: the engine asks its
    /// [`NetworkCost`](crate::NetworkCost) source again at once, starts the queued jobs the new
    /// state allows and gives back (`Queued`) the running ones whose `CostFlags` forbid it
    /// (DESIGN 6.3). The engine does not poll the source; without this call it asks again only
    /// at its next scheduling pass.
    pub fn network_changed(&self) {
        self.registry.signal().wake();
    }

    fn keepalive(&self) -> Keepalive {
        Keepalive::new(Arc::clone(&self.service) as Arc<dyn Any + Send + Sync>)
    }

    fn handle(&self, shared: Arc<JobShared>) -> Job {
        Job::from_parts(shared, Arc::clone(&self.owner), self.keepalive())
    }

    fn listed(&self, owner: impl FnMut(&str) -> bool) -> Vec<Job> {
        self.registry.list_where(owner).into_iter().map(|shared| self.handle(shared)).collect()
    }
}

impl BackgroundCopyManager for Manager {
    type Job = Job;

    fn create_job(&self, display_name: &str, job_type: BgJobType) -> Result<Job> {
        validate::display_name_for_create(display_name)?;
        if job_type != BgJobType::Download {
            return Err(BgError::NotImplemented("only download jobs are supported"));
        }
        let shared = self.registry.create(&self.owner, |id, seq| {
            Ok(Arc::new(JobShared::new(id, seq, display_name, &self.owner, Arc::clone(&self.ctx))))
        })?;
        if let Err(error) = shared.record() {
            // Not durable: the job is not created.
            self.registry.remove(shared.id);
            return Err(error);
        }
        Ok(self.handle(shared))
    }

    fn get_job(&self, id: JobId) -> Result<Job> {
        let shared = self.registry.get(id).ok_or(BgError::NotFound)?;
        if shared.counters.state().is_final() {
            return Err(BgError::NotFound);
        }
        Ok(self.handle(shared))
    }

    fn enum_jobs(&self) -> Vec<Job> {
        let mut jobs = self.listed(|owner| owner == &*self.owner);
        jobs.retain(|job| !job.shared.counters.state().is_final());
        jobs
    }

    fn get_error_description(&self, hresult: u32) -> Result<String> {
        crate::hresult::description(hresult).ok_or(BgError::NoDescription { hresult })
    }
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("owner", &self.owner)
            .field("jobs", &self.registry.len())
            .field("engine", &self.has_engine())
            .finish()
    }
}

/// Configures a [`Manager`]: limits, owner, the engine (workers, time slice, clock, transports)
/// and the URL schemes jobs may use. Every setting is independent of the others and of the
/// order of the calls.
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
#[must_use = "a builder does nothing until built"]
pub struct ManagerBuilder {
    limits: JobLimits,
    files_per_job: u32,
    owner: Option<String>,
    engine: bool,
    workers: Option<usize>,
    time_slice: Duration,
    clock: Option<Arc<dyn Clock>>,
    /// The network-cost source the engine checks jobs' `CostFlags` against (DESIGN 6.3).
    network_cost: Option<Arc<dyn crate::NetworkCost>>,
    transports: Vec<Arc<dyn Transport>>,
    schemes: Vec<String>,
    max_bytes_per_second: Option<u64>,
    #[cfg(feature = "store")]
    store: StoreSettings,
    /// The cache host (`host[:port]`) and its fallback delay (DESIGN 6.2).
    cache_host: Option<String>,
    cache_fallback_delay: Duration,
}

/// What [`ManagerBuilder`] knows of the store (feature `store`).
#[cfg(feature = "store")]
#[derive(Debug)]
struct StoreSettings {
    dir: Option<PathBuf>,
    retention: Option<Duration>,
    checkpoint_interval: Duration,
    reset_corrupt: bool,
    read_only: bool,
}

impl Default for ManagerBuilder {
    fn default() -> Self {
        ManagerBuilder {
            limits: JobLimits { per_owner: 60, total: 300 },
            files_per_job: DEFAULT_FILES_PER_JOB,
            owner: None,
            engine: true,
            workers: None,
            time_slice: DEFAULT_TIME_SLICE,
            clock: None,
            network_cost: None,
            transports: vec![
                Arc::new(LocalTransport),
                #[cfg(feature = "http")]
                Arc::new(crate::transport::HttpTransport::new()),
            ],
            schemes: Vec::new(),
            max_bytes_per_second: None,
            #[cfg(feature = "store")]
            store: StoreSettings {
                dir: None,
                retention: Some(DEFAULT_RETENTION),
                checkpoint_interval: checkpoint::DEFAULT_INTERVAL,
                reset_corrupt: false,
                read_only: false,
            },
            cache_host: None,
            cache_fallback_delay: Duration::ZERO,
        }
    }
}

impl ManagerBuilder {
    /// An HTTP cache on the LAN (`"host[:port]"`), as Delivery Optimization uses a Connected
    /// Cache (DESIGN 6.2): each `http://` request of a job whose peer caching flags include
    /// `ENABLE_CLIENT` (the default) goes first to `http://<cache host>/<path>?<query>` with
    /// `cacheHostOrigin=<origin host[:port]>` added; `https://` goes to the origin. When the
    /// cache fails, the request goes to the origin after the
    /// [fallback delay](Self::cache_fallback_delay); a cache that failed is skipped for 15
    /// minutes. Bytes from it count as from peers (`get_peer_download_stats`).
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().cache_host("cache.lan:8080").build();
    /// # drop(manager);
    /// ```
    ///
    /// [`try_build`](Self::try_build) refuses an address that is not `host[:port]` with
    /// `E_INVALIDARG`.
    pub fn cache_host(mut self, host: &str) -> Self {
        self.cache_host = Some(host.to_owned());
        self
    }

    /// How long a request the cache host failed waits before it goes to the origin, counted from
    /// the first request to the cache (default 0).
    pub fn cache_fallback_delay(mut self, delay: Duration) -> Self {
        self.cache_fallback_delay = delay;
        self
    }

    /// Jobs one owner may have at once (default 60, `BG_E_TOO_MANY_JOBS_PER_USER` past it).
    pub fn max_jobs_per_owner(mut self, limit: u32) -> Self {
        self.limits.per_owner = limit;
        self
    }

    /// Jobs the manager may hold at once, all owners together (default 300,
    /// `BG_E_TOO_MANY_JOBS_PER_MACHINE` past it).
    pub fn max_jobs(mut self, limit: u32) -> Self {
        self.limits.total = limit;
        self
    }

    /// Files one job may hold (default 200, `BG_E_TOO_MANY_FILES_IN_JOB` past it).
    pub fn max_files_per_job(mut self, limit: u32) -> Self {
        self.files_per_job = limit;
        self
    }

    /// The owner of the jobs this manager creates (default: the `USER` or `USERNAME` environment
    /// variable, else `"unknown"`).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// No engine: jobs only move when a driver (your own code, through [`Job::claim`]) moves
    /// them. The other engine settings are then unused; nothing turns the engine back on. Remote
    /// names may then use `http` and `https` whatever the features (your driver serves them),
    /// besides `file`, the schemes of the transports and those declared with
    /// [`scheme`](Self::scheme).
    pub fn without_engine(mut self) -> Self {
        self.engine = false;
        self
    }

    /// Engine worker threads (default: one per core, at least 2 and at most 8; at least 1).
    /// Background jobs run one fewer at a time than there are workers (at least one), so a worker
    /// stays free for `Foreground` jobs, which run alongside them as in BITS.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers.max(1));
        self
    }

    /// How long a background job runs before it gives its worker to a waiting job of the same
    /// level (default 5 s; at least 1 ms). A waiting job of a higher level does not wait for it.
    pub fn time_slice(mut self, slice: Duration) -> Self {
        self.time_slice = slice.max(Duration::from_millis(1));
        self
    }

    /// The clock the engine measures delays on (default [`SystemClock`]); tests use a
    /// [`ManualClock`](crate::clock::ManualClock) to let a retry delay or a no-progress timeout pass at
    /// once.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The source of the current network's cost (default [`UnrestrictedNetwork`](crate::UnrestrictedNetwork)):
    /// the engine runs a job only while the source's `BITS_COST_STATE_*` is in the job's
    /// `CostFlags` (DESIGN 6.3). Call [`Manager::network_changed`] when its answer changes.
    pub fn network_cost(mut self, source: Arc<dyn crate::NetworkCost>) -> Self {
        self.network_cost = Some(source);
        self
    }

    /// Adds (or, for a scheme already served, replaces) a transport for the schemes it names; jobs
    /// accept those schemes in remote names.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transports.retain(|t| !t.schemes().iter().any(|s| transport.schemes().contains(s)));
        self.transports.push(transport);
        self
    }

    /// Accepts URLs of `scheme` in remote names without a transport, for jobs your own code
    /// drives ([`Job::claim`]), with or without an engine (`http`/`https` with an engine but
    /// without the `http` feature, too). The engine fails a file whose scheme no transport
    /// serves.
    pub fn scheme(mut self, scheme: &str) -> Self {
        self.schemes.push(scheme.to_ascii_lowercase());
        self
    }

    /// Caps all the jobs of the manager together at `limit` body bytes per second (0: no cap,
    /// the default). Each job's own cap ([`Job::set_max_bytes_per_second`]) applies too. Under
    /// this cap the jobs that want bytes share by priority: `Foreground` 8, `High` 4, `Normal`
    /// 2, `Low` 1, and what a job does not use goes to the others. Bursts are at most a quarter
    /// second's worth.
    pub fn max_bytes_per_second(mut self, limit: u64) -> Self {
        self.max_bytes_per_second = (limit > 0).then_some(limit);
        self
    }

    /// Keeps the manager's jobs in the durable store in directory `dir` (a directory that bgcopy
    /// owns; created if missing). Open it with [`try_build`](Self::try_build) (or
    /// [`Manager::open`]).
    ///
    /// - Every call that changes a job (create, add files, every setter, suspend, resume,
    ///   cancel, complete, take ownership) is durable when it returns `Ok`: a process killed
    ///   right after sees it when the store is opened again, and a power loss right after too
    ///   (the store's records, the names of the temporary files a record gives, and
    ///   `complete()`'s renames are synced before the call returns). A change is recorded first,
    ///   then applied, then announced: if it cannot be recorded (a full disk, an I/O error), the
    ///   call returns the store's error (a full disk is `0x80070070`) and nothing of it happened:
    ///   getters, events and the engine show the job as it was, and no flag stays set. Once
    ///   space is back the same calls work; the store is opened again by itself after an I/O
    ///   error.
    /// - What the engine reaches is kept too (`Transferred`, `Error`, `TransientError` with its
    ///   error, count and retry deadlines, each finished file), and the bytes of a transfer are
    ///   checkpointed at a bounded rate ([`checkpoint_interval`](Self::checkpoint_interval)):
    ///   transfers only touch their atomic counters, a checkpoint syncs the temporary files and
    ///   then records what they hold. The engine hands each finished file to a group commit
    ///   (see [`FileTransfer::finish_deferred`](crate::FileTransfer::finish_deferred)), so that
    ///   many finished files share one directory sync and one record. A store that cannot
    ///   record what the engine reached puts the job in `TransientError` with the store's error
    ///   (context `LocalFile`); it retries after its minimum retry delay and finishes once space
    ///   is back. A file counts as transferred (and its callback fires) once
    ///   its bytes and its record are on disk.
    /// - On open every job that was not final comes back with its id, owner, properties, files,
    ///   error record, error count and times; `Connecting` and `Transferring` come back `Queued`.
    ///   Each file resumes from its temporary file if that holds the bytes the store recorded
    ///   (cut to them; the transport then checks the content's validator), and restarts from
    ///   zero otherwise. A `complete()` or `cancel()` that a crash interrupted is finished.
    ///   Orphaned temporary files of the store's jobs are removed; nothing else is touched.
    /// - Jobs untouched for the [`retention`](Self::retention) period (90 days) are cancelled on
    ///   open, as BITS does.
    /// - One process at a time: a second open (this process or another) fails at once with
    ///   [`BgError::StoreLocked`] (`0x80070020`), naming the holder's process id. The store is
    ///   released when the last handle of the manager and its jobs is gone.
    /// - A store that cannot be read is [`BgError::StoreCorrupt`] (`BG_E_DATABASE_CORRUPT`), its
    ///   files left as they are (see [`reset_corrupt_store`](Self::reset_corrupt_store)); a store
    ///   written by a newer bgcopy is [`BgError::StoreTooNew`]; one record that cannot be read is
    ///   reported ([`Manager::unreadable_jobs`]) and left as it is, the others restored.
    ///
    /// Callbacks (`set_notify_interface`) are not kept: they belong to the process.
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn store(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store.dir = Some(dir.into());
        self
    }

    /// How long a job of the store may stay untouched (no property or state change) before it is
    /// cancelled at open (default 90 days; `None`: never).
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn retention(mut self, retention: Option<Duration>) -> Self {
        self.store.retention = retention;
        self
    }

    /// How often the progress of a transferring job is recorded in the store (default 1 s; at
    /// least 10 ms): on a crash, at most this much of a transfer is done again.
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.store.checkpoint_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Whether a store that cannot be read is moved aside (`bgcopy.redb.corrupt-<seconds>`)
    /// and an empty one started, instead of failing with `BG_E_DATABASE_CORRUPT` (default:
    /// fail).
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn reset_corrupt_store(mut self, reset: bool) -> Self {
        self.store.reset_corrupt = reset;
        self
    }

    /// Opens the [`store`](Self::store) to read it only (default: `false`), for a program that
    /// lists jobs without owning them: the lock is taken as for any open (a second opener
    /// fails with `0x80070020`, so nothing changes the store meanwhile), the records are read
    /// from a copy in memory, no recovery runs and nothing on disk is written (no interrupted
    /// `complete()` finished, no temporary file cut or removed, no job cancelled for its age).
    /// The manager has no engine; every call that a store must record fails with
    /// `E_ACCESSDENIED` and changes nothing. A store that does not exist yet is created empty.
    #[cfg(feature = "store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "store")))]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.store.read_only = read_only;
        self
    }

    /// Builds the manager, opening its store if one was set, and starts its engine (unless
    /// [`without_engine`](Self::without_engine)).
    ///
    /// # Blocking
    /// With a [`store`](Self::store), as [`Manager::open`].
    ///
    /// # Errors
    /// Only with a store: [`BgError::StoreLocked`] (`0x80070020`) while another process, or
    /// another manager of this one, holds it; [`BgError::StoreCorrupt`]
    /// (`BG_E_DATABASE_CORRUPT`) if it cannot be read; [`BgError::StoreTooNew`] if a newer
    /// bgcopy wrote it; [`BgError::Io`] if its directory cannot be created or read. A failed
    /// open holds nothing.
    pub fn try_build(self) -> Result<Manager> {
        if let Some(host) = &self.cache_host {
            check_cache_host(host)?;
        }
        #[cfg(feature = "store")]
        if let Some(dir) = &self.store.dir {
            let opened = open_store(dir, &self.store)?;
            return Ok(self.assemble(opened));
        }
        Ok(self.assemble(Opened::default()))
    }

    /// Builds the manager and starts its engine (unless [`without_engine`](Self::without_engine)).
    ///
    /// # Blocking
    /// With a [`store`](Self::store), as [`Manager::open`].
    ///
    /// # Panics
    /// If a [`store`](Self::store) was set and cannot be opened: `build()` never ignores one. Use
    /// [`try_build`](Self::try_build) (or [`Manager::open`]) to get the error instead.
    pub fn build(self) -> Manager {
        match self.try_build() {
            Ok(manager) => manager,
            Err(error) => panic!("the store cannot be opened ({error}); use try_build()"),
        }
    }

    /// Wires the registry, the jobs' context, the restored jobs, the engine and the service.
    fn assemble(self, opened: Opened) -> Manager {
        let owner: Arc<str> = self.owner.unwrap_or_else(default_owner).into();
        // Without an engine, the caller's own driver serves the BITS schemes.
        let driven = (!self.engine).then(|| ["http".to_owned(), "https".to_owned()]);
        let schemes = Schemes::new(
            self.transports
                .iter()
                .flat_map(|t| t.schemes().iter().map(|s| (*s).to_owned()))
                .chain(self.schemes)
                .chain(driven.into_iter().flatten()),
        );
        let registry: Arc<Registry<JobShared>> = Arc::new(Registry::new(self.limits));
        let membership = Arc::downgrade(&registry) as Weak<dyn Membership>;
        #[cfg(feature = "store")]
        let read_only = self.store.read_only;
        #[cfg(not(feature = "store"))]
        let read_only = false;
        #[cfg(feature = "store")]
        let persist = opened.store.clone().map(|store| match read_only {
            true => Arc::new(ReadOnly(store)) as Arc<dyn Persist>,
            false => store as Arc<dyn Persist>,
        });
        #[cfg(not(feature = "store"))]
        let persist = None;
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock::new()));
        let limiter = Arc::new(Limiter::new(Arc::clone(&clock), self.max_bytes_per_second));
        let ctx =
            Arc::new(JobContext::new(membership, self.files_per_job, schemes, persist, limiter));
        let mut restored = Vec::with_capacity(opened.jobs.len());
        for snapshot in opened.jobs {
            let (id, seq, job_owner) = (snapshot.id, snapshot.seq, snapshot.owner.clone());
            let job = Arc::new(JobShared::restore(snapshot, Arc::clone(&ctx)));
            registry.restore(id, seq, &job_owner, Arc::clone(&job));
            restored.push(job);
        }
        let engine = (self.engine && !read_only).then(|| {
            let settings = EngineSettings {
                workers: self.workers.unwrap_or_else(default_workers),
                transports: self.transports,
                time_slice: self.time_slice,
                clock,
                network_cost: self
                    .network_cost
                    .unwrap_or_else(|| Arc::new(crate::UnrestrictedNetwork)),
                cache_host: self.cache_host.map(|host| (host, self.cache_fallback_delay)),
            };
            EngineHandle::start(&registry, settings)
        });
        #[cfg(feature = "store")]
        let checkpointer = opened.store.as_ref().filter(|_| !read_only).map(|_| {
            Checkpointer::start(Arc::downgrade(&registry), self.store.checkpoint_interval)
        });
        let service = Arc::new(Service {
            engine: Mutex::new(engine),
            #[cfg(feature = "store")]
            store: opened.store,
            #[cfg(feature = "store")]
            checkpointer,
            unreadable: opened.unreadable,
        });
        let dyn_service: Arc<dyn Any + Send + Sync> = Arc::clone(&service) as _;
        ctx.set_service(Arc::downgrade(&dyn_service));
        if service.engine.lock().is_some() {
            // A notify run cut by the end of the last process is not lost (DESIGN 6.2).
            for job in &restored {
                crate::job::notify_cmd::resume_after_reopen(job);
            }
        }
        Manager { registry, ctx, owner, service }
    }
}

/// The store opened by `try_build`, with what it holds (all empty without a store).
#[derive(Default)]
struct Opened {
    #[cfg(feature = "store")]
    store: Option<Arc<Store>>,
    jobs: Vec<JobSnapshot>,
    unreadable: Vec<UnreadableJob>,
}

/// Opens the store in `dir`, reads it and, unless it is read only, recovers it.
#[cfg(feature = "store")]
fn open_store(dir: &Path, settings: &StoreSettings) -> Result<Opened> {
    let options =
        StoreOptions { reset_corrupt: settings.reset_corrupt, read_only: settings.read_only };
    let store = Arc::new(Store::open(dir, &options)?);
    let loaded = store.load()?;
    let unreadable = loaded
        .unreadable
        .iter()
        .map(|u| UnreadableJob { id: u.id(), reason: u.reason.clone() })
        .collect();
    let jobs = if settings.read_only {
        loaded.jobs
    } else {
        recover::recover(&store, loaded.jobs, settings.retention, SystemTime::now())?.0
    };
    Ok(Opened { store: Some(store), jobs, unreadable })
}

impl fmt::Debug for ManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut builder = f.debug_struct("ManagerBuilder");
        builder
            .field("limits", &self.limits)
            .field("files_per_job", &self.files_per_job)
            .field("owner", &self.owner)
            .field("engine", &self.engine)
            .field("workers", &self.workers)
            .field("time_slice", &self.time_slice)
            .field("clock", &self.clock)
            .field("network_cost", &self.network_cost)
            .field("transports", &self.transports)
            .field("schemes", &self.schemes)
            .field("max_bytes_per_second", &self.max_bytes_per_second);
        #[cfg(feature = "store")]
        builder.field("store", &self.store);
        builder.finish()
    }
}

impl Service {
    fn store_dir(&self) -> Option<&Path> {
        #[cfg(feature = "store")]
        return self.store.as_deref().map(Store::dir);
        #[cfg(not(feature = "store"))]
        None
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("engine", &self.engine.lock().is_some())
            .field("store", &self.store_dir())
            .finish()
    }
}

fn default_owner() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Checks a cache host address: `host[:port]` (an IPv6 address in brackets), nothing else (no
/// scheme, path, user or space).
fn check_cache_host(host: &str) -> Result<()> {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, "")) => (v6, None),
            Some((v6, tail)) => (v6, Some(tail.strip_prefix(':').unwrap_or(""))),
            None => ("", None),
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    let name_ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c))
        && (host.starts_with('[') || !name.contains(':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(BgError::InvalidArgument(format!("{host:?} is not a cache host (host[:port])")))
    }
}
