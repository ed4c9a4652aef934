//! The job's hot state: byte and file counters and the state word, all atomics, behind named
//! methods. No other file touches an atomic of a job.
//!
//! # The snapshot protocol
//!
//! A job keeps five counters: `files_total`, `files_transferred`, `bytes_transferred`,
//! `known_total` (the sum of the sizes that are known) and `unknown_files` (how many files have no
//! size yet, or a size the total cannot hold: see below), plus `resize_seq`, a sequence stamp that is odd while a known size is being lowered.
//! `bytes_total` is `BG_SIZE_UNKNOWN` while `unknown_files > 0`, else `known_total` (0 for a job
//! with no files).
//!
//! They live in five words, so that a reader has few loads to make:
//!
//! | word | bits 32..64 | bits 0..32 |
//! |---|---|---|
//! | `seq_done` | `resize_seq` | `files_transferred` |
//! | `files_unknown` | `files_total` | `unknown_files` |
//! | `known_total` | the whole word | |
//! | `bytes_transferred[s]` | stripe `s` of the byte count, the whole word | |
//!
//! Every change of a packed word is one read-modify-write of the whole word, so its two halves
//! change together and no update is lost; a count never carries into the other half (counts of
//! files fit in 32 bits, and a count never goes below zero), and the stamp wraps on its own.
//!
//! `bytes_transferred` is striped: it is the sum of [`BYTE_STRIPES`] counters, each on a cache
//! line of its own, and a file adds its bytes to one stripe, which starts as
//! `index % BYTE_STRIPES`. When a writer opens a file whose stripe another open writer of the job
//! uses, the file first moves to a free stripe (if there is one), taking its bytes along inside a
//! resize bracket (writer step 6), so readers never see them twice or not at all. Writers of
//! different files of one job (a driver fetching files in parallel) therefore do not write the
//! same line, which a single job-wide counter would make them fight over on every chunk.
//! Everything below about `bytes_transferred` holds for each stripe, since outside such a move a
//! file's bytes, its restarts included, only ever touch its own stripe.
//!
//! **Writers** keep a fixed order, every add with `Release`:
//! 1. adding a file: `unknown_files += 1` and `files_total += 1`, in one add to `files_unknown`
//!    (under the job lock);
//! 2. learning a size: `known_total += size` (one compare-and-swap loop), then
//!    `unknown_files -= 1`. A size that would make the sum pass `u64` or equal
//!    `BG_SIZE_UNKNOWN` (sizes announced by a server can be anything) is not added: the file
//!    keeps counting as unknown (its own size is still reported), so the job's total reads
//!    `BG_SIZE_UNKNOWN` and `known_total` never wraps. The file is marked (`FILE_UNCOUNTED`)
//!    until its own size changes and fits;
//! 3. writing bytes: the file's own counter, then `bytes_transferred += n` (on the file's stripe);
//!    once a file's size is known its bytes never pass it (the write is refused);
//! 4. finishing a file: after its last bytes, an unknown size becomes known (step 2) and then
//!    `files_transferred += 1`;
//! 5. a restart from zero subtracts the file's bytes from `bytes_transferred`;
//! 6. changing a known size (the file counts as unknown again, then learns the new size as in
//!    step 2, so a size that does not fit is left out here too), and moving a file's bytes to another stripe (both rare),
//!    happen under the job lock inside `resize_seq` odd/even brackets.
//!
//! **Readers** load with `Acquire`, in the reverse order: `seq_done` (the stamp and
//! `files_transferred`), `bytes_transferred` (every stripe, summed), `files_unknown`
//! (`unknown_files` and `files_total`), `known_total`, then an `Acquire` fence and `seq_done`
//! again for the stamp; if a resize overlapped, the read is retried (at most
//! [`MAX_SNAPSHOT_RETRIES`] times, then the values are clamped to the invariants, which can only
//! happen if a driver lowers sizes in a tight loop).
//!
//! Because every counter except `bytes_transferred` only grows outside a resize, and an `Acquire`
//! load that sees a value synchronizes with every `Release` add before it, this order gives:
//! - `files_transferred <= files_total` (a file is added before it can finish, and
//!   `files_total` is read after `files_transferred`);
//! - a file counted as transferred has all its bytes counted (its bytes are added before the
//!   file count, and bytes are read after it);
//! - `bytes_transferred <= bytes_total` when the total is known (a size is added before bytes are
//!   written against it, or, for a file of unknown size, before the `unknown_files` decrement the
//!   reader saw, and bytes are read before the total).
//!
//! The `loom` models in `job/loom_tests.rs` check these three under concurrent writers.
//!
//! # The state word
//!
//! `state_word` packs the job state (low 8 bits) and the claim generation (the rest). It is written
//! only under the job lock (`Release` store) and read lock-free (`Acquire`), so a driver can notice
//! a suspend or cancel between two chunks with one load.
//!
//! | bits | meaning | written by |
//! |---|---|---|
//! | 0..8 | `BgJobState as u8` | every transition, under the job lock |
//! | 8..64 | claim generation: +1 on each driver claim and on each transition that revokes one | the same |

