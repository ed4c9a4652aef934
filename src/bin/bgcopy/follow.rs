//! Following a job until it settles, for `transfer` and `resume --wait`: start it, show its
//! progress from its subscription, and on Ctrl-C, SIGTERM or SIGHUP suspend it durably. The caller then shuts the
//! manager down (which checkpoints the bytes), whatever the outcome.

use crate::events::{Event, Events, Stop};
use crate::failure::{Code, Failure, Outcome};
use crate::json::JobInfo;
use crate::progress::Progress;
use bgcopy::{BackgroundCopyJob, BgError, BgJobState, BgSuccess, Job, Notification};
use std::time::Duration;

/// How often progress notifications come while the job transfers.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// What to do once every file is transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    /// `complete()`: the files appear under their names (`transfer`).
    Complete,
    /// Leave the job `Transferred` (`resume --wait`; `complete ID` finishes it).
    Stay,
}

/// Starts `job` (resumes it unless it is on its way or transferred) and follows it until it
/// is transferred (then `then`), fails, or Ctrl-C arrives on `events`.
pub(crate) fn follow(job: &Job, then: Then, events: &Events) -> Outcome {
    let id = job.get_id();
    // Subscribed before the resume, so that no change is missed. A subscription starts with
    // the job's current state (`Suspended`, say, before the resume): that one is not a change
    // to follow, so it is taken off first (it is always waiting already).
    let subscription = job.subscribe().with_progress_interval(Some(PROGRESS_INTERVAL));
    let _current = subscription.try_recv();
    events.forward(subscription);
    let mut progress = Progress::new(job);
    let transferred = start(job)?;
    if !transferred {
        loop {
            match events.next(progress.next_refresh()) {
                None => progress.tick(),
                Some(Event::Job(Notification::Progress { progress: figures, .. })) => {
                    progress.progress(figures)
                }
                Some(Event::Job(Notification::Failed { hresult, transient: true, .. })) => {
                    let delay = crate::text::short_duration(job.get_minimum_retry_delay());
                    progress
                        .note(&format!("transient error, retried in {delay}: {}", Code(hresult)))
                }
                Some(Event::Job(Notification::StateChanged { state, .. })) => {
                    progress.state(state);
                    match state {
                        BgJobState::Transferred => break,
                        BgJobState::Error => {
                            progress.finish();
                            let error = JobInfo::of(job).error;
                            return Err(Failure::JobFailed { id, why: "failed".into(), error });
                        }
                        BgJobState::Suspended
                        | BgJobState::Cancelled
                        | BgJobState::Acknowledged => {
                            progress.finish();
                            let how = match state {
                                BgJobState::Suspended => "suspended",
                                BgJobState::Cancelled => "cancelled",
                                _ => "completed",
                            };
                            let why = format!("was {how} while this command waited for it");
                            return Err(Failure::JobFailed { id, why, error: None });
                        }
                        _ => {}
                    }
                }
                Some(Event::Interrupted(stop)) => {
                    progress.clear();
                    return interrupt(job, then, stop);
                }
                Some(Event::Ended) => {
                    progress.finish();
                    let why = format!("ended {:?}", job.get_state());
                    return Err(Failure::JobFailed { id, why, error: None });
                }
                Some(Event::Job(_) | Event::InputClosed) => {}
            }
        }
    }
    progress.finish();
    if then == Then::Complete {
        let success =
            job.complete().map_err(|e| Failure::of(format!("complete job {id}"), Some(id), e))?;
        if success != BgSuccess::Ok {
            say!("bgcopy: job {id} completed: {}", Code(success.hresult()));
        }
        say!("bgcopy: job {id} complete: the files are in place");
    } else {
        say!("bgcopy: job {id} transferred; `bgcopy complete {id}` puts the files in place");
    }
    Ok(())
}

/// Starts `job`; returns whether every file is already transferred (nothing to wait for).
fn start(job: &Job) -> Result<bool, Failure> {
    let id = job.get_id();
    match job.get_state() {
        BgJobState::Transferred => return Ok(true),
        BgJobState::Queued | BgJobState::Connecting | BgJobState::Transferring => return Ok(false),
        _ => {}
    }
    match job.resume() {
        Ok(()) => Ok(false),
        // Suspended with every byte there (interrupted right at the end): only `complete` is left.
        Err(BgError::Empty) if has_every_file(job) => Ok(true),
        Err(error) => Err(Failure::of(format!("resume job {id}"), Some(id), error)),
    }
}

fn has_every_file(job: &Job) -> bool {
    let progress = job.get_progress();
    progress.files_total > 0 && progress.files_transferred == progress.files_total
}

/// Ctrl-C, SIGTERM or SIGHUP (`stop`): suspends the job (durable when `suspend` returns)
/// unless it is already transferred.
fn interrupt(job: &Job, then: Then, stop: Stop) -> Outcome {
    let id = job.get_id();
    let state = job.get_state();
    if state != BgJobState::Transferred
        && let Err(error) = job.suspend()
    {
        say!("{}", Failure::of(format!("suspend job {id}"), Some(id), error));
        return Err(Failure::Interrupted(stop));
    }
    let bytes = job.get_progress().bytes_transferred;
    let again = match then {
        Then::Complete => "run the same transfer again",
        Then::Stay => "run this again",
    };
    let word = stop.word();
    say!("bgcopy: {word}: job {id} is {:?}, {bytes} bytes kept", job.get_state());
    say!("bgcopy: to continue, {again}, or: bgcopy resume {id} --wait");
    Err(Failure::Interrupted(stop))
}
