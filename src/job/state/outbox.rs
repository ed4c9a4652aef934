//! [`Callback`]: one callback a change queues in its outbox, delivered once the change is durable
//! (see `delivery.rs`).

use crate::BgNotify;
use crate::job::state::error::ErrorRecord;
use crate::job::state::file::FileShared;
use std::sync::Arc;

/// One callback waiting for delivery.
pub(crate) enum Callback {
    /// The job entered `Transferred`.
    Transferred,
    /// The job entered `Error` with this report.
    Error(Arc<ErrorRecord>),
    /// The job changed.
    Modification,
    /// One file finished.
    FileTransferred(Arc<FileShared>),
}

impl Callback {
    /// The notify flag that selects the callback.
    pub(crate) fn flag(&self) -> BgNotify {
        match self {
            Callback::Transferred => BgNotify::JOB_TRANSFERRED,
            Callback::Error(_) => BgNotify::JOB_ERROR,
            Callback::Modification => BgNotify::JOB_MODIFICATION,
            Callback::FileTransferred(_) => BgNotify::FILE_TRANSFERRED,
        }
    }
}
