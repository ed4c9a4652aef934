//! [`Job`]: the handle on a job, the concrete [`BackgroundCopyJob`]. Every change goes through
//! [`JobShared::change`] and [`transition`]. The other methods of `Job` are in this room too:
//! waiting in `wait.rs`, HTTP options in `http_options.rs`, connections and bandwidth in
//! `caps.rs`, `complete()` and `cancel()` in `completion.rs`; only `claim()` is with the driver
//! API (`driver/claim.rs`). Last here: two accessors the engine reads (retry deadlines).

use crate::job::events::subscription::Subscription;
use crate::job::keepalive::Keepalive;
use crate::job::state::counters::FileCounters;
use crate::job::state::file::FileDisk;
use crate::job::state::file::FileShared;
use crate::job::state::outbox::Callback;
use crate::job::state::shared::{JobInner, JobShared, MIN_RETRY_DELAY_FLOOR};
use crate::job::state::transitions::{JobEvent, transition};
use crate::job::validate;
use crate::sync::MutexGuard;
use crate::{
    BackgroundCopyCallback, BackgroundCopyJob, BgError, BgFileInfo, BgJobPriority, BgJobProgress,
    BgJobProxyUsage, BgJobState, BgJobTimes, BgJobType, BgNotify, BgProxySettings, BgSuccess,
    JobError, JobFile, JobId, Notification, Result,
};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A handle on a job. Cheap to clone (`Arc`), `Send + Sync`; every clone sees the same job.
///
/// The methods are those of [`BackgroundCopyJob`] (bring it into scope with `use bgcopy::*`),
/// plus waiting ([`wait`](Job::wait), [`settled`](Job::settled)), events
/// ([`subscribe`](Job::subscribe)) and the driver API ([`claim`](Job::claim)). A handle keeps
/// its manager's engine running: a job never sits in `Queued` because the `Manager` value that
/// made it was dropped.
///
/// ```
/// use bgcopy::*;
/// let manager = Manager::builder().without_engine().build();
/// let job = manager.create_job("nightly", BgJobType::Download)?;
/// assert_eq!(job.get_state(), BgJobState::Suspended);
/// assert_eq!(job.resume().unwrap_err().hresult(), hresult::BG_E_EMPTY);
/// job.set_priority(BgJobPriority::High)?;
/// job.cancel()?;
/// assert!(job.set_priority(BgJobPriority::Low).is_err());
/// # Ok::<(), BgError>(())
/// ```
#[derive(Clone)]
pub struct Job {
    pub(crate) shared: Arc<JobShared>,
    /// The owner of the manager handle this job handle came from (for `take_ownership`).
    pub(crate) caller: Arc<str>,
    /// Keeps the manager's engine running while the handle lives (empty for the engine's own).
    pub(crate) keep: Keepalive,
}

