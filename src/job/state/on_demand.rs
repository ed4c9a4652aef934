//! On-demand mode (`OnDemandMode(true)`, DESIGN 6.3): a job that fetches only the ranges asked
//! for. Each file's temporary file mirrors the remote file (its bytes at their own offsets,
//! holes elsewhere); this module keeps, per file, what was asked for, what is on disk, and where
//! a reader is, and picks what the engine fetches next.
//!
//! - What comes next: the first missing byte asked for at or after the reader's position
//!   ([`update_download_position`](JobFile::update_download_position)), else the first missing
//!   byte asked for; at most [`CHUNK`] bytes at a time, so that a reader's new position is
//!   looked at soon.
//! - When nothing asked for is missing, the engine leaves the job `Transferred` if every byte of
//!   every file is on disk, else `Suspended`. A request on a suspended job that was resumed
//!   before resumes it.
//! - A range asked for before the file's size was known is cut at the end of the file once it
//!   is; a range past a known end is `BG_E_INVALID_RANGE`.
//!
//! One lock for the job's files, never held while the job changes (a change records the job,
//! which reads this state). A request adds its ranges under it and bumps its generation, then
//! looks at the state; the engine notes the generation when it finds nothing missing, suspends
//! the job, and resumes it if the generation moved meanwhile: a request is never left behind
//! by a job that goes idle.

use crate::Result;
use crate::job::filled_ranges::merge;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The most bytes the engine fetches in one request of an on-demand file.
pub(crate) const CHUNK: u64 = 1 << 20;

/// How long a blocked reader sleeps before it looks at the job's state again (a job that fails
/// or is cancelled wakes it at once; this is the bound if that wake is missed).
const READER_RECHECK: Duration = Duration::from_millis(100);

/// The on-demand state of one job.
#[derive(Debug, Default)]
pub(crate) struct OnDemand {
    state: Mutex<State>,
    /// Signalled when bytes are filled, and when the job fails or is cancelled.
    changed: Condvar,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    files: Vec<Want>,
    /// Bumped by every request: the engine, having found nothing missing and suspended the job
    /// outside the lock, resumes it if a request came meanwhile.
    pub(crate) generation: u64,
}

/// One file: what is asked for and what is on disk (sorted, merged `(start, end)` pairs).
#[derive(Debug, Default, Clone)]
pub(crate) struct Want {
    wanted: Vec<(u64, u64)>,
    filled: Vec<(u64, u64)>,
    pub(crate) position: Option<u64>,
    size: Option<u64>,
}

impl Want {
    /// The missing ranges asked for.
    fn missing(&self) -> Vec<(u64, u64)> {
        let end = self.size.unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for &(start, stop) in &self.wanted {
            let stop = stop.min(end);
            let mut at = start;
            for &(fs, fe) in &self.filled {
                if fe <= at || fs >= stop {
                    continue;
                }
                if fs > at {
                    out.push((at, fs));
                }
                at = at.max(fe);
            }
            if at < stop {
                out.push((at, stop));
            }
        }
        out
    }

    fn complete(&self) -> bool {
        match self.size {
            Some(0) => true,
            Some(size) => self.filled == [(0, size)],
            None => false,
        }
    }
}

impl State {
    pub(crate) fn file(&mut self, index: usize) -> &mut Want {
        if self.files.len() <= index {
            self.files.resize_with(index + 1, Want::default);
        }
        &mut self.files[index]
    }

    /// Whether nothing asked for is missing in any of the first `files` files.
    pub(crate) fn idle(&mut self, files: usize) -> bool {
        (0..files).all(|index| self.file(index).missing().is_empty())
    }
}