use crate::sync::{AtomicU32, AtomicU64, Ordering, fence};
use crate::{BG_SIZE_UNKNOWN, BgFileProgress, BgJobProgress, BgJobState};
use std::fmt;

/// How many times a snapshot is retried when it overlapped a size reduction.
pub(crate) const MAX_SNAPSHOT_RETRIES: u32 = 64;

/// How many stripes a job's byte count is split into (a power of two). Two: two writers of one
/// job never share one, and a reader adds up two values; the engine itself writes one file of a
/// job at a time, so more would only cost readers loads and each job 128 bytes a stripe.
pub(crate) const BYTE_STRIPES: usize = 2;

/// One in the high half of a packed word (`resize_seq`, `files_total`).
const HIGH_ONE: u64 = 1 << 32;
/// One in the low half of a packed word (`files_transferred`, `unknown_files`).
const LOW_ONE: u64 = 1;

const FILE_TRANSFERRED: u32 = 0b01;
const FILE_COMPLETED: u32 = 0b10;
/// The file's size is known but not in `known_total`: the sum would not have fitted below
/// `BG_SIZE_UNKNOWN`, so the file still counts in `unknown_files` (see the module docs).
const FILE_UNCOUNTED: u32 = 0b100;

/// The job-wide counters and the state word.
pub(crate) struct JobCounters {
    // Written by a transfer thread on each chunk: every stripe on its own cache line (pair).
    bytes_transferred: [Padded<AtomicU64>; BYTE_STRIPES],
    /// `resize_seq` (high half) and `files_transferred` (low half); see the module docs.
    seq_done: AtomicU64,
    /// `files_total` (high half) and `unknown_files` (low half).
    files_unknown: AtomicU64,
    known_total: AtomicU64,
    state_word: AtomicU64,
}

/// Keeps a hot value on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// The counters of one file. Bytes and size have a single writer at a time: the driver that holds
/// the file's [`FileTransfer`](crate::FileTransfer) (the claim makes it exclusive).
///
/// Not padded itself: the file's record (`FileShared`) is aligned to a cache line, so these share
/// a line only with that file's own immutable fields, and two writers of different files never
/// write the same line (the job total aside).
pub(crate) struct FileCounters {
    total: AtomicU64,
    transferred: AtomicU64,
    flags: AtomicU32,
    /// The stripe of the job's byte count this file adds to. Changed only by
    /// [`JobCounters::pick_stripe`], under the job lock, while the file has no writer.
    stripe: AtomicU32,
}

/// A claim on a job: the state word value it was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation(u64);

impl JobCounters {
    pub(crate) fn new(state: BgJobState) -> Self {
        JobCounters {
            bytes_transferred: std::array::from_fn(|_| Padded(AtomicU64::new(0))),
            seq_done: AtomicU64::new(0),
            files_unknown: AtomicU64::new(0),
            known_total: AtomicU64::new(0),
            state_word: AtomicU64::new(state as u64),
        }
    }

    // ---- state word ----------------------------------------------------------------------

    /// The current state.
    pub(crate) fn state(&self) -> BgJobState {
        // Acquire: pairs with the Release store of `set_state`, so a reader that sees a state also
        // sees the cold-state changes the transition made before it.
        decode_state(self.state_word.load(Ordering::Acquire))
    }

    /// The current claim generation.
    pub(crate) fn generation(&self) -> Generation {
        // Acquire: as in `state`; the generation and state are read as one word.
        Generation(self.state_word.load(Ordering::Acquire) >> 8)
    }

    /// The claim generation once `new_generations` more have started (see
    /// [`set_state`](Self::set_state)). Under the job lock, so the word cannot move meanwhile.
    pub(crate) fn generation_after(&self, new_generations: u64) -> Generation {
        // Relaxed: under the job lock, which orders this load after the last store.
        Generation((self.state_word.load(Ordering::Relaxed) >> 8).wrapping_add(new_generations))
    }

