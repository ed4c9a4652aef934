//! [`Notification`]: what subscribers hear about jobs, and the [`Queue`] of one subscription.
//!
//! Each subscription has a queue of its own. The job pushes discrete notifications (state
//! changes, finished files, failures, modifications) into the queues of its subscribers while it
//! holds its lock, so they arrive in the order of the changes, and a push never waits for a
//! subscriber: the queue grows instead, so a live subscriber never loses one and a slow one never
//! slows a transfer. Progress is different: transfers only touch their atomic counters, and the
//! manager's pacer (`hub.rs`) samples the jobs that are transferring once per progress
//! interval of each subscription and keeps at most one progress notification per job waiting in a
//! queue, the latest (a subscriber that reads slowly sees fewer, newer values). Right before each
//! state change the job's final figures are queued too, so a subscriber sees exact progress at
//! `Transferred`.

use crate::{BgErrorContext, BgJobProgress, BgJobState, JobId};
use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The progress interval of a new subscription.
pub(crate) const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_millis(500);
/// The shortest progress interval a subscription may ask for.
pub(crate) const MIN_PROGRESS_INTERVAL: Duration = Duration::from_millis(1);

/// Something that happened to a job, as a [`Subscription`](crate::Subscription) delivers it.
///
/// ```
/// use bgcopy::*;
/// let manager = Manager::builder().without_engine().build();
/// let job = manager.create_job("watched", BgJobType::Download)?;
/// let events = job.subscribe();
/// job.set_description("nightly")?;
/// job.cancel()?;
/// let seen: Vec<Notification> = events.collect(); // ends after the job is final
/// assert_eq!(seen, [
///     Notification::StateChanged { job: job.get_id(), state: BgJobState::Suspended }, // now
///     Notification::Modified { job: job.get_id() },
///     Notification::StateChanged { job: job.get_id(), state: BgJobState::Cancelled },
/// ]);
/// # Ok::<(), BgError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Notification {
    /// The job entered `state`; also the first notification of a job's subscription, with the
    /// state the job is in when it subscribes.
    StateChanged {
        /// The job.
        job: JobId,
        /// Its new state.
        state: BgJobState,
    },
    /// File `index` of the job is transferred: all its bytes are in its temporary file.
    FileTransferred {
        /// The job.
        job: JobId,
        /// The file's position in the job.
        index: usize,
    },
    /// A transfer failed. The job goes to `TransientError` (`transient`, retried later) or to
    /// `Error`; the [`StateChanged`](Notification::StateChanged) follows.
    Failed {
        /// The job.
        job: JobId,
        /// Where the failure happened.
        context: BgErrorContext,
        /// Its HRESULT.
        hresult: u32,
        /// Whether it is retried.
        transient: bool,
    },
    /// A property or the file list changed, or a file restarted from zero; the state did not.
    Modified {
        /// The job.
        job: JobId,
    },
    /// The job's progress: while it transfers at most once per progress interval (see
    /// [`Subscription::with_progress_interval`](crate::Subscription::with_progress_interval)), and
    /// once more right before the state change that ends the transfer. Only the latest value
    /// waits in a queue, and an unchanged value is not repeated.
    Progress {
        /// The job.
        job: JobId,
        /// Its progress then.
        progress: BgJobProgress,
    },
}

impl Notification {
    /// The job the notification is about.
    pub fn job(&self) -> JobId {
        match self {
            Notification::StateChanged { job, .. }
            | Notification::FileTransferred { job, .. }
            | Notification::Failed { job, .. }
            | Notification::Modified { job }
            | Notification::Progress { job, .. } => *job,
        }
    }
}

/// The queue of one subscription.
pub(crate) struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

struct QueueState {
    items: VecDeque<Notification>,
    /// No more notifications will come (the job is final, or the manager shut down).
    closed: bool,
    /// The wakers of the receivers polling while the queue is empty (one per distinct waker: a
    /// `Subscription` is `Sync`, so several tasks may poll it). All are woken by the next push
    /// or by `close`, and forgotten then; each re-registers on its next `Pending` poll.
    wakers: Vec<Waker>,
    /// `None`: no progress notifications.
    progress_interval: Option<Duration>,
    /// The least progress interval (a job's `MinimumNotificationIntervalMs`, DESIGN 6.3).
    floor: Duration,
    /// The last progress queued for each job, so that an unchanged value is not queued again.
    last_progress: HashMap<JobId, BgJobProgress>,
}

