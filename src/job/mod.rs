//! [`Job`]: the concrete [`BackgroundCopyJob`]. Hot state (counters, state word) in atomics, cold
//! state (names, files, settings, error record, times) under one `parking_lot` lock per job.
//!
//! Every caller-driven state change goes through [`transition`]; notifications are queued while
//! the lock is held (so they keep event order) and delivered by the notifier after it is released.

pub(crate) mod counters;
pub(crate) mod disk;
mod file;
#[cfg(all(test, loom))]
mod loom_tests;
pub(crate) mod options;
mod report;
pub(crate) mod snapshot;
pub(crate) mod transitions;
pub(crate) mod validate;

pub use file::JobFile;
pub use report::JobError;
pub use transitions::{transition, JobEvent};

pub(crate) use file::{FileDisk, FileShared};
pub(crate) use report::ErrorRecord;

use crate::manager::ManagerCore;
use crate::notify::{Event, Notifier};
use crate::sync::{Mutex, MutexGuard};
use crate::{
    BackgroundCopyCallback, BackgroundCopyJob, BgError, BgFileInfo, BgJobPriority, BgJobProgress,
    BgJobProxyUsage, BgJobState, BgJobTimes, BgJobType, BgNotify, BgProxySettings, BgSuccess,
    JobId, Result,
};
use counters::{FileCounters, JobCounters};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

/// Default minimum retry delay (600 s).
pub(crate) const DEFAULT_MIN_RETRY_DELAY: Duration = Duration::from_secs(600);
/// Floor of the minimum retry delay (5 s).
pub(crate) const MIN_RETRY_DELAY_FLOOR: Duration = Duration::from_secs(5);
/// Default no-progress timeout (14 days).
pub(crate) const DEFAULT_NO_PROGRESS_TIMEOUT: Duration = Duration::from_secs(1_209_600);

/// A handle on a job. Cheap to clone (`Arc`), `Send + Sync`; every clone sees the same job.
///
/// The methods are those of [`BackgroundCopyJob`] (bring it into scope with `use bgcopy::*`).
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
}

/// Everything one job is, shared by its handles.
pub(crate) struct JobShared {
    pub(crate) id: JobId,
    pub(crate) job_type: BgJobType,
    /// Creation order within the manager (for `enum_jobs`).
    pub(crate) seq: u64,
    pub(crate) creation_time: SystemTime,
    pub(crate) counters: JobCounters,
    pub(crate) inner: Mutex<JobInner>,
    pub(crate) core: Weak<ManagerCore>,
    pub(crate) notifier: Arc<Notifier>,
    pub(crate) max_files: u32,
}

/// The cold state of a job, under its lock.
pub(crate) struct JobInner {
    pub(crate) display_name: String,
    pub(crate) description: String,
    pub(crate) priority: BgJobPriority,
    pub(crate) notify_flags: BgNotify,
    pub(crate) callback: Option<Arc<dyn BackgroundCopyCallback>>,
    pub(crate) min_retry_delay: Duration,
    pub(crate) no_progress_timeout: Duration,
    pub(crate) proxy: BgProxySettings,
    pub(crate) owner: String,
    pub(crate) error_count: u32,
    /// The last failure; reported by `get_error` only in `Error`/`TransientError`.
    pub(crate) error: Option<Arc<ErrorRecord>>,
    pub(crate) modification_time: SystemTime,
    pub(crate) transfer_completion_time: Option<SystemTime>,
    pub(crate) files: Vec<Arc<FileShared>>,
    pub(crate) file_disk: Vec<FileDisk>,
    local_names: HashSet<PathBuf>,
    /// A driver holds the job (see [`JobDriver`](crate::JobDriver)).
    pub(crate) claimed: bool,
    /// HTTP options: custom headers, timeouts (see `job/options.rs`).
    pub(crate) options: options::JobOptions,
}

/// What a caller-side operation on the job's files left undone.
#[derive(Default)]
struct DiskOutcome {
    partial: bool,
    undeleted: bool,
}

