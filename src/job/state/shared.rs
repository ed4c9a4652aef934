//! [`JobShared`]: everything one job is, shared by its handles. Hot state (counters, state word)
//! in atomics; cold state ([`JobInner`]: names, files, settings, error record, times) under one
//! `parking_lot` lock per job.
//!
//! Every change goes through [`JobShared::change`], in three steps (DESIGN 6.1): **record**,
//! **apply**, **announce**. The closure makes the change on a *draft* of the cold state and
//! leaves the hot state's part of it ([`Pending`]: the state word, file counts) for later; the
//! draft's snapshot is recorded in the store; only once that is durable does the draft replace
//! the job's cold state and the pending hot changes become visible, and only then are the
//! change's callbacks and notifications sent ([`Effects`]: leave the registry, wake the engine,
//! wake waiters). A change whose record fails leaves the job exactly as it was: no getter,
//! event or engine step ever sees it, and no flag of it stays set. Callbacks and subscriber
//! notifications are queued with the draft, so their order is the order of the changes; they
//! are delivered elsewhere, never under the lock.
//!
//! Every writer of the cold state holds the job's `serial` lock, so a draft can replace the
//! state it was made from without losing anyone's write.

use crate::job::context::JobContext;
use crate::job::events::hub::Sampled;
use crate::job::events::notification::{Notification, Queue};
use crate::job::events::watch::Watch;
use crate::job::record::recorder::Recorded;
use crate::job::record::snapshot::{Intent, RetrySnapshot};
use crate::job::state::counters::{Generation, JobCounters};
use crate::job::state::error::ErrorRecord;
use crate::job::state::file::FileDisk;
use crate::job::state::file::FileShared;
use crate::job::state::outbox::Callback;
use crate::job::state::transitions::{JobEvent, transition};
use crate::sync::Mutex;
use crate::{
    BackgroundCopyCallback, BgJobPriority, BgJobProgress, BgJobState, BgJobType, BgNotify,
    BgProxySettings, JobId, Result,
};
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

/// Default minimum retry delay (600 s).
pub(crate) const DEFAULT_MIN_RETRY_DELAY: Duration = Duration::from_secs(600);
/// Floor of the minimum retry delay (5 s).
pub(crate) const MIN_RETRY_DELAY_FLOOR: Duration = Duration::from_secs(5);
/// Default no-progress timeout (14 days).
pub(crate) const DEFAULT_NO_PROGRESS_TIMEOUT: Duration = Duration::from_secs(1_209_600);

/// Everything one job is, shared by its handles.
pub(crate) struct JobShared {
    pub(crate) id: JobId,
    pub(crate) job_type: BgJobType,
    /// Creation order within the manager (for `enum_jobs`).
    pub(crate) seq: u64,
    pub(crate) creation_time: SystemTime,
    pub(crate) counters: JobCounters,
    pub(crate) inner: Mutex<JobInner>,
    pub(crate) ctx: Arc<JobContext>,
    /// Wakes waiters (`wait`, `settled`, a driver's revocation future) when the state word changes.
    pub(crate) watch: Watch,
    /// Held across the whole of `complete()` or `cancel()` (not the data lock, which they release
    /// for their file work), so that two of them never interleave.
    pub(crate) completion: Mutex<()>,
    /// The files handed to the group commit and not recorded yet (see `finishing.rs`).
    pub(crate) finishing: crate::job::state::finishing::Finishing,
    /// Serializes the job's changes from the change itself to its record in the store and its
    /// notifications (see [`JobShared::change`]): records land in the order of the changes, and
    /// nothing is announced before it is durable. Taken before the data lock, never after it.
    pub(crate) serial: Mutex<()>,
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
    pub(crate) local_names: HashSet<PathBuf>,
    /// A driver holds the job (see [`JobDriver`](crate::JobDriver)).
    pub(crate) claimed: bool,
    /// `complete()` or `cancel()` is doing its file work: no driver may claim the job meanwhile.
    pub(crate) completing: bool,
    /// HTTP options: custom headers, timeouts (see `handles/http_options.rs`).
    pub(crate) options: JobOptions,
    /// Connections a transport may open per file (1..=16).
    pub(crate) max_connections: u32,
    /// The job's own bandwidth cap, bytes per second (`None`: no cap).
    pub(crate) max_bytes_per_second: Option<u64>,
    /// The queues of this job's subscriptions.
    pub(crate) subscribers: Vec<Weak<Queue>>,
    /// What the change under way needs once the lock is released.
    pub(crate) effects: Effects,
    /// The callbacks and notifications of the change under way, sent once it is durable.
    pub(crate) outbox: Vec<Outgoing>,
    /// The hot-state part of the change under way, published once it is durable.
    pub(crate) pending: Pending,
    /// While the job retries transient errors: the wall-clock deadlines that must survive a
    /// restart (the engine's own timers run on its monotonic clock).
    pub(crate) retry: Option<RetrySnapshot>,
    /// `bytes_transferred` when the current no-progress window began.
    pub(crate) quiet_bytes: u64,
    /// The wait the server asked for with the last transient failure (`Retry-After`).
    pub(crate) server_retry_after: Option<Duration>,
    /// A `complete()` or `cancel()` that has begun its file work (recorded before it, so that a
    /// crash half-way is finished on the next open).
    pub(crate) intent: Option<Intent>,
    /// The `IBackgroundCopyJob5` properties and the on-demand state (see `properties.rs`).
    pub(crate) properties: super::properties::JobProperties,
    /// Sources (DESIGN 6.2): peer caching, maximum download time, notify command line.
    pub(crate) sources: super::sources::JobSources,
}

