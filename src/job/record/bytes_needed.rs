//! What the store keeps of a job's DESIGN 6.3 state (record format 2): the Job5 properties, and
//! per file the ranges as given and what an on-demand reader asked for.

/// The default least time between two notifications of a job, in milliseconds (BITS's).
pub(crate) const DEFAULT_NOTIFICATION_INTERVAL_MS: u32 = 500;

/// The default cost flags: every network but a roaming one
/// (`BITS_COST_STATE_TRANSFER_NOT_ROAMING`).
pub(crate) const DEFAULT_COST_FLAGS: u32 = 0x8000_007F;

/// What the store keeps of a job's DESIGN 6.3 state (record format 2): the Job5 properties, and
/// per file the ranges as given and what an on-demand reader asked for. The default is what a
/// job without any of it has (a format-1 record reads as it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BytesNeeded {
    pub(crate) cost_flags: u32,
    pub(crate) dynamic_content: bool,
    pub(crate) high_performance: bool,
    pub(crate) max_download_size: u64,
    pub(crate) notification_interval_ms: u32,
    pub(crate) on_demand: bool,
    /// Per file, in the job's order (files past the end have none of it).
    pub(crate) files: Vec<FileBytesNeeded>,
}

/// One file's part of [`BytesNeeded`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FileBytesNeeded {
    /// The ranges as given to `add_file_with_ranges` (empty: a whole file).
    pub(crate) given: Vec<crate::BgFileRange>,
    /// On demand: the ranges asked for, `(start, end)`, sorted and disjoint.
    pub(crate) wanted: Vec<(u64, u64)>,
}

impl Default for BytesNeeded {
    fn default() -> Self {
        BytesNeeded {
            cost_flags: DEFAULT_COST_FLAGS,
            dynamic_content: false,
            high_performance: false,
            max_download_size: 0,
            notification_interval_ms: DEFAULT_NOTIFICATION_INTERVAL_MS,
            on_demand: false,
            files: Vec::new(),
        }
    }
}

impl BytesNeeded {
    /// Whether there is nothing but defaults (the record can stay in format 1).
    #[cfg(feature = "store")]
    pub(crate) fn is_default(&self) -> bool {
        let files = self.files.iter().all(|file| *file == FileBytesNeeded::default());
        BytesNeeded { files: Vec::new(), ..self.clone() } == BytesNeeded::default() && files
    }
}