    /// Whether a claim made at `generation` is still the live one, and the job still in a
    /// transferring state. One load: cheap enough for every chunk.
    #[inline]
    pub(crate) fn claim_is_live(&self, generation: Generation) -> bool {
        // Acquire: a driver that sees its claim revoked also sees why (the suspend/cancel state).
        let word = self.state_word.load(Ordering::Acquire);
        word >> 8 == generation.0
            && matches!(decode_state(word), BgJobState::Connecting | BgJobState::Transferring)
    }

    /// Sets the state, and starts `new_generations` new claim generations (any of them revokes
    /// the claim of a driver). Call only under the job lock: the word has a single writer at a
    /// time.
    pub(crate) fn set_state(&self, state: BgJobState, new_generations: u64) -> Generation {
        // Relaxed: writers are serialized by the job lock, which orders this load after the
        // previous store.
        let old = self.state_word.load(Ordering::Relaxed);
        let generation = (old >> 8).wrapping_add(new_generations);
        // Release: publishes the transition (and the cold state written before it) to the
        // lock-free readers of `state`.
        self.state_word.store(generation << 8 | state as u64, Ordering::Release);
        Generation(generation)
    }

    // ---- writers -------------------------------------------------------------------------

    /// A file was added (size unknown). Under the job lock.
    pub(crate) fn add_file(&self) {
        // Release: one more file and one more unknown size at once; publishes the file (added
        // before it can ever be counted as transferred).
        self.files_unknown.fetch_add(HIGH_ONE | LOW_ONE, Ordering::Release);
    }

    /// A file that counts as unknown gets `size`: it is added to the total and the file stops
    /// counting as unknown, unless the sum would pass `u64` or be `BG_SIZE_UNKNOWN` itself; then
    /// nothing changes (the job's total stays unknown) and the result is `false`.
    fn learn_size(&self, size: u64) -> bool {
        // Release on success: the size is in the total before the file stops counting as unknown.
        // Relaxed on failure: nothing is written, and the closure only reads the value.
        let added = self.known_total.fetch_update(Ordering::Release, Ordering::Relaxed, |total| {
            total.checked_add(size).filter(|&sum| sum != BG_SIZE_UNKNOWN)
        });
        if added.is_err() {
            return false;
        }
        // Release: a reader that sees one fewer unknown file sees the size added above.
        self.files_unknown.fetch_sub(LOW_ONE, Ordering::Release);
        true
    }

    /// Records whether `file`'s known size is left out of the total (see [`FILE_UNCOUNTED`]).
    /// By the file's single size writer.
    fn set_uncounted(file: &FileCounters, uncounted: bool) {
        if uncounted {
            // Release: read by the file's later size changes (`is_uncounted`).
            file.flags.fetch_or(FILE_UNCOUNTED, Ordering::Release);
        } else {
            // Release: as above.
            file.flags.fetch_and(!FILE_UNCOUNTED, Ordering::Release);
        }
    }

    /// Begins a size reduction. Under the job lock (resizes are serialized by it).
    fn begin_resize(&self) {
        // Relaxed add + Release fence: the odd stamp is ordered before every counter write of
        // the resize, so a reader that sees any of them re-reads an odd or changed stamp.
        self.seq_done.fetch_add(HIGH_ONE, Ordering::Relaxed);
        // Release fence: orders the odd stamp before the resize's counter writes (see above).
        fence(Ordering::Release);
    }

    /// Ends a size reduction.
    fn end_resize(&self) {
        // Release: a reader that sees the even stamp sees every counter write of the resize.
        self.seq_done.fetch_add(HIGH_ONE, Ordering::Release);
    }

    // ---- reader --------------------------------------------------------------------------

    /// A consistent snapshot of the job's progress. Lock-free, allocation-free. The first try is
    /// inlined into the caller; one that overlapped a resize goes on in [`Self::snapshot_retry`].
    #[inline]
    pub(crate) fn snapshot(&self) -> BgJobProgress {
        match self.try_snapshot() {
            Ok(progress) => progress,
            Err(overlapped) => self.snapshot_retry(overlapped),
        }
    }

