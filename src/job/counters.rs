//! The job's hot state: byte and file counters and the state word, all atomics, behind named
//! methods. No other file touches an atomic of a job.
//!
//! # The snapshot protocol
//!
//! A job keeps five counters: `files_total`, `files_transferred`, `bytes_transferred`,
//! `known_total` (the sum of the sizes that are known) and `unknown_files` (how many files have no
//! size yet), plus `resize_seq`, a sequence stamp that is odd while a known size is being lowered.
//! `bytes_total` is `BG_SIZE_UNKNOWN` while `unknown_files > 0`, else `known_total` (0 for a job
//! with no files).
//!
//! **Writers** keep a fixed order, every store or add with `Release`:
//! 1. adding a file: `unknown_files += 1`, then `files_total += 1` (under the job lock);
//! 2. learning a size: `known_total += size`, then `unknown_files -= 1`;
//! 3. writing bytes: the file's own counter, then `bytes_transferred += n`; once a file's size is
//!    known its bytes never pass it (the write is refused);
//! 4. finishing a file: after its last bytes, an unknown size becomes known (step 2) and then
//!    `files_transferred += 1`;
//! 5. a restart from zero subtracts the file's bytes from `bytes_transferred`;
//! 6. lowering or dropping a known size (rare) happens under the job lock inside
//!    `resize_seq` odd/even brackets.
//!
//! **Readers** load with `Acquire`, in the reverse order: `resize_seq`, `files_transferred`,
//! `bytes_transferred`, `unknown_files`, `known_total`, `files_total`, then an `Acquire` fence
//! and `resize_seq` again; if a resize overlapped, the read is retried (at most
//! [`MAX_SNAPSHOT_RETRIES`] times, then the values are clamped to the invariants, which can only
//! happen if a driver lowers sizes in a tight loop).
//!
//! Because every counter except `bytes_transferred` only grows outside a resize, and an `Acquire`
//! load that sees a value synchronizes with every `Release` add before it, this order gives:
//! - `files_transferred <= files_total` (a file is added before it can finish);
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

use crate::sync::{fence, AtomicU32, AtomicU64, Ordering};
use crate::{BgFileProgress, BgJobProgress, BgJobState, BG_SIZE_UNKNOWN};
use std::fmt;

/// How many times a snapshot is retried when it overlapped a size reduction.
pub(crate) const MAX_SNAPSHOT_RETRIES: u32 = 64;

const FILE_TRANSFERRED: u32 = 0b01;
const FILE_COMPLETED: u32 = 0b10;

/// The job-wide counters and the state word.
pub(crate) struct JobCounters {
    // Written by every transfer thread on each chunk: kept on its own cache line.
    bytes_transferred: Padded<AtomicU64>,
    files_total: AtomicU32,
    files_transferred: AtomicU32,
    known_total: AtomicU64,
    unknown_files: AtomicU32,
    resize_seq: AtomicU32,
    state_word: AtomicU64,
}

/// Keeps a hot value on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// The counters of one file. Bytes and size have a single writer at a time: the driver that holds
/// the file's [`FileTransfer`](crate::FileTransfer) (the claim makes it exclusive).
#[repr(align(128))]
pub(crate) struct FileCounters {
    total: AtomicU64,
    transferred: AtomicU64,
    flags: AtomicU32,
}

/// A claim on a job: the state word value it was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation(u64);

