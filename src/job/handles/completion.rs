//! [`Job::complete`](crate::BackgroundCopyJob::complete) and
//! [`Job::cancel`](crate::BackgroundCopyJob::cancel): what they need is read under the job lock,
//! the file work (fsync, rename, directory fsync; deletions) is done without it, and the result
//! is published under it again. Meanwhile getters answer, and no driver can claim the job
//! (`completing`); the job's `completion` lock keeps two of these calls from interleaving. Files
//! still appear only on `complete()`, each atomically and fsynced first (`temp_files::publish`;
//! with a store, that was done when the file was transferred), and their directories are fsynced
//! once all are renamed, before `complete()` returns.

use crate::job::handles::job::Job;
use crate::job::record::snapshot::Intent;
use crate::job::state::shared::{JobInner, JobShared};
use crate::job::state::transitions::{JobEvent, transition};
use crate::job::temp_files;
use crate::{BgError, BgJobState, BgSuccess, Result};
use std::io;
use std::path::PathBuf;

/// What happens to one file's temporary file.
struct Step {
    index: usize,
    temp: Option<PathBuf>,
    /// The file's local name (read with the plan, under the lock).
    local_name: PathBuf,
    /// Rename it into place (`complete()` of a transferred file), else delete it.
    commit: bool,
    /// Its data is already synced: with a store, a file counts as transferred only once its
    /// temporary file is synced (`FileTransfer::finish`), so `complete()` need not sync it again.
    synced: bool,
}

impl Job {
    /// Stops the job's driver, if one runs: the state stays, the claim generation moves on.
    fn revoke(inner: &mut JobInner, state: BgJobState) {
        if matches!(state, BgJobState::Connecting | BgJobState::Transferring) {
            inner.pending.state = Some(state);
            inner.pending.generations += 1;
            inner.effects.changed = true;
        }
    }

    /// After a last step whose record failed (the store's disk is full, say): the file work
    /// done stays known in memory, no flag stays set, and a job whose driver the plan stopped
    /// goes back to the queue. The intent recorded by the plan stays, so the next open finishes
    /// the call if no later call does; the same call can simply be made again.
    fn completion_failed(&self, done: &[(usize, Option<PathBuf>, bool)]) {
        self.shared.change(|inner| {
            inner.completing = false;
            for &(index, ref temp, completed) in done {
                if completed {
                    inner.pending.completed.push(index);
                }
                if inner.file_disk[index].temp_path == *temp {
                    inner.file_disk[index].temp_path = None;
                }
            }
            let state = self.shared.state_in(inner);
            if matches!(state, BgJobState::Connecting | BgJobState::Transferring) {
                let _ = self.shared.apply(inner, JobEvent::Yield);
            }
            // In memory only: what is on disk is already what the store will find.
            inner.effects.save = false;
            inner.effects.save_lazy = false;
        });
    }

    /// Phase one of both calls: checks `event`, stops any driver, blocks new claims, and lists
    /// the temporary files of the files not yet completed.
    fn plan(&self, event: JobEvent, commit: bool) -> Result<(BgJobState, Vec<Step>)> {
        self.shared.change(|inner| {
            let state = self.shared.state_in(inner);
            transition(state, event)?;
            Self::revoke(inner, state);
            inner.completing = true;
            // Recorded before any file is touched: a crash half-way is finished on next open.
            inner.intent = Some(if commit { Intent::Complete } else { Intent::Cancel });
            inner.effects.save = true;
            let stored = self.shared.ctx.persist.is_some();
            let steps = inner
                .files
                .iter()
                .zip(&inner.file_disk)
                .filter(|(file, _)| !JobShared::completed_in(inner, file.index))
                .map(|(file, disk)| Step {
                    index: file.index,
                    temp: disk.temp_path.clone(),
                    local_name: file.local_name.clone(),
                    commit: commit && JobShared::transferred_in(inner, file.index),
                    synced: stored && JobShared::transferred_in(inner, file.index),
                })
                .collect();
            Ok((state, steps))
        })
    }

    /// Temporary files a stopping driver created after the plan was made (they are deleted).
    fn leftovers(inner: &mut JobInner) -> Vec<PathBuf> {
        inner.file_disk.iter_mut().filter_map(|disk| disk.temp_path.take()).collect()
    }

