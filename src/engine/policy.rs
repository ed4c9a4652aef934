//! The scheduling policy as one pure function: given what the workers run and which jobs wait,
//! which job goes to which idle worker and which running jobs must give their worker back.
//!
//! The rules, after BITS (spec section 3.4):
//! - `Foreground` jobs run alongside background ones: they take any idle worker, and when none is
//!   idle a background job is stopped at once to make room (the lowest level first, then the one
//!   that has run longest). Foreground jobs share the workers by time slices if there are more of
//!   them than workers.
//! - Background jobs (`High`, `Normal`, `Low`) run at most `background_limit` at a time (the
//!   engine keeps one worker for foreground work). A higher level runs first: a waiting job of a
//!   higher level stops a running lower one at once. Equal levels take turns: a job that has run
//!   for a time slice gives its worker back when a job of the same level waits.
//!
//! Waiting jobs come in turn order (level, then least recently started, then creation order), so
//! a job that gave its worker back goes behind the jobs of its level that waited.

use crate::{BgJobPriority, JobId};
use std::cmp::Reverse;
use std::time::Duration;

/// A job on a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Running {
    pub(crate) id: JobId,
    pub(crate) level: BgJobPriority,
    /// When it got the worker (engine clock).
    pub(crate) started: Duration,
    /// It was asked to give the worker back and has not done so yet.
    pub(crate) stopping: bool,
}

/// A queued job waiting for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub(crate) id: JobId,
    pub(crate) level: BgJobPriority,
}

/// What the scheduler does after one look.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Worker index and the job it starts.
    pub(crate) assign: Vec<(usize, JobId)>,
    /// Workers whose job must give the worker back now.
    pub(crate) preempt: Vec<usize>,
    /// When a time slice ends that matters (engine clock), if any.
    pub(crate) recheck_at: Option<Duration>,
}

fn is_foreground(level: BgJobPriority) -> bool {
    level == BgJobPriority::Foreground
}

/// The jobs on workers of one kind (foreground or background), worst first: the lowest level,
/// then the one that has run longest.
fn running(slots: &[Option<Running>], foreground: bool) -> Vec<(usize, Running)> {
    let mut list: Vec<(usize, Running)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.map(|r| (i, r)))
        .filter(|(_, r)| is_foreground(r.level) == foreground)
        .collect();
    list.sort_by_key(|(_, r)| (Reverse(r.level), r.started));
    list
}