impl JobCounters {
    pub(crate) fn new(state: BgJobState) -> Self {
        JobCounters {
            bytes_transferred: Padded(AtomicU64::new(0)),
            files_total: AtomicU32::new(0),
            files_transferred: AtomicU32::new(0),
            known_total: AtomicU64::new(0),
            unknown_files: AtomicU32::new(0),
            resize_seq: AtomicU32::new(0),
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

    /// Whether a claim made at `generation` is still the live one, and the job still in a
    /// transferring state. One load: cheap enough for every chunk.
    pub(crate) fn claim_is_live(&self, generation: Generation) -> bool {
        // Acquire: a driver that sees its claim revoked also sees why (the suspend/cancel state).
        let word = self.state_word.load(Ordering::Acquire);
        word >> 8 == generation.0
            && matches!(decode_state(word), BgJobState::Connecting | BgJobState::Transferring)
    }

    /// Sets the state; with `new_generation` also starts a new claim generation (revoking any
    /// driver's claim). Call only under the job lock: the word has a single writer at a time.
    pub(crate) fn set_state(&self, state: BgJobState, new_generation: bool) -> Generation {
        // Relaxed: writers are serialized by the job lock, which orders this load after the
        // previous store.
        let old = self.state_word.load(Ordering::Relaxed);
        let generation = (old >> 8) + u64::from(new_generation);
        // Release: publishes the transition (and the cold state written before it) to the
        // lock-free readers of `state`.
        self.state_word.store(generation << 8 | state as u64, Ordering::Release);
        Generation(generation)
    }

    // ---- writers -------------------------------------------------------------------------

    /// A file was added (size unknown). Under the job lock.
    pub(crate) fn add_file(&self) {
        // Release: unknown first, so the total turns unknown no later than the file is counted.
        self.unknown_files.fetch_add(1, Ordering::Release);
        // Release: publishes the file (added before it can ever be counted as transferred).
        self.files_total.fetch_add(1, Ordering::Release);
    }

    /// A file's size went from unknown to `size`.
    fn learn_size(&self, size: u64) {
        // Release: the size is in the total before the file stops counting as unknown.
        self.known_total.fetch_add(size, Ordering::Release);
        // Release: a reader that sees one fewer unknown file sees the size added above.
        self.unknown_files.fetch_sub(1, Ordering::Release);
    }

    /// Begins a size reduction. Under the job lock (resizes are serialized by it).
    fn begin_resize(&self) {
        // Relaxed load: only lock holders write the stamp.
        let seq = self.resize_seq.load(Ordering::Relaxed);
        // Relaxed store + Release fence: the odd stamp is ordered before every counter write of
        // the resize, so a reader that sees any of them re-reads an odd or changed stamp.
        self.resize_seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Release fence: orders the odd stamp before the resize's counter writes (see above).
        fence(Ordering::Release);
    }

    /// Ends a size reduction.
    fn end_resize(&self) {
        // Relaxed load: only lock holders write the stamp.
        let seq = self.resize_seq.load(Ordering::Relaxed);
        // Release: a reader that sees the even stamp sees every counter write of the resize.
        self.resize_seq.store(seq.wrapping_add(1), Ordering::Release);
    }

    // ---- reader --------------------------------------------------------------------------

    /// A consistent snapshot of the job's progress. Lock-free, allocation-free.
    pub(crate) fn snapshot(&self) -> BgJobProgress {
        let mut last = None;
        for _ in 0..MAX_SNAPSHOT_RETRIES {
            // Acquire: a stamp that is even and unchanged at the end means no resize overlapped.
            let seq_before = self.resize_seq.load(Ordering::Acquire);
            let progress = self.read_counters();
            // Acquire fence: orders the counter loads above before the stamp re-read below.
            fence(Ordering::Acquire);
            // Relaxed: ordered by the fence above.
            let seq_after = self.resize_seq.load(Ordering::Relaxed);
            if seq_before.is_multiple_of(2) && seq_before == seq_after {
                return progress;
            }
            last = Some(progress);
            std::hint::spin_loop();
        }
        clamp(last.unwrap_or_else(|| self.read_counters()))
    }

    fn read_counters(&self) -> BgJobProgress {
        // Acquire on each load, in the protocol's read order (see the module docs).
        let files_transferred = self.files_transferred.load(Ordering::Acquire);
        // Acquire: after files_transferred, so every finished file's bytes are included.
        let bytes_transferred = self.bytes_transferred.0.load(Ordering::Acquire);
        // Acquire: after bytes, so every size that bytes were counted against is seen below.
        let unknown = self.unknown_files.load(Ordering::Acquire);
        // Acquire: after unknown_files, so sizes of files that stopped being unknown are included.
        let known_total = self.known_total.load(Ordering::Acquire);
        // Acquire: last, so every file counted as transferred is counted here too.
        let files_total = self.files_total.load(Ordering::Acquire);
        BgJobProgress {
            bytes_total: if unknown > 0 { BG_SIZE_UNKNOWN } else { known_total },
            bytes_transferred,
            files_total,
            files_transferred,
        }
    }

    /// A consistent snapshot of one file of this job.
    pub(crate) fn file_snapshot(&self, file: &FileCounters) -> BgFileProgress {
        let mut last = None;
        for _ in 0..MAX_SNAPSHOT_RETRIES {
            // Acquire: as in `snapshot`.
            let seq_before = self.resize_seq.load(Ordering::Acquire);
            let progress = file.read();
            // Acquire fence: orders the loads above before the stamp re-read.
            fence(Ordering::Acquire);
            // Relaxed: ordered by the fence above.
            let seq_after = self.resize_seq.load(Ordering::Relaxed);
            if seq_before.is_multiple_of(2) && seq_before == seq_after {
                return progress;
            }
            last = Some(progress);
            std::hint::spin_loop();
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
            self.learn_size(size);
            return true;
        }
        // A known size changes: lower-then-raise inside a resize bracket.
        self.begin_resize();
        // Release: inside the bracket; readers that see it retry.
        self.known_total.fetch_sub(old, Ordering::Release);
        if size == BG_SIZE_UNKNOWN {
            // Release: inside the bracket.
            self.unknown_files.fetch_add(1, Ordering::Release);
        } else {
            // Release: inside the bracket.
            self.known_total.fetch_add(size, Ordering::Release);
        }
        // Release: inside the bracket.
        file.total.store(size, Ordering::Release);
        self.end_resize();
        true
    }

    /// Counts `n` bytes written to a file's temporary file. The hot path: two atomic operations,
    /// no lock, no clock. Returns `false` (and counts nothing) if the bytes would pass the file's
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
        self.bytes_transferred.0.fetch_add(n, Ordering::Release);
        true
    }

    /// Restarts a file from zero: its bytes leave the job's count (the one case where progress goes
    /// back). Returns the bytes removed.
    pub(crate) fn restart_file(&self, file: &FileCounters) -> u64 {
        // Relaxed: single writer.
        let have = file.transferred.load(Ordering::Relaxed);
        // Release: the file's own count drops first; the job aggregate follows.
        file.transferred.store(0, Ordering::Release);
        // Release: the job aggregate loses exactly this file's bytes.
        self.bytes_transferred.0.fetch_sub(have, Ordering::Release);
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
            self.learn_size(have);
        } else if have != total {
            return false;
        }
        // Release: the file's flag after all its bytes.
        file.flags.fetch_or(FILE_TRANSFERRED, Ordering::Release);
        // Release: the job's file count after all the file's bytes (protocol step 4).
        self.files_transferred.fetch_add(1, Ordering::Release);
        true
    }

