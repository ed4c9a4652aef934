use crate::{BackgroundCopyFile, BgErrorContext, Result};

/// The error report of a job in `Error` or `TransientError` (`IBackgroundCopyError`).
///
/// Not to be confused with [`BgError`](crate::BgError), the error of a failing method call: a
/// failing call never creates one of these.
pub trait BackgroundCopyError {
    /// The file handle type.
    type File: BackgroundCopyFile;

    /// Where the failure happened and its HRESULT (`GetError`).
    fn get_error(&self) -> (BgErrorContext, u32);

    /// The file that was being transferred (`GetFile`).
    ///
    /// # Errors
    /// [`BgError::FileNotAvailable`](crate::BgError::FileNotAvailable) (`BG_E_FILE_NOT_AVAILABLE`)
    /// when the error is not tied to a file.
    fn get_file(&self) -> Result<Self::File>;

    /// A readable description of the error code (`GetErrorDescription`), in English.
    fn get_error_description(&self) -> String;

    /// A readable description of the error context (`GetErrorContextDescription`), in English.
    fn get_error_context_description(&self) -> String;

    /// The protocol involved, `"http"` or `"file"` (`GetProtocol`).
    ///
    /// # Errors
    /// [`BgError::ProtocolNotAvailable`](crate::BgError::ProtocolNotAvailable)
    /// (`BG_E_PROTOCOL_NOT_AVAILABLE`) when the error is not tied to a protocol.
    fn get_protocol(&self) -> Result<String>;
}
