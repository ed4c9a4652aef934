//! The group commit of finished files (DESIGN 6.1 and the store's price): with a store, a file
//! counts as transferred only once its bytes, its name and its record are durable. Done on the
//! transfer thread, that is two or three fsyncs per file before the next file can start. A
//! driver that hands the file over instead ([`FileTransfer::finish_deferred`]) goes on with the
//! next file at once, and a committer thread makes the finished files durable in batches: each
//! file's fsync, one fsync per directory whose new names are not durable yet, and one record
//! (one commit) per job for every file of the batch. Only then do the files count as transferred
//! and their events fire.
//!
//! The job's `Finishing` set (`job/state/finishing.rs`) tracks the files handed over and not
//! recorded yet: a driver's `next_file` skips them, and `JobDriver::finish` waits for them (and
//! reports the error that kept one from being recorded).
//!
//! One committer serves the process (batches are grouped by job). Its thread starts with the
//! first file handed over and ends when its queue is empty, so a process that never hands a
//! file over never has one.
//!
//! [`FileTransfer::finish_deferred`]: crate::FileTransfer::finish_deferred

use crate::Notification;
use crate::job::{Callback, FileShared, JobShared};
use crate::{BgError, Result};
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// A file whose last byte is written, handed to the group commit.
pub(crate) struct Finished {
    pub(crate) job: Arc<JobShared>,
    pub(crate) file: Arc<FileShared>,
    /// Its temporary file, open (to sync it).
    pub(crate) temp: File,
    pub(crate) temp_path: PathBuf,
    /// The validator of the content, recorded with the file.
    pub(crate) validator: Option<String>,
    /// The file's epoch when it was handed over: a file restarted since records nothing.
    pub(crate) epoch: u64,
}

/// The queue of finished files, and its committer thread.
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    /// Signalled when a file joins the queue.
    arrived: Condvar,
}

/// The process's group commit.
pub(crate) static COMMITS: GroupCommit =
    GroupCommit { queue: Mutex::new(Queue::new()), arrived: Condvar::new() };

#[derive(Default)]
struct Queue {
    files: Vec<Finished>,
    /// Files still being written whose bytes so far are to be synced early (nothing recorded).
    presync: Vec<File>,
    /// A committer thread is draining the queue.
    running: bool,
}

impl Queue {
    const fn new() -> Queue {
        Queue { files: Vec::new(), presync: Vec::new(), running: false }
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty() && self.presync.is_empty()
    }
}

impl GroupCommit {
    /// Hands `finished` to the committer (starting its thread if none runs). The file is in its
    /// job's [`Finishing`] set already.
    pub(crate) fn submit(&'static self, finished: Finished) {
        let mut queue = self.queue.lock();
        queue.files.push(finished);
        self.run(queue);
    }

    /// Has the bytes written so far to a file still being downloaded synced early, on the
    /// committer's thread, so that its final sync has little left to do.
    pub(crate) fn presync(&'static self, temp: File) {
        let mut queue = self.queue.lock();
        queue.presync.push(temp);
        self.run(queue);
    }

