//! [`LockFile`]: one process at a time opens a store.
//!
//! The lock is an exclusive [`File::try_lock`] on `LOCK` in the store directory, taken before the
//! database is opened. It conflicts between processes and between two opens in one process, and it
//! never waits: a second opener gets [`BgError::StoreLocked`] at once. The holder writes its process
//! id into the file so that the refusal can name it. The lock goes with the file handle: dropping
//! the [`LockFile`] (or the process dying, even by `kill -9`) releases it. The file itself stays;
//! removing it would let two openers lock two different files.
//!
//! On Windows the lock also keeps other processes from reading the file, so there the refusal
//! may not know the holder's id (`pid: None`).

use crate::BgError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the store directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

/// The held lock on a store directory; released when dropped.
#[derive(Debug)]
pub(crate) struct LockFile {
    /// The open, locked `LOCK` file.
    file: File,
    /// Its path (for `Debug`).
    #[allow(dead_code, reason = "shown by Debug")]
    path: PathBuf,
}

impl LockFile {
    /// Takes the lock on the store directory `dir` (which must exist) and writes our process id
    /// into it.
    ///
    /// # Errors
    ///
    /// [`BgError::StoreLocked`] if another open holds it; [`BgError::Io`] if the file cannot be
    /// opened, locked or written.
    pub(crate) fn acquire(dir: &Path) -> Result<LockFile, BgError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| BgError::io("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(BgError::StoreLocked { path: dir.to_owned(), pid: read_pid(&file) });
            }
            Err(TryLockError::Error(e)) => return Err(BgError::io("lock", &path, e)),
        }
        // Ours now: replace whatever an earlier holder wrote. Not synced: the id is a courtesy for
        // the error message, and the lock itself lives in the kernel, not in the file.
        file.set_len(0).map_err(|e| BgError::io("write", &path, e))?;
        writeln!(&file, "{}", std::process::id()).map_err(|e| BgError::io("write", &path, e))?;
        Ok(LockFile { file, path })
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Closing the handle releases the lock too; unlocking first makes the order explicit and
        // keeps it released even if a duplicate of the handle were still open somewhere. An error
        // here leaves the lock to the close that follows.
        let _ = self.file.unlock();
    }
}

/// The process id a holder wrote into the lock file, if it can be read and parsed.
fn read_pid(file: &File) -> Option<u32> {
    let mut text = String::new();
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use crate::BgError;
    use crate::store::{Store, StoreOptions};
    use std::io::{BufRead, BufReader, Write};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    /// Tells the child test process which store to hold.
    const CHILD_STORE: &str = "BGCOPY_TEST_HOLD_STORE";
    /// The child's line once it holds the store.
    const HOLDING: &str = "bgcopy-test: holding the store";

    /// The child side of the test below: holds the store named by [`CHILD_STORE`] until killed.
    #[test]
    #[ignore = "run by another_process_holding_the_store_is_refused_by_its_pid in a child process"]
    fn hold_the_store_until_killed() {
        let Some(dir) = std::env::var_os(CHILD_STORE) else { return };
        let store = Store::open(Path::new(&dir), &StoreOptions::default()).unwrap();
        println!("\n{HOLDING}");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(120));
        drop(store);
    }

    /// Kills the child however the test ends.
    struct Killed(Child);

    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn another_process_holding_the_store_is_refused_by_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Killed(
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "store::lock::tests::hold_the_store_until_killed"])
                .args(["--ignored", "--nocapture", "--test-threads=1"])
                .env(CHILD_STORE, dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let holding = BufReader::new(stdout).lines().any(|line| line.unwrap().contains(HOLDING));
        assert!(holding, "the child exited without holding the store");

        let error = Store::open(dir.path(), &StoreOptions::default()).unwrap_err();
        let pid = child.0.id();
        assert!(
            matches!(error, BgError::StoreLocked { pid: Some(p), .. } if p == pid),
            "{error:?}"
        );
        assert!(error.to_string().ends_with(&format!("is in use by process {pid}")), "{error}");
        assert_eq!(error.hresult(), 0x8007_0020);

        // A killed holder (as by `kill -9`) releases the store with its process.
        drop(child);
        let store = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        assert!(store.load().unwrap().jobs.is_empty());
    }
}
