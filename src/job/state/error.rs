//! [`ErrorRecord`]: what the job keeps of a failure (the data behind a
//! [`JobError`](crate::JobError)).

use crate::BgErrorContext;

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