    /// One try of the protocol's read: `Err` (with what was read) if a resize overlapped it.
    #[inline]
    fn try_snapshot(&self) -> Result<BgJobProgress, BgJobProgress> {
        // Acquire on each load, in the protocol's read order (see the module docs). First the
        // stamp (even and unchanged at the end: no resize overlapped) and files_transferred.
        let seq_done = self.seq_done.load(Ordering::Acquire);
        let bytes_transferred = self.bytes_transferred.iter().fold(0u64, |sum, stripe| {
            // Acquire: after files_transferred, so every finished file's bytes are included.
            sum.wrapping_add(stripe.0.load(Ordering::Acquire))
        });
        // Acquire: after bytes, so every size that bytes were counted against is seen below
        // (and after files_transferred, so every file counted as transferred is counted here).
        let files_unknown = self.files_unknown.load(Ordering::Acquire);
        // Acquire: after unknown_files, so sizes of files that stopped being unknown are included.
        let known_total = self.known_total.load(Ordering::Acquire);
        // Acquire fence: orders the counter loads above before the stamp re-read below.
        fence(Ordering::Acquire);
        // Relaxed: ordered by the fence above.
        let seq_after = self.seq_done.load(Ordering::Relaxed);
        // The two file counts as one word in the struct's field order (files_total, then
        // files_transferred), so that the compiler stores them with one 8-byte store: two 4-byte
        // stores read back as one 8-byte word (a caller copying the struct) stall the load.
        let files = (files_unknown >> 32) | (seq_done << 32);
        let progress = BgJobProgress {
            bytes_total: if low(files_unknown) > 0 { BG_SIZE_UNKNOWN } else { known_total },
            bytes_transferred,
            files_total: low(files),
            files_transferred: high(files),
        };
        let seq = high(seq_done);
        if seq.is_multiple_of(2) && seq == high(seq_after) { Ok(progress) } else { Err(progress) }
    }

    /// The tries after the first, up to [`MAX_SNAPSHOT_RETRIES`] in all; then the last read,
    /// clamped to the invariants.
    #[cold]
    #[inline(never)]
    fn snapshot_retry(&self, mut last: BgJobProgress) -> BgJobProgress {
        for _ in 1..MAX_SNAPSHOT_RETRIES {
            snooze();
            match self.try_snapshot() {
                Ok(progress) => return progress,
                Err(overlapped) => last = overlapped,
            }
        }
        clamp(last)
    }

    /// A consistent snapshot of one file of this job.
    pub(crate) fn file_snapshot(&self, file: &FileCounters) -> BgFileProgress {
        let mut last = None;
        for _ in 0..MAX_SNAPSHOT_RETRIES {
            // Acquire: as in `snapshot`.
            let seq_before = high(self.seq_done.load(Ordering::Acquire));
            let progress = file.read();
            // Acquire fence: orders the loads above before the stamp re-read.
            fence(Ordering::Acquire);
            // Relaxed: ordered by the fence above.
            let seq_after = high(self.seq_done.load(Ordering::Relaxed));
            if seq_before.is_multiple_of(2) && seq_before == seq_after {
                return progress;
            }
            last = Some(progress);
            snooze();
        }
        let mut p = last.unwrap_or_else(|| file.read());
        if p.bytes_total != BG_SIZE_UNKNOWN {
            p.bytes_transferred = p.bytes_transferred.min(p.bytes_total);
        }
        p
    }

    // ---- per-file writers (single writer per file: the holder of its FileTransfer) -------

    /// Sets a file's size. From unknown: a plain publication. Changing a known size: a resize.
    /// Returns `false` (and changes nothing) if the file already holds more bytes than `size`.
    /// A change of a known size must be made under the job lock.
    pub(crate) fn set_file_size(&self, file: &FileCounters, size: Option<u64>) -> bool {
        let size = size.unwrap_or(BG_SIZE_UNKNOWN);
        // Relaxed: this thread is the file's only writer.
        let old = file.total.load(Ordering::Relaxed);
        // Relaxed: this thread is the file's only writer.
        let have = file.transferred.load(Ordering::Relaxed);
        if old == size {
            return true;
        }
        if size != BG_SIZE_UNKNOWN && have > size {
            return false;
        }
        if old == BG_SIZE_UNKNOWN {
            // Release: the file's size is published before any byte is counted against it.
            file.total.store(size, Ordering::Release);
            Self::set_uncounted(file, !self.learn_size(size));
            return true;
        }
        // A known size changes inside a resize bracket: the file first counts as unknown again
        // (its size leaves the total, unless it was never in it), then learns the new size.
        self.begin_resize();
        if !file.is_uncounted() {
            // Release: inside the bracket; readers that see it retry.
            self.known_total.fetch_sub(old, Ordering::Release);
            // Release: inside the bracket.
            self.files_unknown.fetch_add(LOW_ONE, Ordering::Release);
        }
        let uncounted = size != BG_SIZE_UNKNOWN && !self.learn_size(size);
        Self::set_uncounted(file, uncounted);
        // Release: inside the bracket.
        file.total.store(size, Ordering::Release);
        self.end_resize();
        true
    }

