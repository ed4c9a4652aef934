//! Ranged files (`add_file_with_ranges`, `get_file_ranges`, DESIGN 6.3): only the given ranges of
//! the remote file are fetched, and written back to back into the local file in the order given.
//!
//! The rules checked when the file is added (BITS's):
//! - no range, or more than [`MAX_RANGES`] (`BG_E_TOO_MANY_RANGES_IN_FILE`);
//! - a range of length zero, or whose end does not fit in a `u64` (`BG_E_INVALID_RANGE`);
//! - two ranges sharing a byte, a range to the end of the file counting as reaching every
//!   offset after its start (`BG_E_OVERLAPPING_RANGES`).
//!
//! A range past the end of the remote file can only be found once its size is known: the
//! transfer fails then with `BG_E_INVALID_RANGE` (see `engine/ranged.rs`).

use crate::{BgError, BgFileInfo, BgFileRange, Job, JobFile, Result};
use std::path::Path;

/// The most ranges one file may have (BITS's limit for users).
pub(crate) const MAX_RANGES: usize = 500;

/// Checks ranges as `add_file_with_ranges` takes them (see the module docs).
pub(crate) fn check(ranges: &[BgFileRange]) -> Result<()> {
    if ranges.is_empty() {
        return Err(BgError::InvalidArgument("a ranged file needs at least one range".into()));
    }
    if ranges.len() > MAX_RANGES {
        return Err(BgError::TooManyRangesInFile { count: ranges.len(), limit: MAX_RANGES });
    }
    for range in ranges {
        let bad =
            range.length == 0 || (range.length != crate::BG_LENGTH_TO_EOF && range.end().is_none());
        if bad {
            return Err(BgError::InvalidRange(
                format!(
                    "the range of {} bytes at offset {} is invalid",
                    range.length, range.initial_offset
                )
                .into(),
            ));
        }
    }
    let mut sorted: Vec<(u64, u64)> =
        ranges.iter().map(|r| (r.initial_offset, r.end().unwrap_or(u64::MAX))).collect();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[1].0 < pair[0].1) {
        return Err(BgError::OverlappingRanges(
            format!("the ranges starting at {} and {} overlap", pair[0].0, pair[1].0).into(),
        ));
    }
    Ok(())
}

impl Job {
    /// Adds a file of which only `ranges` are downloaded (`AddFileWithRanges`): checked as the
    /// module docs say, then added as `add_file` adds a file.
    pub(crate) fn add_ranged_file(
        &self,
        remote_url: &str,
        local_name: &Path,
        ranges: &[BgFileRange],
    ) -> Result<()> {
        check(ranges)?;
        if self.lock().properties.dynamic_content {
            return Err(BgError::InvalidArgument(
                "a job with dynamic content cannot have ranged files".into(),
            ));
        }
        self.add_files_with(&[BgFileInfo::new(remote_url, local_name)], None, Some(ranges))
            .map(drop)
    }
}

impl JobFile {
    /// The ranges given to `add_file_with_ranges`, as given; empty for a whole file.
    pub(crate) fn ranges_as_given(&self) -> Vec<BgFileRange> {
        self.file.ranges.as_deref().map(<[BgFileRange]>::to_vec).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BG_LENGTH_TO_EOF, hresult};

    fn r(initial_offset: u64, length: u64) -> BgFileRange {
        BgFileRange { initial_offset, length }
    }

    fn code(ranges: &[BgFileRange]) -> u32 {
        check(ranges).unwrap_err().hresult()
    }

    #[test]
    fn ranges_are_checked_by_the_rules_of_bits() {
        assert!(check(&[r(100, 10), r(0, 10), r(200, BG_LENGTH_TO_EOF)]).is_ok());
        assert!(check(&[r(10, 10), r(0, 10)]).is_ok(), "touching ranges do not overlap");
        assert_eq!(code(&[]), hresult::E_INVALIDARG);
        assert_eq!(code(&[r(0, 0)]), hresult::BG_E_INVALID_RANGE);
        assert_eq!(code(&[r(u64::MAX - 1, 5)]), hresult::BG_E_INVALID_RANGE);
        assert_eq!(code(&[r(0, 10), r(5, 10)]), hresult::BG_E_OVERLAPPING_RANGES);
        assert_eq!(code(&[r(100, BG_LENGTH_TO_EOF), r(500, 1)]), hresult::BG_E_OVERLAPPING_RANGES);
        let many: Vec<_> = (0..501).map(|i| r(i * 10, 5)).collect();
        assert_eq!(code(&many), hresult::BG_E_TOO_MANY_RANGES_IN_FILE);
        assert!(check(&many[..500]).is_ok());
    }
}
