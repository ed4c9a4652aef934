//! The view a store's holder publishes for other processes: `<store>/snapshot.json`, the
//! holder's process id, when it was written, and every job that is not final in the schema of
//! `info --json`. [`Publisher`] rewrites it a few times a second (to a temporary name, then
//! renamed over the old one, so a reader sees a whole file or the previous one) and removes it
//! when the holder lets go of the store. It is a view, not a record: it is never synced, and
//! readers trust it only while the store's lock is held by the process it names (README,
//! "Several processes").
//!
//! The temporary file is created exclusively (never opened if something is at its name, so a
//! symlink planted there is never written through), owner-only (0600) on Unix, like the store's
//! records it repeats (URLs, which may carry credentials). A leftover at the name is removed
//! only if it is a regular file of this user.

use crate::json::JobInfo;
use bgcopy::{BackgroundCopyJob, Manager};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
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
/// How many temporary names a write tries before it gives up until the next interval.
const TEMPORARY_NAMES: u32 = 4;
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
        let mut warner = Warner::default();
        let mut last = write(dir, jobs_of(manager), |path| warner.taken(path));
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
                        last = write(&dir, jobs, |path| warner.taken(path));
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
/// store, so no other one is writing): only regular files of this user; anything else (a
/// symlink someone planted, another user's file) is left alone.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&format!("{FILE}.")) && name.ends_with(".tmp") {
            remove_if_ours(&entry.path());
        }
    }
}

/// Removes `path` if it is a regular file of this user (never a symlink: `symlink_metadata`
/// does not follow it). Says whether the name is free now.
fn remove_if_ours(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Err(error) => error.kind() == ErrorKind::NotFound,
        Ok(meta) if meta.file_type().is_file() && owned_by_us(&meta) => {
            std::fs::remove_file(path).is_ok()
        }
        Ok(_) => false,
    }
}

/// Whether this process's user owns the file.
#[cfg(unix)]
fn owned_by_us(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == rustix::process::geteuid().as_raw()
}

/// Whether this process's user owns the file: on Windows, the store directory's ACL decides who
/// may create files in it, and the file's owner is not checked.
#[cfg(not(unix))]
fn owned_by_us(_meta: &std::fs::Metadata) -> bool {
    true
}

/// Creates a temporary file for the view in `dir`, exclusively: `snapshot.json.<pid>.tmp`, or,
/// if that name holds something this process may not remove (a planted symlink, another user's
/// file), `snapshot.json.<pid>.<n>.tmp`. Never opens an existing file, so never writes through
/// a symlink; owner-only permissions (0600) on Unix. `taken` is told the names left alone.
fn create_temporary(dir: &Path, mut taken: impl FnMut(&Path)) -> Option<(PathBuf, File)> {
    let pid = std::process::id();
    for attempt in 0..TEMPORARY_NAMES {
        let name = match attempt {
            0 => format!("{FILE}.{pid}.tmp"),
            n => format!("{FILE}.{pid}.{n}.tmp"),
        };
        let path = dir.join(name);
        if !remove_if_ours(&path) {
            taken(&path);
            continue;
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // `create_new` (O_EXCL) already refuses a symlink at the name; O_NOFOLLOW says so
            // twice.
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&path) {
            Ok(file) => return Some((path, file)),
            // Planted between the check and the open: the next name.
            Err(error) if error.kind() == ErrorKind::AlreadyExists => taken(&path),
            Err(_) => return None,
        }
    }
    None
}

/// Writes `jobs` as the view of store `dir`; returns them if the file was written. A failure
/// (a full disk, a reader on Windows holding the old file) is retried at the next interval.
/// `taken` is told the temporary names left alone.
fn write(dir: &Path, jobs: Vec<JobInfo>, taken: impl FnMut(&Path)) -> Option<Vec<JobInfo>> {
    let pid = std::process::id();
    let snapshot = Snapshot { format: FORMAT, pid, written_at_ms: now_ms(), jobs };
    let text = serde_json::to_vec(&snapshot).ok()?;
    let (temporary, mut file) = create_temporary(dir, taken)?;
    let written = file.write_all(&text);
    drop(file);
    if written.is_err() || std::fs::rename(&temporary, dir.join(FILE)).is_err() {
        let _ = std::fs::remove_file(&temporary);
        return None;
    }
    Some(snapshot.jobs)
}

/// Says once, on stderr, that a temporary name was left alone.
#[derive(Debug, Default)]
struct Warner {
    warned: bool,
}

impl Warner {
    fn taken(&mut self, path: &Path) {
        if !std::mem::replace(&mut self.warned, true) {
            say!(
                "bgcopy: warning: {} is not a file of this user: left alone (is the store \
                 directory writable by others?)",
                path.display()
            );
        }
    }
}
