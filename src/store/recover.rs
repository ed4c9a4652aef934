//! Reconciling the records of a store with the disk when it is opened (DESIGN 5.2): a
//! `complete()` or `cancel()` that a crash interrupted is finished; jobs untouched for longer
//! than the retention period are cancelled; each file resumes from its temporary file only if
//! that file holds at least the bytes the record says are on disk (it is cut to them), and
//! restarts from zero otherwise; temporary files of a job's files that no record names
//! (orphans) are removed. Nothing else on disk is touched.

use super::Store;
use crate::job::record::snapshot::{FileSnapshot, Intent, JobSnapshot};
use crate::job::temp_files;
use crate::{BgJobState, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What recovery did, for the tests and the manager's report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Interrupted `complete()` calls finished.
    pub(crate) completed: usize,
    /// Interrupted `cancel()` calls finished, and jobs cancelled by the retention period.
    pub(crate) cancelled: usize,
    /// Files that restarted from zero because their temporary file was missing or short.
    pub(crate) restarted_files: usize,
    /// Orphaned temporary files removed.
    pub(crate) orphans_removed: usize,
}

/// Reconciles `jobs` (every record that decoded) with the disk, updates or deletes their records
/// in the store, and returns the jobs to restore.
///
/// # Errors
/// The store's error if a record cannot be updated or deleted.
pub(crate) fn recover(
    store: &Store,
    jobs: Vec<JobSnapshot>,
    retention: Option<Duration>,
    now: SystemTime,
) -> Result<(Vec<JobSnapshot>, Recovery)> {
    let mut recovery = Recovery::default();
    let mut keep = Vec::with_capacity(jobs.len());
    let mut changed = Vec::new();
    let mut temps = TempNames::default();
    for mut job in jobs {
        let expired = retention
            .is_some_and(|r| now.duration_since(job.modification_time).is_ok_and(|idle| idle > r));
        let intent = if expired { Some(Intent::Cancel) } else { job.intent };
        match intent {
            Some(Intent::Cancel) => {
                remove_temps(&job, &mut recovery, &mut temps);
                store.delete(job.id)?;
                recovery.cancelled += 1;
            }
            Some(Intent::Complete) => {
                if finish_complete(&mut job, &mut recovery, &mut temps) {
                    store.delete(job.id)?;
                    recovery.completed += 1;
                } else {
                    changed.push(job.clone());
                    keep.push(job);
                }
            }
            None => {
                if check_files(&mut job, &mut recovery, &mut temps) {
                    changed.push(job.clone());
                }
                keep.push(job);
            }
        }
    }
    store.put_many(&changed)?;
    Ok((keep, recovery))
}

/// Removes every temporary file of the job's files (recorded or orphaned).
fn remove_temps(job: &JobSnapshot, recovery: &mut Recovery, temps: &mut TempNames) {
    for (index, file) in job.files.iter().enumerate() {
        if let Some(temp) = &file.temp_path {
            let _ = temp_files::remove(temp);
        }
        recovery.orphans_removed += temps.remove_orphans(job, index, file, None);
    }
}

/// Finishes an interrupted `complete()`: renames the transferred files whose temporary file is
/// still there (the others were renamed before the crash, if their local name holds them),
/// deletes the rest. Returns `false` if a rename fails, or a file is in neither place: the job
/// then stays, without the intent, for another `complete()` or `cancel()` (a lost file starts
/// over).
fn finish_complete(job: &mut JobSnapshot, recovery: &mut Recovery, temps: &mut TempNames) -> bool {
    let mut all = true;
    let mut lost = false;
    for index in 0..job.files.len() {
        let file = &mut job.files[index];
        match (&file.temp_path, file.transferred && !file.completed) {
            (Some(temp), true) if temp.exists() => match temp_files::commit(temp, &file.local_name)
            {
                Ok(()) => {
                    file.completed = true;
                    file.temp_path = None;
                }
                Err(_) => all = false,
            },
            (Some(temp), false) => {
                let _ = temp_files::remove(temp);
            }
            (_, true) if !renamed_before(file) => {
                // Neither the temporary file nor the file in place: the bytes are gone (a
                // power loss took a name that was not durable). The job stays, that file starts
                // over, and nothing is reported as done that is not.
                file.transferred = false;
                file.temp_path = None;
                file.ranges.clear();
                file.validator = None;
                lost = true;
                all = false;
            }
            _ => {}
        }
        let file = &job.files[index];
        recovery.orphans_removed +=
            temps.remove_orphans(job, index, file, file.temp_path.as_deref());
    }
    if !all {
        job.intent = None;
    }
    if lost && job.state == BgJobState::Transferred {
        job.state = BgJobState::Queued;
        job.transfer_completion_time = None;
    }
    all
}

