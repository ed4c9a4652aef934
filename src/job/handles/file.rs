//! [`JobFile`]: one file of a job, the concrete [`BackgroundCopyFile`].

use crate::job::keepalive::Keepalive;
use crate::job::state::file::FileShared;
use crate::job::state::shared::JobShared;
use crate::{BackgroundCopyFile, BgFileProgress};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A handle on one file of a job (`IBackgroundCopyFile`). Cheap to clone; its progress is live.
///
/// ```
/// use bgcopy::*;
/// let manager = Manager::builder().without_engine().build();
/// let job = manager.create_job("docs", BgJobType::Download)?;
/// # let dir = std::env::temp_dir();
/// job.add_file("https://example.com/a.bin", &dir.join("a.bin"))?;
/// let file = &job.enum_files()[0];
/// assert_eq!(file.get_remote_name(), "https://example.com/a.bin");
/// assert_eq!(file.get_progress(), BgFileProgress { bytes_total: BG_SIZE_UNKNOWN, bytes_transferred: 0, completed: false });
/// # Ok::<(), BgError>(())
/// ```
#[derive(Clone)]
pub struct JobFile {
    pub(crate) job: Arc<JobShared>,
    pub(crate) file: Arc<FileShared>,
    /// Keeps the manager's engine running while the handle lives.
    keep: Keepalive,
}

impl JobFile {
    pub(crate) fn new(job: Arc<JobShared>, file: Arc<FileShared>, keep: Keepalive) -> JobFile {
        JobFile { job, file, keep }
    }

    /// The file's position in its job (0 for the first file added).
    pub fn index(&self) -> usize {
        self.file.index
    }

    /// The temporary file the bytes are written to, once a transfer has created it; `None` before
    /// that and after `complete()` or `cancel()` (the `GetTemporaryName` of `IBackgroundCopyFile3`).
    pub fn get_temporary_name(&self) -> Option<PathBuf> {
        self.job.inner.lock().file_disk[self.file.index].temp_path.clone()
    }
}

impl BackgroundCopyFile for JobFile {
    fn get_remote_name(&self) -> String {
        self.remote_name_now()
    }

    fn get_local_name(&self) -> PathBuf {
        self.file.local_name.clone()
    }

    fn get_progress(&self) -> BgFileProgress {
        let mut progress = self.job.counters.file_snapshot(&self.file.counters);
        if !progress.completed
            && let Some(on_demand) = self.file.on_demand.get()
        {
            // The bytes of the runs being fetched join the file's own count when each run ends
            // (`job/state/on_demand.rs`); read both together.
            progress.bytes_transferred = on_demand.file_bytes(self.file.index, &self.file.counters);
        }
        progress
    }
}

impl fmt::Debug for JobFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobFile")
            .field("job", &self.job.id)
            .field("index", &self.file.index)
            .field("remote_name", &self.file.remote_name)
            .field("local_name", &self.file.local_name)
            .field("progress", &self.get_progress())
            .field("keeps_engine", &self.keep.is_held())
            .finish()
    }
}
