//! The scheduler thread: on every wake-up (a job queued, suspended, cancelled, re-prioritised, a
//! claim ended, a worker freed, the clock advanced, a deadline reached) it looks at every job once:
//! it retries or gives up on jobs in `TransientError` ([`super::retry`]), then hands queued
//! jobs to idle workers and asks running ones to stop ([`super::policy`]).

use super::download_time::{DownloadTimes, Verdict};
use super::policy::{self, Running, Waiting};
use super::retry::{Failed, RetryAction, RetryTimers};
use super::{Assignment, CLAIM_BACKOFF, Engine};
use crate::{BackgroundCopyJob, BgJobState, Job, JobId};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The longest the scheduler sleeps without a wake-up (a safety net; every change wakes it).
const MAX_SLEEP: Duration = Duration::from_secs(5);

/// What the scheduler thread remembers between passes.
#[derive(Debug, Default)]
struct Scheduler {
    retry: RetryTimers,
    /// The maximum download time of each job (DESIGN 6.2).
    download: DownloadTimes,
    /// Turn number of the last time each job got a worker (round-robin order).
    turns: HashMap<JobId, u64>,
    turn: u64,
}

/// The body of the scheduler thread: a pass per wake-up until shutdown.
pub(super) fn schedule(engine: &Engine) {
    let mut scheduler = Scheduler::default();
    loop {
        let seen = engine.registry.signal().count();
        if engine.workers.lock().shutdown {
            return;
        }
        engine.passes.lock().started += 1;
        let sleep = scheduler.pass(engine);
        {
            let mut passes = engine.passes.lock();
            passes.finished = passes.started;
        }
        engine.passes_cv.notify_all();
        engine.registry.signal().wait(seen, sleep);
    }
}

/// The job's retry deadlines (wall clock, kept across restarts) on the engine's clock: when its
/// next attempt may come, and when its window without progress began.
fn job_deadlines(job: &Job, now: Duration) -> (Option<Duration>, Option<Duration>) {
    let Some((retry_at, quiet)) = job.retry_deadlines() else { return (None, None) };
    let wall = std::time::SystemTime::now();
    let on_clock = |t: std::time::SystemTime| match t.duration_since(wall) {
        Ok(ahead) => now.saturating_add(ahead),
        Err(behind) => now.saturating_sub(behind.duration()),
    };
    (Some(on_clock(retry_at)), Some(on_clock(quiet)))
}

fn earliest(at: &mut Option<Duration>, candidate: Duration) {
    *at = Some(at.map_or(candidate, |t| t.min(candidate)));
}

impl Scheduler {
    /// One look at every job; returns how long to sleep at most.
    fn pass(&mut self, engine: &Engine) -> Duration {
        let now = engine.clock.now();
        let mut wake_at = None;
        let jobs: Vec<Job> =
            engine.registry.list().into_iter().map(|job| engine.handle(job)).collect();
        let mut queued = Vec::new();
        // The network's cost, asked once a pass (DESIGN 6.3): a job whose `CostFlags` forbid it
        // stays `Queued`, and a running one gives its worker back.
        let cost = engine.network_cost.cost_state();
        let mut forbidden = HashSet::new();
        for job in &jobs {
            let id = job.get_id();
            let state = job.get_state();
            let transferring = matches!(state, BgJobState::Connecting | BgJobState::Transferring);
            let (limit, resumes) = job.download_time_limit();
            match self.download.see(id, transferring, limit, resumes, now) {
                Verdict::Wait(Some(at)) => earliest(&mut wake_at, at),
                Verdict::Wait(None) => {}
                Verdict::RunOut => {
                    // Its claim ends with the change: a read that is blocked stops at once.
                    let _ = job.fail_max_download_time();
                    self.download.forget(id);
                    continue;
                }
            }
            let allowed = crate::types::cost_allows(job.cost_flags(), cost);
            if !allowed {
                forbidden.insert(id);
            }
            match state {
                BgJobState::Queued => {
                    if allowed {
                        queued.push(job);
                    }
                }
                BgJobState::TransientError => {
                    // The next attempt no sooner than the minimum retry delay, nor than the
                    // wait the server asked for with the last failure (Retry-After).
                    let asked = job.server_retry_after().unwrap_or_default();
                    let failed = Failed {
                        id,
                        error_count: job.get_error_count(),
                        bytes: job.get_progress().bytes_transferred,
                        retry_delay: job.get_minimum_retry_delay().max(asked),
                        no_progress_timeout: job.get_no_progress_timeout(),
                    };
                    let (retry_at, quiet_since) = job_deadlines(job, now);
                    let failed_at = match engine.take_failure(id) {
                        // Failed by a worker: the delay counts from then.
                        Some(at) => Some(at),
                        // Restored from a store (or failed by a driver of its own): its recorded
                        // deadline is the next attempt.
                        None => retry_at.map(|at| at.saturating_sub(failed.retry_delay)),
                    };
                    match self.retry.decide(failed, failed_at, quiet_since, now) {
                        RetryAction::WaitUntil(at) => earliest(&mut wake_at, at),
                        RetryAction::Never => {}
                        RetryAction::Retry => {
                            if job.retry_now().is_ok() && allowed {
                                queued.push(job);
                            }
                        }
                        RetryAction::GiveUp => {
                            let _ = job.fail_no_progress();
                            self.retry.forget(id);
                        }
                    }
                }
                BgJobState::Connecting | BgJobState::Transferring => {}
                BgJobState::Suspended
                | BgJobState::Error
                | BgJobState::Transferred
                | BgJobState::Acknowledged
                | BgJobState::Cancelled => self.retry.forget(id),
            }
        }
        let present: HashSet<JobId> = jobs.iter().map(Job::get_id).collect();
        self.retry.retain(|id| present.contains(&id));
        self.download.retain(|id| present.contains(&id));
        self.turns.retain(|id, _| present.contains(id));

        if let Some(at) = self.assign(engine, &queued, &forbidden, now) {
            earliest(&mut wake_at, at);
        }
        wake_at.map_or(MAX_SLEEP, |at| at.saturating_sub(now).min(MAX_SLEEP))
    }

