//! The view a store's holder publishes for other processes: `<store>/snapshot.json`, the
//! holder's process id, when it was written, and every job that is not final in the schema of
//! `info --json`. [`Publisher`] rewrites it a few times a second (to a temporary name, then
//! renamed over the old one, so a reader sees a whole file or the previous one) and removes it
//! when the holder lets go of the store. It is a view, not a record: it is never synced, and
//! readers trust it only while the store's lock is held by the process it names (README,
//! "Several processes").

use crate::json::JobInfo;
use bgcopy::{BackgroundCopyJob, Manager};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The file's name in the store directory.
pub(crate) const FILE: &str = "snapshot.json";
/// The version of the file's format; readers ignore a file of another version.
const FORMAT: u32 = 1;
/// How often the holder rewrites the file while jobs change.
const INTERVAL: Duration = Duration::from_millis(250);
/// How often it rewrites an unchanged view, so that readers can tell it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A view older than this is stale: its holder stopped publishing (hung, or not a bgcopy
/// command).
pub(crate) const STALE: Duration = Duration::from_secs(5);

/// The published view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) format: u32,
    /// The holder's process id.
    pub(crate) pid: u32,
    /// When it was written, in milliseconds since the Unix epoch.
    pub(crate) written_at_ms: u64,
    /// Every job that is not final, in creation order.
    pub(crate) jobs: Vec<JobInfo>,
}

impl Snapshot {
    /// How long ago it was written (zero if the clock says it is from the future).
    pub(crate) fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.written_at_ms))
    }

    /// Whether its holder still published it recently.
    pub(crate) fn is_fresh(&self) -> bool {
        self.age() < STALE
    }
}

/// The snapshot in store `dir`, if there is one in a format this bgcopy reads.
pub(crate) fn read(dir: &Path) -> Option<Snapshot> {
    let text = std::fs::read(dir.join(FILE)).ok()?;
    let snapshot: Snapshot = serde_json::from_slice(&text).ok()?;
    (snapshot.format == FORMAT).then_some(snapshot)
}

/// Every job of `manager` that is not final, as the snapshot and `list` show them.
pub(crate) fn jobs_of(manager: &Manager) -> Vec<JobInfo> {
    let jobs = manager.enum_all_jobs().into_iter();
    jobs.filter(|job| !job.get_state().is_final()).map(|job| JobInfo::of(&job)).collect()
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Publishes the view of a store this process holds, until stopped (or dropped).
#[derive(Debug)]
pub(crate) struct Publisher {
    dir: PathBuf,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    /// Writes the view of `manager`'s store `dir` once, then keeps it current from a thread.
    /// It reads only snapshots (`get_progress()`, the file list): the transfers do nothing for
    /// it.
    pub(crate) fn start(manager: &Manager, dir: &Path) -> Publisher {
        remove_leftovers(dir);
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let mut last = write(dir, jobs_of(manager));
        let thread = {
            let (manager, dir, stop) = (manager.clone(), dir.to_owned(), Arc::clone(&stop));
            std::thread::Builder::new().name("bgcopy-snapshot".into()).spawn(move || {
                let mut written = Instant::now();
                loop {
                    {
                        let mut stopped = stop.0.lock();
                        if !*stopped {
                            stop.1.wait_for(&mut stopped, INTERVAL);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    let jobs = jobs_of(&manager);
                    if Some(&jobs) != last.as_ref() || written.elapsed() >= HEARTBEAT {
                        last = write(&dir, jobs);
                        written = Instant::now();
                    }
                }
            })
        };
        Publisher { dir: dir.to_owned(), stop, thread: thread.ok() }
    }

    /// Stops publishing and removes the file (before the store is released, so that it never
    /// removes the next holder's).
    pub(crate) fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            let _ = std::fs::remove_file(self.dir.join(FILE));
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Removes the temporary files of earlier holders killed while writing (this process holds the
/// store, so no other one is writing).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&format!("{FILE}.")) && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `jobs` as the view of store `dir`; returns them if the file was written. A failure
/// (a full disk, a reader on Windows holding the old file) is retried at the next interval.
fn write(dir: &Path, jobs: Vec<JobInfo>) -> Option<Vec<JobInfo>> {
    let pid = std::process::id();
    let snapshot = Snapshot { format: FORMAT, pid, written_at_ms: now_ms(), jobs };
    let text = serde_json::to_vec(&snapshot).ok()?;
    let temporary = dir.join(format!("{FILE}.{pid}.tmp"));
    std::fs::write(&temporary, text).ok()?;
    if std::fs::rename(&temporary, dir.join(FILE)).is_err() {
        let _ = std::fs::remove_file(&temporary);
        return None;
    }
    Some(snapshot.jobs)
}