impl JobInner {
    /// A copy to make a change on (see [`JobShared::change`]): every field, but nothing queued.
    fn draft(&self) -> JobInner {
        JobInner {
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            priority: self.priority,
            notify_flags: self.notify_flags,
            callback: self.callback.clone(),
            min_retry_delay: self.min_retry_delay,
            no_progress_timeout: self.no_progress_timeout,
            proxy: self.proxy.clone(),
            owner: self.owner.clone(),
            error_count: self.error_count,
            error: self.error.clone(),
            modification_time: self.modification_time,
            transfer_completion_time: self.transfer_completion_time,
            files: self.files.clone(),
            file_disk: self.file_disk.clone(),
            local_names: self.local_names.clone(),
            claimed: self.claimed,
            completing: self.completing,
            options: self.options.clone(),
            max_connections: self.max_connections,
            max_bytes_per_second: self.max_bytes_per_second,
            subscribers: self.subscribers.clone(),
            effects: Effects::default(),
            outbox: Vec::new(),
            pending: Pending::default(),
            retry: self.retry.clone(),
            quiet_bytes: self.quiet_bytes,
            server_retry_after: self.server_retry_after,
            intent: self.intent,
            properties: self.properties.clone(),
            sources: self.sources.clone(),
        }
    }
}

/// A callback or notification waiting for its change to be durable.
pub(crate) enum Outgoing {
    /// A BITS callback for the executor.
    Callback(Callback),
    /// A notification for the job's and the manager's subscribers.
    Notify(Notification),
    /// A progress value for the subscribers that want progress.
    Progress(BgJobProgress),
    /// The job is final: its subscriptions end (after what was queued before).
    EndSubscriptions,
}

/// The HTTP options of one job (see `handles/http_options.rs` and `handles/http_options.rs`). `Debug`
/// shows header names, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct JobOptions {
    /// Extra request headers, in the order given.
    pub(crate) headers: Vec<(String, String)>,
    /// Limit on establishing a connection (`None`: the transport's default).
    pub(crate) connect_timeout: Option<Duration>,
    /// Limit on one read that receives nothing (`None`: the transport's default).
    pub(crate) read_timeout: Option<Duration>,
    /// Write-only headers, security flags, method, credentials (DESIGN 6.2).
    pub(crate) http: crate::job::record::http_options::HttpOptions,
}

impl fmt::Debug for JobOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("JobOptions")
            .field("header_names", &names)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("http", &self.http)
            .finish()
    }
}

/// The hot-state part of a change (the lock-free readers' view), made visible only once the
/// change is recorded (see [`JobShared::change`]). Inside the change, [`JobShared::state_in`]
/// and [`JobShared::generation_in`] see it already.
#[derive(Debug, Default, Clone)]
pub(crate) struct Pending {
    /// The state the change moves the job to (`None`: unchanged).
    pub(crate) state: Option<BgJobState>,
    /// Claim generations the change starts (each revokes the claim before it).
    pub(crate) generations: u64,
    /// Files the change adds (the last ones of the draft's list).
    pub(crate) files_added: usize,
    /// Files that count as transferred once the change is published (their indices).
    pub(crate) finished: Vec<usize>,
    /// Files that `complete()` made visible (their indices).
    pub(crate) completed: Vec<usize>,
    /// Transferred files that go back to zero to be fetched again (their indices).
    pub(crate) unfinished: Vec<usize>,
}

