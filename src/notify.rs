//! Callback dispatch: a notifier thread per manager delivers
//! [`BackgroundCopyCallback`](crate::BackgroundCopyCallback) calls in event order, never on the
//! caller's thread and never while a job lock is held.
//!
//! Jobs queue events while they hold their lock (so the queue order is the order of the changes)
//! and the notifier thread, started on first use, takes them one by one. At delivery it reads the
//! job's current callback and flags (under the lock, cloning the `Arc`), releases the lock, and
//! calls. A callback may therefore call any method of its job. A panicking callback is caught and
//! does not stop later notifications. The thread ends when the manager and all its jobs are gone.

use crate::job::{ErrorRecord, FileShared, JobShared};
use crate::{BgNotify, Job, JobError, JobFile};
use parking_lot::Mutex;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

/// One notification waiting for delivery.
pub(crate) enum Event {
    /// The job entered `Transferred`.
    Transferred,
    /// The job entered `Error` with this report.
    Error(Arc<ErrorRecord>),
    /// The job changed.
    Modification,
    /// One file finished.
    FileTransferred(Arc<FileShared>),
}

impl Event {
    /// The notify flag that selects the event.
    pub(crate) fn flag(&self) -> BgNotify {
        match self {
            Event::Transferred => BgNotify::JOB_TRANSFERRED,
            Event::Error(_) => BgNotify::JOB_ERROR,
            Event::Modification => BgNotify::JOB_MODIFICATION,
            Event::FileTransferred(_) => BgNotify::FILE_TRANSFERRED,
        }
    }
}

type Message = (Arc<JobShared>, Event);

/// The queue of one manager's notifications and its delivery thread.
pub(crate) struct Notifier {
    sender: Mutex<Option<Sender<Message>>>,
}

impl Notifier {
    pub(crate) fn new() -> Arc<Notifier> {
        Arc::new(Notifier { sender: Mutex::new(None) })
    }

    /// Queues an event; starts the delivery thread on first use. Never blocks on a callback.
    pub(crate) fn post(&self, job: Arc<JobShared>, event: Event) {
        let mut sender = self.sender.lock();
        let tx = sender.get_or_insert_with(|| {
            let (tx, rx) = channel();
            let spawned = std::thread::Builder::new()
                .name("bgcopy-notifier".into())
                .spawn(move || deliver_all(rx));
            // Without a thread (resource exhaustion) notifications are dropped, as Windows may do
            // under heavy load; nothing else depends on them.
            drop(spawned);
            tx
        });
        // A send fails only if the thread could not start; the event is dropped then.
        let _ = tx.send((job, event));
    }
}

fn deliver_all(rx: Receiver<Message>) {
    while let Ok((job, event)) = rx.recv() {
        deliver(job, event);
    }
}

fn deliver(shared: Arc<JobShared>, event: Event) {
    let (callback, flags, owner) = {
        let inner = shared.inner.lock();
        (inner.callback.clone(), inner.notify_flags, inner.owner.clone())
    };
    let Some(callback) = callback else { return };
    if !flags.fires(event.flag()) {
        return;
    }
    let job = Job { shared: Arc::clone(&shared), caller: owner.into() };
    let _ = catch_unwind(AssertUnwindSafe(|| match event {
        Event::Transferred => callback.job_transferred(&job),
        Event::Error(record) => {
            callback.job_error(&job, &JobError { job: Arc::clone(&shared), record })
        }
        Event::Modification => callback.job_modification(&job),
        Event::FileTransferred(file) => {
            callback.file_transferred(&job, &JobFile { job: Arc::clone(&shared), file })
        }
    }));
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier").field("started", &self.sender.lock().is_some()).finish()
    }
}
