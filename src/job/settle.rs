//! `complete()` and `cancel()`: what they need is read under the job lock, the file work (fsync,
//! rename, directory fsync; deletions) is done without it, and the result is published under it
//! again. Meanwhile getters answer, and no driver can claim the job (`settling`); the job's
//! `settle` lock keeps two of these calls from interleaving. Files still appear only on
//! `complete()`, each atomically and fsynced first (`disk::publish`; with a store, that was done
//! when the file was transferred), and their directories are fsynced once all are renamed,
//! before `complete()` returns.

use super::disk;
use super::handle::Job;
use super::shared::JobInner;
use super::snapshot::Intent;
use super::transitions::{transition, JobEvent};
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
    fn revoke(&self, inner: &mut JobInner, state: BgJobState) {
        if matches!(state, BgJobState::Connecting | BgJobState::Transferring) {
            self.shared.counters.set_state(state, true);
            inner.effects.changed = true;
        }
    }

    /// Phase one of both calls: checks `event`, stops any driver, blocks new claims, and lists
    /// the temporary files of the files not yet completed.
    fn plan(&self, event: JobEvent, commit: bool) -> Result<(BgJobState, Vec<Step>)> {
        self.shared.change(|inner| {
            let state = self.shared.counters.state();
            transition(state, event)?;
            self.revoke(inner, state);
            inner.settling = true;
            // Recorded before any file is touched: a crash half-way is finished on next open.
            inner.intent = Some(if commit { Intent::Complete } else { Intent::Cancel });
            inner.effects.save = true;
            let stored = self.shared.ctx.persist.is_some();
            let steps = inner
                .files
                .iter()
                .zip(&inner.file_disk)
                .filter(|(file, _)| !file.counters.is_completed())
                .map(|(file, disk)| Step {
                    index: file.index,
                    temp: disk.temp_path.clone(),
                    local_name: file.local_name.clone(),
                    commit: commit && file.counters.is_transferred(),
                    synced: stored && file.counters.is_transferred(),
                })
                .collect();
            Ok((state, steps))
        })
    }

    /// Temporary files a stopping driver created after the plan was made (they are deleted).
    fn leftovers(inner: &mut JobInner) -> Vec<PathBuf> {
        inner.file_disk.iter_mut().filter_map(|disk| disk.temp_path.take()).collect()
    }

    pub(crate) fn settle_cancel(&self) -> Result<BgSuccess> {
        let _one_at_a_time = self.shared.settle.lock();
        let (_, steps) = self.plan(JobEvent::Cancel, false)?;
        let removed: Vec<(Step, io::Result<()>)> = steps
            .into_iter()
            .map(|step| {
                let result = step.temp.as_deref().map_or(Ok(()), disk::remove);
                (step, result)
            })
            .collect();
        let (result, leftovers) = self.shared.change(|inner| {
            inner.settling = false;
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
        for temp in leftovers {
            let _ = disk::remove(&temp);
        }
        result
    }

    pub(crate) fn settle_complete(&self) -> Result<BgSuccess> {
        let _one_at_a_time = self.shared.settle.lock();
        let (state, steps) = self.plan(JobEvent::Complete, true)?;
        let done: Vec<(Step, Result<()>)> = steps
            .into_iter()
            .map(|step| {
                let result = match (&step.temp, step.commit) {
                    (Some(temp), true) => disk::publish(temp, &step.local_name, step.synced)
                        .map_err(|e| BgError::io("rename", temp.clone(), e)),
                    // A transferred file whose temporary file is gone cannot be made visible.
                    (None, true) => Err(BgError::io(
                        "rename",
                        step.local_name.clone(),
                        io::Error::new(io::ErrorKind::NotFound, "temporary file missing"),
                    )),
                    (Some(temp), false) => {
                        disk::remove(temp).map_err(|e| BgError::io("remove", temp.clone(), e))
                    }
                    (None, false) => Ok(()),
                };
                (step, result)
            })
            .collect();
        // The renames are durable before the result is published (and before a store records
        // the job as acknowledged).
        let renamed = done.iter().filter(|(step, result)| step.commit && result.is_ok());
        disk::sync_dirs(renamed.map(|(step, _)| step.local_name.as_path()));
        let (result, leftovers) = self.shared.change(|inner| {
            inner.settling = false;
            let (mut partial, mut undeleted, mut first_error) = (false, false, None);
            for (step, result) in done {
                partial |= !step.commit;
                match result {
                    Ok(()) => {
                        if step.commit {
                            self.shared.counters.mark_completed(&inner.files[step.index].counters);
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
        for temp in leftovers {
            let _ = disk::remove(&temp);
        }
        result
    }
}