/// What a change needs after the job lock is released (see [`JobShared::change`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Effects {
    /// The state word changed: wake the waiters.
    pub(crate) changed: bool,
    /// Scheduling may change: wake the engine.
    pub(crate) wake: bool,
    /// The job became final: leave the registry (and the store).
    pub(crate) removed: bool,
    /// The change must be recorded in the store (if the manager has one).
    pub(crate) save: bool,
    /// The change may be recorded lazily (no sync of its own; see `Persist::save_lazy`). Best
    /// effort: a lazy record that fails does not undo the change (a restart brings such a job
    /// back `Queued` whatever its record says).
    pub(crate) save_lazy: bool,
    /// The job started transferring: the pacer samples it (once the state is published).
    pub(crate) activate: bool,
    /// Apply the change even if its record fails (the engine's own moves that must happen in
    /// memory whatever the disk says: a transient failure, a file restarted from zero).
    pub(crate) best_effort: bool,
}

fn transferring(state: BgJobState) -> bool {
    matches!(state, BgJobState::Connecting | BgJobState::Transferring)
}

/// States a job leaves by itself towards a transfer (none of them needs a record of its own).
fn moving(state: BgJobState) -> bool {
    matches!(state, BgJobState::Queued | BgJobState::Connecting | BgJobState::Transferring)
}

impl AsRef<Watch> for JobShared {
    /// The job's watch, for the futures that wait on it.
    fn as_ref(&self) -> &Watch {
        &self.watch
    }
}