    /// Counts `n` bytes written to a file's temporary file. The hot path: no lock, no clock; three
    /// relaxed loads of values only the writer changes, one store and one `fetch_add`. Returns `false` (and counts nothing) if the bytes would pass the file's
    /// known size.
    #[inline]
    pub(crate) fn add_file_bytes(&self, file: &FileCounters, n: u64) -> bool {
        // Relaxed: single writer; the value was written by this thread.
        let have = file.transferred.load(Ordering::Relaxed);
        // Relaxed: single writer of the size too.
        let total = file.total.load(Ordering::Relaxed);
        let Some(now) = have.checked_add(n) else { return false };
        if total != BG_SIZE_UNKNOWN && now > total {
            return false;
        }
        // Release: a plain store is enough for a single writer; readers acquire it.
        file.transferred.store(now, Ordering::Release);
        // Release: the job aggregate; publishes the bytes for the file-count increment after it.
        self.stripe(file).fetch_add(n, Ordering::Release);
        true
    }

    /// The stripe of the job's byte count that `file` adds to.
    #[inline]
    fn stripe(&self, file: &FileCounters) -> &AtomicU64 {
        // The mask keeps the index in range without a bounds check (BYTE_STRIPES is a power of 2).
        &self.bytes_transferred[file.stripe_index() & (BYTE_STRIPES - 1)].0
    }

    /// Before a writer starts on `file`: if one of `open` (the files of this job with a writer
    /// now) uses the file's stripe, moves the file to a stripe none of them uses, if there is one,
    /// taking its bytes along inside a resize bracket. Under the job lock, while `file` has no
    /// writer.
    pub(crate) fn pick_stripe<'a>(
        &self,
        file: &FileCounters,
        open: impl Iterator<Item = &'a FileCounters>,
    ) {
        let busy = open.fold(0usize, |mask, other| mask | 1 << other.stripe_index());
        let from = file.stripe_index();
        if busy & 1 << from == 0 {
            return;
        }
        let Some(to) = (0..BYTE_STRIPES).find(|s| busy & 1 << s == 0) else { return };
        // Relaxed: the file has no writer; this thread (under the job lock) is its only user.
        let have = file.transferred.load(Ordering::Relaxed);
        if have > 0 {
            self.begin_resize();
            // Release: inside the bracket.
            self.bytes_transferred[from].0.fetch_sub(have, Ordering::Release);
            // Release: inside the bracket.
            self.bytes_transferred[to].0.fetch_add(have, Ordering::Release);
        }
        // Relaxed: read by this file's next writer, which gets its transfer under the job lock
        // held here (or from the thread that did).
        file.stripe.store(to as u32, Ordering::Relaxed);
        if have > 0 {
            self.end_resize();
        }
    }

    /// Counts `n` bytes that one of several writers of one file (its segments, each fetching a
    /// range of its own) wrote. The ranges are disjoint and within the file's known size (the
    /// segment table hands each block to one writer), so the file's count never passes its size
    /// and no byte is counted twice; the size was published before any segment began.
    #[inline]
    pub(crate) fn add_segment_bytes(&self, file: &FileCounters, n: u64) {
        // Release: several writers add; each add publishes the bytes its writer put on disk
        // before it (protocol step 3: the file's own counter first).
        file.transferred.fetch_add(n, Ordering::Release);
        // Release: then the job aggregate, on the file's stripe (step 3).
        self.stripe(file).fetch_add(n, Ordering::Release);
    }

    /// The per-write count of an on-demand run (`state/on_demand.rs`): `n` bytes join the job's
    /// count now; the file's own count follows when the run ends ([`settle_run_bytes`]). Several
    /// runs of one file may write at once.
    ///
    /// [`settle_run_bytes`]: Self::settle_run_bytes
    #[inline]
    pub(crate) fn add_run_bytes(&self, file: &FileCounters, n: u64) {
        // AcqRel: Release publishes the run's cursor and bytes, stored before; Acquire makes a
        // reader's registration (`meet_writers`, earlier on this stripe) visible to the writer's
        // next load: the on-demand wake-up protocol.
        self.stripe(file).fetch_add(n, Ordering::AcqRel);
    }

    /// An on-demand run ended: its `n` bytes, in the job's count already, join the file's own.
    pub(crate) fn settle_run_bytes(&self, file: &FileCounters, n: u64) {
        // Release: several runs of a file may end at once; the bytes are on disk before.
        file.transferred.fetch_add(n, Ordering::Release);
    }

    /// A blocked reader's side of the on-demand wake-up protocol: a read-modify-write (of 0) on
    /// every stripe, so that it and each writer's [`add_run_bytes`](Self::add_run_bytes) are
    /// ordered one way or the other. Changes no value.
    pub(crate) fn meet_writers(&self) {
        for stripe in &self.bytes_transferred {
            // AcqRel: acquires every run write counted before; releases the reader's
            // registration to every writer counting after.
            stripe.0.fetch_add(0, Ordering::AcqRel);
        }
    }

    /// Restarts a file from zero: its bytes leave the job's count (the one case where progress goes
    /// back). Returns the bytes removed. With its one writer, or once every segment writer of the
    /// file has stopped.
    pub(crate) fn restart_file(&self, file: &FileCounters) -> u64 {
        // Relaxed: single writer.
        let have = file.transferred.load(Ordering::Relaxed);
        // Release: the file's own count drops first; the job aggregate follows.
        file.transferred.store(0, Ordering::Release);
        // Release: the job aggregate loses exactly this file's bytes.
        self.stripe(file).fetch_sub(have, Ordering::Release);
        have
    }

    /// Marks a file transferred: an unknown size becomes the bytes received, then the file counts.
    /// Returns `false` if the file's bytes are short of its known size, or it was already marked.
    pub(crate) fn finish_file(&self, file: &FileCounters) -> bool {
        // Relaxed: single writer.
        let have = file.transferred.load(Ordering::Relaxed);
        // Relaxed: single writer.
        let total = file.total.load(Ordering::Relaxed);
        // Relaxed: single writer of the TRANSFERRED bit.
        if file.flags.load(Ordering::Relaxed) & FILE_TRANSFERRED != 0 {
            return false;
        }
        if total == BG_SIZE_UNKNOWN {
            // Release: the final size is published before the file counts as transferred.
            file.total.store(have, Ordering::Release);
            Self::set_uncounted(file, !self.learn_size(have));
        } else if have != total {
            return false;
        }
        // Release: the file's flag after all its bytes.
        file.flags.fetch_or(FILE_TRANSFERRED, Ordering::Release);
        // Release: the job's file count after all the file's bytes (protocol step 4).
        self.seq_done.fetch_add(LOW_ONE, Ordering::Release);
        true
    }

    /// Takes a transferred file back to zero bytes and not transferred: it is fetched again (the
    /// caller found bytes of it from a peer invalid, DESIGN 6.2). Under the job lock, while the
    /// file has no writer. Inside a resize bracket (writer step 6): a reader that overlaps it
    /// retries, so none sees the file counted as transferred with its bytes gone. Its size stays
    /// known.
    pub(crate) fn unfinish_file(&self, file: &FileCounters) {
        // Relaxed: the flag is written only under the job lock, which the caller holds.
        if file.flags.load(Ordering::Relaxed) & FILE_TRANSFERRED == 0 {
            return;
        }
        self.begin_resize();
        // Release: inside the bracket; the file no longer counts as transferred.
        file.flags.fetch_and(!FILE_TRANSFERRED, Ordering::Release);
        // Release: inside the bracket; the job's transferred files lose it (the low half is at
        // least 1, since the file was counted, so nothing borrows from the stamp).
        self.seq_done.fetch_sub(LOW_ONE, Ordering::Release);
        self.restart_file(file);
        self.end_resize();
    }

    /// Marks a file completed (renamed into place by `complete()`).
    pub(crate) fn mark_completed(&self, file: &FileCounters) {
        // Release: the flag is published after the rename that it reports.
        file.flags.fetch_or(FILE_COMPLETED, Ordering::Release);
    }
}

