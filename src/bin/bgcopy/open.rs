//! Opening the store when another process may hold it (DESIGN 5.4, README "Several
//! processes"). One process at a time opens a store; a second open fails at once with
//! `0x80070020`, naming the holder. Then:
//!
//! - a holder that publishes a view (`serve`, `transfer`, `resume --wait`: a fresh
//!   `snapshot.json` with its process id) is long-lived: readers (`list`, `info`, `monitor`) show
//!   its view at once, and verbs that change jobs exit with 4, naming it;
//! - any other holder is taken as a short command (a `create`, a `list` that opened the store
//!   directly) and waited for, a little while ([`PATIENCE`]); if it still holds the store then,
//!   readers show its last view if it left one, and everything else exits with 4.
//!
//! A snapshot whose process does not hold the lock any more (the holder crashed) is never
//! used: the store opens then, and the verb reads it directly.

use crate::failure::{Failure, Outcome};
use crate::snapshot::{self, Publisher, Snapshot};
use bgcopy::{BgError, Manager};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a verb waits for a holder that publishes no view to let go of the store.
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);
/// How long a shutdown may wait for the engine's threads.
const SHUTDOWN: Duration = Duration::from_secs(10);
/// How long it waits between two tries (a bounded back-off: the lock has no wake-up to wait on).
const RETRY: Duration = Duration::from_millis(50);

/// Whether the manager runs the engine (the verbs that transfer) or only reads and changes
/// records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    On,
    Off,
}

/// A store as a reading verb sees it.
#[derive(Debug)]
pub(crate) enum View {
    /// This process opened it.
    Direct(Manager),
    /// Another process holds it; this is its published view.
    Holder(Snapshot),
}

/// Opens store `dir` to change jobs: another holder is exit 4.
pub(crate) fn for_change(dir: &Path, engine: Engine) -> Result<Manager, Failure> {
    match open(dir, engine, PATIENCE, Purpose::Change)? {
        Ok(manager) => Ok(manager),
        Err((pid, _)) => Err(Failure::Locked { path: dir.to_owned(), pid }),
    }
}

/// Holds store `dir` with the engine running for `body`, publishing its view meanwhile; then
/// stops publishing and shuts the engine down, which checkpoints every job's bytes, whatever
/// `body` returned.
pub(crate) fn hold(dir: &Path, body: impl FnOnce(&Manager) -> Outcome) -> Outcome {
    let manager = for_change(dir, Engine::On)?;
    let publisher = Publisher::start(&manager, dir);
    let outcome = body(&manager);
    publisher.stop();
    if !manager.shutdown(SHUTDOWN) {
        say!(
            "bgcopy: warning: a transfer did not stop in time; its last bytes may be fetched again"
        );
    }
    outcome
}

/// Opens store `dir` to read it, or reads its holder's view; waits at most `patience` for a
/// holder that publishes none. A holder without a view is exit 4.
pub(crate) fn for_reading(dir: &Path, patience: Duration) -> Result<View, Failure> {
    match open(dir, Engine::Off, patience, Purpose::Read)? {
        Ok(manager) => Ok(View::Direct(manager)),
        Err((_, Some(snapshot))) => Ok(View::Holder(snapshot)),
        Err((pid, None)) => Err(Failure::Locked { path: dir.to_owned(), pid }),
    }
}

/// The locked store's holder, and its view if it published one.
type Held = (Option<u32>, Option<Snapshot>);

/// Why a verb opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// To change jobs (or transfer them): the library's full recovery at open.
    Change,
    /// Only to read it (`list`, `info`, `monitor`, which opens it once a refresh): read-only
    /// (`ManagerBuilder::read_only`), so a reader runs no recovery and writes nothing: it
    /// finishes no interrupted `complete()`, cuts or removes no temporary file and cancels no
    /// job for its age; the next verb that changes jobs does.
    Read,
}

/// The opened store, or who holds it. Fails for anything but a held store.
fn open(
    dir: &Path,
    engine: Engine,
    patience: Duration,
    purpose: Purpose,
) -> Result<Result<Manager, Held>, Failure> {
    let deadline = Instant::now() + patience;
    loop {
        let builder = crate::sources::configure(Manager::builder().store(dir));
        let builder = match engine {
            Engine::On => builder,
            Engine::Off => builder.without_engine(),
        };
        let builder = match purpose {
            Purpose::Change => builder,
            Purpose::Read => builder.read_only(true),
        };
        let pid = match builder.try_build() {
            Ok(manager) => {
                for unreadable in manager.unreadable_jobs() {
                    say!("bgcopy: warning: a job record cannot be read: {}", unreadable.reason);
                }
                return Ok(Ok(manager));
            }
            Err(BgError::StoreLocked { pid, .. }) => pid,
            Err(error) => {
                return Err(Failure::of(format!("open the store {}", dir.display()), None, error));
            }
        };
        // Only the view of the process that holds the lock (any, where its id is unknown).
        //
        // What holds per platform (README, "Several processes"): on Unix (Linux, macOS, the
        // BSDs) the lock is a `flock` on `LOCK`, in which the holder writes its pid, so a view is
        // used only while the process it names holds the lock, and a view a dead holder left is
        // never used. The pid is `None` there only in the instant between a holder taking the
        // lock and writing its pid. On Windows the lock is `LockFileEx`, which also keeps other
        // processes from reading `LOCK`, so `pid` is always `None`: any fresh view (written
        // within `snapshot::STALE`) is trusted, whoever wrote it. So a view left by a holder
        // that crashed less than that ago, or written by any process that can write the store
        // directory, can be shown as the holder's. It is only a view: it changes nothing, verbs
        // that change jobs exit with 4 either way, and the directory is the user's
        // (`%LOCALAPPDATA%`'s ACL). Closing the gap needs the holder's pid readable on Windows
        // too, e.g. written by the library to a second file next to `LOCK` once it holds the
        // lock (a library change).
        let view = snapshot::read(dir).filter(|s| pid.is_none_or(|pid| s.pid == pid));
        if view.as_ref().is_some_and(Snapshot::is_fresh) || Instant::now() >= deadline {
            return Ok(Err((pid, view)));
        }
        std::thread::sleep(RETRY);
    }
}

/// Says on stderr that the output is another process's view.
pub(crate) fn say_holder(snapshot: &Snapshot) {
    let age = snapshot.age();
    let stale = if snapshot.is_fresh() { "" } else { " (stale: it stopped publishing)" };
    say!(
        "bgcopy: the store is held by process {}; showing its view from {:.1} s ago{stale}",
        snapshot.pid,
        age.as_secs_f64()
    );
}
