//! The callback interface ([`BackgroundCopyCallback`], the one slot of
//! `set_notify_interface`) and [`NoopCallback`]. How callbacks are queued and delivered is in
//! `delivery.rs`.

use crate::{Job, JobError, JobFile};

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
