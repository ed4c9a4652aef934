//! How failures of a connection's I/O map to [`TransferError`]s: while a request is made
//! ([`io_error`], for `client`'s mapping of ureq's errors) and while a body is read
//! ([`body_error`], for `stall::read`).

use crate::transport::TransferError;
use crate::{BgErrorContext, hresult};
use std::io;

/// Maps an I/O failure of the connection: refused or unreachable is `BG_E_CONNECT_FAILURE`, cut is
/// `BG_E_CONNECTION_CLOSED`, both transient; anything else is classified by
/// [`TransferError::from_io`].
pub(super) fn io_error(error: &io::Error, context: BgErrorContext) -> TransferError {
    use io::ErrorKind::*;
    let message = error.to_string();
    match error.kind() {
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => {
            TransferError::transient(hresult::BG_E_CONNECT_FAILURE, context, message)
        }
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe | NotConnected => {
            TransferError::transient(hresult::BG_E_CONNECTION_CLOSED, context, message)
        }
        TimedOut | WouldBlock => {
            TransferError::transient(hresult::ERROR_TIMEOUT_HR, context, message)
        }
        _ => TransferError::from_io(error, context),
    }
}

/// Maps a failure while reading a body: always transient (the next attempt resumes), a stall as
/// a timeout, anything else as a connection cut short.
pub(super) fn body_error(error: io::Error) -> TransferError {
    let context = BgErrorContext::RemoteFile;
    match ureq::Error::from(error) {
        ureq::Error::Timeout(phase) => TransferError::transient(
            hresult::ERROR_TIMEOUT_HR,
            context,
            format!("the server stopped sending ({phase:?})"),
        ),
        ureq::Error::Io(e) => match io_error(&e, context) {
            e @ TransferError::Failed { transient: true, .. } => e,
            _ => TransferError::transient(hresult::BG_E_CONNECTION_CLOSED, context, e.to_string()),
        },
        other => {
            TransferError::transient(hresult::BG_E_CONNECTION_CLOSED, context, other.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_failures_are_always_transient() {
        let e = body_error(io::ErrorKind::UnexpectedEof.into());
        assert_eq!((e.hresult(), e.is_transient()), (hresult::BG_E_CONNECTION_CLOSED, true));
        let e = body_error(ureq::Error::Timeout(ureq::Timeout::PerRead).into_io());
        assert_eq!((e.hresult(), e.is_transient()), (hresult::ERROR_TIMEOUT_HR, true));
        let e = body_error(io::ErrorKind::PermissionDenied.into());
        assert!(e.is_transient());
    }
}