impl Job {
    pub(crate) fn from_parts(shared: Arc<JobShared>, caller: Arc<str>, keep: Keepalive) -> Job {
        Job { shared, caller, keep }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, JobInner> {
        self.shared.inner.lock()
    }

    /// A handle on file `file` of this job.
    pub(crate) fn file_handle(&self, file: &Arc<FileShared>) -> JobFile {
        JobFile::new(Arc::clone(&self.shared), Arc::clone(file), self.keep.clone())
    }

    /// Applies a property change: state check, mutation, modification time and notification;
    /// with `wake`, the engine looks again (priority and timing changes).
    pub(crate) fn modify(&self, wake: bool, change: impl FnOnce(&mut JobInner)) -> Result<()> {
        self.shared.change(|inner| {
            transition(self.shared.counters.state(), JobEvent::Modify)?;
            change(inner);
            self.shared.apply(inner, JobEvent::Modify)?;
            inner.effects.wake |= wake;
            Ok(())
        })
    }

    /// Subscribes to this job's [`Notification`](crate::Notification)s: first a
    /// [`StateChanged`](crate::Notification::StateChanged) with the job's current state, then,
    /// in order, every change from now on: state changes, finished files, failures,
    /// modifications, and progress paced to the subscription's interval (500 ms unless set
    /// otherwise). A loop that waits for a state the job already reached (a job found
    /// `Transferred` after reopening a store) so ends at once. Any number of subscriptions may
    /// exist at once; the iterator ends after the job reaches a final state (for a job already
    /// final, right after its first notification).
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("watched", BgJobType::Download)?;
    /// let events = job.subscribe();
    /// job.cancel()?;
    /// let states: Vec<Notification> = events.collect();
    /// assert_eq!(states, [
    ///     Notification::StateChanged { job: job.get_id(), state: BgJobState::Suspended },
    ///     Notification::StateChanged { job: job.get_id(), state: BgJobState::Cancelled },
    /// ]);
    /// # Ok::<(), BgError>(())
    /// ```
    pub fn subscribe(&self) -> Subscription {
        // Every writer of the cold state holds `serial` (see `JobShared::change`): under it no
        // change is half made, so the state read here is the job's current one, and every later
        // change is announced after the first notification.
        let _serial = self.shared.serial.lock();
        let current =
            Notification::StateChanged { job: self.shared.id, state: self.shared.counters.state() };
        let (subscription, queue) = Subscription::new(
            Arc::clone(&self.shared.ctx.hub),
            Some(self.shared.id),
            self.keep.clone(),
            Some(current),
        );
        let mut inner = self.lock();
        // The job's MinimumNotificationIntervalMs (DESIGN 6.3) paces its progress here.
        let floor = u64::from(inner.properties.notification_interval_ms);
        queue.set_progress_floor(std::time::Duration::from_millis(floor));
        if self.shared.counters.state().is_final() {
            queue.close();
        } else {
            inner.subscribers.push(Arc::downgrade(&queue));
        }
        subscription
    }

    /// `add_file_set`, each new file with `sha256` as its expected digest and, for one ranged
    /// file (checked by the caller), its `ranges`, in one change (one store record): the index of
    /// the first file added.
    pub(crate) fn add_files_with(
        &self,
        files: &[BgFileInfo],
        sha256: Option<[u8; 32]>,
        ranges: Option<&[crate::BgFileRange]>,
    ) -> Result<usize> {
        let ctx = &self.shared.ctx;
        // The destination directories must exist (BITS: `ERROR_PATH_NOT_FOUND`). File system
        // work, so looked at here, outside the job's locks (DESIGN 5.1); reported only once
        // every other check passed. A directory removed later fails the transfer, naming it.
        let missing = files
            .iter()
            .find(|info| {
                validate::local_name(&info.local_name).is_ok()
                    && validate::directory_is_missing(&info.local_name)
            })
            .map(|info| info.local_name.clone());
        self.shared.change(|inner| {
            transition(self.shared.counters.state(), JobEvent::Modify)?;
            if files.is_empty() {
                return Err(BgError::InvalidArgument("the file set is empty".into()));
            }
            // Validate everything first: all or nothing.
            let mut protocols = Vec::with_capacity(files.len());
            let mut names = HashSet::with_capacity(files.len());
            for info in files {
                protocols.push(validate::remote_name(&info.remote_name, &ctx.schemes)?);
                validate::local_name(&info.local_name)?;
                let name = validate::normalized(&info.local_name);
                if inner.local_names.contains(&name) || !names.insert(name) {
                    return Err(BgError::InvalidArgument(format!(
                        "local name {:?} is already used in this job",
                        info.local_name
                    )));
                }
            }
            if inner.files.len() + files.len() > ctx.max_files as usize {
                return Err(BgError::TooManyFilesInJob { limit: ctx.max_files });
            }
            if let Some(path) = missing.clone() {
                return Err(BgError::PathNotFound { path });
            }
            let first = inner.files.len();
            for (info, protocol) in files.iter().zip(protocols) {
                let index = inner.files.len();
                inner.files.push(Arc::new(FileShared {
                    index,
                    remote_name: info.remote_name.clone(),
                    local_name: info.local_name.clone(),
                    protocol,
                    counters: FileCounters::new(index),
                    ranges: ranges.map(Box::from),
                    on_demand: std::sync::OnceLock::new(),
                }));
                let mut disk = FileDisk::default();
                disk.expected_sha256 = sha256.map(Box::new);
                inner.file_disk.push(disk);
                // Counted once the change is recorded.
                inner.pending.files_added += 1;
            }
            inner.local_names.extend(names);
            self.shared.apply(inner, JobEvent::Modify)?;
            Ok(first)
        })
    }
}

impl BackgroundCopyJob for Job {
    type File = JobFile;
    type Error = JobError;
    type Callback = dyn BackgroundCopyCallback;