    pub(crate) fn run_cancel(&self) -> Result<BgSuccess> {
        let _one_at_a_time = self.shared.completion.lock();
        let (_, steps) = self.plan(JobEvent::Cancel, false)?;
        let mut removed: Vec<(Step, io::Result<()>)> = steps
            .into_iter()
            .map(|step| {
                let result = step.temp.as_deref().map_or(Ok(()), temp_files::remove);
                (step, result)
            })
            .collect();
        // The deletions are durable before the record goes: else a power loss brings back
        // temporary files that no record names any more. A directory that cannot be synced
        // counts as a file that could not be deleted (`BG_S_UNABLE_TO_DELETE_FILES`).
        let gone = removed.iter().filter(|(_, result)| result.is_ok());
        if let Err(error) = temp_files::sync_dirs(gone.filter_map(|(step, _)| step.temp.as_deref()))
        {
            for (step, result) in &mut removed {
                if step.temp.is_some() && result.is_ok() {
                    *result = Err(io::Error::new(error.kind(), error.to_string()));
                }
            }
        }
        let deleted: Vec<(usize, Option<PathBuf>, bool)> = removed
            .iter()
            .filter(|(_, result)| result.is_ok())
            .map(|(step, _)| (step.index, step.temp.clone(), false))
            .collect();
        let (result, leftovers) = self.shared.change(|inner| {
            inner.completing = false;
            let mut undeleted = false;
            for (step, result) in removed {
                match result {
                    Ok(()) => {
                        if inner.file_disk[step.index].temp_path == step.temp {
                            inner.file_disk[step.index].temp_path = None;
                        }
                    }
                    Err(_) => undeleted = true,
                }
            }
            let outcome = if undeleted { BgSuccess::UnableToDeleteFiles } else { BgSuccess::Ok };
            let result = self.shared.apply(inner, JobEvent::Cancel).map(|_| outcome);
            (result, Self::leftovers(inner))
        });
        if self.shared.inner.lock().completing {
            // The last step's record failed: nothing of it was applied.
            self.completion_failed(&deleted);
            return result;
        }
        for temp in leftovers {
            let _ = temp_files::remove(&temp);
        }
        result
    }

    pub(crate) fn run_complete(&self) -> Result<BgSuccess> {
        let _one_at_a_time = self.shared.completion.lock();
        let (state, steps) = self.plan(JobEvent::Complete, true)?;
        let done: Vec<(Step, Result<()>)> = steps
            .into_iter()
            .map(|step| {
                let result = match (&step.temp, step.commit) {
                    (Some(temp), true) => temp_files::publish(temp, &step.local_name, step.synced)
                        .map_err(|e| BgError::io("rename", temp.clone(), e)),
                    // A transferred file whose temporary file is gone cannot be made visible.
                    (None, true) => Err(BgError::io(
                        "rename",
                        step.local_name.clone(),
                        io::Error::new(io::ErrorKind::NotFound, "temporary file missing"),
                    )),
                    (Some(temp), false) => {
                        temp_files::remove(temp).map_err(|e| BgError::io("remove", temp.clone(), e))
                    }
                    (None, false) => Ok(()),
                };
                (step, result)
            })
            .collect();
        // The renames are durable before the result is published (and before a store records
        // the job as acknowledged): a directory that cannot be synced fails the call.
        // (The directories of the deleted temporary files are the same: synced too.)
        let renamed = done.iter().filter(|(step, result)| step.temp.is_some() && result.is_ok());
        let synced = temp_files::sync_dirs(renamed.map(|(step, _)| step.local_name.as_path()));
        let settled: Vec<(usize, Option<PathBuf>, bool)> = done
            .iter()
            .filter(|(_, result)| result.is_ok())
            .map(|(step, _)| (step.index, step.temp.clone(), step.commit))
            .collect();
        if let Err(error) = synced {
            self.completion_failed(&settled);
            let dir = done.iter().find_map(|(step, _)| step.local_name.parent());
            let dir = dir.map(PathBuf::from).unwrap_or_default();
            return Err(BgError::io("sync the directory", dir, error));
        }
        let (result, leftovers) = self.shared.change(|inner| {
            inner.completing = false;
            let (mut partial, mut undeleted, mut first_error) = (false, false, None);
            for (step, result) in done {
                partial |= !step.commit;
                match result {
                    Ok(()) => {
                        if step.commit {
                            inner.pending.completed.push(step.index);
                        }
                        if inner.file_disk[step.index].temp_path == step.temp {
                            inner.file_disk[step.index].temp_path = None;
                        }
                    }
                    Err(error) if step.commit => {
                        first_error.get_or_insert(error);
                    }
                    Err(_) => undeleted = true,
                }
            }
            if let Some(error) = first_error {
                // Renamed files stay available; the job waits for another complete() or a
                // cancel() (spec 3.6).
                inner.intent = None;
                inner.effects.save = true;
                if state != BgJobState::Transferred {
                    let _ = self.shared.apply(inner, JobEvent::Suspend);
                }
                return (Err(error), Vec::new());
            }
            let outcome = if partial {
                BgSuccess::PartialComplete
            } else if undeleted {
                BgSuccess::UnableToDeleteFiles
            } else {
                BgSuccess::Ok
            };
            let result = self.shared.apply(inner, JobEvent::Complete).map(|_| outcome);
            (result, Self::leftovers(inner))
        });
        if self.shared.inner.lock().completing {
            // The last step's record failed: nothing of it was applied.
            self.completion_failed(&settled);
            return result;
        }
        for temp in leftovers {
            let _ = temp_files::remove(&temp);
        }
        result
    }
}