impl FileCounters {
    /// The counters of the file with index `index` in its job (which picks its byte stripe).
    pub(crate) fn new(index: usize) -> Self {
        FileCounters {
            total: AtomicU64::new(BG_SIZE_UNKNOWN),
            transferred: AtomicU64::new(0),
            flags: AtomicU32::new(0),
            stripe: AtomicU32::new((index % BYTE_STRIPES) as u32),
        }
    }

    fn read(&self) -> BgFileProgress {
        // Acquire: flags first, so a transferred file's bytes and size are seen in full below.
        let flags = self.flags.load(Ordering::Acquire);
        // Acquire: bytes before size, so bytes never exceed a size published before them.
        let bytes_transferred = self.transferred.load(Ordering::Acquire);
        // Acquire: last.
        let bytes_total = self.total.load(Ordering::Acquire);
        BgFileProgress { bytes_total, bytes_transferred, completed: flags & FILE_COMPLETED != 0 }
    }

    /// The stripe of the job's byte count the file adds to.
    #[inline]
    fn stripe_index(&self) -> usize {
        // Relaxed: written only under the job lock while the file has no writer, before its
        // writer got its transfer (see `JobCounters::pick_stripe`).
        self.stripe.load(Ordering::Relaxed) as usize
    }

    /// Whether the file's known size is left out of the job's total (see [`FILE_UNCOUNTED`]).
    fn is_uncounted(&self) -> bool {
        // Acquire: pairs with `JobCounters::set_uncounted` (the same writer, or an earlier one).
        self.flags.load(Ordering::Acquire) & FILE_UNCOUNTED != 0
    }

