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

use super::ranges::merge;
use crate::{
    BG_LENGTH_TO_EOF, BackgroundCopyFile, BackgroundCopyFile6, BgError, BgFileRange, BgJobState,
    JobFile, Result, hresult,
};
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
struct Want {
    wanted: Vec<(u64, u64)>,
    filled: Vec<(u64, u64)>,
    position: Option<u64>,
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
    fn file(&mut self, index: usize) -> &mut Want {
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
        let before: u64 = super::ranges::total(&want.filled);
        let mut filled = std::mem::take(&mut want.filled);
        filled.push((start, end));
        want.filled = merge(filled);
        let new = super::ranges::total(&want.filled) - before;
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
    fn ask(&self, index: usize, ranges: &[(u64, u64)], position: Option<u64>) {
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

/// The error of a range past the end of a file.
fn past_end(what: String) -> BgError {
    BgError::Failed { hresult: hresult::BG_E_INVALID_RANGE, message: what }
}

impl BackgroundCopyFile6 for JobFile {
    fn update_download_position(&self, offset: u64) -> Result<()> {
        self.update_download_position_now(offset)
    }

    fn request_file_ranges(&self, ranges: &[BgFileRange]) -> Result<()> {
        self.request_file_ranges_now(ranges)
    }

    fn get_filled_file_ranges(&self) -> Vec<BgFileRange> {
        self.get_filled_file_ranges_now()
    }
}

impl JobFile {
    /// The job's on-demand state, or `BG_E_INVALID_STATE` if the job is not on demand or final.
    fn on_demand_state(&self) -> Result<std::sync::Arc<OnDemand>> {
        let state = self.job.counters.state();
        let on_demand = self.job.inner.lock().properties.on_demand.clone();
        match on_demand {
            Some(on_demand) if !state.is_final() => Ok(on_demand),
            _ => Err(BgError::InvalidState { state }),
        }
    }

    /// The file's size, if known.
    fn known_size(&self) -> Option<u64> {
        let total = self.get_progress().bytes_total;
        (total != crate::BG_SIZE_UNKNOWN).then_some(total)
    }

    fn request_file_ranges_now(&self, ranges: &[BgFileRange]) -> Result<()> {
        let on_demand = self.on_demand_state()?;
        let size = self.known_size();
        let mut asked = Vec::with_capacity(ranges.len());
        for range in ranges {
            let end = match range.length {
                BG_LENGTH_TO_EOF => u64::MAX,
                _ => range.end().filter(|_| range.length > 0).ok_or_else(|| {
                    past_end(format!(
                        "the range of {} bytes at {} is invalid",
                        range.length, range.initial_offset
                    ))
                })?,
            };
            if let Some(size) = size
                && (range.initial_offset >= size || (end != u64::MAX && end > size))
            {
                return Err(past_end(format!(
                    "the range at {} is past the end of the file ({size} bytes)",
                    range.initial_offset
                )));
            }
            asked.push((range.initial_offset, end));
        }
        self.ask(&on_demand, &asked, None)
    }

    fn update_download_position_now(&self, offset: u64) -> Result<()> {
        let on_demand = self.on_demand_state()?;
        if let Some(size) = self.known_size()
            && offset > size
        {
            return Err(past_end(format!("offset {offset} is past the end ({size} bytes)")));
        }
        on_demand.lock().file(self.index()).position = Some(offset);
        Ok(())
    }

    fn get_filled_file_ranges_now(&self) -> Vec<BgFileRange> {
        let on_demand = self.job.inner.lock().properties.on_demand.clone();
        let ranges = match on_demand {
            Some(on_demand) => on_demand.filled(self.index()),
            None => {
                let progress = self.get_progress();
                if progress.completed || self.file.counters.is_transferred() {
                    vec![(0, progress.bytes_total)].into_iter().filter(|(_, e)| *e > 0).collect()
                } else {
                    let inner = self.job.inner.lock();
                    inner.file_disk[self.index()].on_disk(progress.bytes_transferred)
                }
            }
        };
        ranges
            .into_iter()
            .map(|(start, end)| BgFileRange { initial_offset: start, length: end - start })
            .collect()
    }

    /// Asks for `ranges` (and, with `position`, moves the reader there), then moves the job on
    /// if it went idle: a suspended job that was resumed before is resumed.
    pub(crate) fn ask(
        &self,
        on_demand: &OnDemand,
        ranges: &[(u64, u64)],
        position: Option<u64>,
    ) -> Result<()> {
        on_demand.ask(self.index(), ranges, position);
        // A job reopened from a store with bytes on disk was resumed before.
        let resumed = self.job.inner.lock().properties.resumed
            || self.job.counters.snapshot().bytes_transferred > 0;
        if resumed && self.job.counters.state() == BgJobState::Suspended {
            let shared = &self.job;
            let moved = shared.change(|inner| {
                if shared.counters.state() != BgJobState::Suspended {
                    return Ok(shared.counters.state());
                }
                let has_work = super::JobShared::has_work(inner);
                shared.apply(inner, super::JobEvent::Resume { has_work })
            });
            match moved {
                Ok(_) | Err(BgError::Empty) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}
