//! [`Subscription`]: a handle on one subscriber's queue of [`Notification`]s, per job
//! ([`Job::subscribe`](crate::Job::subscribe)) or for every job of a manager
//! ([`Manager::subscribe`](crate::Manager::subscribe)), as a blocking iterator or polled from
//! async code (see `notification.rs` for how notifications are queued and paced).

use crate::JobId;
use crate::job::events::hub::EventHub;
use crate::job::events::notification::{MIN_PROGRESS_INTERVAL, Notification, Queue};
use crate::job::keepalive::Keepalive;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A stream of [`Notification`]s about one job or about every job of a manager.
///
/// Iterate over it to block until each notification comes (the iterator ends when no more can
/// come: after a job's final state, or when the manager shuts down), or receive with a timeout,
/// or poll it from async code ([`recv`](Self::recv), [`poll_recv`](Self::poll_recv); with the
/// `stream` feature it is a `futures_core::Stream`). It works with any executor: no async
/// runtime is involved. Discrete notifications are never dropped while the subscription lives;
/// progress is paced (see [`Notification::Progress`]). A subscription keeps the manager's engine
/// running, like a job handle.
///
/// ```
/// use bgcopy::*;
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let source = dir.path().join("a.bin");
/// std::fs::write(&source, vec![1u8; 100_000])?;
/// let manager = Manager::new();
/// let job = manager.create_job("with events", BgJobType::Download)?;
/// job.add_file(source.to_str().unwrap(), &dir.path().join("copy.bin"))?;
/// let events = job.subscribe().with_progress_interval(None); // state changes only
/// job.resume()?;
/// for event in events {
///     if let Notification::StateChanged { state: BgJobState::Transferred, .. } = event {
///         job.complete()?; // the iterator ends after the job is acknowledged
///     }
/// }
/// assert_eq!(job.get_state(), BgJobState::Acknowledged);
/// # Ok(()) }
/// ```
#[must_use = "a subscription only delivers notifications while it is read"]
pub struct Subscription {
    queue: Arc<Queue>,
    hub: Arc<EventHub>,
    _keep: Keepalive,
}

impl Subscription {
    /// A new subscription's queue, holding `first` if any (queued before the pacer can add
    /// progress), registered for pacing in `hub` with `scope` (`None`: every job of the manager).
    pub(crate) fn new(
        hub: Arc<EventHub>,
        scope: Option<JobId>,
        keep: Keepalive,
        first: Option<Notification>,
    ) -> (Subscription, Arc<Queue>) {
        let queue = Arc::new(Queue::new());
        if let Some(first) = first {
            queue.push(first);
        }
        hub.add_paced(&queue, scope);
        (Subscription { queue: Arc::clone(&queue), hub, _keep: keep }, queue)
    }

    /// Sets how often progress is reported while a job transfers (`None`: never, only discrete
    /// notifications). The default is 500 ms; intervals below 1 ms count as 1 ms.
    pub fn with_progress_interval(self, interval: Option<Duration>) -> Subscription {
        self.queue.set_progress_interval(interval.map(|i| i.max(MIN_PROGRESS_INTERVAL)));
        self.hub.poke();
        self
    }

    /// The next notification if one is waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if none is waiting; [`TryRecvError::Disconnected`] if none will
    /// come any more.
    pub fn try_recv(&self) -> Result<Notification, TryRecvError> {
        self.queue.try_pop()
    }

    /// Waits for the next notification, at most `timeout` (`Duration::MAX`: as long as it takes).
    /// Several threads may wait on one subscription: each notification goes to one of them, and
    /// every one of them sees the end.
    ///
    /// # Errors
    /// [`RecvTimeoutError::Timeout`] if none came in time; [`RecvTimeoutError::Disconnected`] if
    /// none will come any more.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Notification, RecvTimeoutError> {
        self.queue.pop(Instant::now().checked_add(timeout))
    }

    /// The next notification as a future (`None` once none will come any more).
    pub fn recv(&mut self) -> Recv<'_> {
        Recv { subscription: self }
    }

    /// Polls for the next notification (`Ready(None)` once none will come any more). Every task
    /// that got `Pending` is woken when one arrives or when the subscription ends, so several
    /// tasks may poll one subscription (each notification goes to one of them).
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        self.queue.poll_pop(cx)
    }
}

impl Iterator for Subscription {
    type Item = Notification;

    /// Blocks until the next notification; `None` once none will come any more.
    fn next(&mut self) -> Option<Notification> {
        self.queue.pop(None).ok()
    }
}

#[cfg(feature = "stream")]
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
impl futures_core::Stream for Subscription {
    type Item = Notification;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        self.queue.poll_pop(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (waiting, closed, progress_interval) = self.queue.describe();
        f.debug_struct("Subscription")
            .field("waiting", &waiting)
            .field("closed", &closed)
            .field("progress_interval", &progress_interval)
            .finish()
    }
}

/// The future of [`Subscription::recv`]: the next notification, `None` once none will come.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Recv<'a> {
    subscription: &'a mut Subscription,
}

impl Future for Recv<'_> {
    type Output = Option<Notification>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Notification>> {
        self.subscription.poll_recv(cx)
    }
}
