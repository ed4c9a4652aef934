//! The segments of a file fetched over several connections (DESIGN 5.3): which ranges are taken
//! by which writer, which are on disk, and how an idle connection splits the largest range still
//! being fetched.
//!
//! A file is fetched in blocks of [`BLOCK`] bytes. A [`Segment`] is a run of blocks from a base
//! offset; its *span* packs the next block to claim and the end block (exclusive) into one atomic
//! word, so that a writer claiming its next block and a splitter lowering the end never interleave
//! badly: both are one compare-and-swap on the same word. A writer claims a block before its
//! first byte, writes it at its offset, and counts it when the whole block is on disk (a block
//! cut by a failed connection is written again, and never counted twice); then `done` moves past
//! it. A split takes the upper half of the blocks not yet claimed (at least [`MIN_SEGMENT`] bytes
//! left on each side) for a new segment. The ranges on disk are each segment's blocks up to
//! `done`, plus the ranges the file had before it was segmented.
//!
//! | word | bits 32..64 | bits 0..32 | changed by |
//! |---|---|---|---|
//! | `span` | end block (exclusive) | next block to claim | the writer (next + 1, CAS), a splitter (end down, CAS) |
//! | `done` | | blocks written and counted | the writer only |

use crate::job::filled_ranges::merge;
use crate::sync::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use parking_lot::Mutex;
use std::fmt;
use std::sync::Arc;

/// The unit a segment is claimed, written and counted in.
pub(crate) const BLOCK: u64 = 64 * 1024;
/// Segments are at least 1 MiB: a range is split only if both halves keep that much.
pub(crate) const MIN_SEGMENT: u64 = 1 << 20;

/// A run of blocks of a file, fetched by one writer at a time (see the module docs).
pub(crate) struct Segment {
    /// The byte offset of its block 0.
    pub(crate) base: u64,
    /// The byte end of the gap it came from: its last block ends there at the latest (the next
    /// range on disk, or the end of the file, starts there).
    limit: u64,
    /// Next block to claim (low half) and end block (high half), relative to `base`.
    span: AtomicU64,
    /// Blocks written and counted.
    done: AtomicU32,
}

fn pack(next: u32, end: u32) -> u64 {
    u64::from(end) << 32 | u64::from(next)
}

fn unpack(word: u64) -> (u32, u32) {
    (word as u32, (word >> 32) as u32)
}

impl Segment {
    fn new(base: u64, limit: u64) -> Segment {
        let blocks = (limit - base).div_ceil(BLOCK) as u32;
        Segment { base, limit, span: AtomicU64::new(pack(0, blocks)), done: AtomicU32::new(0) }
    }

    /// The byte offset of block `block` (at most the segment's limit).
    pub(crate) fn offset_of(&self, block: u32) -> u64 {
        (self.base + u64::from(block) * BLOCK).min(self.limit)
    }

    /// The byte end of the segment now (lowered by splits).
    pub(crate) fn end(&self) -> u64 {
        self.offset_of(self.span().1)
    }

    /// The next block to claim and the end block.
    pub(crate) fn span(&self) -> (u32, u32) {
        // Acquire: pairs with the CAS of a claim or a split, so the reader sees a consistent pair.
        unpack(self.span.load(Ordering::Acquire))
    }

    /// Blocks written and counted.
    pub(crate) fn done(&self) -> u32 {
        // Acquire: a checkpoint that sees `done` sees the counted blocks' bytes on disk (the
        // writer stores it after the write and the count).
        self.done.load(Ordering::Acquire)
    }

    /// Claims the next block for its writer, `None` if the segment ends before it (finished, or
    /// cut by a split).
    pub(crate) fn claim(&self) -> Option<u32> {
        // Relaxed: the first read only proposes; the CAS below decides.
        let mut word = self.span.load(Ordering::Relaxed);
        loop {
            let (next, end) = unpack(word);
            if next >= end {
                return None;
            }
            // AcqRel: a claim and a split of the same word are ordered one way or the other.
            match self.span.compare_exchange_weak(
                word,
                pack(next + 1, end),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(next),
                Err(seen) => word = seen,
            }
        }
    }

