//! On-demand mode (`OnDemandMode(true)`, DESIGN 6.3): a job that fetches only the ranges asked
//! for. Each file's temporary file mirrors the remote file (its bytes at their own offsets,
//! holes elsewhere); this module keeps, per file, what was asked for, what is on disk, the
//! [`Run`]s being fetched, and where a reader is, and picks what the engine fetches next.
//!
//! - What comes next: the first missing byte asked for at or after the reader's position
//!   ([`update_download_position`](crate::JobFile::update_download_position)), else the first
//!   missing byte asked for; at most [`CHUNK`] bytes at a time, so that a reader's new position
//!   is looked at soon. Several connections may fetch runs of one file at once, once its size is
//!   known (the first response tells it, and the content's validator).
//! - When nothing asked for is missing, the engine leaves the job `Transferred` if every byte of
//!   every file is on disk, else `Suspended`. A request on a suspended job that was resumed
//!   before resumes it.
//! - A range asked for before the file's size was known is cut at the end of the file once it
//!   is; a range past a known end is `BG_E_INVALID_RANGE`.
//!
//! # The hot path: one atomic read-modify-write per write
//!
//! A [`Run`] is claimed under the lock, once per chunk. Each write of its bytes then takes no
//! lock ([`OnDemand::record_write`]): the run's cursor is stored (`Release`: the bytes before it
//! are on disk), the job's byte count is added to (the one read-modify-write, `AcqRel`), and a
//! counter of blocked readers is read. The file's own count follows when the run ends
//! ([`OnDemand::settle`]), under the lock; until then [`OnDemand::file_bytes`] adds the bytes of
//! its runs to the file's progress.
//!
//! **Waking readers without a lost wake-up.** A reader that finds its byte missing increments
//! `waiting`, then does a read-modify-write of adding 0 to every stripe of the job's byte count
//! (`AcqRel`, [`JobCounters::meet_writers`]), then looks at the cursors again, and only then
//! sleeps on the condition variable (under the lock, which a waking writer takes). For a writer
//! and that reader, the two read-modify-writes of one stripe are ordered one way or the other:
//! if the writer's comes first, the reader's acquires it and sees the writer's cursor; if the
//! reader's comes first, the writer's acquires it and sees `waiting` above zero, so it takes the
//! lock and wakes the reader. The loom model `on_demand_reader_is_never_left_asleep`
//! (`job/loom_tests.rs`) explores every interleaving of the two functions that do this,
//! [`publish_write`] and [`register_reader`].
//!
//! **Async readers** (`AsyncFileReader`, feature `async`) take part in the same protocol with
//! a [`Waker`] instead of a sleep. A poll that finds its byte missing registers its waker in
//! [`Wakers`] (in the state, under the lock), counted in `waiting` by [`register_reader`] (once
//! per registration, not per poll: a registration stays counted until it is taken), looks
//! again, and only then returns `Pending`. A writer that sees `waiting` above zero takes the
//! lock and takes the wakers of the reads whose byte its write brought
//! ([`Wakers::take_arrived`]); the changes that are not one run's bytes ([`OnDemand::settle`],
//! [`OnDemand::set_size`], [`OnDemand::set_filled`], [`OnDemand::wake`]) take them all. Whoever
//! takes a registration uncounts it (under the lock), and so does a reader that finds its byte,
//! gives up, or is dropped ([`Wakers::forget`]): `waiting` counts exactly the registrations in
//! the table and the blocked threads. The wakers are woken after the lock is let go. The lock
//! alone orders a re-poll that updates a registration still in the table against a writer that
//! takes it: the writer either takes the lock first (and its cursor is seen by the reader's
//! look under the lock) or after (and finds the updated registration). The loom models
//! `on_demand_async_reader_is_never_left_pending` and `a_dropped_async_reader_never_leaks_waiting`
//! (`job/loom_tests.rs`) explore the registration against a write, and a drop against a write.
//!
//! One lock for the job's files, and it is the innermost lock: nothing takes the job's lock
//! while holding it (the job's lock may be held while taking it: a checkpoint asks what is on
//! disk). A request adds its ranges under it and bumps its generation, then looks at the state;
//! the engine notes the generation when it finds nothing missing, suspends the job, and resumes
//! it if the generation moved meanwhile: a request is never left behind by a job that goes idle.

