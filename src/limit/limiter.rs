//! [`Limiter`]: the bandwidth caps of one manager, on its injectable clock (DESIGN 5.3): each
//! job's own cap and the manager's cap for all jobs together, both applied to every grant (the
//! manager's total is never exceeded), each a [`TokenBucket`] (bursts of at most a quarter
//! second). Under the manager's cap the jobs share by weight: a job's *virtual time* advances by
//! the bytes it was granted divided by its weight (the weight of its priority: `Foreground` 8,
//! `High` 4, `Normal` 2, `Low` 1), and while several jobs want bytes, the one that is furthest
//! behind goes first, so over time each gets a share proportional to its weight, and a job that
//! wants less leaves the rest to the others.
//!
//! Nothing here sleeps: [`Limiter::grant`] says how many bytes may go now or how long to wait, so
//! a blocking writer can sleep (waking early on a suspend), and an async driver can await a timer.
//! Without any cap, a grant is one atomic load.

use super::bucket::{Grant, TokenBucket};
use crate::clock::Clock;
use crate::sync::{AtomicU32, Ordering};
use crate::{BgJobPriority, JobId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long a job counts as contending for the manager's bytes after it last asked: a job that
/// wants bytes all the time asks again within a few milliseconds; one that asks less often is not
/// held up for, so the cap's bytes never go unused while a job waits on something else.
const CONTENDING: Duration = Duration::from_millis(20);
/// How long a job furthest ahead waits for the one behind it before asking again.
const YIELD: Duration = Duration::from_millis(2);

/// The weight of a priority under a shared cap.
pub(crate) fn weight(priority: BgJobPriority) -> u32 {
    match priority {
        BgJobPriority::Foreground => 8,
        BgJobPriority::High => 4,
        BgJobPriority::Normal => 2,
        BgJobPriority::Low => 1,
    }
}

/// The caps of one manager and its jobs (see the module docs).
pub(crate) struct Limiter {
    clock: Arc<dyn Clock>,
    /// Whether any cap is set, so that a grant without caps takes no lock.
    capped: AtomicU32,
    state: Mutex<State>,
}

struct State {
    manager: Option<TokenBucket>,
    jobs: HashMap<JobId, Share>,
}

struct Share {
    cap: Option<TokenBucket>,
    weight: u32,
    /// Bytes granted under the manager's cap, divided by the weight.
    vtime: f64,
    /// When the job last asked (clock time), `None` before it did.
    asked: Option<Duration>,
    /// Until when its own cap keeps it from taking the manager's bytes.
    held_until: Duration,
}

impl Limiter {
    /// The clock the limiter runs on: the manager's.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A limiter on `clock` with the manager's cap (`None`: no cap).
    pub(crate) fn new(clock: Arc<dyn Clock>, manager_cap: Option<u64>) -> Limiter {
        let now = clock.now();
        let manager = manager_cap.map(|rate| TokenBucket::new(rate, now));
        let capped = AtomicU32::new(u32::from(manager.is_some()));
        Limiter { clock, capped, state: Mutex::new(State { manager, jobs: HashMap::new() }) }
    }

    fn any_cap(&self) -> bool {
        // Relaxed: a hint for the fast path; a cap set concurrently applies from the next grant.
        self.capped.load(Ordering::Relaxed) != 0
    }

    /// Sets (or with `None` removes) job `id`'s own cap; effective at the next grant.
    pub(crate) fn set_job_cap(&self, id: JobId, cap: Option<u64>) {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let share = state.jobs.entry(id).or_insert_with(|| Share::new(BgJobPriority::Normal));
        share.cap = retuned(share.cap.take(), cap, now);
        if cap.is_some() {
            // Relaxed: see `any_cap`.
            self.capped.store(1, Ordering::Relaxed);
        }
    }

    /// Sets (or with `None` removes) the manager's cap for all jobs together; effective at the
    /// next grant. A changed rate keeps the bucket's tokens (no fresh burst).
    pub(crate) fn set_manager_cap(&self, cap: Option<u64>) {
        let now = self.clock.now();
        let mut state = self.state.lock();
        state.manager = retuned(state.manager.take(), cap, now);
        if cap.is_some() {
            // Relaxed: see `any_cap`.
            self.capped.store(1, Ordering::Relaxed);
        }
    }

    /// The manager's cap in bytes per second, `None` without one.
    pub(crate) fn manager_cap(&self) -> Option<u64> {
        self.state.lock().manager.as_ref().map(TokenBucket::rate)
    }

    /// Job `id`'s priority changed: its weight under the manager's cap follows.
    pub(crate) fn set_priority(&self, id: JobId, priority: BgJobPriority) {
        let mut state = self.state.lock();
        if let Some(share) = state.jobs.get_mut(&id) {
            share.weight = weight(priority);
        }
    }

    /// Forgets job `id` (it became final).
    pub(crate) fn forget(&self, id: JobId) {
        self.state.lock().jobs.remove(&id);
    }

    /// How many of `want` bytes job `id` may move now, taken from its cap and the manager's; or
    /// how long until it may ask again. `priority` gives the job's weight when the limiter first
    /// sees it (later changes come through [`set_priority`](Self::set_priority)).
    pub(crate) fn grant(&self, id: JobId, priority: BgJobPriority, want: u64) -> Grant {
        if want == 0 || !self.any_cap() {
            return Grant::Now(want);
        }
        let now = self.clock.now();
        let mut state = self.state.lock();
        let State { manager, jobs } = &mut *state;
        let laggard = manager.as_ref().and_then(|_| furthest_behind(jobs, id, now));
        let share = jobs.entry(id).or_insert_with(|| Share::new(priority));
        if share.asked.is_none_or(|at| now.saturating_sub(at) > CONTENDING) {
            // Coming back after a pause: no credit for the time away.
            share.vtime = share.vtime.max(laggard.map_or(share.vtime, |(_, v)| v));
        }
        share.asked = Some(now);
        let own =
            match share.cap.as_mut().map(|cap| (cap.grant(want, now), cap.wait_for(want, now))) {
                // Waits until the whole request (up to a burst) can go: fewer, larger grants.
                Some((Grant::Wait(_), wait)) => {
                    // Saturated: a clock at `Duration::MAX` never panics a writer (DESIGN 6.1).
                    share.held_until = now.saturating_add(wait);
                    return Grant::Wait(wait);
                }
                Some((Grant::Now(n), _)) => n,
                None => want,
            };
        let Some(manager) = manager.as_mut() else { return Grant::Now(own) };
        if laggard.is_some_and(|(_, v)| v < share.vtime) {
            // Another job wanting bytes is further behind: it goes first.
            if let Some(cap) = share.cap.as_mut() {
                cap.refund(own, now);
            }
            return Grant::Wait(YIELD);
        }
        match manager.grant(own, now) {
            Grant::Now(n) => {
                if let Some(cap) = share.cap.as_mut() {
                    cap.refund(own - n, now);
                }
                share.vtime += n as f64 / f64::from(share.weight);
                Grant::Now(n)
            }
            Grant::Wait(_) => {
                if let Some(cap) = share.cap.as_mut() {
                    cap.refund(own, now);
                }
                Grant::Wait(manager.wait_for(own, now))
            }
        }
    }

    /// Gives back bytes granted but not moved (a read that returned fewer bytes).
    pub(crate) fn refund(&self, id: JobId, unused: u64) {
        if unused == 0 || !self.any_cap() {
            return;
        }
        let now = self.clock.now();
        let mut state = self.state.lock();
        let State { manager, jobs } = &mut *state;
        if let Some(share) = jobs.get_mut(&id) {
            if let Some(cap) = share.cap.as_mut() {
                cap.refund(unused, now);
            }
            if manager.is_some() {
                share.vtime -= unused as f64 / f64::from(share.weight);
            }
        }
        if let Some(manager) = manager.as_mut() {
            manager.refund(unused, now);
        }
    }
}

impl Share {
    fn new(priority: BgJobPriority) -> Share {
        Share {
            cap: None,
            weight: weight(priority),
            vtime: 0.0,
            asked: None,
            held_until: Duration::ZERO,
        }
    }
}

/// `bucket` with the rate `cap`: the same bucket at a new rate (keeping its tokens, so no fresh
/// burst), a new bucket, or none.
fn retuned(bucket: Option<TokenBucket>, cap: Option<u64>, now: Duration) -> Option<TokenBucket> {
    match (bucket, cap) {
        (Some(mut bucket), Some(rate)) => {
            bucket.set_rate(rate, now);
            Some(bucket)
        }
        (None, Some(rate)) => Some(TokenBucket::new(rate, now)),
        (_, None) => None,
    }
}

/// The job other than `id` that contends for the manager's bytes (it asked lately, and its own
/// cap does not hold it) and has the smallest virtual time.
fn furthest_behind(jobs: &HashMap<JobId, Share>, id: JobId, now: Duration) -> Option<(JobId, f64)> {
    jobs.iter()
        .filter(|(other, share)| {
            **other != id
                && share.held_until <= now
                && share.asked.is_some_and(|at| now.saturating_sub(at) <= CONTENDING)
        })
        .map(|(other, share)| (*other, share.vtime))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Limiter")
            .field("manager", &state.manager.as_ref().map(TokenBucket::rate))
            .field("jobs", &state.jobs.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn id(n: u128) -> JobId {
        JobId::from_u128(n)
    }

    /// Runs jobs that always want 64 KiB for `seconds` of manual time in 1 ms steps (each job
    /// asking until told to wait, so in every step the jobs contend); returns the bytes each got.
    fn run(
        limiter: &Limiter,
        clock: &ManualClock,
        jobs: &[(JobId, BgJobPriority)],
        seconds: u64,
    ) -> Vec<u64> {
        let mut got = vec![0u64; jobs.len()];
        for _ in 0..seconds * 1000 {
            for (i, (job, priority)) in jobs.iter().enumerate() {
                while let Grant::Now(n) = limiter.grant(*job, *priority, 64 * 1024) {
                    got[i] += n;
                    if n == 0 {
                        break;
                    }
                }
            }
            clock.advance(Duration::from_millis(1));
        }
        got
    }

    #[test]
    fn without_a_cap_every_grant_is_whole() {
        let limiter = Limiter::new(Arc::new(ManualClock::new()), None);
        assert_eq!(limiter.grant(id(1), BgJobPriority::Normal, 1 << 30), Grant::Now(1 << 30));
    }

    #[test]
    fn a_jobs_cap_holds_and_the_manager_cap_bounds_all_jobs_together() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(clock.clone(), Some(4_000_000));
        limiter.set_job_cap(id(1), Some(1_000_000));
        let got = run(
            &limiter,
            &clock,
            &[(id(1), BgJobPriority::Normal), (id(2), BgJobPriority::Normal)],
            10,
        );
        // Job 1: its cap (plus one burst); both: the manager's cap (plus one burst).
        assert!(got[0] <= 10_000_000 + 250_000 && got[0] >= 9_900_000, "{got:?}");
        assert!(got[0] + got[1] <= 40_000_000 + 1_000_000, "{got:?}");
        assert!(got[0] + got[1] >= 39_000_000, "work-conserving: {got:?}");
    }

    #[test]
    fn under_the_manager_cap_shares_follow_the_priorities_weights() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(clock.clone(), Some(3_000_000));
        let jobs = [
            (id(1), BgJobPriority::High),
            (id(2), BgJobPriority::Normal),
            (id(3), BgJobPriority::Low),
        ];
        let got = run(&limiter, &clock, &jobs, 10);
        let total: u64 = got.iter().sum();
        let shares: Vec<f64> = got.iter().map(|g| *g as f64 / total as f64).collect();
        // Weights 4 : 2 : 1.
        for (share, want) in shares.iter().zip([4.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0]) {
            assert!((share - want).abs() < 0.02, "{shares:?}");
        }
    }

    #[test]
    fn a_lowered_cap_applies_at_the_next_grant() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(clock.clone(), None);
        limiter.set_job_cap(id(1), Some(1_000_000));
        let fast = run(&limiter, &clock, &[(id(1), BgJobPriority::Normal)], 2);
        limiter.set_job_cap(id(1), Some(100_000));
        let slow = run(&limiter, &clock, &[(id(1), BgJobPriority::Normal)], 2);
        assert!(fast[0] >= 1_900_000 && slow[0] <= 200_000 + 25_000, "{fast:?} {slow:?}");
    }

    #[test]
    fn the_manager_cap_can_be_set_changed_and_removed_later() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(clock.clone(), None);
        assert_eq!(limiter.manager_cap(), None);
        let jobs = [(id(1), BgJobPriority::Normal), (id(2), BgJobPriority::Low)];
        limiter.set_manager_cap(Some(1_000_000));
        assert_eq!(limiter.manager_cap(), Some(1_000_000));
        let capped: u64 = run(&limiter, &clock, &jobs, 2).iter().sum();
        assert!((1_900_000..=2_000_000 + 250_000).contains(&capped), "{capped}");
        limiter.set_manager_cap(Some(100_000));
        let lowered: u64 = run(&limiter, &clock, &jobs, 2).iter().sum();
        assert!((150_000..=200_000 + 25_000).contains(&lowered), "{lowered}");
        limiter.set_manager_cap(None);
        assert_eq!(limiter.manager_cap(), None);
        let free = limiter.grant(id(1), BgJobPriority::Normal, 1 << 30);
        assert_eq!(free, Grant::Now(1 << 30));
    }

    #[test]
    fn a_refund_gives_the_bytes_back() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(clock.clone(), Some(400));
        let Grant::Now(n) = limiter.grant(id(1), BgJobPriority::Normal, 100) else { panic!() };
        assert_eq!(n, 100); // the whole burst (a quarter second of 400 B/s)
        assert!(matches!(limiter.grant(id(1), BgJobPriority::Normal, 1), Grant::Wait(_)));
        limiter.refund(id(1), 60);
        assert_eq!(limiter.grant(id(1), BgJobPriority::Normal, 100), Grant::Now(60));
    }
}