    /// The writer finished block `block` (written and counted).
    pub(crate) fn finish_block(&self, block: u32) {
        // Release: publishes the block's bytes (written and counted before) to checkpoints.
        self.done.store(block + 1, Ordering::Release);
    }

    /// Takes the upper half of the blocks not claimed yet, if each half keeps at least
    /// [`MIN_SEGMENT`] bytes; returns the first block taken and the old end.
    fn split(&self) -> Option<(u32, u32)> {
        // Relaxed: the first read only proposes; the CAS below decides.
        let mut word = self.span.load(Ordering::Relaxed);
        loop {
            let (next, end) = unpack(word);
            let mid = next + end.saturating_sub(next) / 2;
            let halves = (
                self.offset_of(mid).saturating_sub(self.offset_of(next)),
                self.offset_of(end).saturating_sub(self.offset_of(mid)),
            );
            if halves.0 < MIN_SEGMENT || halves.1 < MIN_SEGMENT {
                return None;
            }
            // AcqRel: as in `claim`; after it, the writer cannot claim a block at or past `mid`.
            match self.span.compare_exchange_weak(
                word,
                pack(next, mid),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some((mid, end)),
                Err(seen) => word = seen,
            }
        }
    }

    /// Where a writer taking the segment starts: its first block not yet written and counted.
    pub(crate) fn resume_at(&self) -> u64 {
        self.offset_of(self.done())
    }

    /// Whether some block of it is not yet written and counted (claimed or not: a block whose
    /// writer let go before finishing it is written again by the next one).
    pub(crate) fn has_work(&self) -> bool {
        self.done() < self.span().1
    }

    /// Blocks not claimed yet.
    fn left(&self) -> u32 {
        let (next, end) = self.span();
        end.saturating_sub(next)
    }
}

/// The segments of one file and who fetches them (see the module docs).
pub(crate) struct SegmentTable {
    size: u64,
    /// Byte ranges the file held before it was segmented (on disk already).
    before: Vec<(u64, u64)>,
    state: Mutex<TableState>,
    /// Every writer stops (the content changed, or a connection failed for good).
    abandoned: AtomicBool,
}

struct TableState {
    segments: Vec<Arc<Segment>>,
    /// Whether a writer holds each segment.
    taken: Vec<bool>,
}

impl SegmentTable {
    /// The table of a file of `size` bytes that holds `have` already (sorted, disjoint ranges):
    /// each gap becomes up to `pieces` segments of at least [`MIN_SEGMENT`] bytes (one if it is
    /// smaller than two). `None` for a file too large for 32-bit block numbers.
    pub(crate) fn new(size: u64, have: &[(u64, u64)], pieces: u32) -> Option<SegmentTable> {
        if size.div_ceil(BLOCK) > u64::from(u32::MAX) {
            return None;
        }
        let mut segments = Vec::new();
        let mut at = 0;
        for &(start, end) in have.iter().chain(std::iter::once(&(size, size))) {
            if start > at {
                let gap = start - at;
                let parts = (gap / MIN_SEGMENT).clamp(1, u64::from(pieces.max(1)));
                // Whole blocks, at least MIN_SEGMENT (a multiple of BLOCK) each; the last part
                // takes the rest.
                let part = (gap / parts) / BLOCK * BLOCK;
                for i in 0..parts {
                    let from = at + i * part;
                    let to = if i + 1 == parts { start } else { from + part };
                    segments.push(Arc::new(Segment::new(from, to)));
                }
            }
            at = at.max(end);
        }
        let taken = vec![false; segments.len()];
        Some(SegmentTable {
            size,
            before: have.to_vec(),
            state: Mutex::new(TableState { segments, taken }),
            abandoned: AtomicBool::new(false),
        })
    }

