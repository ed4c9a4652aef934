//! [`JobError`]: the error report of a job in `Error` or `TransientError`, the concrete
//! [`BackgroundCopyError`].

use super::keepalive::Keepalive;
use super::shared::JobShared;
use crate::{BackgroundCopyError, BgError, BgErrorContext, JobFile, Result};
use std::fmt;
use std::sync::Arc;

/// What went wrong in a transfer: recorded by the driver when it fails the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorRecord {
    pub(crate) context: BgErrorContext,
    pub(crate) hresult: u32,
    pub(crate) file_index: Option<usize>,
    pub(crate) protocol: Option<String>,
    pub(crate) message: String,
}

impl ErrorRecord {
    /// A record for a failure nobody described (never expected; keeps `get_error` answering).
    pub(crate) fn unknown() -> ErrorRecord {
        ErrorRecord {
            context: BgErrorContext::Unknown,
            hresult: crate::hresult::E_FAIL,
            file_index: None,
            protocol: None,
            message: "unknown failure".to_owned(),
        }
    }
}

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