impl JobShared {
    pub(crate) fn new(
        id: JobId,
        seq: u64,
        display_name: &str,
        owner: &str,
        core: Weak<ManagerCore>,
        notifier: Arc<Notifier>,
        max_files: u32,
    ) -> JobShared {
        let now = SystemTime::now();
        JobShared {
            id,
            job_type: BgJobType::Download,
            seq,
            creation_time: now,
            counters: JobCounters::new(BgJobState::Suspended),
            inner: Mutex::new(JobInner {
                display_name: display_name.to_owned(),
                description: String::new(),
                priority: BgJobPriority::Normal,
                notify_flags: BgNotify::DEFAULT,
                callback: None,
                min_retry_delay: DEFAULT_MIN_RETRY_DELAY,
                no_progress_timeout: DEFAULT_NO_PROGRESS_TIMEOUT,
                proxy: BgProxySettings::default(),
                owner: owner.to_owned(),
                error_count: 0,
                error: None,
                modification_time: now,
                transfer_completion_time: None,
                files: Vec::new(),
                file_disk: Vec::new(),
                local_names: HashSet::new(),
                claimed: false,
                options: options::JobOptions::default(),
            }),
            core,
            notifier,
            max_files,
        }
    }

    /// Applies `event` under the lock: checks it against [`transition`], publishes the new state,
    /// stamps the modification time and queues the notification the change calls for. An event
    /// that is accepted but changes nothing (suspend while suspended, resume while active, a second
    /// `connected`) changes neither the time nor notifies; `Modify` always does (its caller
    /// changed a property).
    pub(crate) fn apply(
        self: &Arc<Self>,
        inner: &mut JobInner,
        event: JobEvent,
    ) -> Result<BgJobState> {
        let old = self.counters.state();
        let new = transition(old, event)?;
        let transferring = |s| matches!(s, BgJobState::Connecting | BgJobState::Transferring);
        // A claim starts a generation; leaving Connecting/Transferring ends it.
        let bump = event == JobEvent::Claim || (transferring(old) && !transferring(new));
        if new == old && !bump && event != JobEvent::Modify {
            return Ok(new);
        }
        let now = SystemTime::now();
        inner.modification_time = now;
        if new != old || bump {
            self.counters.set_state(new, bump);
        }
        match new {
            BgJobState::Transferred if old != new => {
                inner.transfer_completion_time = Some(now);
                self.post(inner, Event::Transferred);
            }
            BgJobState::Error if old != new => {
                let record =
                    Arc::clone(inner.error.get_or_insert_with(|| Arc::new(ErrorRecord::unknown())));
                self.post(inner, Event::Error(record));
            }
            BgJobState::Transferring if old != new => {
                // The error report lasts until the job transfers again.
                inner.error = None;
                self.post(inner, Event::Modification);
            }
            // Queued again after being transferred (directly, or suspended first): a new round.
            BgJobState::Queued if inner.transfer_completion_time.is_some() => {
                inner.transfer_completion_time = None;
                self.post(inner, Event::Modification);
            }
            _ => self.post(inner, Event::Modification),
        }
        Ok(new)
    }

    /// Queues a notification if it can fire now (the notifier checks again on delivery).
    pub(crate) fn post(self: &Arc<Self>, inner: &JobInner, event: Event) {
        if inner.callback.is_some() && inner.notify_flags.fires(event.flag()) {
            self.notifier.post(Arc::clone(self), event);
        }
    }

    /// Tells the manager (and its engine) that the job changed in a way that matters to scheduling;
    /// a final job leaves the manager. Call without the job lock.
    pub(crate) fn after_change(&self, state: BgJobState) {
        if let Some(core) = self.core.upgrade() {
            if state.is_final() {
                core.remove(self.id);
            }
            core.wake();
        }
    }

    fn has_work(inner: &JobInner) -> bool {
        inner.files.iter().any(|f| !f.counters.is_transferred())
    }
}