    /// The segment whose range starts at byte `offset`, if no writer holds it.
    pub(crate) fn take_at(&self, offset: u64) -> Option<(usize, Arc<Segment>)> {
        let mut state = self.state.lock();
        let index = state.segments.iter().position(|s| s.resume_at() == offset && s.has_work())?;
        if state.taken[index] {
            return None;
        }
        state.taken[index] = true;
        Some((index, Arc::clone(&state.segments[index])))
    }

    /// The next segment for an idle writer: one no writer holds, else the upper half of the
    /// segment with the most blocks left (its writer stops at the split).
    pub(crate) fn take_next(&self) -> Option<(usize, Arc<Segment>)> {
        let mut state = self.state.lock();
        if let Some(index) =
            (0..state.segments.len()).find(|&i| !state.taken[i] && state.segments[i].has_work())
        {
            state.taken[index] = true;
            return Some((index, Arc::clone(&state.segments[index])));
        }
        let largest = (0..state.segments.len()).max_by_key(|&i| state.segments[i].left())?;
        let segment = Arc::clone(&state.segments[largest]);
        let (mid, end) = segment.split()?;
        // The upper half ends where the segment ended before the split (its limit, or an
        // earlier split's start).
        let upper = Arc::new(Segment::new(segment.offset_of(mid), segment.offset_of(end)));
        state.segments.push(Arc::clone(&upper));
        state.taken.push(true);
        Some((state.segments.len() - 1, upper))
    }

    /// A writer lets segment `index` go (it stopped or failed): another may take it.
    pub(crate) fn release(&self, index: usize) {
        if let Some(taken) = self.state.lock().taken.get_mut(index) {
            *taken = false;
        }
    }

    /// How many segments writers hold.
    pub(crate) fn holders(&self) -> u32 {
        self.state.lock().taken.iter().filter(|taken| **taken).count() as u32
    }

    /// Tells every writer to stop.
    pub(crate) fn abandon(&self) {
        // Release: a writer that sees it stops before its next byte.
        self.abandoned.store(true, Ordering::Release);
    }

    /// Whether [`abandon`](Self::abandon) was called.
    pub(crate) fn abandoned(&self) -> bool {
        // Acquire: pairs with the Release in `abandon`.
        self.abandoned.load(Ordering::Acquire)
    }

    /// Whether every block of every segment is written and counted.
    pub(crate) fn complete(&self) -> bool {
        let state = self.state.lock();
        state.segments.iter().all(|s| s.done() >= s.span().1)
    }

    /// The byte ranges on disk (sorted, merged): what the file held before, and every segment's
    /// blocks up to `done`.
    pub(crate) fn on_disk(&self) -> Vec<(u64, u64)> {
        let state = self.state.lock();
        let mut ranges: Vec<(u64, u64)> = self.before.clone();
        for segment in &state.segments {
            let end = segment.offset_of(segment.done());
            if end > segment.base {
                ranges.push((segment.base, end));
            }
        }
        merge(ranges)
    }
}

