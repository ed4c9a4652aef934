//! Waiting for a job without polling: [`Job::wait`] blocks, [`Job::settled`] is the same as a
//! future ([`JobSettled`]), for any executor. Both are woken by the job's changes (`watch.rs`),
//! never by a timer.

use crate::BgJobState;
use crate::job::events::watch::Registration;
use crate::job::handles::job::Job;
use crate::job::keepalive::Keepalive;
use crate::job::state::shared::JobShared;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

impl Job {
    /// Blocks until the job is *settled* (in `Transferred`, `Error`, `Suspended`, `Acknowledged`
    /// or `Cancelled`: a state it does not leave by itself) or `timeout` passes, and returns the
    /// state then. `Duration::MAX` waits for as long as it takes. The thread sleeps until the job
    /// changes; it uses no CPU while it waits.
    ///
    /// Without an engine ([`ManagerBuilder::without_engine`](crate::ManagerBuilder::without_engine))
    /// a queued job only moves when a driver moves it.
    ///
    /// ```
    /// use bgcopy::*;
    /// use std::time::Duration;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let source = dir.path().join("a.txt");
    /// std::fs::write(&source, b"hello")?;
    /// let manager = Manager::new();
    /// let job = manager.create_job("waited for", BgJobType::Download)?;
    /// job.add_file(source.to_str().unwrap(), &dir.path().join("b.txt"))?;
    /// job.resume()?;
    /// assert_eq!(job.wait(Duration::from_secs(60)), BgJobState::Transferred);
    /// job.complete()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Failing fast
    ///
    /// A job whose server is down retries by itself (`TransientError`) until its no-progress
    /// timeout (14 days by default, as in BITS) passes, so `wait(Duration::MAX)` on a dead host
    /// waits that long. To hear of the first failure instead, wait for `TransientError` too with
    /// [`wait_until`](Job::wait_until), or set a short
    /// [`set_no_progress_timeout`](crate::BackgroundCopyJob::set_no_progress_timeout) (0 makes
    /// every error final).
    ///
    /// # Blocking
    /// Sleeps the calling thread until the job settles or `timeout` passes. From async code,
    /// await [`settled`](Self::settled) instead.
    pub fn wait(&self, timeout: Duration) -> BgJobState {
        self.wait_until(timeout, BgJobState::is_settled)
    }

    /// Blocks until the job's state satisfies `until` or `timeout` passes, and returns the state
    /// then; like [`wait`](Job::wait), which is `wait_until(timeout, BgJobState::is_settled)`,
    /// it sleeps until the job changes. `Duration::MAX` waits for as long as it takes.
    ///
    /// ```
    /// use bgcopy::*;
    /// use std::time::Duration;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let manager = Manager::new();
    /// let job = manager.create_job("fail fast", BgJobType::Download)?;
    /// // A source that does not exist yet: a transient error, retried by itself.
    /// job.add_file(dir.path().join("not yet").to_str().unwrap(), &dir.path().join("b"))?;
    /// job.resume()?;
    /// let state = job.wait_until(Duration::from_secs(60), |state| {
    ///     state.is_settled() || state == BgJobState::TransientError
    /// });
    /// assert!(matches!(state, BgJobState::TransientError | BgJobState::Error));
    /// # Ok(()) }
    /// ```
    ///
    /// # Blocking
    /// As [`wait`](Self::wait).
    pub fn wait_until(&self, timeout: Duration, until: impl Fn(BgJobState) -> bool) -> BgJobState {
        let counters = &self.shared.counters;
        let deadline = Instant::now().checked_add(timeout);
        self.shared.watch.wait(|| until(counters.state()), deadline);
        counters.state()
    }

    /// A future that resolves with the first settled state it sees when polled (see
    /// [`wait`](Job::wait)). It is lazy: made before `resume()` and polled after it, it resolves
    /// to `Transferred`, not to `Suspended`. It needs no async runtime, and keeps the engine
    /// running while pending, like a handle.
    ///
    /// ```
    /// use bgcopy::*;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("a.txt");
    /// # std::fs::write(&source, b"hello")?;
    /// let manager = Manager::new();
    /// let job = manager.create_job("awaited", BgJobType::Download)?;
    /// job.add_file(source.to_str().unwrap(), &dir.path().join("b.txt"))?;
    /// let settled = job.settled();
    /// job.resume()?;
    /// // Any executor; here a minimal one that parks the thread until woken.
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } std::thread::park() }
    /// # }
    /// assert_eq!(block_on(settled), BgJobState::Transferred);
    /// # Ok(()) }
    /// ```
    pub fn settled(&self) -> JobSettled {
        JobSettled { watch: Registration::new(Arc::clone(&self.shared)), _keep: self.keep.clone() }
    }
}

/// The future of [`Job::settled`]: resolves with the job's first settled state it sees when
/// polled. `Send + Unpin + 'static`; no async runtime needed.
#[must_use = "futures do nothing unless polled"]
pub struct JobSettled {
    watch: Registration<JobShared>,
    _keep: Keepalive,
}

impl Future for JobSettled {
    type Output = BgJobState;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BgJobState> {
        let watch = &mut self.watch;
        let ready = watch.poll(cx, |job| job.counters.state().is_settled());
        ready.map(|()| watch.owner().counters.state())
    }
}

impl fmt::Debug for JobSettled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let job = self.watch.owner();
        f.debug_struct("JobSettled")
            .field("job", &job.id)
            .field("state", &job.counters.state())
            .finish()
    }
}
