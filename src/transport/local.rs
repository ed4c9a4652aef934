//! The `local` transport: plain absolute paths and `file://` URLs (percent-decoded), size known up
//! front, copied with the kernel's file copy in large chunks straight into the temporary file.

use super::{TransferError, TransferRequest, TransferSink, Transport};
use crate::job::validate::local_source_path;
use crate::{hresult, BgErrorContext};
use std::fs::File;
use std::io::{self, Seek, SeekFrom};

/// Copies local files: `file://` URLs and plain absolute paths. Always available.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalTransport;

impl Transport for LocalTransport {
    fn schemes(&self) -> &[&str] {
        &["file"]
    }

    fn protocol(&self) -> &str {
        "file"
    }

    fn transfer(
        &self,
        request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        let path = local_source_path(request.remote_name).ok_or_else(|| {
            TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::RemoteFile,
                "not a local path",
            )
        })?;
        let remote = |e: io::Error| {
            let mut error = TransferError::from_io(&e, BgErrorContext::RemoteFile);
            if e.kind() == io::ErrorKind::NotFound {
                // A source that does not exist is fatal (DESIGN section 4).
                error = TransferError::fatal(
                    error.hresult(),
                    BgErrorContext::RemoteFile,
                    format!("{}: {e}", path.display()),
                );
            }
            error
        };
        let mut source = File::open(&path).map_err(remote)?;
        let metadata = source.metadata().map_err(remote)?;
        if !metadata.is_file() {
            return Err(TransferError::fatal(
                hresult::ERROR_FILE_NOT_FOUND_HR,
                BgErrorContext::RemoteFile,
                format!("{} is not a regular file", path.display()),
            ));
        }
        let size = metadata.len();
        if sink.offset() > size || sink.size().is_some_and(|known| known != size) {
            // The source changed since the last attempt: start over.
            sink.restart()?;
        }
        sink.set_size(Some(size))?;
        source.seek(SeekFrom::Start(sink.offset())).map_err(remote)?;
        sink.copy_from_file(&mut source)?;
        if sink.offset() != size {
            return Err(TransferError::transient(
                hresult::BG_E_CONNECTION_CLOSED,
                BgErrorContext::RemoteFile,
                format!("{} shrank while it was copied", path.display()),
            ));
        }
        Ok(())
    }
}