    /// Whether the file's last byte is in its temporary file.
    pub(crate) fn is_transferred(&self) -> bool {
        // Acquire: a caller that sees the flag sees the file's final counters.
        self.flags.load(Ordering::Acquire) & FILE_TRANSFERRED != 0
    }

    /// Whether `complete()` renamed the file into place.
    pub(crate) fn is_completed(&self) -> bool {
        // Acquire: pairs with `mark_completed`.
        self.flags.load(Ordering::Acquire) & FILE_COMPLETED != 0
    }

    /// The bytes in the temporary file (for the writer itself, or a snapshot under the lock).
    pub(crate) fn transferred(&self) -> u64 {
        // Acquire: may be called by a thread other than the writer (a new claim after the old one
        // ended), which must see the old writer's last store.
        self.transferred.load(Ordering::Acquire)
    }

    /// The size, `None` if unknown.
    pub(crate) fn size(&self) -> Option<u64> {
        // Acquire: as in `transferred`.
        let total = self.total.load(Ordering::Acquire);
        (total != BG_SIZE_UNKNOWN).then_some(total)
    }

    /// Whether [`JobCounters::finish_file`] would accept the file now: every byte of a known
    /// size is there (an unknown size is whatever arrived). For the file's writer.
    pub(crate) fn is_complete(&self) -> bool {
        self.size().is_none_or(|size| size == self.transferred())
    }
}

/// The high half of a packed word.
#[inline]
fn high(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The low half of a packed word.
#[inline]
fn low(word: u64) -> u32 {
    word as u32
}

#[inline]
fn decode_state(word: u64) -> BgJobState {
    match word & 0xFF {
        0 => BgJobState::Queued,
        1 => BgJobState::Connecting,
        2 => BgJobState::Transferring,
        3 => BgJobState::Suspended,
        4 => BgJobState::Error,
        5 => BgJobState::TransientError,
        6 => BgJobState::Transferred,
        7 => BgJobState::Acknowledged,
        _ => BgJobState::Cancelled,
    }
}

/// Waits a moment for a resize in progress to end. Under loom it yields, so that the model lets
/// the resizing thread go on (a spinning reader would otherwise only burn the model's branches).
#[inline]
fn snooze() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

fn clamp(mut p: BgJobProgress) -> BgJobProgress {
    if p.bytes_total != BG_SIZE_UNKNOWN {
        p.bytes_transferred = p.bytes_transferred.min(p.bytes_total);
    }
    p.files_transferred = p.files_transferred.min(p.files_total);
    p
}

impl fmt::Debug for JobCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobCounters")
            .field("state", &self.state())
            .field("generation", &self.generation().0)
            .field("progress", &self.snapshot())
            .finish()
    }
}

