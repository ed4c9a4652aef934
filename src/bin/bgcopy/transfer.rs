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
use bgcopy::{BackgroundCopyJob, BackgroundCopyManager, BgFileInfo, BgJobType, Job, Manager};
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
        let job = match manager.find_job_with_files(&files) {
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