    /// Wakes the committer thread, or starts one.
    fn run(&'static self, mut queue: parking_lot::MutexGuard<'_, Queue>) {
        if queue.running {
            self.arrived.notify_one();
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("bgcopy-committer".into())
            .spawn(move || self.drain())
            .is_ok();
        queue.running = spawned;
        if !spawned {
            // No thread: commit on the caller's thread rather than never (an early sync can
            // wait for the file's own).
            let batch = std::mem::take(&mut queue.files);
            queue.presync.clear();
            drop(queue);
            commit(sync_files(batch));
        }
    }

    /// The committer thread: batches until the queue is empty.
    fn drain(&self) {
        loop {
            let (mut batch, presync) = {
                let mut queue = self.queue.lock();
                if queue.is_empty() {
                    queue.running = false;
                    return;
                }
                (std::mem::take(&mut queue.files), std::mem::take(&mut queue.presync))
            };
            for temp in presync {
                // Best effort: the file's own sync, when it finishes, is the one that counts.
                let _ = temp.sync_data();
            }
            if batch.is_empty() {
                continue;
            }
            // The files' own fsyncs hold no lock: files that finish meanwhile join the batch,
            // so that a fast driver's many small files share one directory sync and one record.
            let mut ready = Vec::new();
            loop {
                ready.extend(sync_files(batch));
                let more = {
                    let mut queue = self.queue.lock();
                    if queue.files.is_empty() && ready.len() < MAX_BATCH {
                        // A driver going from one file to the next hands over the next file
                        // within about this much: wait for it rather than commit twice.
                        let _ = self.arrived.wait_for(&mut queue, GATHER);
                    }
                    let room = MAX_BATCH.saturating_sub(ready.len());
                    let n = queue.files.len().min(room);
                    queue.files.drain(..n).collect::<Vec<_>>()
                };
                if more.is_empty() {
                    break;
                }
                batch = more;
            }
            commit(ready);
        }
    }
}

/// The most files one record of the group commit carries.
const MAX_BATCH: usize = 256;
/// How long the committer waits for another file before it records what it has.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// Syncs the bytes of each file of `batch`; returns those synced (the others are done, with
/// their error).
fn sync_files(batch: Vec<Finished>) -> Vec<Finished> {
    let mut ready = Vec::with_capacity(batch.len());
    for finished in batch {
        match finished.temp.sync_all() {
            Ok(()) => ready.push(finished),
            Err(e) => {
                let error = BgError::io("sync", finished.temp_path.clone(), e);
                finished.job.finishing.done(&[finished.file.index], Some(error));
            }
        }
    }
    ready
}

/// Makes one batch of synced files durable: the directories of their new names once, then one
/// record per job.
fn commit(mut ready: Vec<Finished>) {
    // One fsync per directory for the names a record is about to give (DESIGN 6.1).
    let unsynced: Vec<&std::path::Path> = ready
        .iter()
        .filter(|f| !f.job.inner.lock().file_disk[f.file.index].entry_synced)
        .map(|f| f.temp_path.as_path())
        .collect();
    if let Err(e) = crate::job::temp_files::sync_dirs(unsynced) {
        for finished in ready {
            let again = std::io::Error::new(e.kind(), e.to_string());
            let error = BgError::io("sync the directory of", finished.temp_path.clone(), again);
            finished.job.finishing.done(&[finished.file.index], Some(error));
        }
        return;
    }
    for finished in &ready {
        crate::faults::point("finish:synced", &finished.temp_path);
    }
    // One record per job, for all its files of the batch.
    while let Some(first) = ready.first() {
        let job = Arc::clone(&first.job);
        let (mine, rest): (Vec<Finished>, Vec<Finished>) =
            ready.into_iter().partition(|f| Arc::ptr_eq(&f.job, &job));
        ready = rest;
        let indices: Vec<usize> = mine.iter().map(|f| f.file.index).collect();
        let result = record_finished(&job, &mine);
        job.finishing.done(&indices, result.err());
    }
}

impl fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.queue.lock();
        f.debug_struct("GroupCommit")
            .field("queued", &queue.files.len())
            .field("running", &queue.running)
            .finish()
    }
}

/// The record of a batch's files of `job` (see the module docs): each counts as transferred,
/// and its events fire, once this change is recorded. A file restarted since it was handed over
/// (another epoch or temporary file), or a job that is final or being completed or cancelled,
/// records nothing for it.
fn record_finished(job: &Arc<JobShared>, files: &[Finished]) -> Result<()> {
    job.change(|inner| {
        if job.state_in(inner).is_final() || inner.completing {
            return Ok(());
        }
        let mut any = false;
        for finished in files {
            let index = finished.file.index;
            let disk = &inner.file_disk[index];
            let same = disk.epoch == finished.epoch
                && disk.temp_path.as_ref() == Some(&finished.temp_path);
            if !same
                || JobShared::transferred_in(inner, index)
                || !finished.file.counters.is_complete()
            {
                continue;
            }
            inner.pending.finished.push(index);
            let disk = &mut inner.file_disk[index];
            disk.validator.clone_from(&finished.validator);
            let all = finished.file.counters.transferred();
            disk.set_base(Vec::new());
            disk.set_durable(if all > 0 { vec![(0, all)] } else { Vec::new() });
            disk.entry_synced = true;
            job.post(inner, Callback::FileTransferred(Arc::clone(&finished.file)));
            job.post(inner, Callback::Modification);
            job.publish(inner, Notification::FileTransferred { job: job.id, index });
            any = true;
        }
        if any {
            inner.modification_time = SystemTime::now();
            inner.effects.save = true;
            inner.effects.wake = true;
        }
        Ok(())
    })
}
