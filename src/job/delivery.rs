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