use crate::Result;
use crate::job::filled_ranges::merge;
use crate::job::state::counters::{FileCounters, JobCounters};
use crate::sync::{AtomicU32, AtomicU64, Ordering};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::sync::Arc;
use std::task::{Poll, Waker};
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
    /// Readers registered to be woken by a write (see the module docs).
    waiting: AtomicU32,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    files: Vec<Want>,
    /// Bumped by every request: the engine, having found nothing missing and suspended the job
    /// outside the lock, resumes it if a request came meanwhile.
    pub(crate) generation: u64,
    /// The wakers of pending async reads, each counted in `waiting`.
    wakers: Wakers,
}

/// The wakers of pending async reads (see the module docs). Each registration is counted in the
/// job's `waiting` from when it is made ([`register_reader`]) until it is taken or forgotten.
/// Only ever used under a lock (the on-demand state's; a loom model's own).
#[cfg_attr(
    not(feature = "async"),
    allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
)]
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    pending: Vec<PendingRead>,
    /// The key of the next reader that registers.
    next_key: u64,
}

/// A pending read: reader `key` waits for byte `offset` of file `index`.
#[cfg_attr(
    not(feature = "async"),
    allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
)]
#[derive(Debug)]
struct PendingRead {
    key: u64,
    index: usize,
    offset: u64,
    waker: Waker,
}

