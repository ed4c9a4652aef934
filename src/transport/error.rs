use crate::hresult;
use crate::{BgError, BgErrorContext};
use std::io;
use std::time::Duration;

/// How a transfer ended, when it did not succeed.
///
/// Made with [`transient`](Self::transient), [`fatal`](Self::fatal), [`from_io`](Self::from_io)
/// or [`http_status`](Self::http_status), refined with [`with_retry_after`](Self::with_retry_after),
/// and read with the accessors:
///
/// ```
/// use bgcopy::hresult;
/// use bgcopy::transport::TransferError;
/// use bgcopy::BgErrorContext;
///
/// let error = TransferError::transient(
///     hresult::BG_E_CONNECT_FAILURE,
///     BgErrorContext::GeneralTransport,
///     "could not connect",
/// );
/// assert!(error.is_transient());
/// assert_eq!(error.hresult(), hresult::BG_E_CONNECT_FAILURE);
/// assert_eq!(error.retry_after(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The job was suspended, cancelled or completed while transferring: not a failure.
    #[error("the transfer was stopped")]
    Stopped,
    /// The transfer failed. Match it with `..`: fields may be added.
    #[error("{message}")]
    #[non_exhaustive]
    Failed {
        /// The HRESULT of the failure.
        hresult: u32,
        /// Where it happened.
        context: BgErrorContext,
        /// Recoverable (the job goes to `TransientError` and is retried) or not (`Error`).
        transient: bool,
        /// What happened, for people.
        message: String,
        /// The earliest the next attempt may start, counted from the failure, when the remote
        /// side said so (an HTTP `Retry-After`); see [`TransferError::retry_after`].
        retry_after: Option<Duration>,
    },
}

impl TransferError {
    /// A recoverable failure: the job goes to `TransientError` and is retried.
    pub fn transient(hresult: u32, context: BgErrorContext, message: impl Into<String>) -> Self {
        TransferError::Failed {
            hresult,
            context,
            transient: true,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A fatal failure: the job goes to `Error` and waits for the client.
    pub fn fatal(hresult: u32, context: BgErrorContext, message: impl Into<String>) -> Self {
        TransferError::Failed {
            hresult,
            context,
            transient: false,
            message: message.into(),
            retry_after: None,
        }
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
                // A full disk (DESIGN 6.1): the job keeps its bytes and finishes once space is back.
                | StorageFull
                | QuotaExceeded
        );
        let hresult = crate::types::error::io_hresult(error);
        let message = error.to_string();
        TransferError::Failed { hresult, context, transient, message, retry_after: None }
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
            retry_after: None,
        }
    }

    /// Records that the next attempt must not start sooner than `delay` after this failure (an
    /// HTTP `Retry-After`, a server's back-off hint). The engine waits for the longer of `delay`
    /// and the job's minimum retry delay
    /// ([`BackgroundCopyJob::get_minimum_retry_delay`](crate::BackgroundCopyJob::get_minimum_retry_delay))
    /// before retrying a transient failure; a fatal one is not retried, so there it is only
    /// information. A second call replaces the first. [`Stopped`](Self::Stopped) is returned
    /// unchanged: it is not a failure and is never retried.
    ///
    /// ```
    /// use bgcopy::transport::TransferError;
    /// use std::time::Duration;
    ///
    /// let busy = TransferError::http_status(503).with_retry_after(Duration::from_secs(7));
    /// assert!(busy.is_transient());
    /// assert_eq!(busy.retry_after(), Some(Duration::from_secs(7)));
    /// assert_eq!(busy.hresult(), 0x8019_01F7);
    ///
    /// let stopped = TransferError::Stopped.with_retry_after(Duration::from_secs(7));
    /// assert_eq!(stopped.retry_after(), None);
    /// ```
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        if let TransferError::Failed { retry_after, .. } = &mut self {
            *retry_after = Some(delay);
        }
        self
    }

    /// The earliest the next attempt may start, counted from this failure, if the remote side
    /// said (see [`with_retry_after`](Self::with_retry_after)); `None` when it did not, and for
    /// [`Stopped`](Self::Stopped).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TransferError::Stopped => None,
            TransferError::Failed { retry_after, .. } => *retry_after,
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
    /// [`BgError::TransferStopped`] or [`BgError::Transfer`] with every field but the retry hint
    /// ([`retry_after`](TransferError::retry_after)): converting back gives the same
    /// `TransferError` without it.
    fn from(error: TransferError) -> BgError {
        match error {
            TransferError::Stopped => BgError::TransferStopped,
            TransferError::Failed { hresult, context, transient, message, .. } => {
                BgError::Transfer { hresult, context, transient, message: message.into() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures() -> Vec<TransferError> {
        vec![
            TransferError::Stopped,
            TransferError::transient(
                hresult::BG_E_CONNECT_FAILURE,
                BgErrorContext::GeneralTransport,
                "could not connect",
            ),
            TransferError::fatal(hresult::E_ABORT, BgErrorContext::None, "a transport's own abort"),
            TransferError::http_status(503).with_retry_after(Duration::from_secs(7)),
            TransferError::from_io(
                &io::Error::from(io::ErrorKind::StorageFull),
                BgErrorContext::LocalFile,
            ),
        ]
    }

    #[test]
    fn a_transfer_error_survives_the_trip_through_bg_error() {
        for error in failures() {
            let bg = BgError::from(error.clone());
            assert_eq!(bg.hresult(), error.hresult(), "{error:?}");
            assert_eq!(bg.to_string(), error.to_string(), "{error:?}");
            let hint = error.retry_after();
            let back = TransferError::from(bg);
            assert_eq!(back.retry_after(), None, "the retry hint is the one field not kept");
            let error = match hint {
                Some(_) => error_without_hint(error),
                None => error,
            };
            assert_eq!(back, error);
        }
    }

    fn error_without_hint(error: TransferError) -> TransferError {
        match error {
            TransferError::Failed { hresult, context, transient, message, .. } => {
                TransferError::Failed { hresult, context, transient, message, retry_after: None }
            }
            stopped => stopped,
        }
    }

    #[test]
    fn a_bg_error_keeps_its_hresult_and_message_as_a_transfer_error() {
        let transfer = BgError::Transfer {
            hresult: hresult::BG_E_CONNECT_FAILURE,
            context: BgErrorContext::RemoteApplication,
            transient: true,
            message: "the proxy refused".into(),
        };
        let corrupt = BgError::StoreCorrupt { path: "/s".into(), reason: "damaged".into() };
        let failed = BgError::StoreFailed { path: "/s".into(), reason: "commit: bug".into() };
        for error in [transfer, corrupt, failed, BgError::TransferStopped] {
            let (code, message) = (error.hresult(), error.to_string());
            let converted = TransferError::from(error);
            assert_eq!(converted.hresult(), code);
            assert_eq!(converted.to_string(), message);
            // And back: the same HRESULT and message, now as a transfer's.
            let back = BgError::from(converted.clone());
            assert_eq!((back.hresult(), back.to_string()), (code, message));
            assert_eq!(TransferError::from(back), converted);
        }
    }
}
