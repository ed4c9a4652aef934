//! Retry timing of jobs in `TransientError`: when to retry (no sooner than the minimum retry delay
//! after the failure) and when to give up (the no-progress timeout passed since the first
//! transient error without a byte arriving). Pure bookkeeping on the engine's clock; the
//! scheduler applies the decisions through [`Job::retry_now`](crate::Job::retry_now) and
//! [`Job::fail_no_progress`](crate::Job::fail_no_progress).
//!
//! A failure is noticed by its error count: each failed attempt raises the job's count, so a
//! count the timer has not seen yet is a new failure (whoever drove the job). Progress is a change
//! of the job's `bytes_transferred` between two failures; it restarts the no-progress window at
//! the failure that follows it.

use crate::JobId;
use std::collections::HashMap;
use std::time::Duration;

/// What to do with a job in `TransientError` now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAction {
    /// Nothing until the given clock time.
    WaitUntil(Duration),
    /// Nothing until something else happens: neither deadline ever comes (`Duration::MAX`).
    Never,
    /// The retry delay has passed: queue it again.
    Retry,
    /// The no-progress timeout has passed: move it to `Error`.
    GiveUp,
}

/// What one job's timer remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timer {
    /// The error count at the last failure seen.
    error_count: u32,
    /// When the last failure was seen.
    failed_at: Duration,
    /// Start of the current window without progress.
    quiet_since: Duration,
    /// `bytes_transferred` when the window started or was last checked.
    bytes: u64,
}

/// The timers of every job that failed transiently and has not transferred, failed fatally or
/// been suspended since.
#[derive(Debug, Default)]
pub(crate) struct RetryTimers {
    timers: HashMap<JobId, Timer>,
}

/// A job in `TransientError` as the scheduler sees it in one pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Failed {
    pub(crate) id: JobId,
    pub(crate) error_count: u32,
    pub(crate) bytes: u64,
    pub(crate) retry_delay: Duration,
    pub(crate) no_progress_timeout: Duration,
}

impl RetryTimers {
    /// Records what a pass sees of a job in `TransientError` at `now` and decides its fate.
    /// `failed_at` is when the failure happened, if known (the engine's worker noted it, or the
    /// job was restored from a store with its deadlines); else the failure counts from `now`,
    /// when the pass first sees it. `quiet_since` starts the no-progress window of a job seen for
    /// the first time (a restored one), else it starts at the failure.
    pub(crate) fn decide(
        &mut self,
        job: Failed,
        failed_at: Option<Duration>,
        quiet_since: Option<Duration>,
        now: Duration,
    ) -> RetryAction {
        let at = failed_at.map_or(now, |t| t.min(now));
        let timer = self.timers.entry(job.id).or_insert(Timer {
            error_count: job.error_count,
            failed_at: at,
            quiet_since: quiet_since.map_or(at, |t| t.min(at)),
            bytes: job.bytes,
        });
        if timer.error_count != job.error_count {
            // A new failed attempt.
            timer.error_count = job.error_count;
            timer.failed_at = at;
            if timer.bytes != job.bytes {
                // Bytes arrived since the window started: it starts again.
                timer.bytes = job.bytes;
                timer.quiet_since = at;
            }
        }
        // `None`: never (a delay or timeout of `Duration::MAX`, or a clock at its end).
        let give_up_at = crate::clock::deadline(timer.quiet_since, job.no_progress_timeout);
        let retry_at = crate::clock::deadline(timer.failed_at, job.retry_delay);
        if give_up_at.is_some_and(|at| now >= at) {
            RetryAction::GiveUp
        } else if retry_at.is_some_and(|at| now >= at) {
            RetryAction::Retry
        } else {
            match (retry_at, give_up_at) {
                (Some(a), Some(b)) => RetryAction::WaitUntil(a.min(b)),
                (Some(at), None) | (None, Some(at)) => RetryAction::WaitUntil(at),
                (None, None) => RetryAction::Never,
            }
        }
    }

    /// Forgets a job: it transferred, failed for good, was suspended, or left the manager.
    pub(crate) fn forget(&mut self, id: JobId) {
        self.timers.remove(&id);
    }