impl JobShared {
    /// A new job: `Suspended`, no files, the BITS defaults.
    pub(crate) fn new(
        id: JobId,
        seq: u64,
        display_name: &str,
        owner: &str,
        ctx: Arc<JobContext>,
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
                completing: false,
                options: JobOptions::default(),
                max_connections: 1,
                max_bytes_per_second: None,
                subscribers: Vec::new(),
                effects: Effects::default(),
                outbox: Vec::new(),
                pending: Pending::default(),
                retry: None,
                quiet_bytes: 0,
                server_retry_after: None,
                intent: None,
                properties: super::properties::JobProperties::default(),
                sources: super::sources::JobSources::default(),
            }),
            ctx,
            watch: Watch::default(),
            completion: Mutex::new(()),
            finishing: crate::job::state::finishing::Finishing::default(),
            serial: Mutex::new(()),
        }
    }

    /// Makes a change: record, apply, announce (see the module docs).
    ///
    /// `change` runs on a draft of the job's cold state, under the job lock (which only orders
    /// the few hot-state writes that are not part of the change: stripes and sizes). If the
    /// change asks for a record (`effects.save`, or `effects.removed` for a job that became
    /// final), the draft's snapshot is recorded; when that fails, the draft is dropped and an
    /// `Ok` result becomes the store's error ([`Recorded`]), unless the change is
    /// `best_effort`. Then the draft replaces the cold state and [`Pending`] is published,
    /// under the lock; then callbacks and notifications go out, the registry and the engine
    /// hear of it, and waiters wake. The `serial` lock is held throughout, so changes are
    /// recorded, applied and announced in the order they were made.
    pub(crate) fn change<R: Recorded>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut JobInner) -> R,
    ) -> R {
        let (result, stored) = {
            let _serial = self.serial.lock();
            let (result, mut draft) = {
                let inner = self.inner.lock();
                let mut draft = inner.draft();
                let result = change(&mut draft);
                (result, draft)
            };
            let effects = std::mem::take(&mut draft.effects);
            let stored = self.record_draft(&draft, effects);
            if stored.is_ok() || effects.best_effort {
                self.publish_draft(draft, effects);
                (result, Ok(()))
            } else {
                (result, stored)
            }
        };
        // Outside `serial`: a result dropped here (a transfer whose change was not recorded)
        // may take it again.
        result.or_store_error(stored)
    }

    /// Step one of [`change`](Self::change): records the draft, if the change asks for it.
    fn record_draft(&self, draft: &JobInner, effects: Effects) -> Result<()> {
        let Some(persist) = &self.ctx.persist else { return Ok(()) };
        if effects.removed {
            return persist.remove(self.id);
        }
        if effects.save {
            return persist.save(&self.snapshot(draft));
        }
        if effects.save_lazy {
            // Best effort, by design: see `Effects::save_lazy`.
            let _ = persist.save_lazy(&self.snapshot(draft));
        }
        Ok(())
    }

    /// Steps two and three of [`change`](Self::change): the draft becomes the job's state, its
    /// pending hot changes are published, and the change is announced.
    fn publish_draft(self: &Arc<Self>, mut draft: JobInner, effects: Effects) {
        let outbox = std::mem::take(&mut draft.outbox);
        let pending = std::mem::take(&mut draft.pending);
        let queues: Vec<Arc<Queue>> = if outbox.is_empty() {
            Vec::new()
        } else {
            draft.subscribers.iter().filter_map(Weak::upgrade).collect()
        };
        {
            let mut inner = self.inner.lock();
            *inner = draft;
            self.publish_pending(&inner, pending);
        }
        if effects.activate {
            let me: Weak<dyn Sampled> = Arc::downgrade(self) as Weak<JobShared>;
            self.ctx.hub.activate(me);
        }
        self.send(outbox, &queues);
        if (effects.removed || effects.wake)
            && let Some(registry) = self.ctx.registry()
        {
            if effects.removed {
                registry.leave(self.id);
                self.ctx.limiter.forget(self.id);
            }
            registry.wake();
        }
        if effects.changed {
            self.watch.notify();
        }
    }

    /// Publishes a recorded change's hot part to the lock-free readers, under the job lock: new
    /// files, finished and completed files, then the state word (whose `Release` store
    /// publishes the rest).
    fn publish_pending(&self, inner: &JobInner, pending: Pending) {
        for _ in 0..pending.files_added {
            self.counters.add_file();
        }
        for index in pending.finished {
            // Checked by the change (`FileTransfer::finish`): every byte of the file is there,
            // and its transfer is the only writer of its counters.
            let finished = self.counters.finish_file(&inner.files[index].counters);
            debug_assert!(finished, "file {index} finished with bytes missing");
        }
        for index in pending.unfinished {
            self.counters.unfinish_file(&inner.files[index].counters);
        }
        for index in pending.completed {
            self.counters.mark_completed(&inner.files[index].counters);
        }
        if pending.state.is_some() || pending.generations > 0 {
            let state = pending.state.unwrap_or_else(|| self.counters.state());
            self.counters.set_state(state, pending.generations);
        }
    }

    /// The job's state as the change under way leaves it (the published state until the
    /// change moves it).
    pub(crate) fn state_in(&self, inner: &JobInner) -> BgJobState {
        inner.pending.state.unwrap_or_else(|| self.counters.state())
    }

    /// The claim generation as the change under way leaves it.
    pub(crate) fn generation_in(&self, inner: &JobInner) -> Generation {
        self.counters.generation_after(inner.pending.generations)
    }

    /// Whether file `index` counts as transferred once the change under way is published.
    pub(crate) fn transferred_in(inner: &JobInner, index: usize) -> bool {
        (inner.files[index].counters.is_transferred() && !inner.pending.unfinished.contains(&index))
            || inner.pending.finished.contains(&index)
    }

    /// Whether file `index` is completed once the change under way is published.
    pub(crate) fn completed_in(inner: &JobInner, index: usize) -> bool {
        inner.files[index].counters.is_completed() || inner.pending.completed.contains(&index)
    }

    /// Sends a change's callbacks and notifications (after the change is durable).
    fn send(self: &Arc<Self>, outbox: Vec<Outgoing>, queues: &[Arc<Queue>]) {
        for outgoing in outbox {
            match outgoing {
                Outgoing::Callback(callback) => self.deliver_later(callback),
                Outgoing::Notify(notification) => {
                    for queue in queues {
                        queue.push(notification.clone());
                    }
                    self.ctx.hub.publish(&notification);
                }
                Outgoing::Progress(progress) => {
                    for queue in queues {
                        queue.push_progress(self.id, progress);
                    }
                    self.ctx.hub.publish_progress(self.id, progress);
                }
                Outgoing::EndSubscriptions => {
                    for queue in queues {
                        queue.close();
                    }
                }
            }
        }
    }

    /// Applies `event` under the lock: checks it against [`transition`], publishes the new state,
    /// stamps the modification time and queues the notifications the change calls for. An event
    /// that is accepted but changes nothing (suspend while suspended, resume while active, a second
    /// `connected`) changes neither the time nor notifies; `Modify` always does (its caller
    /// changed a property).
    pub(crate) fn apply(
        self: &Arc<Self>,
        inner: &mut JobInner,
        event: JobEvent,
    ) -> Result<BgJobState> {
        let old = self.state_in(inner);
        let new = transition(old, event)?;
        // A claim starts a generation; leaving Connecting/Transferring ends it.
        let bump = event == JobEvent::Claim || (transferring(old) && !transferring(new));
        if new == old && !bump && event != JobEvent::Modify {
            return Ok(new);
        }
        let now = SystemTime::now();
        inner.modification_time = now;
        if transferring(old) && new != old {
            // The exact figures the transfer stopped at, ahead of the state change.
            self.publish_progress(inner);
        }
        if new != old || bump {
            inner.pending.state = Some(new);
            inner.pending.generations += u64::from(bump);
            inner.effects.changed = true;
            inner.effects.wake = true;
        }
        // Moves between Queued, Connecting and Transferring need no sync of their own: a restart
        // brings them back Queued anyway, and the progress checkpoints record the bytes.
        if moving(old) && moving(new) && event != JobEvent::Modify {
            inner.effects.save_lazy = true;
        } else {
            inner.effects.save = true;
        }
        // The retry deadlines last while the job keeps retrying; a settled job has none.
        if new.is_settled() {
            inner.retry = None;
        }
        if transferring(new) && !transferring(old) {
            // Once published: the pacer drops a job it finds not transferring.
            inner.effects.activate = true;
        }
        match new {
            BgJobState::Transferred if old != new => {
                inner.transfer_completion_time = Some(now);
                self.post(inner, Callback::Transferred);
            }
            BgJobState::Error if old != new => {
                let record =
                    Arc::clone(inner.error.get_or_insert_with(|| Arc::new(ErrorRecord::unknown())));
                self.post(inner, Callback::Error(record));
            }
            BgJobState::Transferring if old != new => {
                // The error report lasts until the job transfers again.
                inner.error = None;
                self.post(inner, Callback::Modification);
            }
            // Queued again after being transferred (directly, or suspended first): a new round.
            BgJobState::Queued if inner.transfer_completion_time.is_some() => {
                inner.transfer_completion_time = None;
                self.post(inner, Callback::Modification);
            }
            // No state change while the job transfers: paced by the job's
            // MinimumNotificationIntervalMs (what BITS paces is the stream of modifications of a
            // transfer; every change of a job at rest is reported, spec 1.7).
            _ if new == old && transferring(new) => self.post_paced_modification(inner),
            _ => self.post(inner, Callback::Modification),
        }
        if new != old {
            self.publish(inner, Notification::StateChanged { job: self.id, state: new });
            if new.is_final() {
                // After the final state change: nothing more can come.
                inner.outbox.push(Outgoing::EndSubscriptions);
                inner.effects.removed = true;
            }
        } else if event == JobEvent::Modify {
            self.publish(inner, Notification::Modified { job: self.id });
        }
        Ok(new)
    }

    /// Queues `notification` for this job's subscribers and the manager's, to be sent once the
    /// change is durable. Under the job lock.
    pub(crate) fn publish(&self, inner: &mut JobInner, notification: Notification) {
        inner.outbox.push(Outgoing::Notify(notification));
    }

    /// Queues the current progress for the subscribers that want progress.
    fn publish_progress(&self, inner: &mut JobInner) {
        inner.outbox.push(Outgoing::Progress(self.counters.snapshot()));
    }

    /// Whether a file is left to transfer.
    pub(crate) fn has_work(inner: &JobInner) -> bool {
        (0..inner.files.len()).any(|index| !Self::transferred_in(inner, index))
    }
}

impl Sampled for JobShared {
    fn sample(&self) -> Option<(JobId, BgJobProgress)> {
        transferring(self.counters.state()).then(|| (self.id, self.counters.snapshot()))
    }
}

impl fmt::Debug for JobShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobShared")
            .field("id", &self.id)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}