/// Plans one scheduling step. `workers[i]` is what worker `i` runs (`None`: idle); `waiting` is in
/// turn order; `now` and `slice` are on the engine clock.
pub(crate) fn plan(
    workers: &[Option<Running>],
    waiting: &[Waiting],
    now: Duration,
    slice: Duration,
    background_limit: usize,
) -> Plan {
    let mut plan = Plan::default();
    // The workers as they will be: jobs assigned now count as running from now, so that the
    // slice they start is rechecked when it ends.
    let mut slots = workers.to_vec();
    // `None`: the slice never ends (`Duration::MAX`, or a clock at its end).
    let slice_end = |r: &Running| crate::clock::deadline(r.started, slice);
    let recheck = |at: Duration, plan: &mut Plan| {
        plan.recheck_at = Some(plan.recheck_at.map_or(at, |t| t.min(at)));
    };
    let assign = |slots: &mut [Option<Running>], plan: &mut Plan, job: &Waiting| {
        let idle = slots.iter().position(Option::is_none)?;
        slots[idle] = Some(Running { id: job.id, level: job.level, started: now, stopping: false });
        plan.assign.push((idle, job.id));
        Some(())
    };

    // Foreground: any idle worker, else stop a background job, else take turns.
    let (fg_waiting, bg_waiting): (Vec<&Waiting>, Vec<&Waiting>) =
        waiting.iter().partition(|w| is_foreground(w.level));
    let mut fg_left = 0usize;
    for job in fg_waiting {
        if assign(&mut slots, &mut plan, job).is_none() {
            fg_left += 1;
        }
    }
    // Each worker already stopping will take one waiting foreground job.
    let mut need = fg_left.saturating_sub(slots.iter().flatten().filter(|r| r.stopping).count());
    for fg_turns in [false, true] {
        for (worker, r) in running(&slots, fg_turns) {
            if need == 0 {
                break;
            }
            if r.stopping {
                continue;
            }
            if !fg_turns || slice_end(&r).is_some_and(|end| now >= end) {
                if let Some(r) = slots[worker].as_mut() {
                    r.stopping = true;
                }
                plan.preempt.push(worker);
                need -= 1;
            } else if let Some(end) = slice_end(&r) {
                recheck(end, &mut plan);
            }
        }
    }

    // Background: up to the limit, counting jobs that are still stopping as running.
    let mut capacity = background_limit.saturating_sub(running(&slots, false).len());
    let mut bg_left = Vec::new();
    for job in bg_waiting {
        if capacity > 0 && assign(&mut slots, &mut plan, job).is_some() {
            capacity -= 1;
        } else {
            bg_left.push(job);
        }
    }
    let bg_running = running(&slots, false);
    let already_stopping = bg_running.iter().filter(|(_, r)| r.stopping).count();
    let mut candidates: Vec<(usize, Running)> =
        bg_running.into_iter().filter(|(_, r)| !r.stopping).collect();
    for job in bg_left.into_iter().skip(already_stopping) {
        // The worst running job this one may replace, if any.
        let Some(pos) = candidates.iter().position(|(_, r)| job.level <= r.level) else {
            continue;
        };
        let (worker, r) = candidates[pos];
        if job.level < r.level || slice_end(&r).is_some_and(|end| now >= end) {
            plan.preempt.push(worker);
            candidates.remove(pos);
        } else if let Some(end) = slice_end(&r) {
            recheck(end, &mut plan);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use BgJobPriority::*;

    const SLICE: Duration = Duration::from_secs(5);

    fn id(n: u128) -> JobId {
        JobId::from_u128(n)
    }

    fn run(n: u128, level: BgJobPriority, started: u64) -> Option<Running> {
        Some(Running { id: id(n), level, started: Duration::from_secs(started), stopping: false })
    }

    fn wait(n: u128, level: BgJobPriority) -> Waiting {
        Waiting { id: id(n), level }
    }

    fn at(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn one_background_job_runs_and_one_worker_stays_for_foreground() {
        let plan = plan(&[None, None], &[wait(1, Normal), wait(2, Normal)], at(0), SLICE, 1);
        assert_eq!(plan.assign, vec![(0, id(1))]);
        assert!(plan.preempt.is_empty());
    }

    #[test]
    fn foreground_runs_alongside_background() {
        let plan = plan(&[run(1, Normal, 0), None], &[wait(2, Foreground)], at(1), SLICE, 1);
        assert_eq!(plan.assign, vec![(1, id(2))]);
        assert!(plan.preempt.is_empty());
    }

    #[test]
    fn foreground_without_an_idle_worker_stops_the_lowest_background_job_at_once() {
        let workers = [run(1, High, 0), run(2, Low, 3)];
        let plan = plan(&workers, &[wait(3, Foreground)], at(4), SLICE, 2);
        assert_eq!(plan.preempt, vec![1]);
    }

    #[test]
    fn a_higher_level_stops_a_lower_one_at_once() {
        let workers = [run(1, Low, 0), None];
        let plan = plan(&workers, &[wait(2, High)], at(1), SLICE, 1);
        assert_eq!(plan.preempt, vec![0]);
        assert!(plan.assign.is_empty());
    }

    #[test]
    fn equal_levels_take_turns_after_a_time_slice() {
        let workers = [run(1, Normal, 0), None];
        let early = plan(&workers, &[wait(2, Normal)], at(4), SLICE, 1);
        assert!(early.preempt.is_empty());
        assert_eq!(early.recheck_at, Some(at(5)));
        let late = plan(&workers, &[wait(2, Normal)], at(5), SLICE, 1);
        assert_eq!(late.preempt, vec![0]);
    }

    #[test]
    fn a_job_started_now_is_rechecked_when_its_slice_ends() {
        let plan = plan(&[None, None], &[wait(1, Normal), wait(2, Normal)], at(3), SLICE, 1);
        assert_eq!(plan.assign, vec![(0, id(1))]);
        assert_eq!(plan.recheck_at, Some(at(8)));
    }

    #[test]
    fn a_slice_of_duration_max_or_a_clock_at_its_end_never_ends_a_turn() {
        let workers = [run(1, Normal, 0), None];
        let never = plan(&workers, &[wait(2, Normal)], at(u64::MAX / 2), Duration::MAX, 1);
        assert_eq!(never, Plan::default());
        let started_at_the_end = [
            Some(Running { id: id(1), level: Normal, started: Duration::MAX, stopping: false }),
            None,
        ];
        let end = plan(&started_at_the_end, &[wait(2, Normal)], Duration::MAX, SLICE, 1);
        assert_eq!(end, Plan::default());
    }

    #[test]
    fn a_lower_level_never_stops_a_higher_one() {
        let workers = [run(1, High, 0), None];
        let plan = plan(&workers, &[wait(2, Low)], at(100), SLICE, 1);
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn a_job_already_stopping_is_not_stopped_twice() {
        let mut workers = [run(1, Normal, 0), None];
        if let Some(r) = workers[0].as_mut() {
            r.stopping = true;
        }
        let plan = plan(&workers, &[wait(2, Normal)], at(100), SLICE, 1);
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn foreground_jobs_take_turns_when_they_outnumber_the_workers() {
        let workers = [run(1, Foreground, 0), run(2, Foreground, 2)];
        let early = plan(&workers, &[wait(3, Foreground)], at(3), SLICE, 1);
        assert!(early.preempt.is_empty());
        assert_eq!(early.recheck_at, Some(at(5)));
        let late = plan(&workers, &[wait(3, Foreground)], at(6), SLICE, 1);
        assert_eq!(late.preempt, vec![0]);
    }

    #[test]
    fn more_workers_run_more_background_jobs_in_level_order() {
        let waiting = [wait(1, High), wait(2, Normal), wait(3, Low)];
        let plan = plan(&[None, None, None, None], &waiting, at(0), SLICE, 3);
        assert_eq!(plan.assign, vec![(0, id(1)), (1, id(2)), (2, id(3))]);
    }
}
