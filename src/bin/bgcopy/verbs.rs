//! The verbs that act once: `create`, `addfile`, `resume` (with `--wait`: `follow.rs`),
//! `suspend`, `cancel`, `complete`, and the readers `list` and `info`. The changing verbs open
//! the store without the engine (they only record); readers show the holder's view when another
//! process holds the store.

use crate::events::Events;
use crate::failure::{Code, Failure, Outcome};
use crate::follow::{Then, follow};
use crate::json::{self, JobInfo, JobSummary};
use crate::location::absolute;
use crate::open::{self, Engine, View};
use crate::sources::SourceArgs;
use crate::{output, snapshot, text};
use bgcopy::{
    BackgroundCopyJob, BackgroundCopyManager, BgJobProgress, BgJobType, BgSuccess, Job, JobId,
    Manager,
};
use std::fmt::Write as _;
use std::path::Path;

/// What `suspend`, `cancel`, `complete` and `resume` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Suspend,
    Cancel,
    Complete,
    Resume,
}

/// `create NAME [--on-demand]`: prints the new job's id, alone, on stdout.
pub(crate) fn create(dir: &Path, name: &str, on_demand: bool) -> Outcome {
    let manager = open::for_change(dir, Engine::Off)?;
    let job = manager
        .create_job(name, BgJobType::Download)
        .map_err(|e| Failure::of(format!("create job {name:?}"), None, e))?;
    if on_demand {
        use bgcopy::BackgroundCopyJob5 as _;
        let id = job.get_id();
        job.set_property(bgcopy::BgJobProperty::OnDemandMode(true))
            .map_err(|e| Failure::of(format!("make job {id} on demand"), Some(id), e))?;
    }
    // The job exists once `create_job` returns (it is durable): a stdout that cannot take the id
    // does not make this a failure to create it. The id goes to stderr instead.
    let id = job.get_id();
    match output::print(&format!("{id}\n")) {
        Err(Failure::ReaderLeft) => {
            say!("bgcopy: created job {id} (stdout is closed)");
            Ok(())
        }
        Err(failure) => {
            say!("bgcopy: created job {id}, but its id cannot be written to stdout");
            Err(failure)
        }
        Ok(()) => Ok(()),
    }
}

/// `addfile ID URL DEST`.
pub(crate) fn addfile(
    dir: &Path,
    id: JobId,
    url: &str,
    dest: &Path,
    sources: &SourceArgs,
) -> Outcome {
    let dest = absolute(dest)?;
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    job.add_file(url, &dest)
        .map_err(|e| Failure::of(format!("add {url} to job {id}"), Some(id), e))?;
    let added = job.enum_files().pop();
    sources.apply(&job, added.as_slice())?;
    say!("bgcopy: added {url} -> {} to job {id}", dest.display());
    Ok(())
}

/// `suspend ID`, `cancel ID`, `complete ID`, `resume ID`.
pub(crate) fn change(dir: &Path, id: JobId, change: Change) -> Outcome {
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    let refused = |doing: &str, e| Failure::of(format!("{doing} job {id}"), Some(id), e);
    let success = match change {
        Change::Suspend => job.suspend().map(|()| BgSuccess::Ok).map_err(|e| refused("suspend", e)),
        Change::Resume => job.resume().map(|()| BgSuccess::Ok).map_err(|e| refused("resume", e)),
        Change::Cancel => job.cancel().map_err(|e| refused("cancel", e)),
        Change::Complete => job.complete().map_err(|e| refused("complete", e)),
    }?;
    if success != BgSuccess::Ok {
        say!("bgcopy: {}", Code(success.hresult()));
    }
    match change {
        Change::Resume => say!(
            "bgcopy: job {id} is queued; `bgcopy serve` transfers it (or `bgcopy resume {id} --wait`)"
        ),
        Change::Complete => say!("bgcopy: job {id} complete: the files are in place"),
        Change::Cancel => say!("bgcopy: job {id} cancelled"),
        Change::Suspend => say!("bgcopy: job {id} suspended"),
    }
    Ok(())
}

