//! Adding one file and getting its handle back (methods of [`Job`]): Rust-side conveniences
//! beside [`add_file`](crate::BackgroundCopyJob::add_file), which returns nothing as BITS's
//! `AddFile` does. Same rules, same all-or-nothing, same durability: `job.rs` does the work.

use crate::job::handles::job::Job;
use crate::{BgFileInfo, JobFile, Result};
use std::path::Path;

impl Job {
    /// [`add_file`](crate::BackgroundCopyJob::add_file) that returns the handle of the file it
    /// added, so that a property of the file can be set without looking it up in
    /// [`enum_files`](crate::BackgroundCopyJob::enum_files).
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("one file", BgJobType::Download)?;
    /// # let dir = std::env::temp_dir();
    /// let file = job.add("https://example.com/a.iso", &dir.join("a.iso"))?;
    /// assert_eq!(file.get_remote_name(), "https://example.com/a.iso");
    /// assert_eq!(job.enum_files().len(), 1);
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// Checks that the local directory exists and, with a store, writes and syncs a record.
    ///
    /// # Errors
    /// As [`add_file`](crate::BackgroundCopyJob::add_file); the job is left as it was.
    pub fn add(&self, remote_url: &str, local_name: &Path) -> Result<JobFile> {
        self.add_one(remote_url, local_name, None)
    }

    /// Adds a file together with the SHA-256 its content must have (see
    /// [`JobFile::set_expected_sha256`]), in one change: with a store, one record holds both, so
    /// no crash leaves the file recorded without its digest, as
    /// `add_file` followed by `set_expected_sha256` could.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("checked", BgJobType::Download)?;
    /// # let dir = std::env::temp_dir();
    /// let digest = [0x5a; 32]; // as published beside the download
    /// let file = job.add_with_sha256("https://example.com/a.iso", &dir.join("a.iso"), digest)?;
    /// assert_eq!(file.get_expected_sha256(), Some(digest));
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// As [`add`](Self::add).
    ///
    /// # Errors
    /// As [`add_file`](crate::BackgroundCopyJob::add_file); the job is left as it was.
    pub fn add_with_sha256(
        &self,
        remote_url: &str,
        local_name: &Path,
        digest: [u8; 32],
    ) -> Result<JobFile> {
        self.add_one(remote_url, local_name, Some(digest))
    }

    fn add_one(
        &self,
        remote_url: &str,
        local_name: &Path,
        sha256: Option<[u8; 32]>,
    ) -> Result<JobFile> {
        let index = self.add_files_with(&[BgFileInfo::new(remote_url, local_name)], sha256)?;
        // Files are never removed from a job: the index stays that of the file added.
        let file = std::sync::Arc::clone(&self.lock().files[index]);
        Ok(self.file_handle(&file))
    }
}
