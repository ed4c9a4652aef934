//! [`Finishing`]: the files of one job handed to the group commit of the driver layer
//! (`driver/commit.rs`) and not recorded yet. A driver's `next_file` skips them, and
//! `JobDriver::finish` waits for them (and reports the error that kept one from being
//! recorded).

use crate::BgError;
use parking_lot::{Condvar, Mutex};
use std::fmt;

/// The files of one job handed to the group commit and not recorded yet.
#[derive(Default)]
pub(crate) struct Finishing {
    state: Mutex<FinishingState>,
    done: Condvar,
}

#[derive(Default)]
struct FinishingState {
    files: Vec<usize>,
    /// Why the last file that could not be recorded was not (reported by `wait`).
    error: Option<BgError>,
}

impl Finishing {
    /// File `index` is handed over.
    pub(crate) fn add(&self, index: usize) {
        self.state.lock().files.push(index);
    }

    /// Whether file `index` is handed over and not recorded yet.
    pub(crate) fn contains(&self, index: usize) -> bool {
        self.state.lock().files.contains(&index)
    }

    /// Files `indices` are recorded (or, with `error`, could not be).
    pub(crate) fn done(&self, indices: &[usize], error: Option<BgError>) {
        let mut state = self.state.lock();
        state.files.retain(|i| !indices.contains(i));
        if error.is_some() {
            state.error = error;
        }
        self.done.notify_all();
    }

    /// Waits until no file of the job is waiting for the group commit; returns (and forgets)
    /// the error that kept one from being recorded, if any.
    pub(crate) fn wait(&self) -> Option<BgError> {
        let mut state = self.state.lock();
        while !state.files.is_empty() {
            self.done.wait(&mut state);
        }
        state.error.take()
    }
}

impl fmt::Debug for Finishing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finishing").field("files", &self.state.lock().files).finish()
    }
}
