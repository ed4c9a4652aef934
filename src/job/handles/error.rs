//! [`JobError`]: the error report of a job in `Error` or `TransientError`, the concrete
//! [`BackgroundCopyError`].

use crate::job::keepalive::Keepalive;
use crate::job::state::error::ErrorRecord;
use crate::job::state::shared::JobShared;
use crate::{BackgroundCopyError, BgError, BgErrorContext, JobFile, Result};
use std::fmt;
use std::sync::Arc;

/// The error report of a job (`IBackgroundCopyError`), from
/// [`get_error`](crate::BackgroundCopyJob::get_error). It is a snapshot: it keeps describing the
/// failure it was taken from even after the job moves on.
#[derive(Clone)]
pub struct JobError {
    job: Arc<JobShared>,
    record: Arc<ErrorRecord>,
    /// Keeps the manager's engine running while the handle lives.
    keep: Keepalive,
}

impl JobError {
    pub(crate) fn new(job: Arc<JobShared>, record: Arc<ErrorRecord>, keep: Keepalive) -> JobError {
        JobError { job, record, keep }
    }

    /// The message the transport gave with the failure (more detail than the code's description).
    pub fn message(&self) -> &str {
        &self.record.message
    }
}

impl BackgroundCopyError for JobError {
    type File = JobFile;

    fn get_error(&self) -> (BgErrorContext, u32) {
        (self.record.context, self.record.hresult)
    }

    fn get_file(&self) -> Result<JobFile> {
        let index = self.record.file_index.ok_or(BgError::FileNotAvailable)?;
        let file =
            self.job.inner.lock().files.get(index).cloned().ok_or(BgError::FileNotAvailable)?;
        Ok(JobFile::new(Arc::clone(&self.job), file, self.keep.clone()))
    }

    fn get_error_description(&self) -> String {
        crate::hresult::description(self.record.hresult)
            .unwrap_or_else(|| format!("Error {:#010X}.", self.record.hresult))
    }

    fn get_error_context_description(&self) -> String {
        self.record.context.description().to_owned()
    }

    fn get_protocol(&self) -> Result<String> {
        self.record.protocol.clone().ok_or(BgError::ProtocolNotAvailable)
    }
}

/// `0x80070005 (LocalFile): denied`: the HRESULT, the context, and the transport's message.
impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#010X} ({:?}): {}",
            self.record.hresult, self.record.context, self.record.message
        )
    }
}

/// A job's error report is an error: it has no source (the failure it describes is data, kept in
/// the job's record).
impl std::error::Error for JobError {}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("job", &self.job.id)
            .field("context", &self.record.context)
            .field("hresult", &format_args!("{:#010X}", self.record.hresult))
            .field("file_index", &self.record.file_index)
            .field("protocol", &self.record.protocol)
            .field("message", &self.record.message)
            .finish()
    }
}