/// Whether a transferred file whose temporary file is gone was renamed into place before the
/// crash: its local name holds a regular file of the file's size.
fn renamed_before(file: &FileSnapshot) -> bool {
    std::fs::symlink_metadata(&file.local_name)
        .is_ok_and(|meta| meta.is_file() && file.size.is_none_or(|size| meta.len() == size))
}

/// Checks each file of a job that goes on against its temporary file; returns whether the record
/// changed.
fn check_files(job: &mut JobSnapshot, recovery: &mut Recovery, temps: &mut TempNames) -> bool {
    let mut changed = false;
    let mut restarted_transferred = false;
    for index in 0..job.files.len() {
        if !job.files[index].completed {
            let before = job.files[index].clone();
            let restarted = check_file(&mut job.files[index]);
            if restarted {
                recovery.restarted_files += 1;
                restarted_transferred |= before.transferred;
            }
            changed |= job.files[index] != before;
        }
        let file = &job.files[index];
        recovery.orphans_removed +=
            temps.remove_orphans(job, index, file, file.temp_path.as_deref());
    }
    // A job that had every file and lost one goes back to the queue for it.
    if restarted_transferred && job.state == BgJobState::Transferred {
        job.state = BgJobState::Queued;
        job.transfer_completion_time = None;
        changed = true;
    }
    changed
}

/// Keeps a file's temporary file if it reaches the ranges its record says are on disk (cut to
/// the end of the last), else starts the file over. Returns whether it started over.
fn check_file(file: &mut FileSnapshot) -> bool {
    // A file in segments may hold several ranges: its temporary file must reach the last one.
    let recorded = if file.transferred {
        file.size.unwrap_or(0)
    } else {
        file.ranges.last().map_or(0, |&(_, end)| end)
    };
    let on_disk = file
        .temp_path
        .as_deref()
        .and_then(|temp| std::fs::symlink_metadata(temp).ok())
        .filter(std::fs::Metadata::is_file)
        // A file that cannot be ours (another user's, a hard link: R7) is never resumed.
        .filter(|metadata| !temp_files::is_foreign(metadata))
        .map(|metadata| metadata.len());
    let usable = match on_disk {
        Some(len) if file.transferred => len == recorded,
        Some(len) => len >= recorded,
        None => recorded == 0 && file.temp_path.is_none(),
    };
    if usable {
        if let (Some(temp), Some(len)) = (&file.temp_path, on_disk)
            && len > recorded
            && cut(temp, recorded).is_err()
        {
            return restart(file);
        }
        return false;
    }
    restart(file)
}

/// Cuts a temporary file to `len` bytes (what the record says is on disk), synced.
fn cut(temp: &Path, len: u64) -> std::io::Result<()> {
    let file = temp_files::open_temp(temp, None)?;
    file.set_len(len)?;
    file.sync_data()
}

/// Starts a file over from zero: its temporary file goes, its bytes and its transferred mark too
/// (an unknown size stays unknown; a known one is kept, to be confirmed by the transfer).
fn restart(file: &mut FileSnapshot) -> bool {
    if let Some(temp) = file.temp_path.take() {
        let _ = temp_files::remove(&temp);
    }
    file.ranges.clear();
    file.transferred = false;
    true
}

/// The names of bgcopy temporary files in the directories recovery looks at, each directory
/// listed once (a store of many jobs has many files in few directories).
#[derive(Default)]
struct TempNames {
    by_dir: HashMap<PathBuf, Vec<std::ffi::OsString>>,
}

impl TempNames {
    /// Removes the temporary files of file `index` of `job` that are not `keep`; returns how
    /// many.
    fn remove_orphans(
        &mut self,
        job: &JobSnapshot,
        index: usize,
        file: &FileSnapshot,
        keep: Option<&Path>,
    ) -> usize {
        let Some(dir) = file.local_name.parent() else { return 0 };
        let names = self.by_dir.entry(dir.to_owned()).or_insert_with(|| list_temps(dir));
        let mut removed = 0;
        names.retain(|name| {
            let path = dir.join(name);
            let orphan = temp_files::is_temp_name(name, &file.local_name, job.id, index)
                && Some(path.as_path()) != keep;
            if orphan && temp_files::remove(&path).is_ok() {
                removed += 1;
                return false;
            }
            true
        });
        removed
    }
}

/// The names in `dir` that end like a bgcopy temporary file.
fn list_temps(dir: &Path) -> Vec<std::ffi::OsString> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name())
        .filter(|name| name.to_string_lossy().ends_with(".bgcopy.tmp"))
        .collect()
}
