//! `serve`: holds the store and runs the engine, so that its queued jobs are transferred, and
//! publishes its view for `list`, `info` and `monitor` in other processes, until Ctrl-C (exit
//! 130, after a durable shutdown), SIGTERM (143) or SIGHUP (129). Says each state change and failure on stderr.

use crate::events::{Event, Events};
use crate::failure::{Code, Failure, Outcome};
use crate::open;
use bgcopy::{BackgroundCopyJob, BackgroundCopyManager, BgJobState, Notification};
use std::path::Path;
use std::time::Duration;

/// `serve`.
pub(crate) fn serve(dir: &Path) -> Outcome {
    let events = Events::with_interrupts();
    open::hold(dir, |manager| {
        events.forward(manager.subscribe().with_progress_interval(None));
        let queued = manager
            .enum_all_jobs()
            .iter()
            .filter(|job| !job.get_state().is_settled() && !job.get_state().is_final())
            .count();
        say!(
            "bgcopy: serving store {} as process {} ({queued} job(s) to transfer); Ctrl-C stops",
            dir.display(),
            std::process::id()
        );
        loop {
            match events.next(Duration::MAX) {
                Some(Event::Job(Notification::StateChanged { job, state })) => {
                    let figures = manager.get_job(job).map(|job| job.get_progress());
                    let (bytes, files) = match figures {
                        Ok(p) => (
                            format!(
                                "{}/{}",
                                p.bytes_transferred,
                                p.total().map_or_else(|| "-".to_owned(), |t| t.to_string())
                            ),
                            format!("{}/{}", p.files_transferred, p.files_total),
                        ),
                        Err(_) => ("-".to_owned(), "-".to_owned()),
                    };
                    say!("job={job} state={state:?} bytes={bytes} files={files}");
                    if state == BgJobState::Transferred {
                        say!(
                            "bgcopy: job {job} transferred; `bgcopy complete {job}` (after this serve) puts its files in place"
                        );
                    }
                }
                Some(Event::Job(Notification::Failed { job, hresult, transient, .. })) => {
                    let kind = if transient { "transient error, retried later" } else { "error" };
                    say!("bgcopy: job {job}: {kind}: {}", Code(hresult));
                }
                Some(Event::Interrupted(stop)) => {
                    say!("bgcopy: {}: stopping; the jobs keep their bytes", stop.word());
                    return Err(Failure::Interrupted(stop));
                }
                Some(Event::Ended) => return Ok(()),
                Some(_) | None => {}
            }
        }
    })
}