impl fmt::Debug for SegmentTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One lock at a time: `on_disk` takes the state's lock itself (not reentrant).
        let segments = self.state.lock().segments.len();
        f.debug_struct("SegmentTable")
            .field("size", &self.size)
            .field("segments", &segments)
            .field("on_disk", &self.on_disk())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// Formats `value` on another thread; `None` if it did not finish within a generous bound
    /// (a deadlock), so that a failing test fails instead of hanging.
    fn format_within<T: fmt::Debug + Send + 'static>(value: T) -> Option<String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(format!("{value:?}"));
        });
        receiver.recv_timeout(std::time::Duration::from_secs(60)).ok()
    }

    #[test]
    fn debug_of_a_table_does_not_deadlock() {
        let table = Arc::new(SegmentTable::new(4 * MIB, &[(0, MIB)], 2).unwrap());
        let text = format_within(Arc::clone(&table)).expect("Debug of a SegmentTable hangs");
        assert!(text.contains("SegmentTable") && text.contains("on_disk"), "{text}");
        // Through the derived Debug of the file's disk state too.
        let mut disk = crate::job::state::file::FileDisk::default();
        disk.set_segments(Some(table));
        let text = format_within(disk).expect("Debug of a FileDisk with segments hangs");
        assert!(text.contains("SegmentTable"), "{text}");
    }

    #[test]
    fn gaps_become_segments_and_what_was_there_stays_on_disk() {
        let table = SegmentTable::new(10 * MIB, &[(0, 3 * MIB), (5 * MIB, 6 * MIB)], 1).unwrap();
        let (_, first) = table.take_next().unwrap();
        assert_eq!(first.base, 3 * MIB);
        let (_, second) = table.take_next().unwrap();
        assert_eq!(second.base, 6 * MIB);
        assert_eq!(table.on_disk(), [(0, 3 * MIB), (5 * MIB, 6 * MIB)]);
    }

    #[test]
    fn an_idle_writer_splits_the_largest_range_and_its_writer_stops_at_the_split() {
        let table = SegmentTable::new(8 * MIB, &[], 1).unwrap();
        let (_, whole) = table.take_next().unwrap();
        assert_eq!(whole.claim(), Some(0));
        let (_, upper) = table.take_next().unwrap();
        // 127 blocks were left: the writer keeps 1..64, the new segment takes 64..128.
        assert_eq!(whole.span(), (1, 64));
        assert_eq!((upper.base, upper.span(), upper.end()), (64 * BLOCK, (0, 64), 8 * MIB));
        assert_eq!(whole.end(), 64 * BLOCK);
        while whole.claim().is_some() {}
        assert_eq!(whole.span().0, 64, "the writer stopped at the split");
        assert_eq!(upper.claim(), Some(0));
    }

    #[test]
    fn a_segment_split_twice_hands_out_disjoint_ranges_that_cover_it() {
        let table = SegmentTable::new(16 * MIB + 3, &[], 1).unwrap();
        let mut segments = vec![table.take_next().unwrap().1];
        while let Some((_, next)) = table.take_next() {
            segments.push(next);
        }
        let mut ranges: Vec<(u64, u64)> = segments.iter().map(|s| (s.base, s.end())).collect();
        ranges.sort_unstable();
        assert!(ranges.len() >= 8, "{ranges:?}");
        assert_eq!(ranges.first().unwrap().0, 0);
        assert_eq!(ranges.last().unwrap().1, 16 * MIB + 3);
        assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0), "{ranges:?}");
        assert!(ranges.iter().all(|(start, end)| end - start >= MIB), "{ranges:?}");
    }

    #[test]
    fn gaps_are_cut_into_pieces_of_whole_blocks_of_at_least_a_mebibyte() {
        for (size, pieces, expected) in [
            (2 * MIB, 4, vec![(0, MIB), (MIB, 2 * MIB)]),
            (2 * MIB - 1, 4, vec![(0, 2 * MIB - 1)]),
            (
                10 * MIB + 5,
                3,
                vec![(0, 3392 * 1024), (3392 * 1024, 6784 * 1024), (6784 * 1024, 10 * MIB + 5)],
            ),
            (8 * MIB, 1, vec![(0, 8 * MIB)]),
        ] {
            let table = SegmentTable::new(size, &[], pieces).unwrap();
            let mut got = Vec::new();
            while let Some((_, s)) = table.take_next() {
                if got.len() == expected.len() {
                    break;
                }
                got.push((s.base, s.end()));
            }
            assert_eq!(got, expected, "{size} in {pieces}");
            assert!(got.iter().all(|(a, b)| b - a >= MIB && a % BLOCK == 0));
        }
        // Each gap on its own: 3 MiB at 1..4, 1 MiB at 6..7.
        let table = SegmentTable::new(7 * MIB, &[(0, MIB), (4 * MIB, 6 * MIB)], 4).unwrap();
        let bases: Vec<u64> =
            (0..4).filter_map(|_| table.take_next()).map(|(_, s)| s.base).collect();
        assert_eq!(bases, [MIB, 2 * MIB, 3 * MIB, 6 * MIB]);
    }

    #[test]
    fn ranges_smaller_than_two_minimum_segments_are_not_split() {
        let table = SegmentTable::new(2 * MIB - 1, &[], 1).unwrap();
        table.take_next().unwrap();
        assert!(table.take_next().is_none());
        let table = SegmentTable::new(2 * MIB, &[], 1).unwrap();
        table.take_next().unwrap();
        assert!(table.take_next().is_some(), "2 MiB: two segments of 1 MiB");
    }

    #[test]
    fn blocks_count_on_disk_only_once_finished_and_the_last_block_may_be_short() {
        let table = SegmentTable::new(BLOCK * 2 + 10, &[], 1).unwrap();
        let (_, segment) = table.take_next().unwrap();
        for _ in 0..3 {
            let block = segment.claim().unwrap();
            assert!(table.on_disk().iter().all(|(_, end)| *end <= u64::from(block) * BLOCK));
            segment.finish_block(block);
        }
        assert_eq!(table.on_disk(), [(0, BLOCK * 2 + 10)]);
        assert!(table.complete());
    }

    #[test]
    fn a_gap_before_a_range_on_disk_ends_at_that_range_not_at_a_block_boundary() {
        let table = SegmentTable::new(MIB, &[(BLOCK + 10, MIB)], 1).unwrap();
        let (_, gap) = table.take_next().unwrap();
        assert_eq!(gap.span(), (0, 2));
        assert_eq!(gap.end(), BLOCK + 10);
        for _ in 0..2 {
            let block = gap.claim().unwrap();
            gap.finish_block(block);
        }
        assert_eq!(table.on_disk(), [(0, MIB)]);
        assert!(table.complete());
    }

    #[test]
    fn a_released_segment_is_taken_again_from_its_unfinished_block() {
        let table = SegmentTable::new(MIB, &[], 1).unwrap();
        let (index, segment) = table.take_next().unwrap();
        let first = segment.claim().unwrap();
        segment.finish_block(first);
        segment.claim(); // block 1, cut before it was finished
        assert!(table.take_next().is_none());
        table.release(index);
        let (_, again) = table.take_at(BLOCK).expect("the segment resumes at block 1");
        assert_eq!((again.resume_at(), again.done(), again.span().0), (BLOCK, 1, 2));
    }

    #[test]
    fn a_segment_whose_last_block_was_cut_still_has_work() {
        let table = SegmentTable::new(BLOCK, &[], 1).unwrap();
        let (index, segment) = table.take_next().unwrap();
        segment.claim();
        table.release(index);
        assert!(segment.has_work());
        assert!(table.take_next().is_some());
        assert!(!table.complete());
    }
}