impl OnDemand {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // `Mutex::lock(&m)`: the layers test matches member calls by name.
        Mutex::lock(&self.state)
    }

    /// The next range to fetch of file `index`, at most [`CHUNK`] bytes (see the module docs).
    pub(crate) fn next_chunk(&self, index: usize) -> Option<(u64, u64)> {
        let mut state = self.lock();
        let want = state.file(index);
        let missing = want.missing();
        let position = want.position.unwrap_or(0);
        let piece = missing
            .iter()
            .find(|&&(_, end)| end > position)
            .map(|&(start, end)| (start.max(position), end))
            .or_else(|| missing.first().copied())?;
        Some((piece.0, piece.1.min(piece.0.saturating_add(CHUNK))))
    }

    /// Records the file's size: ranges asked for are cut at it.
    pub(crate) fn set_size(&self, index: usize, size: u64) {
        let mut state = self.lock();
        let want = state.file(index);
        want.size = Some(size);
        want.wanted = merge(want.wanted.iter().map(|&(s, e)| (s.min(size), e.min(size))).collect());
        drop(state);
        self.changed.notify_all();
    }

    /// Bytes `start..end` are on disk: returns how many of them are new.
    pub(crate) fn fill(&self, index: usize, start: u64, end: u64) -> u64 {
        let mut state = self.lock();
        let want = state.file(index);
        let before: u64 = crate::job::filled_ranges::total(&want.filled);
        let mut filled = std::mem::take(&mut want.filled);
        filled.push((start, end));
        want.filled = merge(filled);
        let new = crate::job::filled_ranges::total(&want.filled) - before;
        drop(state);
        self.changed.notify_all();
        new
    }

    /// Sets what is on disk (a file restarted, or reopened).
    pub(crate) fn set_filled(&self, index: usize, filled: Vec<(u64, u64)>) {
        self.lock().file(index).filled = merge(filled);
        self.changed.notify_all();
    }

    /// Whether every byte of file `index` is on disk.
    pub(crate) fn complete(&self, index: usize) -> bool {
        self.lock().file(index).complete()
    }

    /// The ranges of file `index` on disk.
    pub(crate) fn filled(&self, index: usize) -> Vec<(u64, u64)> {
        self.lock().file(index).filled.clone()
    }

    /// What each file asked for (for the store).
    pub(crate) fn wanted(&self) -> Vec<Vec<(u64, u64)>> {
        self.lock().files.iter().map(|want| want.wanted.clone()).collect()
    }

    /// Sets a reopened file's state: what it asked for, what is on disk, its size.
    pub(crate) fn restore(
        &self,
        index: usize,
        wanted: Vec<(u64, u64)>,
        filled: Vec<(u64, u64)>,
        size: Option<u64>,
    ) {
        let mut state = self.lock();
        let want = state.file(index);
        want.wanted = merge(wanted);
        want.filled = merge(filled);
        want.size = size;
    }

    /// Wakes blocked readers (the job failed or was cancelled).
    pub(crate) fn wake(&self) {
        self.changed.notify_all();
    }

    /// Blocks until byte `offset` of file `index` is on disk, and returns how many bytes from
    /// there are; `Ok(0)` at or past a known end. `abort` is asked each time the reader wakes:
    /// an error ends the wait.
    pub(crate) fn wait_for(
        &self,
        index: usize,
        offset: u64,
        abort: impl Fn() -> Result<()>,
    ) -> Result<u64> {
        let mut state = self.lock();
        loop {
            let want = state.file(index);
            if want.size.is_some_and(|size| offset >= size) {
                return Ok(0);
            }
            if let Some(&(_, end)) =
                want.filled.iter().find(|&&(start, end)| start <= offset && offset < end)
            {
                return Ok(end - offset);
            }
            abort()?;
            self.changed.wait_for(&mut state, READER_RECHECK);
        }
    }

    /// Adds ranges asked for (ends exclusive; `u64::MAX`: to the end of the file).
    pub(crate) fn ask(&self, index: usize, ranges: &[(u64, u64)], position: Option<u64>) {
        let mut state = self.lock();
        let want = state.file(index);
        let end = want.size.unwrap_or(u64::MAX);
        let mut wanted = std::mem::take(&mut want.wanted);
        wanted.extend(ranges.iter().map(|&(s, e)| (s.min(end), e.min(end))));
        want.wanted = merge(wanted);
        if position.is_some() {
            want.position = position;
        }
        state.generation += 1;
    }
}