/// `resume ID --wait`: transfers the job in this process, showing its progress.
pub(crate) fn resume_and_wait(dir: &Path, id: JobId) -> Outcome {
    let events = Events::with_interrupts();
    open::hold(dir, |manager| follow(&find(manager, id)?, Then::Stay, &events))
}

/// `list [--json]`.
pub(crate) fn list(dir: &Path, as_json: bool) -> Outcome {
    let jobs: Vec<JobSummary> = read_jobs(dir)?.into_iter().map(|job| job.summary).collect();
    if as_json {
        return output::print(&format!("{}\n", json::to_text(&jobs)));
    }
    let mut out = String::new();
    for job in &jobs {
        let files = format!("{}/{}", job.files_transferred, job.files_total);
        let state = format!("{:?}", job.state);
        let bytes = text::bytes(&figures(job));
        let _ =
            writeln!(out, "{} {state:<14} {files:>5} {bytes:<25} {:?}", job.id, job.display_name);
    }
    output::print(&out)?;
    say!("bgcopy: {} job(s)", jobs.len());
    Ok(())
}

/// `info ID [--json]`.
pub(crate) fn info(dir: &Path, id: JobId, as_json: bool) -> Outcome {
    let wanted = id.to_string();
    let job = read_jobs(dir)?.into_iter().find(|job| job.summary.id == wanted);
    let job = job.ok_or(Failure::NoSuchJob { id })?;
    if as_json {
        return output::print(&format!("{}\n", json::to_text(&job)));
    }
    let summary = &job.summary;
    let mut out = String::new();
    let _ = writeln!(out, "id       {}", summary.id);
    let _ = writeln!(out, "name     {}", summary.display_name);
    let _ = writeln!(out, "state    {:?}", summary.state);
    let _ = writeln!(out, "bytes    {}", text::bytes(&figures(summary)));
    let _ = writeln!(out, "files    {} / {}", summary.files_transferred, summary.files_total);
    let cap = job.max_bytes_per_second.map_or_else(|| "no cap".to_owned(), |c| format!("{c} B/s"));
    let _ = writeln!(out, "limits   {} connection(s) per file, {cap}", job.max_connections);
    for (index, file) in job.files.iter().enumerate() {
        let total = file.bytes_total.map_or_else(|| "?".to_owned(), |t| t.to_string());
        let done = if file.completed { ", completed" } else { "" };
        let _ = writeln!(out, "file {index}   {}", file.remote);
        let (local, bytes) = (&file.local, file.bytes_transferred);
        let _ = writeln!(out, "         -> {local} ({bytes} / {total} bytes{done})");
    }
    if let Some(error) = &job.error {
        let (hex, context) = (&error.hresult_hex, error.context_name());
        let _ = writeln!(out, "error    {hex} {} ({context})", error.description);
        if !error.message.is_empty() {
            let _ = writeln!(out, "         {}", error.message);
        }
    }
    output::print(&out)
}

/// Every job that is not final: read from the store, or from its holder's view.
fn read_jobs(dir: &Path) -> Result<Vec<JobInfo>, Failure> {
    match open::for_reading(dir, open::PATIENCE)? {
        View::Direct(manager) => Ok(snapshot::jobs_of(&manager)),
        View::Holder(snapshot) => {
            open::say_holder(&snapshot);
            Ok(snapshot.jobs)
        }
    }
}

/// The job `id` of `manager` (exit 3 if there is none).
pub(crate) fn find(manager: &Manager, id: JobId) -> Result<Job, Failure> {
    manager.get_job(id).map_err(|e| Failure::of(format!("find job {id}"), Some(id), e))
}

/// A summary's figures as the library's type, for the text forms.
pub(crate) fn figures(job: &JobSummary) -> BgJobProgress {
    BgJobProgress {
        bytes_total: job.bytes_total.unwrap_or(bgcopy::BG_SIZE_UNKNOWN),
        bytes_transferred: job.bytes_transferred,
        files_total: job.files_total,
        files_transferred: job.files_transferred,
    }
}
