use crate::hresult;
use crate::{BgError, BgErrorContext};
use std::io;

/// How a transfer ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The job was suspended, cancelled or completed while transferring: not a failure.
    #[error("the transfer was stopped")]
    Stopped,
    /// The transfer failed.
    #[error("{message}")]
    Failed {
        /// The HRESULT of the failure.
        hresult: u32,
        /// Where it happened.
        context: BgErrorContext,
        /// Recoverable (the job goes to `TransientError` and is retried) or not (`Error`).
        transient: bool,
        /// What happened, for people.
        message: String,
    },
}

impl TransferError {
    /// A recoverable failure: the job goes to `TransientError` and is retried.
    pub fn transient(hresult: u32, context: BgErrorContext, message: impl Into<String>) -> Self {
        TransferError::Failed { hresult, context, transient: true, message: message.into() }
    }

    /// A fatal failure: the job goes to `Error` and waits for the client.
    pub fn fatal(hresult: u32, context: BgErrorContext, message: impl Into<String>) -> Self {
        TransferError::Failed { hresult, context, transient: false, message: message.into() }
    }

    /// Classifies an I/O error (DESIGN section 4): connection refused, reset, aborted or timed
    /// out, a body cut short, an interrupted call and a busy (locked) file are transient; a
    /// missing file, denied access, a full disk and everything else are fatal.
    pub fn from_io(error: &io::Error, context: BgErrorContext) -> Self {
        use io::ErrorKind::*;
        let transient = matches!(
            error.kind(),
            ConnectionRefused
                | ConnectionReset
                | ConnectionAborted
                | NotConnected
                | BrokenPipe
                | TimedOut
                | UnexpectedEof
                | Interrupted
                | WouldBlock
                | ResourceBusy
                | HostUnreachable
                | NetworkUnreachable
                | NetworkDown
                | AddrNotAvailable
        );
        let hresult = crate::types::error::io_hresult(error);
        let message = error.to_string();
        TransferError::Failed { hresult, context, transient, message }
    }

    /// The failure for an HTTP status of 400 or more: `0x8019_0000 + status`, context
    /// `RemoteFile`; transient for 408, 429, 500, 502, 503 and 504, fatal otherwise.
    pub fn http_status(status: u16) -> Self {
        let transient = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
        TransferError::Failed {
            hresult: hresult::from_http_status(status),
            context: BgErrorContext::RemoteFile,
            transient,
            message: format!("the server answered HTTP {status}"),
        }
    }

    /// Whether the failure is recoverable (`Stopped` counts as not a failure, so `false`).
    pub fn is_transient(&self) -> bool {
        matches!(self, TransferError::Failed { transient: true, .. })
    }

    /// The HRESULT (`E_ABORT` for `Stopped`).
    pub fn hresult(&self) -> u32 {
        match self {
            TransferError::Stopped => hresult::E_ABORT,
            TransferError::Failed { hresult, .. } => *hresult,
        }
    }

    /// The error context (`None` for `Stopped`).
    pub fn context(&self) -> BgErrorContext {
        match self {
            TransferError::Stopped => BgErrorContext::None,
            TransferError::Failed { context, .. } => *context,
        }
    }
}

impl From<TransferError> for BgError {
    fn from(error: TransferError) -> BgError {
        match error {
            TransferError::Stopped => BgError::Failed {
                hresult: hresult::E_ABORT,
                message: "the transfer was stopped".to_owned(),
            },
            TransferError::Failed { hresult, message, .. } => BgError::Failed { hresult, message },
        }
    }
}
