//! The event hub of a manager: the subscriptions to every job's notifications, and the pacer, a
//! thread that samples the progress of the jobs that are transferring once per progress interval
//! of each subscription (see `notification.rs`).
//!
//! The pacer sleeps until the next subscription is due, and without a transferring job it sleeps
//! until woken: no periodic wake-ups while nothing happens. It starts with the first subscription
//! and ends when the hub is closed (the manager shut down, or its last job is gone). It reads only
//! the jobs' atomic counters, through [`Sampled`], never a job lock.

use crate::job::events::notification::{Notification, Queue};
use crate::{BgJobProgress, JobId};
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// A job as the pacer samples it.
pub(crate) trait Sampled: Send + Sync {
    /// The job's id and progress while it transfers; `None` once it does not.
    fn sample(&self) -> Option<(JobId, BgJobProgress)>;
}

/// The hub (see the module docs).
pub(crate) struct EventHub {
    state: Mutex<HubState>,
    tick: Condvar,
}

#[derive(Default)]
struct HubState {
    /// Subscriptions to every job of the manager.
    all: Vec<Weak<Queue>>,
    /// Every subscription, for progress, with its scope (`None`: every job) and when it is due.
    paced: Vec<Paced>,
    /// Jobs that are transferring (or were when last sampled).
    active: Vec<Weak<dyn Sampled>>,
    pacer_started: bool,
    closed: bool,
}

struct Paced {
    queue: Weak<Queue>,
    scope: Option<JobId>,
    /// When the subscription next gets progress; `None`: never again (an interval so long that
    /// the instant it ends cannot be represented, such as `Duration::MAX`).
    due: Option<Instant>,
}

impl EventHub {
    /// A hub without subscriptions; its pacer starts with the first one.
    pub(crate) fn new() -> Arc<EventHub> {
        Arc::new(EventHub { state: Mutex::new(HubState::default()), tick: Condvar::new() })
    }

    /// Registers a subscription to the notifications of every job.
    pub(crate) fn subscribe_all(&self, queue: &Arc<Queue>) {
        let mut state = self.state.lock();
        if state.closed {
            queue.close();
            return;
        }
        state.all.retain(|q| q.strong_count() > 0);
        state.all.push(Arc::downgrade(queue));
    }

    /// Registers a subscription for progress of `scope` (`None`: every job); starts the pacer.
    pub(crate) fn add_paced(self: &Arc<Self>, queue: &Arc<Queue>, scope: Option<JobId>) {
        let mut state = self.state.lock();
        state.paced.retain(|p| p.queue.strong_count() > 0);
        state.paced.push(Paced { queue: Arc::downgrade(queue), scope, due: Some(Instant::now()) });
        if !state.pacer_started && !state.closed {
            let hub = Arc::clone(self);
            state.pacer_started = std::thread::Builder::new()
                .name("bgcopy-pacer".into())
                .spawn(move || hub.pace())
                .is_ok();
        }
        drop(state);
        self.poke();
    }

    /// Delivers a notification to the subscriptions to every job. Never blocks on a subscriber.
    pub(crate) fn publish(&self, notification: &Notification) {
        for queue in self.state.lock().all.iter().filter_map(Weak::upgrade) {
            queue.push(notification.clone());
        }
    }

    /// Queues a job's progress for the subscriptions to every job (right before a state change).
    pub(crate) fn publish_progress(&self, job: JobId, progress: BgJobProgress) {
        for queue in self.state.lock().all.iter().filter_map(Weak::upgrade) {
            queue.push_progress(job, progress);
        }
    }

    /// A job started transferring: the pacer samples it while it does.
    pub(crate) fn activate(&self, job: Weak<dyn Sampled>) {
        let mut state = self.state.lock();
        if !state.active.iter().any(|j| j.ptr_eq(&job)) {
            state.active.push(job);
        }
        drop(state);
        self.poke();
    }

    /// Wakes the pacer to look again (a job started, an interval changed).
    pub(crate) fn poke(&self) {
        self.tick.notify_all();
    }

    /// Ends the subscriptions to every job (after their waiting notifications) and the pacer.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        for queue in state.all.drain(..).filter_map(|q| q.upgrade()) {
            queue.close();
        }
        drop(state);
        self.poke();
    }

    /// The pacer thread's body.
    fn pace(&self) {
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return;
            }
            let now = Instant::now();
            let mut samples = Vec::new();
            state.active.retain(|job| match job.upgrade().and_then(|job| job.sample()) {
                Some(sample) => {
                    samples.push(sample);
                    true
                }
                None => false,
            });
            state.paced.retain(|p| p.queue.strong_count() > 0);
            let mut next: Option<Instant> = None;
            if !samples.is_empty() {
                for paced in &mut state.paced {
                    let Some(queue) = paced.queue.upgrade() else { continue };
                    let Some(interval) = queue.progress_interval() else { continue };
                    if paced.due.is_some_and(|due| due <= now) {
                        for (job, progress) in &samples {
                            if paced.scope.is_none_or(|scope| scope == *job) {
                                queue.push_progress(*job, *progress);
                            }
                        }
                        // Checked: `Duration::MAX` means "never again", not a panic that would
                        // end this thread and every subscription's progress with it.
                        paced.due = now.checked_add(interval);
                    }
                    if let Some(due) = paced.due {
                        next = Some(next.map_or(due, |at| at.min(due)));
                    }
                }
            }
            match next {
                None => self.tick.wait(&mut state),
                Some(at) => {
                    let _ = self.tick.wait_until(&mut state, at);
                }
            }
        }
    }
}

impl fmt::Debug for EventHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("EventHub")
            .field("subscriptions", &state.paced.len())
            .field("active_jobs", &state.active.len())
            .field("closed", &state.closed)
            .finish()
    }
}