impl fmt::Debug for FileCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCounters").field("progress", &self.read()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_file_counts_as_neither_transferred_nor_holding_bytes() {
        let c = JobCounters::new(BgJobState::Transferred);
        let f = FileCounters::new(0);
        c.add_file();
        c.set_file_size(&f, Some(10));
        c.add_file_bytes(&f, 10);
        assert!(c.finish_file(&f));
        assert_eq!(c.snapshot().files_transferred, 1);
        c.unfinish_file(&f);
        let p = c.snapshot();
        assert_eq!(
            (p.files_transferred, p.files_total, p.bytes_transferred, p.bytes_total),
            (0, 1, 0, 10)
        );
        assert!(!f.is_transferred());
        c.unfinish_file(&f); // a second time changes nothing
        assert_eq!(c.snapshot(), p);
        c.add_file_bytes(&f, 10);
        assert!(c.finish_file(&f), "the file can finish again");
        assert_eq!(c.snapshot().files_transferred, 1);
    }

    #[test]
    fn empty_job_reports_zero_total() {
        let c = JobCounters::new(BgJobState::Suspended);
        assert_eq!(c.snapshot(), BgJobProgress::default());
    }

    #[test]
    fn unknown_file_makes_total_unknown_until_sized() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new(0);
        c.add_file();
        assert_eq!(c.snapshot().bytes_total, BG_SIZE_UNKNOWN);
        assert!(c.set_file_size(&f, Some(10)));
        assert_eq!(c.snapshot().bytes_total, 10);
    }

    #[test]
    fn bytes_past_known_size_are_refused() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new(0);
        c.add_file();
        c.set_file_size(&f, Some(10));
        assert!(c.add_file_bytes(&f, 10));
        assert!(!c.add_file_bytes(&f, 1));
        assert_eq!(c.snapshot().bytes_transferred, 10);
    }

    #[test]
    fn finish_of_unknown_size_file_sets_size_to_bytes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new(0);
        c.add_file();
        assert!(c.add_file_bytes(&f, 7));
        assert!(c.finish_file(&f));
        assert_eq!(
            c.snapshot(),
            BgJobProgress {
                bytes_total: 7,
                bytes_transferred: 7,
                files_total: 1,
                files_transferred: 1
            }
        );
        assert!(!c.finish_file(&f), "a file is counted once");
    }

    #[test]
    fn finish_short_of_size_is_refused() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new(0);
        c.add_file();
        c.set_file_size(&f, Some(10));
        c.add_file_bytes(&f, 9);
        assert!(!c.finish_file(&f));
        assert_eq!(c.snapshot().files_transferred, 0);
    }

    #[test]
    fn restart_subtracts_only_that_files_bytes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let (a, b) = (FileCounters::new(0), FileCounters::new(1));
        c.add_file();
        c.add_file();
        c.set_file_size(&a, Some(5));
        c.set_file_size(&b, Some(5));
        c.add_file_bytes(&a, 5);
        c.add_file_bytes(&b, 3);
        assert_eq!(c.restart_file(&b), 3);
        assert_eq!(c.snapshot().bytes_transferred, 5);
        assert_eq!(c.file_snapshot(&b).bytes_transferred, 0);
    }

    #[test]
    fn striped_bytes_add_up_and_a_restart_leaves_the_other_stripes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let files: Vec<_> = (0..3).map(FileCounters::new).collect();
        assert_eq!(files.iter().map(FileCounters::stripe_index).collect::<Vec<_>>(), [0, 1, 0]);
        for (f, n) in files.iter().zip([5, 7, 11]) {
            c.add_file();
            assert!(c.add_file_bytes(f, n));
        }
        assert_eq!(c.snapshot().bytes_transferred, 23);
        assert_eq!(c.restart_file(&files[2]), 11);
        assert_eq!(c.snapshot().bytes_transferred, 12);
        assert_eq!(c.restart_file(&files[1]), 7);
        assert_eq!(c.snapshot().bytes_transferred, 5);
    }

    #[test]
    fn a_file_opened_beside_a_writer_on_its_stripe_moves_with_its_bytes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let files: Vec<_> = (0..3).map(FileCounters::new).collect();
        for (f, n) in files.iter().zip([5, 7, 11]) {
            c.add_file();
            assert!(c.add_file_bytes(f, n));
        }
        // File 2 (stripe 0) opens while file 0 (stripe 0) is being written: it moves to stripe 1.
        c.pick_stripe(&files[2], [&files[0]].into_iter());
        assert_eq!(files[2].stripe_index(), 1);
        assert_eq!(c.snapshot().bytes_transferred, 23);
        assert_eq!(c.restart_file(&files[2]), 11);
        assert_eq!(c.snapshot().bytes_transferred, 12);
        // Every stripe busy: the file stays where it is.
        c.pick_stripe(&files[1], [&files[0], &files[2]].into_iter());
        assert_eq!(files[1].stripe_index(), 1);
        // Its own stripe free: it stays too.
        c.pick_stripe(&files[0], [&files[1]].into_iter());
        assert_eq!(files[0].stripe_index(), 0);
        assert_eq!(c.snapshot().bytes_transferred, 12);
    }

    #[test]
    fn resize_to_smaller_keeps_total_consistent() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new(0);
        c.add_file();
        c.set_file_size(&f, Some(100));
        c.add_file_bytes(&f, 60);
        assert!(!c.set_file_size(&f, Some(50)), "cannot shrink below the bytes held");
        c.restart_file(&f);
        assert!(c.set_file_size(&f, Some(50)));
        assert_eq!(c.snapshot().bytes_total, 50);
        assert!(c.set_file_size(&f, None));
        assert_eq!(c.snapshot().bytes_total, BG_SIZE_UNKNOWN);
    }

    #[test]
    fn state_word_revokes_claims() {
        let c = JobCounters::new(BgJobState::Queued);
        let g = c.set_state(BgJobState::Connecting, 1);
        assert!(c.claim_is_live(g));
        c.set_state(BgJobState::Transferring, 0);
        assert!(c.claim_is_live(g));
        c.set_state(BgJobState::Suspended, 1);
        assert!(!c.claim_is_live(g));
        assert_eq!(c.state(), BgJobState::Suspended);
    }
}