/// The claim/split protocol under loom: a writer claiming blocks while an idle connection
/// splits its segment. Each block goes to exactly one side, the writer never claims at or past
/// the split, and the new segment starts exactly where the writer's ends.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;

    #[test]
    fn a_claim_racing_a_split_hands_each_block_to_one_writer() {
        loom::model(|| {
            // 33 blocks: a split is possible while at most one block is claimed.
            let segment = Arc::new(Segment::new(0, 2 * MIN_SEGMENT + BLOCK));
            let writer = {
                let segment = Arc::clone(&segment);
                loom::thread::spawn(move || {
                    let mut claimed = Vec::new();
                    for _ in 0..2 {
                        if let Some(block) = segment.claim() {
                            claimed.push(block);
                        }
                    }
                    claimed
                })
            };
            let split = segment.split();
            let claimed = writer.join().unwrap();
            let (next, end) = segment.span();
            assert_eq!(claimed, (0..next).collect::<Vec<_>>(), "in order, none twice");
            match split {
                Some((mid, old_end)) => {
                    assert_eq!((end, old_end), (mid, 33));
                    assert!(claimed.iter().all(|&b| b < mid));
                    let upper = Segment::new(segment.offset_of(mid), segment.offset_of(old_end));
                    assert_eq!(upper.base, segment.end());
                }
                None => assert_eq!(end, 33),
            }
        });
    }
}