    /// Keeps only the timers of the jobs `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(JobId) -> bool) {
        self.timers.retain(|id, _| keep(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl RetryTimers {
        /// `decide` for a job not restored from a store.
        fn decide_now(
            &mut self,
            job: Failed,
            failed_at: Option<Duration>,
            now: Duration,
        ) -> RetryAction {
            self.decide(job, failed_at, None, now)
        }
    }

    #[test]
    fn a_restored_job_keeps_the_deadlines_it_had_before_the_restart() {
        let mut timers = RetryTimers::default();
        // Failed 50 s before the restart (retry delay 60 s); no progress for 280 s (timeout 300).
        let (now, failed_at, quiet) = (S(1000), S(950), S(720));
        assert_eq!(
            timers.decide(failed(1, 0), Some(failed_at), Some(quiet), now),
            RetryAction::WaitUntil(S(1010))
        );
        assert_eq!(timers.decide_now(failed(1, 0), None, S(1010)), RetryAction::Retry);
        assert_eq!(timers.decide_now(failed(2, 0), None, S(1020)), RetryAction::GiveUp);
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn failed(error_count: u32, bytes: u64) -> Failed {
        Failed {
            id: JobId::from_u128(7),
            error_count,
            bytes,
            retry_delay: S(60),
            no_progress_timeout: S(300),
        }
    }

    #[test]
    fn retry_waits_for_the_minimum_retry_delay_after_each_failure() {
        let mut timers = RetryTimers::default();
        assert_eq!(timers.decide_now(failed(1, 0), None, S(0)), RetryAction::WaitUntil(S(60)));
        assert_eq!(timers.decide_now(failed(1, 0), None, S(59)), RetryAction::WaitUntil(S(60)));
        assert_eq!(timers.decide_now(failed(1, 0), None, S(60)), RetryAction::Retry);
        // The retry failed again at 70 s: the delay counts from there.
        assert_eq!(timers.decide_now(failed(2, 0), None, S(70)), RetryAction::WaitUntil(S(130)));
    }

    #[test]
    fn no_progress_timeout_counts_from_the_first_transient_error() {
        let mut timers = RetryTimers::default();
        timers.decide_now(failed(1, 0), None, S(0));
        for (count, at) in [(2, 60), (3, 120), (4, 180), (5, 240)] {
            assert_eq!(
                timers.decide_now(failed(count, 0), None, S(at)),
                RetryAction::WaitUntil(S(at + 60))
            );
        }
        assert_eq!(timers.decide_now(failed(5, 0), None, S(300)), RetryAction::GiveUp);
    }

    #[test]
    fn bytes_arriving_restart_the_no_progress_window() {
        let mut timers = RetryTimers::default();
        timers.decide_now(failed(1, 0), None, S(0));
        // The retry at 250 s moved 10 bytes before failing at 260 s.
        assert_eq!(timers.decide_now(failed(2, 10), None, S(260)), RetryAction::WaitUntil(S(320)));
        assert_eq!(timers.decide_now(failed(2, 10), None, S(320)), RetryAction::Retry);
        assert_eq!(timers.decide_now(failed(3, 10), None, S(330)), RetryAction::WaitUntil(S(390)));
        assert_eq!(timers.decide_now(failed(4, 10), None, S(560)), RetryAction::GiveUp);
    }

    #[test]
    fn the_delay_counts_from_the_workers_failure_not_from_the_pass_that_sees_it() {
        let mut timers = RetryTimers::default();
        // The worker failed the job at 0 s; the scheduler first looks at 100 s (a manual clock was
        // advanced in between): the 60 s retry delay has passed already.
        assert_eq!(timers.decide_now(failed(1, 0), Some(S(0)), S(100)), RetryAction::Retry);
        // A later failure at 150 s seen at 150 s waits its full delay.
        assert_eq!(
            timers.decide_now(failed(2, 0), Some(S(150)), S(150)),
            RetryAction::WaitUntil(S(210))
        );
    }

    #[test]
    fn a_delay_and_a_timeout_of_duration_max_never_come_even_at_the_end_of_the_clock() {
        let mut timers = RetryTimers::default();
        let never = Failed {
            retry_delay: Duration::from_secs(u64::MAX),
            no_progress_timeout: Duration::MAX,
            ..failed(1, 0)
        };
        assert_eq!(timers.decide_now(never, None, S(0)), RetryAction::Never);
        assert_eq!(timers.decide_now(never, None, Duration::MAX), RetryAction::Never);
        // A clock at its end: a short delay after a failure there never comes either.
        let mut timers = RetryTimers::default();
        assert_eq!(timers.decide_now(failed(1, 0), None, Duration::MAX), RetryAction::Never);
        // A long but finite delay still comes.
        let mut timers = RetryTimers::default();
        let long = Failed { retry_delay: S(u64::MAX / 2), ..never };
        assert_eq!(timers.decide_now(long, None, S(0)), RetryAction::WaitUntil(S(u64::MAX / 2)));
    }

    #[test]
    fn a_forgotten_job_starts_a_fresh_window() {
        let mut timers = RetryTimers::default();
        timers.decide_now(failed(1, 0), None, S(0));
        timers.forget(JobId::from_u128(7));
        assert_eq!(timers.decide_now(failed(2, 0), None, S(1000)), RetryAction::WaitUntil(S(1060)));
        timers.retain(|_| false);
        assert_eq!(timers.decide_now(failed(3, 0), None, S(2000)), RetryAction::WaitUntil(S(2060)));
    }
}
