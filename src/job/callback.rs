//! The callback interface ([`BackgroundCopyCallback`], the one slot of
//! `set_notify_interface`) and its delivery: the job queues a [`Callback`] in the change's outbox
//! while it holds its lock, hands it to the manager's serial executor once the change is durable
//! (in the order of the changes), and the executor delivers it. At delivery the job's current callback and flags are read under the lock (cloning the
//! `Arc`), the lock is released, and the callback is called: it may call any method of its job. A
//! panicking callback is caught and does not stop later notifications.

use super::file::FileShared;
use super::report::ErrorRecord;
use super::shared::{JobInner, JobShared, Outgoing};
use crate::{BgJobState, BgNotify, Job, JobError, JobFile};
use std::sync::Arc;

/// Notifications about a job (`IBackgroundCopyCallback`, plus `FileTransferred` of
/// `IBackgroundCopyCallback2`), implemented by users and registered with
/// [`set_notify_interface`](crate::BackgroundCopyJob::set_notify_interface).
///
/// A method fires only when a callback is registered, the job's notify flags select it, and
/// [`BgNotify::DISABLE`](crate::BgNotify::DISABLE) is clear. Callbacks run on the manager's
/// notifier thread, never on the caller's thread and never while a job lock is held, in event order
/// per job; so a callback may call any method of the job, for example `complete()` from
/// `job_transferred`. A slow callback delays the ones after it. A callback that keeps a clone of
/// its own job keeps that job alive.
///
/// ```
/// use bgcopy::{BackgroundCopyCallback, Job};
/// #[derive(Debug)]
/// struct AutoComplete;
/// impl BackgroundCopyCallback for AutoComplete {
///     fn job_transferred(&self, job: &Job) {
///         use bgcopy::BackgroundCopyJob;
///         let _ = job.complete();
///     }
/// }
/// ```
pub trait BackgroundCopyCallback: Send + Sync {
    /// The job entered `Transferred` (`JobTransferred`, flag `JOB_TRANSFERRED`). A registration
    /// made while the job is already transferred is called too.
    fn job_transferred(&self, job: &Job) {
        let _ = job;
    }

    /// The job entered `Error` (`JobError`, flag `JOB_ERROR`); never for `TransientError`.
    fn job_error(&self, job: &Job, error: &JobError) {
        let _ = (job, error);
    }

    /// The job changed: a file added or finished, a property set, a state change other than into
    /// `Transferred` or `Error` (`JobModification`, flag `JOB_MODIFICATION`). Not fired for every
    /// chunk of bytes.
    fn job_modification(&self, job: &Job) {
        let _ = job;
    }

    /// One file of the job finished transferring (`FileTransferred`, flag `FILE_TRANSFERRED`).
    fn file_transferred(&self, job: &Job, file: &JobFile) {
        let _ = (job, file);
    }
}

/// A callback that does nothing, for tests and as a placeholder.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopCallback;

impl BackgroundCopyCallback for NoopCallback {}

/// One callback waiting for delivery.
pub(crate) enum Callback {
    /// The job entered `Transferred`.
    Transferred,
    /// The job entered `Error` with this report.
    Error(Arc<ErrorRecord>),
    /// The job changed.
    Modification,
    /// One file finished.
    FileTransferred(Arc<FileShared>),
}

impl Callback {
    /// The notify flag that selects the callback.
    fn flag(&self) -> BgNotify {
        match self {
            Callback::Transferred => BgNotify::JOB_TRANSFERRED,
            Callback::Error(_) => BgNotify::JOB_ERROR,
            Callback::Modification => BgNotify::JOB_MODIFICATION,
            Callback::FileTransferred(_) => BgNotify::FILE_TRANSFERRED,
        }
    }
}

impl JobShared {
    /// Queues a callback if it can fire now (delivery checks again), to be handed to the
    /// executor once the change is durable. Under the job lock.
    pub(crate) fn post(&self, inner: &mut JobInner, callback: Callback) {
        // Without a callback, `Transferred` and `Error` run the notify program if there is one.
        let command = inner.sources.notify.is_some()
            && matches!(callback, Callback::Transferred | Callback::Error(_));
        if (inner.callback.is_some() || command) && inner.notify_flags.fires(callback.flag()) {
            inner.outbox.push(Outgoing::Callback(callback));
        }
    }

    /// Hands a callback to the manager's executor (in the order of the changes).
    pub(crate) fn deliver_later(self: &Arc<Self>, callback: Callback) {
        let shared = Arc::clone(self);
        self.ctx.callbacks.post(move || deliver(&shared, callback));
    }
}

fn deliver(shared: &Arc<JobShared>, callback: Callback) {
    let (target, flags, owner) = {
        let inner = shared.inner.lock();
        (inner.callback.clone(), inner.notify_flags, inner.owner.clone())
    };
    if !flags.fires(callback.flag()) {
        return;
    }
    let Some(target) = target else {
        match callback {
            Callback::Transferred => super::notify_cmd::start(shared, BgJobState::Transferred),
            Callback::Error(_) => super::notify_cmd::start(shared, BgJobState::Error),
            _ => {}
        }
        return;
    };
    let job = Job::from_parts(Arc::clone(shared), owner.into(), shared.ctx.keepalive());
    match callback {
        Callback::Transferred => target.job_transferred(&job),
        Callback::Error(record) => {
            target.job_error(&job, &JobError::new(Arc::clone(shared), record, job.keep.clone()))
        }
        Callback::Modification => target.job_modification(&job),
        Callback::FileTransferred(file) => {
            target.file_transferred(&job, &JobFile::new(Arc::clone(shared), file, job.keep.clone()))
        }
    }
}