    fn add_file_set(&self, files: &[BgFileInfo]) -> Result<()> {
        self.add_files_with(files, None, None).map(drop)
    }

    fn add_file(&self, remote_url: &str, local_name: &Path) -> Result<()> {
        self.add_file_set(&[BgFileInfo::new(remote_url, local_name)])
    }

    fn enum_files(&self) -> Vec<JobFile> {
        let inner = self.lock();
        inner.files.iter().map(|file| self.file_handle(file)).collect()
    }

    fn suspend(&self) -> Result<()> {
        self.shared.change(|inner| self.shared.apply(inner, JobEvent::Suspend)).map(drop)
    }

    fn resume(&self) -> Result<()> {
        self.shared
            .change(|inner| {
                let has_work = JobShared::has_work(inner);
                Job::note_resume(inner);
                self.shared.apply(inner, JobEvent::Resume { has_work })?;
                // The HTTP method is fixed from the first resume on (DESIGN 6.2).
                inner.options.http.resumed = true;
                inner.properties.resumed = true;
                Ok(())
            })
            .map(drop)
    }

    fn cancel(&self) -> Result<BgSuccess> {
        self.run_cancel()
    }

    fn complete(&self) -> Result<BgSuccess> {
        self.run_complete()
    }

    fn get_id(&self) -> JobId {
        self.shared.id
    }

    fn get_type(&self) -> BgJobType {
        self.shared.job_type
    }

    #[inline]
    fn get_progress(&self) -> BgJobProgress {
        self.shared.counters.snapshot()
    }

    fn get_times(&self) -> BgJobTimes {
        let inner = self.lock();
        BgJobTimes {
            creation_time: self.shared.creation_time,
            modification_time: inner.modification_time,
            transfer_completion_time: inner.transfer_completion_time,
        }
    }

    fn get_state(&self) -> BgJobState {
        self.shared.counters.state()
    }

    fn get_error(&self) -> Result<JobError> {
        let inner = self.lock();
        match (self.shared.counters.state(), &inner.error) {
            (BgJobState::Error | BgJobState::TransientError, Some(record)) => {
                Ok(JobError::new(Arc::clone(&self.shared), Arc::clone(record), self.keep.clone()))
            }
            _ => Err(BgError::ErrorInformationUnavailable),
        }
    }

    fn get_owner(&self) -> String {
        self.lock().owner.clone()
    }

    fn set_display_name(&self, name: &str) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        validate::display_name_for_set(name)?;
        self.modify(false, |inner| inner.display_name = name.to_owned())
    }

    fn get_display_name(&self) -> String {
        self.lock().display_name.clone()
    }

