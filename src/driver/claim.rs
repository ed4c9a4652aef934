//! [`JobDriver`]: an exclusive claim on a job being transferred, and the moves a driver makes
//! outside a claim ([`Job::retry_now`], [`Job::fail_no_progress`]).

use super::revoked::Revoked;
use crate::job::record::snapshot::RetrySnapshot;
use crate::job::state::counters::Generation;
use crate::job::state::transitions::JobEvent;
use crate::job::{ErrorRecord, JobInner, JobShared};
use crate::transport::TransferError;
use crate::{
    BackgroundCopyJob, BgError, BgErrorContext, BgJobState, InvalidStateReason, Job, JobFile,
    Notification, Result,
};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// An exclusive claim on a job being transferred. Dropping it without [`finish`](Self::finish),
/// [`fail`](Self::fail) or [`release`](Self::release) releases the job back to `Queued` (if the
/// claim is still live).
#[must_use = "a claimed job waits in Connecting until its driver moves it; dropping the driver releases it"]
pub struct JobDriver {
    pub(super) job: Job,
    pub(super) generation: Generation,
    done: bool,
}

impl Job {
    /// Claims a `Queued` job for transfer: it becomes `Connecting`, and this driver is the only
    /// one that can move it until it is finished, failed, released or dropped.
    ///
    /// # Blocking
    /// With a store, writes a record (not waiting for its sync).
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is `Queued`; with the reason
    /// [`InvalidStateReason::Claimed`](crate::InvalidStateReason::Claimed) while an earlier
    /// driver of this job still exists (it is stopping after a suspend; try again when it is
    /// dropped), or while `complete()` or `cancel()` is at work on its files.
    pub fn claim(&self) -> Result<JobDriver> {
        let generation = self.shared.change(|inner| {
            if inner.claimed || inner.completing {
                let state = self.shared.counters.state();
                return Err(BgError::InvalidState { state, reason: InvalidStateReason::Claimed });
            }
            self.shared.apply(inner, JobEvent::Claim)?;
            inner.claimed = true;
            Ok(self.shared.generation_in(inner))
        })?;
        Ok(JobDriver { job: self.clone(), generation, done: false })
    }

    /// Retries a job in `TransientError` now that its retry delay has passed (`→ Queued`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is in `TransientError`.
    pub fn retry_now(&self) -> Result<()> {
        self.shared
            .change(|inner| {
                // Best effort: a restart brings the job back to the queue whatever its record
                // says, so a full disk must not keep it waiting.
                inner.effects.best_effort = true;
                self.shared.apply(inner, JobEvent::Retry)
            })
            .map(drop)
    }

    /// Gives up on a job in `TransientError` whose no-progress timeout has passed (`→ Error`, the
    /// last error kept; `job_error` fires).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is in `TransientError`.
    pub fn fail_no_progress(&self) -> Result<()> {
        self.shared.change(|inner| self.shared.apply(inner, JobEvent::NoProgressTimeout)).map(drop)
    }
}

impl JobDriver {
    /// The job being driven.
    pub fn job(&self) -> &Job {
        &self.job
    }

    pub(super) fn shared(&self) -> &Arc<JobShared> {
        &self.job.shared
    }

    /// Whether the claim still holds: the job was not suspended, cancelled or completed meanwhile.
    /// One atomic load.
    pub fn is_live(&self) -> bool {
        self.job.shared.counters.claim_is_live(self.generation)
    }

    /// A future that resolves once the claim no longer holds (the job was suspended, cancelled or
    /// completed, or the claim ended): an async driver can `select!` on it beside its I/O instead
    /// of polling [`is_live`](Self::is_live). Woken by the job's change, not by a timer.
    pub fn revoked(&self) -> Revoked {
        Revoked::new(Arc::clone(&self.job.shared), self.generation)
    }

    pub(super) fn check_live(&self) -> Result<(), TransferError> {
        if self.is_live() { Ok(()) } else { Err(TransferError::Stopped) }
    }

    /// The connection is up and bytes start to move (`Connecting → Transferring`).
    ///
    /// # Blocking
    /// With a store, writes a record (not waiting for its sync).
    ///
    /// # Errors
    /// [`TransferError::Stopped`] if the claim was revoked.
    pub fn connected(&self) -> Result<(), TransferError> {
        self.job.shared.change(|inner| {
            self.check_live()?;
            self.job
                .shared
                .apply(inner, JobEvent::Connected)
                .map_err(|_| TransferError::Stopped)?;
            Ok(())
        })
    }

