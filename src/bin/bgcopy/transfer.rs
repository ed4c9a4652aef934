//! `transfer URL DEST [URL DEST]... [--name NAME] [-x N] [--max-bytes-per-second RATE]`:
//! create a job (or continue the same one), add the files, set its connections and cap, resume,
//! wait, complete. Prints only the job id on stdout, at once, so that a
//! script knows it even if the transfer is interrupted.

use crate::args::Pair;
use crate::events::Events;
use crate::failure::{Failure, Outcome};
use crate::follow::{Then, follow};
use crate::location::absolute;
use crate::{open, output};
use bgcopy::{
    BackgroundCopyFile, BackgroundCopyJob, BackgroundCopyManager, BgFileInfo, BgJobType, Job,
    Manager,
};
use std::path::Path;

/// The connections and the cap asked for on the command line (`None`: leave the job's).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Limits {
    pub(crate) connections: Option<u32>,
    pub(crate) max_bytes_per_second: Option<u64>,
}

/// `transfer`.
pub(crate) fn transfer(
    dir: &Path,
    pairs: Vec<Pair>,
    name: Option<String>,
    limits: Limits,
) -> Outcome {
    let mut files = Vec::with_capacity(pairs.len());
    for pair in pairs {
        files.push(BgFileInfo::new(pair.url, absolute(&pair.dest)?));
    }
    let events = Events::with_interrupts();
    open::hold(dir, |manager| {
        let job = match same_job(manager, &files) {
            Some(job) => {
                let (state, bytes) = (job.get_state(), job.get_progress().bytes_transferred);
                say!("bgcopy: continuing job {} ({state:?}, {bytes} bytes kept)", job.get_id());
                job
            }
            None => create(manager, &files, name)?,
        };
        if let Some(connections) = limits.connections {
            job.set_max_connections(connections)
                .map_err(|e| Failure::of("set the connections", Some(job.get_id()), e))?;
        }
        if let Some(rate) = limits.max_bytes_per_second {
            job.set_max_bytes_per_second(Some(rate))
                .map_err(|e| Failure::of("set the bandwidth cap", Some(job.get_id()), e))?;
        }
        // A closed stdout does not stop the transfer: the id is also in the messages.
        let _ = output::print(&format!("{}\n", job.get_id()));
        follow(&job, Then::Complete, &events)
    })
}

/// The job that is not final and has exactly `files` (remote and local names, in order).
/// Any such job: the one a Ctrl-C suspended, the one a crash left `Queued`, one that failed.
fn same_job(manager: &Manager, files: &[BgFileInfo]) -> Option<Job> {
    manager.enum_all_jobs().into_iter().filter(|job| !job.get_state().is_final()).find(|job| {
        let have = job.enum_files();
        have.len() == files.len()
            && have.iter().zip(files).all(|(have, want)| {
                have.get_remote_name() == want.remote_name
                    && have.get_local_name() == want.local_name
            })
    })
}

/// A new job named `name` (by default the first destination's file name) with `files`; nothing
/// is left behind if the files are refused.
fn create(manager: &Manager, files: &[BgFileInfo], name: Option<String>) -> Result<Job, Failure> {
    let name = name.unwrap_or_else(|| {
        let first = files.first().and_then(|f| f.local_name.file_name());
        first.map_or_else(|| "bgcopy transfer".to_owned(), |n| n.to_string_lossy().into_owned())
    });
    let job = manager
        .create_job(&name, BgJobType::Download)
        .map_err(|e| Failure::of("create the job", None, e))?;
    if let Err(error) = job.add_file_set(files) {
        let _ = job.cancel();
        return Err(Failure::of("add the files", None, error));
    }
    Ok(job)
}