    fn set_description(&self, description: &str) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        validate::description(description)?;
        self.modify(false, |inner| inner.description = description.to_owned())
    }

    fn get_description(&self) -> String {
        self.lock().description.clone()
    }

    fn set_priority(&self, priority: BgJobPriority) -> Result<()> {
        self.modify(true, |inner| inner.priority = priority)?;
        self.shared.ctx.limiter.set_priority(self.shared.id, priority);
        Ok(())
    }

    fn get_priority(&self) -> BgJobPriority {
        self.lock().priority
    }

    fn set_notify_flags(&self, flags: BgNotify) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        if BgNotify::from_bits(flags.bits()).is_none() {
            return Err(BgError::NotImplemented("undefined BG_NOTIFY bits"));
        }
        self.modify(false, |inner| inner.notify_flags = flags)
    }

    fn get_notify_flags(&self) -> BgNotify {
        self.lock().notify_flags
    }

    fn set_notify_interface(
        &self,
        callback: Option<Arc<dyn BackgroundCopyCallback>>,
    ) -> Result<()> {
        self.shared.change(|inner| {
            transition(self.shared.counters.state(), JobEvent::Modify)?;
            inner.callback = callback;
            self.shared.apply(inner, JobEvent::Modify)?;
            // A late registration still hears about the state the job is waiting in.
            match self.shared.counters.state() {
                BgJobState::Transferred => self.shared.post(inner, Callback::Transferred),
                BgJobState::Error => {
                    if let Some(record) = inner.error.clone() {
                        self.shared.post(inner, Callback::Error(record));
                    }
                }
                _ => {}
            }
            Ok(())
        })
    }

    fn get_notify_interface(&self) -> Option<Arc<dyn BackgroundCopyCallback>> {
        self.lock().callback.clone()
    }

    fn set_minimum_retry_delay(&self, delay: Duration) -> Result<()> {
        let delay = Duration::from_secs(delay.as_secs()).max(MIN_RETRY_DELAY_FLOOR);
        self.modify(true, |inner| inner.min_retry_delay = delay)
    }

    fn get_minimum_retry_delay(&self) -> Duration {
        self.lock().min_retry_delay
    }

    fn set_no_progress_timeout(&self, timeout: Duration) -> Result<()> {
        let timeout = Duration::from_secs(timeout.as_secs());
        self.modify(true, |inner| inner.no_progress_timeout = timeout)
    }

    fn get_no_progress_timeout(&self) -> Duration {
        self.lock().no_progress_timeout
    }

    fn get_error_count(&self) -> u32 {
        self.lock().error_count
    }

    fn set_proxy_settings(
        &self,
        usage: BgJobProxyUsage,
        proxy_list: Option<&str>,
        bypass_list: Option<&str>,
    ) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        validate::proxy(usage, proxy_list, bypass_list)?;
        self.modify(false, |inner| {
            inner.proxy = BgProxySettings {
                usage,
                proxy_list: proxy_list.map(str::to_owned),
                bypass_list: bypass_list.map(str::to_owned),
            }
        })
    }

    fn get_proxy_settings(&self) -> BgProxySettings {
        self.lock().proxy.clone()
    }

    fn take_ownership(&self) -> Result<()> {
        let caller = self.caller.to_string();
        self.modify(false, |inner| {
            inner.owner = caller;
            // As BITS: a new owner does not inherit the old owner's notify program.
            inner.sources.notify = None;
            // The new owner does not get the old one's secrets, as in BITS (DESIGN 6.2).
            inner.options.headers.clear();
            inner.options.http.forget_credentials();
        })?;
        if let Some(registry) = self.shared.ctx.registry() {
            registry.change_owner(self.shared.id, &self.caller);
        }
        Ok(())
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Job");
        d.field("id", &self.shared.id).field("state", &self.get_state());
        // try_lock: Debug may be called from code that already holds this job's lock.
        if let Some(inner) = self.shared.inner.try_lock() {
            d.field("display_name", &inner.display_name).field("files", &inner.files.len());
        }
        d.field("progress", &self.get_progress()).field("keeps_engine", &self.keep.is_held());
        d.finish()
    }
}

impl Job {
    /// For the engine: the wall-clock time the job's next attempt may come (the minimum retry
    /// delay or a server's `Retry-After` after its last transient failure) and the start of its
    /// window without progress, while it retries.
    pub(crate) fn retry_deadlines(&self) -> Option<(std::time::SystemTime, std::time::SystemTime)> {
        let inner = self.shared.inner.lock();
        let retry = inner.retry.as_ref()?;
        Some((retry.retry_at, retry.quiet_since))
    }

    /// For the engine: the wait the server asked for with the job's last transient failure.
    pub(crate) fn server_retry_after(&self) -> Option<Duration> {
        self.shared.inner.lock().server_retry_after
    }
}