    /// Marks a file completed (renamed into place by `complete()`).
    pub(crate) fn mark_completed(&self, file: &FileCounters) {
        // Release: the flag is published after the rename that it reports.
        file.flags.fetch_or(FILE_COMPLETED, Ordering::Release);
    }
}

impl FileCounters {
    pub(crate) fn new() -> Self {
        FileCounters {
            total: AtomicU64::new(BG_SIZE_UNKNOWN),
            transferred: AtomicU64::new(0),
            flags: AtomicU32::new(0),
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
}

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
    fn empty_job_reports_zero_total() {
        let c = JobCounters::new(BgJobState::Suspended);
        assert_eq!(c.snapshot(), BgJobProgress::default());
    }

    #[test]
    fn unknown_file_makes_total_unknown_until_sized() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new();
        c.add_file();
        assert_eq!(c.snapshot().bytes_total, BG_SIZE_UNKNOWN);
        assert!(c.set_file_size(&f, Some(10)));
        assert_eq!(c.snapshot().bytes_total, 10);
    }

    #[test]
    fn bytes_past_known_size_are_refused() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new();
        c.add_file();
        c.set_file_size(&f, Some(10));
        assert!(c.add_file_bytes(&f, 10));
        assert!(!c.add_file_bytes(&f, 1));
        assert_eq!(c.snapshot().bytes_transferred, 10);
    }

    #[test]
    fn finish_of_unknown_size_file_sets_size_to_bytes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new();
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
        let f = FileCounters::new();
        c.add_file();
        c.set_file_size(&f, Some(10));
        c.add_file_bytes(&f, 9);
        assert!(!c.finish_file(&f));
        assert_eq!(c.snapshot().files_transferred, 0);
    }

    #[test]
    fn restart_subtracts_only_that_files_bytes() {
        let c = JobCounters::new(BgJobState::Suspended);
        let (a, b) = (FileCounters::new(), FileCounters::new());
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
    fn resize_to_smaller_keeps_total_consistent() {
        let c = JobCounters::new(BgJobState::Suspended);
        let f = FileCounters::new();
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
        let g = c.set_state(BgJobState::Connecting, true);
        assert!(c.claim_is_live(g));
        c.set_state(BgJobState::Transferring, false);
        assert!(c.claim_is_live(g));
        c.set_state(BgJobState::Suspended, true);
        assert!(!c.claim_is_live(g));
        assert_eq!(c.state(), BgJobState::Suspended);
    }
}
