use serde::{Deserialize, Serialize};

/// The size of a file (or job) that is not known yet (`BG_SIZE_UNKNOWN`, `(UINT64)-1`).
pub const BG_SIZE_UNKNOWN: u64 = u64::MAX;

/// Job-wide progress (`BG_JOB_PROGRESS`), as returned by
/// [`BackgroundCopyJob::get_progress`](crate::BackgroundCopyJob::get_progress).
///
/// Every snapshot satisfies [`BgJobProgress::is_consistent`]: `bytes_transferred <= bytes_total`
/// whenever the total is known and `files_transferred <= files_total`.
///
/// ```
/// use bgcopy::{BgJobProgress, BG_SIZE_UNKNOWN};
/// let p = BgJobProgress { bytes_total: 200, bytes_transferred: 50, files_total: 2, files_transferred: 0 };
/// assert_eq!(p.fraction(), Some(0.25));
/// assert_eq!(BgJobProgress { bytes_total: BG_SIZE_UNKNOWN, ..p }.fraction(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BgJobProgress {
    /// Sum of the sizes of all files; [`BG_SIZE_UNKNOWN`] while any file's size is unknown; 0 for a
    /// job with no files.
    pub bytes_total: u64,
    /// Bytes transferred so far over all files (bytes written to the temporary files).
    pub bytes_transferred: u64,
    /// Number of files in the job.
    pub files_total: u32,
    /// Number of files whose last byte is in their temporary file.
    pub files_transferred: u32,
}

impl BgJobProgress {
    /// The total size, or `None` while it is [`BG_SIZE_UNKNOWN`].
    pub const fn total(&self) -> Option<u64> {
        if self.bytes_total == BG_SIZE_UNKNOWN { None } else { Some(self.bytes_total) }
    }

    /// Fraction of bytes transferred in `0.0..=1.0`; `None` while the total is unknown; `1.0` for a
    /// job whose known total is zero.
    pub fn fraction(&self) -> Option<f64> {
        match self.total() {
            None => None,
            Some(0) => Some(1.0),
            Some(total) => Some(self.bytes_transferred as f64 / total as f64),
        }
    }

    /// Whether the snapshot is possible: bytes within the known total and files within the count.
    pub const fn is_consistent(&self) -> bool {
        (self.bytes_total == BG_SIZE_UNKNOWN || self.bytes_transferred <= self.bytes_total)
            && self.files_transferred <= self.files_total
    }
}

/// Progress of one file (`BG_FILE_PROGRESS`), as returned by
/// [`BackgroundCopyFile::get_progress`](crate::BackgroundCopyFile::get_progress).
///
/// "Has the file been transferred?" is `bytes_transferred == bytes_total`;
/// `completed` turns true only when `complete()` made the file visible under its local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BgFileProgress {
    /// Size of the file; [`BG_SIZE_UNKNOWN`] until known.
    pub bytes_total: u64,
    /// Bytes of this file in its temporary file.
    pub bytes_transferred: u64,
    /// `true` once `complete()` renamed the file into place.
    pub completed: bool,
}

impl Default for BgFileProgress {
    /// A new file: size unknown, nothing transferred, not completed.
    fn default() -> Self {
        BgFileProgress { bytes_total: BG_SIZE_UNKNOWN, bytes_transferred: 0, completed: false }
    }
}

impl BgFileProgress {
    /// The size, or `None` while it is [`BG_SIZE_UNKNOWN`].
    pub const fn total(&self) -> Option<u64> {
        if self.bytes_total == BG_SIZE_UNKNOWN { None } else { Some(self.bytes_total) }
    }

    /// `true` once every byte of the file is in its temporary file (or the file was completed).
    pub const fn is_transferred(&self) -> bool {
        self.bytes_total != BG_SIZE_UNKNOWN && self.bytes_transferred == self.bytes_total
    }
}