    /// Hands queued jobs to workers and asks running ones to stop, per the policy and the
    /// network's cost (the `forbidden` jobs). Returns when a time slice that matters ends.
    fn assign(
        &mut self,
        engine: &Engine,
        queued: &[&Job],
        forbidden: &HashSet<JobId>,
        now: Duration,
    ) -> Option<Duration> {
        let mut workers = engine.workers.lock();
        if workers.shutdown {
            return None;
        }
        // A running job the network's cost forbids gives its worker back (it stops at once if its
        // file can resume; one that cannot finishes the file, as on a preemption).
        for slot in &workers.slots {
            if slot
                .current
                .as_ref()
                .is_some_and(|assigned| forbidden.contains(&assigned.running.id))
            {
                slot.stop.set(super::stop::Stop::Preempt);
            }
        }
        // The jobs on workers, with their current level (a priority may change while running).
        let running: Vec<Option<Running>> = workers
            .slots
            .iter()
            .map(|slot| {
                slot.current.as_ref().map(|assigned| Running {
                    level: assigned.job.get_priority(),
                    stopping: slot.stop.is_set(),
                    ..assigned.running
                })
            })
            .collect();
        let busy: HashSet<JobId> = running.iter().flatten().map(|r| r.id).collect();
        let real_now = Instant::now();
        workers.claim_blocked.retain(|_, at| real_now.duration_since(*at) < CLAIM_BACKOFF);
        let blocked_until = workers.claim_blocked.values().map(|at| *at + CLAIM_BACKOFF).min();
        let mut waiting: Vec<(Waiting, u64, u64, &Job)> = queued
            .iter()
            .filter(|job| {
                let id = job.get_id();
                !busy.contains(&id) && !workers.claim_blocked.contains_key(&id)
            })
            .map(|job| {
                let id = job.get_id();
                let turn = self.turns.get(&id).copied().unwrap_or(0);
                (Waiting { id, level: job.get_priority() }, turn, job.shared.seq, *job)
            })
            .collect();
        waiting.sort_by_key(|(w, turn, seq, _)| (w.level, *turn, *seq));
        let order: Vec<Waiting> = waiting.iter().map(|(w, ..)| *w).collect();
        let plan = policy::plan(&running, &order, now, engine.time_slice, engine.background_limit);
        for worker in &plan.preempt {
            workers.slots[*worker].stop.set(super::stop::Stop::Preempt);
        }
        for (worker, id) in &plan.assign {
            let Some((w, _, _, job)) = waiting.iter().find(|(w, ..)| w.id == *id) else {
                continue;
            };
            self.turn += 1;
            self.turns.insert(*id, self.turn);
            workers.slots[*worker].current = Some(Assignment {
                job: (*job).clone(),
                running: Running { id: *id, level: w.level, started: now, stopping: false },
            });
        }
        if !plan.assign.is_empty() {
            engine.work_cv.notify_all();
        }
        // A refused claim is tried again when its backoff ends (in engine-clock terms; saturated:
        // a clock at `Duration::MAX` must not panic the scheduler, DESIGN 6.1).
        let retry_claim_at =
            blocked_until.map(|t| now.saturating_add(t.saturating_duration_since(real_now)));
        match (plan.recheck_at, retry_claim_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