impl Job {
    pub(crate) fn lock(&self) -> MutexGuard<'_, JobInner> {
        self.shared.inner.lock()
    }

    /// Applies a property change: state check, mutation, modification time and notification.
    fn modify(&self, change: impl FnOnce(&mut JobInner)) -> Result<()> {
        let mut inner = self.lock();
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        change(&mut inner);
        self.shared.apply(&mut inner, JobEvent::Modify)?;
        Ok(())
    }

    /// Like [`Job::modify`], also telling the scheduler (priority changes).
    fn modify_and_wake(&self, change: impl FnOnce(&mut JobInner)) -> Result<()> {
        self.modify(change)?;
        self.shared.after_change(self.get_state());
        Ok(())
    }

    /// Deletes the temporary files of the job's files for which `keep` says no, and commits those
    /// for which it says yes. Under the job lock: no driver can finish a file meanwhile.
    fn settle_files(
        &self,
        inner: &mut JobInner,
        commit: bool,
    ) -> std::result::Result<DiskOutcome, BgError> {
        let mut outcome = DiskOutcome::default();
        let mut first_error = None;
        for (file, disk) in inner.files.iter().zip(inner.file_disk.iter_mut()) {
            if file.counters.is_completed() {
                continue;
            }
            let keep = commit && file.counters.is_transferred();
            if !keep {
                outcome.partial = true;
            }
            let Some(temp) = disk.temp_path.clone() else {
                if keep {
                    // A transferred file whose temporary file is gone cannot be made visible.
                    first_error.get_or_insert(BgError::io(
                        "rename",
                        file.local_name.clone(),
                        std::io::Error::new(std::io::ErrorKind::NotFound, "temporary file missing"),
                    ));
                }
                continue;
            };
            if keep {
                match disk::commit(&temp, &file.local_name) {
                    Ok(()) => {
                        disk.temp_path = None;
                        self.shared.counters.mark_completed(&file.counters);
                    }
                    Err(e) => {
                        first_error.get_or_insert(BgError::io("rename", temp, e));
                    }
                }
            } else {
                match disk::remove(&temp) {
                    Ok(()) => disk.temp_path = None,
                    Err(_) => outcome.undeleted = true,
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(outcome),
        }
    }
}

impl BackgroundCopyJob for Job {
    type File = JobFile;
    type Error = JobError;

    fn add_file_set(&self, files: &[BgFileInfo]) -> Result<()> {
        let mut inner = self.lock();
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        if files.is_empty() {
            return Err(BgError::InvalidArgument("the file set is empty".into()));
        }
        // Validate everything first: all or nothing.
        let extra_schemes =
            self.shared.core.upgrade().map(|core| core.schemes.clone()).unwrap_or_default();
        let mut protocols = Vec::with_capacity(files.len());
        let mut names = HashSet::with_capacity(files.len());
        for info in files {
            protocols.push(validate::remote_name(&info.remote_name, &extra_schemes)?);
            validate::local_name(&info.local_name)?;
            let name = validate::normalized(&info.local_name);
            if inner.local_names.contains(&name) || !names.insert(name) {
                return Err(BgError::InvalidArgument(format!(
                    "local name {:?} is already used in this job",
                    info.local_name
                )));
            }
        }
        let count = inner.files.len() + files.len();
        if count > self.shared.max_files as usize {
            return Err(BgError::TooManyFilesInJob { limit: self.shared.max_files });
        }
        for (info, protocol) in files.iter().zip(protocols) {
            let index = inner.files.len();
            let file = Arc::new(FileShared {
                index,
                remote_name: info.remote_name.clone(),
                local_name: info.local_name.clone(),
                protocol,
                counters: FileCounters::new(index),
            });
            self.shared.counters.add_file();
            inner.files.push(file);
            inner.file_disk.push(FileDisk::default());
        }
        inner.local_names.extend(names);
        self.shared.apply(&mut inner, JobEvent::Modify)?;
        Ok(())
    }

    fn add_file(&self, remote_url: &str, local_name: &Path) -> Result<()> {
        self.add_file_set(&[BgFileInfo::new(remote_url, local_name)])
    }

    fn enum_files(&self) -> Vec<JobFile> {
        let inner = self.lock();
        inner
            .files
            .iter()
            .map(|file| JobFile { job: Arc::clone(&self.shared), file: Arc::clone(file) })
            .collect()
    }

    fn suspend(&self) -> Result<()> {
        let state = self.shared.apply(&mut self.lock(), JobEvent::Suspend)?;
        self.shared.after_change(state);
        Ok(())
    }

    fn resume(&self) -> Result<()> {
        let state = {
            let mut inner = self.lock();
            let has_work = JobShared::has_work(&inner);
            self.shared.apply(&mut inner, JobEvent::Resume { has_work })?
        };
        self.shared.after_change(state);
        Ok(())
    }

    fn cancel(&self) -> Result<BgSuccess> {
        let (state, outcome) = {
            let mut inner = self.lock();
            transition(self.shared.counters.state(), JobEvent::Cancel)?;
            let outcome = self.settle_files(&mut inner, false)?;
            (self.shared.apply(&mut inner, JobEvent::Cancel)?, outcome)
        };
        self.shared.after_change(state);
        Ok(if outcome.undeleted { BgSuccess::UnableToDeleteFiles } else { BgSuccess::Ok })
    }

    fn complete(&self) -> Result<BgSuccess> {
        let result = {
            let mut inner = self.lock();
            let state = self.shared.counters.state();
            transition(state, JobEvent::Complete)?;
            // Stop any driver first: the state stays, the claim generation moves on.
            if matches!(state, BgJobState::Connecting | BgJobState::Transferring) {
                self.shared.counters.set_state(state, true);
            }
            match self.settle_files(&mut inner, true) {
                Ok(outcome) => {
                    self.shared.apply(&mut inner, JobEvent::Complete)?;
                    Ok(outcome)
                }
                Err(error) => {
                    // Renamed files stay available; the job waits for another complete() or a
                    // cancel() (spec 3.6).
                    if state != BgJobState::Transferred {
                        let _ = self.shared.apply(&mut inner, JobEvent::Suspend);
                    }
                    Err(error)
                }
            }
        };
        self.shared.after_change(self.get_state());
        let outcome = result?;
        Ok(if outcome.partial {
            BgSuccess::PartialComplete
        } else if outcome.undeleted {
            BgSuccess::UnableToDeleteFiles
        } else {
            BgSuccess::Ok
        })
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
                Ok(JobError { job: Arc::clone(&self.shared), record: Arc::clone(record) })
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
        self.modify(|inner| inner.display_name = name.to_owned())
    }

    fn get_display_name(&self) -> String {
        self.lock().display_name.clone()
    }

    fn set_description(&self, description: &str) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        validate::description(description)?;
        self.modify(|inner| inner.description = description.to_owned())
    }

    fn get_description(&self) -> String {
        self.lock().description.clone()
    }

    fn set_priority(&self, priority: BgJobPriority) -> Result<()> {
        self.modify_and_wake(|inner| inner.priority = priority)
    }

    fn get_priority(&self) -> BgJobPriority {
        self.lock().priority
    }

    fn set_notify_flags(&self, flags: BgNotify) -> Result<()> {
        transition(self.get_state(), JobEvent::Modify)?;
        if BgNotify::from_bits(flags.bits()).is_none() {
            return Err(BgError::NotImplemented("undefined BG_NOTIFY bits"));
        }
        self.modify(|inner| inner.notify_flags = flags)
    }

    fn get_notify_flags(&self) -> BgNotify {
        self.lock().notify_flags
    }

    fn set_notify_interface(
        &self,
        callback: Option<Arc<dyn BackgroundCopyCallback>>,
    ) -> Result<()> {
        let mut inner = self.lock();
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        inner.callback = callback;
        self.shared.apply(&mut inner, JobEvent::Modify)?;
        // A late registration still hears about the state the job is waiting in.
        match self.shared.counters.state() {
            BgJobState::Transferred => self.shared.post(&inner, Event::Transferred),
            BgJobState::Error => {
                if let Some(record) = inner.error.clone() {
                    self.shared.post(&inner, Event::Error(record));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn get_notify_interface(&self) -> Option<Arc<dyn BackgroundCopyCallback>> {
        self.lock().callback.clone()
    }

    fn set_minimum_retry_delay(&self, delay: Duration) -> Result<()> {
        let delay = Duration::from_secs(delay.as_secs()).max(MIN_RETRY_DELAY_FLOOR);
        self.modify_and_wake(|inner| inner.min_retry_delay = delay)
    }

    fn get_minimum_retry_delay(&self) -> Duration {
        self.lock().min_retry_delay
    }

    fn set_no_progress_timeout(&self, timeout: Duration) -> Result<()> {
        let timeout = Duration::from_secs(timeout.as_secs());
        self.modify_and_wake(|inner| inner.no_progress_timeout = timeout)
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
        self.modify(|inner| {
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
        self.modify(|inner| inner.owner = caller)?;
        if let Some(core) = self.shared.core.upgrade() {
            core.set_owner(self.shared.id, &self.caller);
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
        d.field("progress", &self.get_progress()).finish()
    }
}
