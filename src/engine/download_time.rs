//! The maximum download time of each job (`SetMaximumDownloadTime`, DESIGN 6.2): only time in
//! `Connecting` or `Transferring` counts, on the engine's clock, and `resume()` restarts the
//! count. Pure bookkeeping: the scheduler looks at every job in each pass (a state change wakes
//! it, so a pass sees each move in or out of a transfer as it happens) and moves a job whose
//! time ran out to `Error` ([`Job::fail_max_download_time`](crate::Job)).

use crate::JobId;
use std::collections::HashMap;
use std::time::Duration;

/// One job's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count {
    /// The job's `resume()` count when the count began.
    resumes: u64,
    /// Time counted before the current transfer.
    used: Duration,
    /// When the current transfer began (engine clock), while the job transfers.
    since: Option<Duration>,
}

/// What a pass decides for one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing to do; look again by then (`None`: no deadline).
    Wait(Option<Duration>),
    /// The time ran out: the job goes to `Error`.
    RunOut,
}

/// The counts of the jobs the engine has seen.
#[derive(Debug, Default)]
pub(crate) struct DownloadTimes {
    counts: HashMap<JobId, Count>,
}

impl DownloadTimes {
    /// Records what a pass sees of job `id` at `now`: whether it transfers, its maximum download
    /// time and its `resume()` count.
    pub(crate) fn see(
        &mut self,
        id: JobId,
        transferring: bool,
        limit: Duration,
        resumes: u64,
        now: Duration,
    ) -> Verdict {
        let count =
            self.counts.entry(id).or_insert(Count { resumes, used: Duration::ZERO, since: None });
        if count.resumes != resumes {
            // resume() restarts the count.
            count.resumes = resumes;
            count.used = Duration::ZERO;
            count.since = count.since.map(|_| now);
        }
        if !transferring {
            if let Some(since) = count.since.take() {
                count.used = count.used.saturating_add(now.saturating_sub(since));
            }
            return Verdict::Wait(None);
        }
        let since = *count.since.get_or_insert(now);
        let used = count.used.saturating_add(now.saturating_sub(since));
        if used >= limit {
            return Verdict::RunOut;
        }
        Verdict::Wait(crate::clock::deadline(now, limit - used))
    }

    /// Forgets a job that ran out (it starts afresh if resumed).
    pub(crate) fn forget(&mut self, id: JobId) {
        self.counts.remove(&id);
    }

    /// Keeps only the counts of the jobs `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(JobId) -> bool) {
        self.counts.retain(|id, _| keep(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn only_time_transferring_counts() {
        let mut times = DownloadTimes::default();
        let id = JobId::from_u128(1);
        assert_eq!(times.see(id, true, S(100), 1, S(0)), Verdict::Wait(Some(S(100))));
        assert_eq!(times.see(id, true, S(100), 1, S(60)), Verdict::Wait(Some(S(100))));
        // Queued or retrying for 1000 s: not counted.
        assert_eq!(times.see(id, false, S(100), 1, S(60)), Verdict::Wait(None));
        assert_eq!(times.see(id, false, S(100), 1, S(1060)), Verdict::Wait(None));
        assert_eq!(times.see(id, true, S(100), 1, S(1060)), Verdict::Wait(Some(S(1100))));
        assert_eq!(times.see(id, true, S(100), 1, S(1099)), Verdict::Wait(Some(S(1100))));
        assert_eq!(times.see(id, true, S(100), 1, S(1100)), Verdict::RunOut);
    }

    #[test]
    fn a_resume_restarts_the_count() {
        let mut times = DownloadTimes::default();
        let id = JobId::from_u128(2);
        times.see(id, true, S(100), 1, S(0));
        assert_eq!(times.see(id, false, S(100), 1, S(90)), Verdict::Wait(None));
        assert_eq!(times.see(id, true, S(100), 2, S(95)), Verdict::Wait(Some(S(195))));
        assert_eq!(times.see(id, true, S(100), 2, S(194)), Verdict::Wait(Some(S(195))));
    }

    #[test]
    fn a_limit_of_duration_max_never_runs_out() {
        let mut times = DownloadTimes::default();
        let id = JobId::from_u128(3);
        assert_eq!(times.see(id, true, Duration::MAX, 0, S(5)), Verdict::Wait(None));
        assert_eq!(times.see(id, true, Duration::MAX, 0, Duration::MAX), Verdict::Wait(None));
        assert_eq!(times.see(id, true, Duration::ZERO, 0, S(5)), Verdict::RunOut);
    }
}