    /// The first file (in the order added) that is not transferred yet.
    ///
    /// A file handed to the store's group commit
    /// ([`FileTransfer::finish_deferred`](crate::FileTransfer::finish_deferred)) is skipped: its
    /// last byte is written already.
    pub fn next_file(&self) -> Option<JobFile> {
        let inner = self.job.lock();
        let finishing = &self.job.shared.finishing;
        let next = inner
            .files
            .iter()
            .find(|file| !file.counters.is_transferred() && !finishing.contains(file.index))?;
        Some(self.job.file_handle(next))
    }

    /// Every file is transferred: the job becomes `Transferred` (`job_transferred` fires). Waits
    /// first for the files handed to the store's group commit.
    ///
    /// # Blocking
    /// With a store, waits for the files handed to the group commit to be recorded, and writes
    /// and syncs a record.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked; a fatal failure if a file is not transferred yet.
    ///
    /// `Transferred` is announced only once it is recorded: if the store cannot record it (its
    /// disk is full), the job goes to `TransientError` with the store's error instead and is
    /// tried again after its minimum retry delay; this returns that error.
    pub fn finish(mut self) -> Result<(), TransferError> {
        let shared = Arc::clone(&self.job.shared);
        // The files handed to the group commit first: recorded, or why not.
        if let Some(error) = shared.finishing.wait()
            && self.is_live()
            && JobShared::has_work(&self.job.lock())
        {
            let error = TransferError::from(error);
            let _ = self.fail(error.clone(), None);
            return Err(error);
        }
        let mut made = false;
        let result = shared.change(|inner| {
            self.check_live()?;
            if JobShared::has_work(inner) {
                return Err(TransferError::fatal(
                    crate::hresult::E_UNEXPECTED,
                    BgErrorContext::GeneralQueueManager,
                    "finish() called with files left to transfer",
                ));
            }
            shared.apply(inner, JobEvent::Transferred).map_err(|_| TransferError::Stopped)?;
            inner.claimed = false;
            made = true;
            Ok(())
        });
        match result {
            Ok(()) => {
                self.done = true;
                Ok(())
            }
            Err(error) if made && self.is_live() => {
                // Not recorded: a transient failure instead (recorded if the store can).
                let _ = self.fail(error.clone(), None);
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// The transfer failed: the job goes to `TransientError` (a transient error, while the job's
    /// no-progress timeout is not zero and not shorter than its retry delay) or `Error`; the error
    /// count rises by one and `get_error` reports `error` (with `file_index`'s file and protocol).
    /// The next attempt comes no sooner than the job's minimum retry delay, nor than the wait the
    /// error carries ([`TransferError::retry_after`], a server's `Retry-After`).
    /// [`TransferError::Stopped`] is not a failure: it only releases the claim.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked meanwhile (the failure is not recorded then).
    pub fn fail(
        mut self,
        error: TransferError,
        file_index: Option<usize>,
    ) -> Result<BgJobState, TransferError> {
        let server_wait = error.retry_after();
        let TransferError::Failed { hresult, context, transient, message, .. } = error else {
            self.end_claim();
            return Ok(self.job.get_state());
        };
        let shared = Arc::clone(&self.job.shared);
        let failure = Failure { hresult, context, transient, message, server_wait, file_index };
        match self.record_failure(&shared, &failure, false) {
            Ok(state) => Ok(state),
            Err(TransferError::Failed { hresult, context, message, .. }) if self.is_live() => {
                // The store cannot record the failure (its disk is full): a transient failure
                // with the store's error, applied whatever the disk says, so the job waits its
                // retry delay and tries again once there is space.
                let store =
                    Failure { hresult, context, transient: true, message, server_wait, file_index };
                self.record_failure(&shared, &store, true)
            }
            Err(error) => Err(error),
        }
    }

    /// The change of [`fail`](Self::fail); with `best_effort`, applied even if it cannot be
    /// recorded.
    fn record_failure(
        &mut self,
        shared: &Arc<JobShared>,
        failure: &Failure,
        best_effort: bool,
    ) -> Result<BgJobState, TransferError> {
        let Failure { hresult, context, transient, ref message, server_wait, file_index } =
            *failure;
        let message = message.clone();
        let state = shared.change(|inner| {
            self.check_live()?;
            inner.effects.best_effort = best_effort;
            let retryable = transient
                && !inner.no_progress_timeout.is_zero()
                && inner.min_retry_delay <= inner.no_progress_timeout;
            let protocol =
                file_index.and_then(|i| inner.files.get(i)).map(|f| f.protocol.name().to_owned());
            inner.error =
                Some(Arc::new(ErrorRecord { context, hresult, file_index, protocol, message }));
            inner.error_count = inner.error_count.saturating_add(1);
            if retryable {
                note_retry(shared, inner, server_wait);
            }
            let job = shared.id;
            shared.publish(
                inner,
                Notification::Failed { job, context, hresult, transient: retryable },
            );
            let event = if retryable { JobEvent::TransientFailure } else { JobEvent::FatalFailure };
            let state = shared.apply(inner, event).map_err(|_| TransferError::Stopped)?;
            inner.claimed = false;
            Ok::<_, TransferError>(state)
        })?;
        self.done = true;
        Ok(state)
    }

    /// Gives the job back unfinished (`→ Queued`), for example at the end of a time slice.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked meanwhile.
    pub fn release(mut self) -> Result<(), TransferError> {
        let result = self.job.shared.change(|inner| {
            self.check_live()?;
            self.job
                .shared
                .apply(inner, JobEvent::Yield)
                .map(drop)
                .map_err(|_| TransferError::Stopped)
        });
        self.end_claim();
        result
    }

    fn end_claim(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        self.job.shared.change(|inner| {
            // The claim ends in memory whatever the disk says: no flag outlives its driver.
            inner.effects.best_effort = true;
            inner.claimed = false;
            if self.is_live() {
                let _ = self.job.shared.apply(inner, JobEvent::Yield);
            }
            // The claim's end matters to the engine even when the state did not change (a driver
            // still held a suspended job: it may be claimed again now).
            inner.effects.wake = true;
        });
    }
}

impl Drop for JobDriver {
    fn drop(&mut self) {
        self.end_claim();
    }
}

impl fmt::Debug for JobDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobDriver")
            .field("job", &self.job.shared.id)
            .field("live", &self.is_live())
            .finish()
    }
}

/// A failure as [`JobDriver::fail`] records it.
struct Failure {
    hresult: u32,
    context: BgErrorContext,
    transient: bool,
    message: String,
    server_wait: Option<Duration>,
    file_index: Option<usize>,
}

/// Records the wall-clock deadlines of a transient failure, which must survive a restart: the
/// next attempt no sooner than the minimum retry delay from now, nor than the wait the server
/// asked for (`Retry-After`), and the start of the window without progress (kept from the
/// failure before unless bytes arrived since).
fn note_retry(shared: &JobShared, inner: &mut JobInner, server_wait: Option<Duration>) {
    let now = SystemTime::now();
    let bytes = shared.counters.snapshot().bytes_transferred;
    let quiet_since = match &inner.retry {
        Some(retry) if inner.quiet_bytes == bytes => retry.quiet_since,
        _ => now,
    };
    inner.quiet_bytes = bytes;
    inner.server_retry_after = server_wait;
    let delay = inner.min_retry_delay.max(server_wait.unwrap_or_default());
    // Checked: a delay too long for the clock means "not before the end of time", never a
    // panic (DESIGN 6.1: `Duration::MAX` means never).
    let retry_at = now.checked_add(delay).unwrap_or_else(far_future);
    inner.retry = Some(RetrySnapshot { retry_at, quiet_since });
}

/// The latest wall-clock time this process can represent far ahead: "never" for a deadline.
pub(crate) fn far_future() -> SystemTime {
    // About 100 000 years, then less until it fits: `SystemTime`'s range differs by platform.
    let mut ahead = Duration::from_secs(100_000 * 365 * 24 * 3600);
    loop {
        if let Some(time) = SystemTime::now().checked_add(ahead) {
            return time;
        }
        ahead /= 2;
    }
}

impl From<BgError> for TransferError {
    /// A transfer failure carried as a `BgError` back as it was ([`BgError::Transfer`] and
    /// [`BgError::TransferStopped`]: every field kept but the retry hint); a driver step refused by the job
    /// (`Stopped`); or a record the store could not write: a transient `LocalFile` failure when the
    /// disk failed (full, an I/O error; DESIGN 6.1: the job retries and finishes once space is
    /// back), fatal otherwise. The HRESULT is always the `BgError`'s.
    fn from(error: BgError) -> TransferError {
        match error {
            BgError::Transfer { hresult, context, transient, message } => TransferError::Failed {
                hresult,
                context,
                transient,
                message: message.into(),
                retry_after: None,
            },
            BgError::TransferStopped | BgError::InvalidState { .. } => TransferError::Stopped,
            BgError::Io { .. } => TransferError::transient(
                error.hresult(),
                BgErrorContext::LocalFile,
                format!("the store cannot record the change: {}", describe(&error)),
            ),
            other => TransferError::fatal(
                other.hresult(),
                BgErrorContext::GeneralQueueManager,
                other.to_string(),
            ),
        }
    }
}

/// An error with its source, in one line.
fn describe(error: &BgError) -> String {
    match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}
