//! The callback interface ([`BackgroundCopyCallback`], the one slot of
//! `set_notify_interface`) and its delivery: the job queues a [`Callback`] in the change's outbox
//! while it holds its lock, hands it to the manager's serial executor once the change is durable
//! (in the order of the changes), and the executor delivers it. At delivery the job's current callback and flags are read under the lock (cloning the
//! `Arc`), the lock is released, and the callback is called: it may call any method of its job. A
//! panicking callback is caught and does not stop later notifications.

use crate::job::state::outbox::Callback;
use crate::job::state::shared::{JobInner, JobShared, Outgoing};
use crate::{BgJobState, Job, JobError, JobFile};
use std::sync::Arc;

impl JobShared {
    /// Queues a callback if it can fire now (delivery checks again), to be handed to the
    /// executor once the change is durable. Under the job lock.
    pub(crate) fn post(&self, inner: &mut JobInner, callback: Callback) {
        // Without a callback, `Transferred` and `Error` run the notify program if there is one.
        let command = inner.sources.notify.is_some()
            && matches!(callback, Callback::Transferred | Callback::Error(_));
        if (inner.callback.is_some() || command) && inner.notify_flags.fires(callback.flag()) {
            if let Callback::Modification = callback {
                inner.properties.last_modification = Some(self.ctx.limiter.clock().now());
            }
            inner.outbox.push(Outgoing::Callback(callback));
        }
    }

    /// Queues a `job_modification` callback for a change that is not a state change, unless
    /// one was queued less than the job's `MinimumNotificationIntervalMs` ago on the manager's
    /// clock (DESIGN 6.3): such a modification is dropped, not delayed. State changes (their
    /// `job_modification`, `job_transferred`, `job_error`) and `file_transferred` are never
    /// paced. Under the job lock.
    pub(crate) fn post_paced_modification(&self, inner: &mut JobInner) {
        let interval =
            std::time::Duration::from_millis(u64::from(inner.properties.notification_interval_ms));
        let now = self.ctx.limiter.clock().now();
        if let Some(last) = inner.properties.last_modification
            && now.saturating_sub(last) < interval
        {
            return;
        }
        self.post(inner, Callback::Modification);
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