impl Queue {
    pub(crate) fn new() -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                closed: false,
                wakers: Vec::new(),
                progress_interval: Some(DEFAULT_PROGRESS_INTERVAL),
                floor: Duration::ZERO,
                last_progress: HashMap::new(),
            }),
            ready: Condvar::new(),
        }
    }

    /// Wakes the receivers after a change of `state`: one blocked thread for a new item (each
    /// item goes to one receiver; a thread that finds the queue empty again waits again), every
    /// blocked thread with `all` (the queue closed: each must see the end), and every polled
    /// receiver (cheap, and a woken task that finds nothing registers again).
    fn notify(&self, mut state: parking_lot::MutexGuard<'_, QueueState>, all: bool) {
        let wakers = std::mem::take(&mut state.wakers);
        drop(state);
        if all {
            self.ready.notify_all();
        } else {
            self.ready.notify_one();
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Appends a discrete notification. Never blocks on the subscriber.
    pub(crate) fn push(&self, notification: Notification) {
        let mut state = self.state.lock();
        if state.closed {
            return;
        }
        state.items.push_back(notification);
        self.notify(state, false);
    }

    /// Queues `progress` of `job` unless it is the value queued last; a progress notification of
    /// that job still waiting is dropped (only the latest waits, at the end of the queue).
    pub(crate) fn push_progress(&self, job: JobId, progress: BgJobProgress) {
        let mut state = self.state.lock();
        if state.closed
            || state.progress_interval.is_none()
            || state.last_progress.get(&job) == Some(&progress)
        {
            return;
        }
        state.last_progress.insert(job, progress);
        // The older value still waiting goes: the latest takes its turn after what came since.
        if let Some(at) = state.items.iter().position(
            |item| matches!(item, Notification::Progress { job: queued, .. } if *queued == job),
        ) {
            state.items.remove(at);
        }
        state.items.push_back(Notification::Progress { job, progress });
        self.notify(state, false);
    }

    /// No more notifications will be pushed; those queued can still be received.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        self.notify(state, true);
    }

    /// The progress interval, `None` without progress notifications.
    pub(crate) fn progress_interval(&self) -> Option<Duration> {
        self.state.lock().progress_interval
    }

    /// Sets the progress interval (`None`: no progress notifications).
    pub(crate) fn set_progress_interval(&self, interval: Option<Duration>) {
        let mut state = self.state.lock();
        state.progress_interval = interval.map(|interval| interval.max(state.floor));
    }

    /// Sets the least progress interval, raising the interval to it.
    pub(crate) fn set_progress_floor(&self, floor: Duration) {
        let mut state = self.state.lock();
        state.floor = floor;
        state.progress_interval = state.progress_interval.map(|interval| interval.max(floor));
    }

    /// How many notifications wait, whether the queue is closed, and the progress interval.
    pub(crate) fn describe(&self) -> (usize, bool, Option<Duration>) {
        let state = self.state.lock();
        (state.items.len(), state.closed, state.progress_interval)
    }

    pub(crate) fn try_pop(&self) -> Result<Notification, TryRecvError> {
        let mut state = self.state.lock();
        match state.items.pop_front() {
            Some(item) => Ok(item),
            None if state.closed => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    pub(crate) fn pop(&self, deadline: Option<Instant>) -> Result<Notification, RecvTimeoutError> {
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Ok(item);
            }
            if state.closed {
                return Err(RecvTimeoutError::Disconnected);
            }
            match deadline {
                None => self.ready.wait(&mut state),
                Some(deadline) => {
                    if self.ready.wait_until(&mut state, deadline).timed_out()
                        && state.items.is_empty()
                    {
                        return Err(if state.closed {
                            RecvTimeoutError::Disconnected
                        } else {
                            RecvTimeoutError::Timeout
                        });
                    }
                }
            }
        }
    }

    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        let mut state = self.state.lock();
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        if !state.wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
