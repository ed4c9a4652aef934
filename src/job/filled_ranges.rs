//! Byte ranges of a temporary file: which parts of it are on disk. Sorted, disjoint, non-empty
//! `(start, end)` pairs, `end` exclusive, as the store records them.
//!
//! A file fetched on one connection holds one range from zero; a file fetched on several
//! ([`segments`](crate::job::state::segments)) may hold several, with holes between them. A single writer
//! continuing such a file starts at the first hole and writes straight on, over the ranges
//! ahead of it (the same bytes again), counting only the bytes that fill holes; so the ranges
//! on disk at any moment follow from the ranges it started with and the bytes counted since:
//! [`fill`].

/// Sorts ranges and merges those that touch or overlap; empty ones go.
pub(crate) fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(start, end)| end > start);
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The bytes the ranges cover.
pub(crate) fn total(ranges: &[(u64, u64)]) -> u64 {
    ranges.iter().map(|(start, end)| end - start).sum()
}

/// Where a single writer starts: the end of the range at zero, else zero.
pub(crate) fn first_hole(ranges: &[(u64, u64)]) -> u64 {
    match ranges.first() {
        Some(&(0, end)) => end,
        _ => 0,
    }
}

/// The ranges on disk once a single writer that started at the first hole of `base` has
/// brought the count to `counted` (see the module docs). `counted` below the total of `base`
/// cannot happen (the count only falls with a restart, which clears `base`); it gives `base`.
pub(crate) fn fill(base: &[(u64, u64)], counted: u64) -> Vec<(u64, u64)> {
    let mut extra = counted.saturating_sub(total(base));
    let mut position = 0;
    for &(start, end) in base {
        let hole = start.saturating_sub(position);
        if extra <= hole {
            break;
        }
        extra -= hole;
        position = position.max(end);
    }
    let mut ranges = base.to_vec();
    ranges.push((0, position + extra));
    merge(ranges)
}

/// The ranges cut at `len` (a temporary file found shorter than its record).
pub(crate) fn clip(ranges: &[(u64, u64)], len: u64) -> Vec<(u64, u64)> {
    ranges
        .iter()
        .filter(|(start, _)| *start < len)
        .map(|&(start, end)| (start, end.min(len)))
        .collect()
}

/// How many bytes of `start..end` the ranges cover.
pub(crate) fn overlap(ranges: &[(u64, u64)], start: u64, end: u64) -> u64 {
    ranges.iter().map(|&(s, e)| e.min(end).saturating_sub(s.max(start))).sum()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn merging_joins_touching_ranges() {
        assert_eq!(merge(vec![(5, 7), (0, 2), (2, 3), (6, 9), (4, 4)]), [(0, 3), (5, 9)]);
    }

    #[test]
    fn a_single_writer_fills_the_first_hole_then_runs_over_what_is_there() {
        let base = [(0, 10), (20, 30), (40, 50)];
        assert_eq!(fill(&base, 30), base);
        assert_eq!(fill(&base, 35), [(0, 15), (20, 30), (40, 50)]);
        // The first hole is full: the writer passes over 20..30 without counting it.
        assert_eq!(fill(&base, 40), [(0, 30), (40, 50)]);
        assert_eq!(fill(&base, 45), [(0, 35), (40, 50)]);
        assert_eq!(fill(&base, 60), [(0, 60)]);
        assert_eq!(fill(&[(5, 10)], 7), [(0, 2), (5, 10)]);
        assert_eq!(fill(&[], 7), [(0, 7)]);
        assert_eq!(fill(&[], 0), []);
    }

    #[test]
    fn clipping_cuts_at_the_length_found() {
        assert_eq!(clip(&[(0, 10), (20, 30)], 25), [(0, 10), (20, 25)]);
        assert_eq!(clip(&[(0, 10), (20, 30)], 20), [(0, 10)]);
        assert_eq!(first_hole(&[(0, 10), (20, 30)]), 10);
        assert_eq!(first_hole(&[(5, 10)]), 0);
    }

    proptest! {
        /// `fill` against a byte map: a writer from the first hole, counting only new bytes.
        #[test]
        fn fill_matches_a_byte_by_byte_writer(
            marks in proptest::collection::vec(any::<bool>(), 0..64),
            steps in 0usize..80,
        ) {
            let ranges_of = |bytes: &[bool]| -> Vec<(u64, u64)> {
                let single = bytes.iter().enumerate().filter(|(_, m)| **m);
                merge(single.map(|(i, _)| (i as u64, i as u64 + 1)).collect())
            };
            let mut have = marks.clone();
            let base = ranges_of(&marks);
            let mut counted = total(&base);
            let first = first_hole(&base) as usize;
            for position in first..first + steps {
                if position >= have.len() {
                    have.push(false);
                }
                if !have[position] {
                    have[position] = true;
                    counted += 1;
                }
                prop_assert_eq!(fill(&base, counted), ranges_of(&have));
            }
            prop_assert_eq!(overlap(&base, 0, u64::MAX), total(&base));
        }
    }
}