impl Wakers {
    /// Registers `waker` of the reader whose key is in `slot` (given one on first use) for byte
    /// `offset` of file `index`, or updates its registration. Returns whether the registration
    /// is new: the caller then counts it in `waiting` with [`register_reader`], still under the
    /// lock, and looks again.
    #[cfg_attr(
        not(feature = "async"),
        allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
    )]
    pub(crate) fn register(
        &mut self,
        slot: &mut Option<u64>,
        index: usize,
        offset: u64,
        waker: &Waker,
    ) -> bool {
        let key = *slot.get_or_insert_with(|| {
            self.next_key += 1;
            self.next_key
        });
        match self.pending.iter_mut().find(|read| read.key == key) {
            Some(read) => {
                (read.index, read.offset) = (index, offset);
                if !read.waker.will_wake(waker) {
                    read.waker.clone_from(waker);
                }
                false
            }
            None => {
                self.pending.push(PendingRead { key, index, offset, waker: waker.clone() });
                true
            }
        }
    }

    /// Removes the registration of the reader whose key is in `slot`, if it is still there, and
    /// uncounts it (the read found its byte, gave up, or its reader is dropped).
    #[cfg_attr(
        not(feature = "async"),
        allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
    )]
    pub(crate) fn forget(&mut self, slot: &Option<u64>, waiting: &AtomicU32) {
        let Some(key) = *slot else { return };
        if let Some(at) = self.pending.iter().position(|read| read.key == key) {
            self.pending.swap_remove(at);
            // Relaxed: only counts registrations, changed under the lock that holds them; a
            // writer that reads a stale count above zero only takes the lock for nothing.
            waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Takes the wakers of the reads of file `index` waiting for a byte in `start..end` (a
    /// write brought it), uncounting each.
    pub(crate) fn take_arrived(
        &mut self,
        index: usize,
        start: u64,
        end: u64,
        waiting: &AtomicU32,
    ) -> Vec<Waker> {
        self.take_where(waiting, |read| read.index == index && (start..end).contains(&read.offset))
    }

    /// Takes every waker, uncounting each.
    pub(crate) fn take_all(&mut self, waiting: &AtomicU32) -> Vec<Waker> {
        self.take_where(waiting, |_| true)
    }

    fn take_where(
        &mut self,
        waiting: &AtomicU32,
        arrived: impl Fn(&PendingRead) -> bool,
    ) -> Vec<Waker> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        let (taken, kept) = std::mem::take(&mut self.pending).into_iter().partition(arrived);
        self.pending = kept;
        let taken: Vec<PendingRead> = taken;
        if !taken.is_empty() {
            let n = u32::try_from(taken.len()).expect("fewer readers than u32::MAX");
            // Relaxed: as in `forget`; these registrations leave the table under the lock.
            waiting.fetch_sub(n, Ordering::Relaxed);
        }
        taken.into_iter().map(|read| read.waker).collect()
    }

    /// How many reads are registered.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

/// One file: what is asked for and what is on disk (sorted, merged `(start, end)` pairs).
#[derive(Debug, Default, Clone)]
pub(crate) struct Want {
    wanted: Vec<(u64, u64)>,
    /// On disk and counted in the file's own count; the runs' bytes come on top.
    filled: Vec<(u64, u64)>,
    /// The runs being fetched.
    runs: Vec<Arc<Run>>,
    pub(crate) position: Option<u64>,
    size: Option<u64>,
}

/// Bytes `start..end` of file `index`, fetched by one connection: the bytes from `start` to
/// its cursor are on disk.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) index: usize,
    pub(crate) start: u64,
    pub(crate) end: u64,
    cursor: AtomicU64,
}

impl Run {
    fn new(index: usize, start: u64, end: u64) -> Run {
        Run { index, start, end, cursor: AtomicU64::new(start) }
    }

    /// The end of the bytes on disk.
    pub(crate) fn written(&self) -> u64 {
        // Acquire: pairs with the writer's Release store; the bytes before it are on disk.
        self.cursor.load(Ordering::Acquire)
    }
}

/// A writer's side of the wake-up protocol (see the module docs): publishes `end` as the run's
/// cursor and `n` bytes in the job's count (the stripe), and says whether a reader may sleep
/// waiting for it.
#[inline]
pub(crate) fn publish_write(
    cursor: &AtomicU64,
    end: u64,
    add: impl FnOnce(),
    waiting: &AtomicU32,
) -> bool {
    // Release: a reader (or a checkpoint) that sees `end` sees the bytes before it on disk.
    cursor.store(end, Ordering::Release);
    // `add` is the AcqRel read-modify-write of the job's byte count (`add_run_bytes`).
    add();
    // Relaxed: ordered after a registered reader's increment by the stripe's read-modify-write
    // (the reader's came first, so this one acquired it; coherence does the rest).
    waiting.load(Ordering::Relaxed) != 0
}

/// A reader's side of the wake-up protocol: registers in `waiting`, then meets every writer on
/// the job's count (`meet`, AcqRel read-modify-writes). After it, the reader reads the cursors
/// ([`Run::written`]): each write counted before `meet` is seen. The caller decrements
/// `waiting` when it stops waiting.
pub(crate) fn register_reader(waiting: &AtomicU32, meet: impl FnOnce()) {
    // Relaxed: published to writers by the AcqRel read-modify-writes of `meet`, after it.
    waiting.fetch_add(1, Ordering::Relaxed);
    meet();
}

impl Want {
    /// What is on disk: the filled ranges and each run's bytes so far.
    fn on_disk(&self) -> Vec<(u64, u64)> {
        if self.runs.is_empty() {
            return self.filled.clone();
        }
        let mut ranges = self.filled.clone();
        ranges.extend(self.runs.iter().map(|run| (run.start, run.written())));
        merge(ranges)
    }

    /// The ranges asked for that are neither on disk nor being fetched.
    fn unclaimed(&self) -> Vec<(u64, u64)> {
        let end = self.size.unwrap_or(u64::MAX);
        let mut taken = self.filled.clone();
        taken.extend(self.runs.iter().map(|run| (run.start, run.end)));
        let taken = merge(taken);
        let mut out = Vec::new();
        for &(start, stop) in &self.wanted {
            let stop = stop.min(end);
            let mut at = start;
            for &(fs, fe) in &taken {
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
        self.runs.is_empty()
            && match self.size {
                Some(0) => true,
                Some(size) => self.filled == [(0, size)],
                None => false,
            }
    }

    /// The next run to fetch of this file (see the module docs), or `None`. A second run of a
    /// file waits for its size: the first response tells it, and names the content.
    fn claim(&mut self, index: usize) -> Option<Arc<Run>> {
        if !self.runs.is_empty() && self.size.is_none() {
            return None;
        }
        let unclaimed = self.unclaimed();
        let position = self.position.unwrap_or(0);
        let piece = unclaimed
            .iter()
            .find(|&&(_, end)| end > position)
            .map(|&(start, end)| (start.max(position), end))
            .or_else(|| unclaimed.first().copied())?;
        let run = Arc::new(Run::new(index, piece.0, piece.1.min(piece.0.saturating_add(CHUNK))));
        self.runs.push(Arc::clone(&run));
        Some(run)
    }
}

impl State {
    pub(crate) fn file(&mut self, index: usize) -> &mut Want {
        if self.files.len() <= index {
            self.files.resize_with(index + 1, Want::default);
        }
        &mut self.files[index]
    }

    /// Whether nothing asked for is missing in any of the first `files` files, and no run is
    /// being fetched.
    pub(crate) fn idle(&mut self, files: usize) -> bool {
        (0..files).all(|index| {
            let want = self.file(index);
            want.runs.is_empty() && want.unclaimed().is_empty()
        })
    }
}

impl OnDemand {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // `Mutex::lock(&m)`: the layers test matches member calls by name.
        Mutex::lock(&self.state)
    }

    /// Claims the next run of the first of `files` (by index) that `skip` does not rule out and
    /// that has bytes to fetch. While none has, but runs are being fetched (their sizes may
    /// allow more runs, or they may fail and leave their bytes to fetch again), waits for a
    /// change, asking `give_up` at least every [`READER_RECHECK`]; `None` once nothing is being
    /// fetched either, or `give_up` says so.
    pub(crate) fn claim_any(
        &self,
        files: usize,
        mut skip: impl FnMut(usize) -> bool,
        give_up: impl Fn() -> bool,
    ) -> Option<Arc<Run>> {
        let mut state = self.lock();
        loop {
            if give_up() {
                return None;
            }
            let run = (0..files)
                .filter(|&index| !skip(index))
                .find_map(|index| state.file(index).claim(index));
            if run.is_some() {
                return run;
            }
            if state.files.iter().all(|want| want.runs.is_empty()) {
                return None;
            }
            self.changed.wait_for(&mut state, READER_RECHECK);
        }
    }

    /// Records a write of `n` bytes that end at `end` in `run` (the hot path: no lock unless a
    /// reader waits; see the module docs).
    #[inline]
    pub(crate) fn record_write(
        &self,
        run: &Run,
        end: u64,
        n: u64,
        counters: &JobCounters,
        file: &FileCounters,
    ) {
        let add = || counters.add_run_bytes(file, n);
        if publish_write(&run.cursor, end, add, &self.waiting) {
            self.wake_arrived(run, end);
        }
    }

    /// A write to `run` ending at `end` while readers wait: wakes the blocked threads and the
    /// pending reads it brought bytes to. Out of line: the inlined hot path stays small.
    #[cold]
    #[inline(never)]
    fn wake_arrived(&self, run: &Run, end: u64) {
        // Under the lock: a reader between its last look and its sleep (or its `Pending`)
        // holds it.
        let arrived = self.lock().wakers.take_arrived(run.index, run.start, end, &self.waiting);
        self.changed.notify_all();
        arrived.into_iter().for_each(Waker::wake);
    }

    /// Lets go of `state` and wakes every reader: blocked threads and pending async reads.
    fn notify(&self, mut state: MutexGuard<'_, State>) {
        let wakers = state.wakers.take_all(&self.waiting);
        drop(state);
        self.changed.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Ends `run`: its bytes join the file's filled ranges and the file's own count. Returns
    /// how many there are.
    pub(crate) fn settle(
        &self,
        run: &Arc<Run>,
        counters: &JobCounters,
        file: &FileCounters,
    ) -> u64 {
        let mut state = self.lock();
        let want = state.file(run.index);
        want.runs.retain(|other| !Arc::ptr_eq(other, run));
        let end = run.written();
        let new = end - run.start;
        if new > 0 {
            let mut filled = std::mem::take(&mut want.filled);
            filled.push((run.start, end));
            want.filled = merge(filled);
            // Under the lock, with the run gone: `file_bytes` never counts these bytes twice.
            counters.settle_run_bytes(file, new);
        }
        self.notify(state);
        new
    }

    /// File `index`'s bytes: its own count and its runs' bytes, read together under the lock
    /// (a run's bytes move to the count there).
    pub(crate) fn file_bytes(&self, index: usize, file: &FileCounters) -> u64 {
        let mut state = self.lock();
        let want = state.file(index);
        let running: u64 = want.runs.iter().map(|run| run.written() - run.start).sum();
        file.transferred() + running
    }

    /// Records the file's size: ranges asked for are cut at it.
    pub(crate) fn set_size(&self, index: usize, size: u64) {
        let mut state = self.lock();
        let want = state.file(index);
        want.size = Some(size);
        want.wanted = merge(want.wanted.iter().map(|&(s, e)| (s.min(size), e.min(size))).collect());
        self.notify(state);
    }

    /// Sets what is on disk (a file restarted, or opened); no run may be active.
    pub(crate) fn set_filled(&self, index: usize, filled: Vec<(u64, u64)>) {
        let mut state = self.lock();
        state.file(index).filled = merge(filled);
        self.notify(state);
    }

    /// Whether every byte of file `index` is on disk (and no run is active).
    pub(crate) fn complete(&self, index: usize) -> bool {
        self.lock().file(index).complete()
    }

    /// The ranges of file `index` on disk, the runs' bytes included.
    pub(crate) fn on_disk(&self, index: usize) -> Vec<(u64, u64)> {
        self.lock().file(index).on_disk()
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

    /// Wakes blocked readers and pending async reads (the job failed or was cancelled).
    pub(crate) fn wake(&self) {
        self.notify(self.lock());
    }

    /// Blocks until byte `offset` of file `index` is on disk, and returns how many bytes from
    /// there are; `Ok(0)` at or past a known end. `abort` is asked each time the reader wakes,
    /// without the lock: an error ends the wait.
    pub(crate) fn wait_for(
        &self,
        index: usize,
        offset: u64,
        counters: &JobCounters,
        abort: impl Fn() -> Result<()>,
    ) -> Result<u64> {
        loop {
            let mut state = self.lock();
            if let Some(found) = Self::look(state.file(index), offset) {
                return Ok(found);
            }
            drop(state);
            abort()?;
            let mut state = self.lock();
            // Register, meet the writers, look again; then sleep (module docs).
            register_reader(&self.waiting, || counters.meet_writers());
            let found = Self::look(state.file(index), offset);
            if found.is_none() {
                self.changed.wait_for(&mut state, READER_RECHECK);
            }
            // Relaxed: only counts registered readers; see `register_reader`.
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            if let Some(found) = found {
                return Ok(found);
            }
        }
    }

    /// The async counterpart of [`OnDemand::wait_for`]: the bytes on disk from byte `offset`
    /// of file `index` (`Ready(Ok(0))` at or past a known end), or `Pending` with `waker`
    /// registered (under the reader's key in `slot`) to be woken when they may be there. `abort`
    /// is asked, without the lock, when the byte is missing: an error ends the read (and its
    /// registration). The registration of a read that returns `Ready` is forgotten; the reader
    /// calls [`OnDemand::forget`] when it is dropped.
    #[cfg_attr(
        not(feature = "async"),
        allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
    )]
    pub(crate) fn poll_for(
        &self,
        index: usize,
        offset: u64,
        counters: &JobCounters,
        slot: &mut Option<u64>,
        waker: &Waker,
        abort: impl FnOnce() -> Result<()>,
    ) -> Poll<Result<u64>> {
        let mut state = self.lock();
        if let Some(found) = Self::look(state.file(index), offset) {
            state.wakers.forget(slot, &self.waiting);
            return Poll::Ready(Ok(found));
        }
        drop(state);
        if let Err(error) = abort() {
            self.forget(slot);
            return Poll::Ready(Err(error));
        }
        let mut state = self.lock();
        // Register (a new registration is counted and meets the writers), look again; then
        // `Pending` (module docs).
        if state.wakers.register(slot, index, offset, waker) {
            register_reader(&self.waiting, || counters.meet_writers());
        }
        match Self::look(state.file(index), offset) {
            Some(found) => {
                state.wakers.forget(slot, &self.waiting);
                Poll::Ready(Ok(found))
            }
            None => Poll::Pending,
        }
    }

    /// Forgets the registration of the async reader whose key is in `slot`, if any (it is
    /// dropped, or its read ended).
    #[cfg_attr(
        not(feature = "async"),
        allow(dead_code, reason = "AsyncFileReader's (feature `async`)")
    )]
    pub(crate) fn forget(&self, slot: &Option<u64>) {
        if slot.is_some() {
            self.lock().wakers.forget(slot, &self.waiting);
        }
    }

    /// The bytes on disk from `offset` (`Some(0)` at or past a known end), or `None` if the
    /// byte at `offset` is not there yet.
    fn look(want: &Want, offset: u64) -> Option<u64> {
        if want.size.is_some_and(|size| offset >= size) {
            return Some(0);
        }
        want.on_disk()
            .iter()
            .find(|&&(start, end)| start <= offset && offset < end)
            .map(|&(_, end)| end - offset)
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
        drop(state);
        // A connection waiting for work looks again.
        self.changed.notify_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::BgJobState;
    use proptest::prelude::*;

    fn counters() -> (JobCounters, FileCounters) {
        let job = JobCounters::new(BgJobState::Transferring);
        job.add_file();
        (job, FileCounters::new(0))
    }

    #[test]
    fn a_second_run_of_a_file_waits_for_its_size_and_runs_never_overlap() {
        let on_demand = OnDemand::default();
        on_demand.ask(0, &[(0, u64::MAX)], None);
        let first = on_demand.claim_any(1, |_| false, || true);
        assert!(first.is_none(), "give_up is asked first");
        let first = on_demand.claim_any(1, |_| false, || false).unwrap();
        assert_eq!((first.start, first.end), (0, CHUNK));
        // The size is unknown: a second connection would wait; it gives up here.
        let asked = std::cell::Cell::new(0);
        let give_up = || {
            asked.set(asked.get() + 1);
            asked.get() > 1
        };
        assert!(on_demand.claim_any(1, |_| false, give_up).is_none());
        on_demand.set_size(0, 3 * CHUNK + 5);
        let second = on_demand.claim_any(1, |_| false, || false).unwrap();
        let third = on_demand.claim_any(1, |_| false, || false).unwrap();
        let fourth = on_demand.claim_any(1, |_| false, || false).unwrap();
        assert_eq!(
            [(second.start, second.end), (third.start, third.end), (fourth.start, fourth.end)],
            [(CHUNK, 2 * CHUNK), (2 * CHUNK, 3 * CHUNK), (3 * CHUNK, 3 * CHUNK + 5)]
        );
        assert!(!on_demand.lock().idle(1), "runs are being fetched");
    }

    #[test]
    fn a_write_is_on_disk_at_once_and_joins_the_file_count_when_its_run_ends() {
        let (job, file) = counters();
        assert!(job.set_file_size(&file, Some(10 * CHUNK)));
        let on_demand = OnDemand::default();
        on_demand.set_size(0, 10 * CHUNK);
        on_demand.ask(0, &[(4 * CHUNK, 5 * CHUNK)], Some(4 * CHUNK));
        let run = on_demand.claim_any(1, |_| false, || false).unwrap();
        on_demand.record_write(&run, 4 * CHUNK + 100, 100, &job, &file);
        assert_eq!(on_demand.on_disk(0), [(4 * CHUNK, 4 * CHUNK + 100)]);
        assert_eq!(job.snapshot().bytes_transferred, 100);
        assert_eq!(file.transferred(), 0, "the file's own count waits for the run's end");
        assert_eq!(on_demand.file_bytes(0, &file), 100);
        assert_eq!(on_demand.wait_for(0, 4 * CHUNK + 40, &job, || Ok(())).unwrap(), 60);
        assert_eq!(on_demand.settle(&run, &job, &file), 100);
        assert_eq!((file.transferred(), on_demand.file_bytes(0, &file)), (100, 100));
        // The rest of what was asked is claimed again, from where the run stopped.
        let again = on_demand.claim_any(1, |_| false, || false).unwrap();
        assert_eq!((again.start, again.end), (4 * CHUNK + 100, 5 * CHUNK));
    }

    #[test]
    fn a_blocked_reader_returns_when_another_thread_writes_its_byte() {
        let (job, file) = counters();
        assert!(job.set_file_size(&file, Some(CHUNK)));
        let on_demand = Arc::new(OnDemand::default());
        on_demand.set_size(0, CHUNK);
        on_demand.ask(0, &[(0, CHUNK)], None);
        let run = on_demand.claim_any(1, |_| false, || false).unwrap();
        std::thread::scope(|scope| {
            let reader = scope.spawn(|| on_demand.wait_for(0, 10, &job, || Ok(())));
            // Writes until the reader returns; it can only return once byte 10 is written.
            let mut end = 0;
            while !reader.is_finished() && end < CHUNK {
                end += 1;
                on_demand.record_write(&run, end, 1, &job, &file);
                std::thread::yield_now();
            }
            let found = reader.join().unwrap().unwrap();
            // At least byte 10, at most what was written when the reader looked.
            assert!(found >= 1 && 10 + found <= end, "{found} bytes at 10 of {end}");
        });
    }

    #[test]
    fn a_reader_past_a_known_end_gets_the_end_and_an_abort_ends_the_wait() {
        let (job, _) = counters();
        let on_demand = OnDemand::default();
        on_demand.set_size(0, 100);
        assert_eq!(on_demand.wait_for(0, 100, &job, || Ok(())).unwrap(), 0);
        let aborted = on_demand.wait_for(0, 5, &job, || Err(crate::BgError::Empty));
        assert!(matches!(aborted, Err(crate::BgError::Empty)));
    }

    /// A waker that counts its wakes and unparks the thread that made it.
    struct Unpark {
        thread: std::thread::Thread,
        wakes: std::sync::atomic::AtomicUsize,
    }

    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            // SeqCst: a test's counter, read by the test thread after its park.
            self.wakes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.thread.unpark();
        }
    }

    impl Unpark {
        fn new() -> Arc<Unpark> {
            Arc::new(Unpark { thread: std::thread::current(), wakes: Default::default() })
        }

        fn wakes(&self) -> usize {
            // SeqCst: see `wake`.
            self.wakes.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    fn waiting(on_demand: &OnDemand) -> u32 {
        // Relaxed: a test reads the count with every thread joined or quiet.
        on_demand.waiting.load(Ordering::Relaxed)
    }

    #[test]
    fn a_registered_waker_is_woken_by_the_write_of_its_byte_from_another_thread() {
        let (job, file) = counters();
        assert!(job.set_file_size(&file, Some(CHUNK)));
        let on_demand = Arc::new(OnDemand::default());
        on_demand.set_size(0, CHUNK);
        on_demand.ask(0, &[(0, CHUNK)], None);
        let run = on_demand.claim_any(1, |_| false, || false).unwrap();
        let unpark = Unpark::new();
        let waker = std::task::Waker::from(Arc::clone(&unpark));
        let mut slot = None;
        std::thread::scope(|scope| {
            // Writes a byte at a time until the waker is woken; the wake is inline, in the
            // write that brings byte 10, so the writer stops right after it.
            let writer = scope.spawn(|| {
                let mut end = 0;
                while unpark.wakes() == 0 && end < CHUNK {
                    end += 1;
                    on_demand.record_write(&run, end, 1, &job, &file);
                    std::thread::yield_now();
                }
                end
            });
            // Races the writer: either the byte is there, or the waker is woken once it is.
            let mut polls = 0;
            let found = loop {
                polls += 1;
                let polled = on_demand.poll_for(0, 10, &job, &mut slot, &waker, || Ok(()));
                if let std::task::Poll::Ready(found) = polled {
                    break found.unwrap();
                }
                let deadline = std::time::Instant::now() + Duration::from_secs(60);
                let wakes = unpark.wakes();
                while unpark.wakes() == wakes && !writer.is_finished() {
                    assert!(std::time::Instant::now() < deadline, "a lost wake-up");
                    std::thread::park_timeout(Duration::from_millis(50));
                }
            };
            let end = writer.join().unwrap();
            assert!(found >= 1 && 10 + found <= end, "{found} bytes at 10 of {end}");
            assert!(polls <= 2, "one wake is enough: {polls} polls");
            if polls == 2 {
                assert_eq!((unpark.wakes(), end), (1, 11), "woken by the write of byte 10");
            }
        });
        assert_eq!(waiting(&on_demand), 0, "the registration is uncounted");
        assert_eq!(on_demand.lock().wakers.len(), 0);
    }

    #[test]
    fn a_write_wakes_only_the_reads_it_brought_bytes_to_and_a_forgotten_read_is_uncounted() {
        let (job, file) = counters();
        assert!(job.set_file_size(&file, Some(10 * CHUNK)));
        let on_demand = OnDemand::default();
        on_demand.set_size(0, 10 * CHUNK);
        on_demand.ask(0, &[(0, 10 * CHUNK)], None);
        let run = on_demand.claim_any(1, |_| false, || false).unwrap();
        let (near, far, dropped) = (Unpark::new(), Unpark::new(), Unpark::new());
        let wakers = [&near, &far, &dropped].map(|w| std::task::Waker::from(Arc::clone(w)));
        let (mut near_slot, mut far_slot, mut dropped_slot) = (None, None, None);
        for (slot, offset, waker) in [
            (&mut near_slot, 100, &wakers[0]),
            (&mut far_slot, 5 * CHUNK, &wakers[1]),
            (&mut dropped_slot, 200, &wakers[2]),
        ] {
            let polled = on_demand.poll_for(0, offset, &job, slot, waker, || Ok(()));
            assert!(polled.is_pending());
            // Polled again: the registration is updated, not counted twice.
            let polled = on_demand.poll_for(0, offset, &job, slot, waker, || Ok(()));
            assert!(polled.is_pending());
        }
        assert_eq!(waiting(&on_demand), 3);
        // A reader dropped while pending.
        on_demand.forget(&dropped_slot);
        assert_eq!(waiting(&on_demand), 2);
        on_demand.record_write(&run, 101, 101, &job, &file);
        assert_eq!([near.wakes(), far.wakes(), dropped.wakes()], [1, 0, 0]);
        assert_eq!(waiting(&on_demand), 1, "the far read is still registered");
        let polled = on_demand.poll_for(0, 100, &job, &mut near_slot, &wakers[0], || Ok(()));
        assert!(matches!(polled, std::task::Poll::Ready(Ok(1))), "{polled:?}");
        // An abort ends a pending read and its registration.
        let aborted = on_demand
            .poll_for(0, 5 * CHUNK, &job, &mut far_slot, &wakers[1], || Err(crate::BgError::Empty));
        assert!(matches!(aborted, std::task::Poll::Ready(Err(crate::BgError::Empty))));
        assert_eq!(waiting(&on_demand), 0);
        // The end of a run wakes every pending read.
        assert!(
            on_demand.poll_for(0, 300, &job, &mut far_slot, &wakers[1], || Ok(())).is_pending()
        );
        on_demand.settle(&run, &job, &file);
        assert_eq!((far.wakes(), waiting(&on_demand)), (1, 0));
        on_demand.forget(&far_slot);
        assert_eq!(waiting(&on_demand), 0, "forgetting a taken registration uncounts nothing");
    }

    proptest! {
        /// Against a byte map: asks, claims, partial writes and settles in any order; runs never
        /// overlap each other or what is on disk, and `on_disk` is exactly the bytes written.
        #[test]
        fn claims_writes_and_settles_match_a_byte_map(
            steps in proptest::collection::vec((0u8..4, 0u64..64, 1u64..32), 1..60),
        ) {
            const SIZE: u64 = 64;
            let (job, file) = counters();
            prop_assert!(job.set_file_size(&file, Some(SIZE)));
            let on_demand = OnDemand::default();
            on_demand.set_size(0, SIZE);
            let mut written = [false; SIZE as usize];
            let mut runs: Vec<Arc<Run>> = Vec::new();
            for (op, at, len) in steps {
                match op {
                    0 => on_demand.ask(0, &[(at, (at + len).min(SIZE))], Some(at)),
                    1 => {
                        if let Some(run) = on_demand.claim_any(1, |_| false, || true) {
                            runs.push(run);
                        } else if let Some(run) = {
                            let mut state = on_demand.lock();
                            state.file(0).claim(0)
                        } {
                            runs.push(run);
                        }
                    }
                    2 => {
                        if let Some(run) = runs.get((at as usize) % runs.len().max(1)) {
                            let from = run.written();
                            let to = (from + len).min(run.end);
                            for byte in from..to {
                                prop_assert!(!written[byte as usize], "byte {byte} written twice");
                                written[byte as usize] = true;
                            }
                            if to > from {
                                on_demand.record_write(run, to, to - from, &job, &file);
                            }
                        }
                    }
                    _ => {
                        if !runs.is_empty() {
                            let run = runs.remove((at as usize) % runs.len());
                            on_demand.settle(&run, &job, &file);
                        }
                    }
                }
                let expected = merge(
                    (0..SIZE).filter(|&b| written[b as usize]).map(|b| (b, b + 1)).collect(),
                );
                prop_assert_eq!(on_demand.on_disk(0), expected.clone());
                let total: u64 = expected.iter().map(|(s, e)| e - s).sum();
                prop_assert_eq!(job.snapshot().bytes_transferred, total);
                prop_assert_eq!(on_demand.file_bytes(0, &file), total);
            }
        }
    }
}

/// The per-write bookkeeping of an on-demand run and of an ordinary transfer, side by side, for
/// `benches/on_demand.rs`. Not part of the API (feature `_test-hooks`).
#[cfg(feature = "_test-hooks")]
#[doc(hidden)]
#[derive(Debug)]
pub struct WriteBench {
    job: JobCounters,
    run_file: FileCounters,
    plain_file: FileCounters,
    on_demand: OnDemand,
    run: Arc<Run>,
    at: u64,
}

#[cfg(feature = "_test-hooks")]
impl Default for WriteBench {
    fn default() -> Self {
        let job = JobCounters::new(crate::BgJobState::Transferring);
        let (run_file, plain_file) = (FileCounters::new(0), FileCounters::new(1));
        for file in [&run_file, &plain_file] {
            job.add_file();
            job.set_file_size(file, Some(1 << 62));
        }
        let on_demand = OnDemand::default();
        on_demand.set_size(0, 1 << 62);
        let run = Arc::new(Run::new(0, 0, 1 << 62));
        on_demand.lock().file(0).runs.push(Arc::clone(&run));
        WriteBench { job, run_file, plain_file, on_demand, run, at: 0 }
    }
}

#[cfg(feature = "_test-hooks")]
impl WriteBench {
    /// What an on-demand run does per write of `n` bytes ([`OnDemand::record_write`]).
    #[inline]
    pub fn on_demand_write(&mut self, n: u64) {
        self.at += n;
        self.on_demand.record_write(&self.run, self.at, n, &self.job, &self.run_file);
    }

    /// What an ordinary transfer does per write of `n` bytes (`JobCounters::add_file_bytes`).
    #[inline]
    pub fn ordinary_write(&mut self, n: u64) -> bool {
        self.job.add_file_bytes(&self.plain_file, n)
    }

    /// The job's bytes.
    pub fn bytes(&self) -> u64 {
        self.job.snapshot().bytes_transferred
    }
}
