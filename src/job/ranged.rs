//! Ranged files (`add_file_with_ranges`, `get_file_ranges`, DESIGN 6.3): the seam the job
//! interfaces call. Not built yet: adding a ranged file is refused with `E_NOTIMPL`, and every
//! file is a whole file.

use crate::{BgError, BgFileRange, Job, JobFile, Result};
use std::path::Path;

impl Job {
    /// Adds a file of which only `ranges` are downloaded (`AddFileWithRanges`).
    #[allow(dead_code, reason = "called by the Job3 interface, which lands next")]
    pub(crate) fn add_ranged_file(
        &self,
        _remote_url: &str,
        _local_name: &Path,
        _ranges: &[BgFileRange],
    ) -> Result<()> {
        Err(BgError::NotImplemented("ranged files"))
    }
}

impl JobFile {
    /// The ranges given to `add_file_with_ranges`, as given; empty for a whole file.
    #[allow(dead_code, reason = "called by the File2 interface, which lands next")]
    pub(crate) fn ranges_as_given(&self) -> Vec<BgFileRange> {
        Vec::new()
    }
}
