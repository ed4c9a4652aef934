//! The `local` transport: plain absolute paths and `file://` URLs (percent-decoded), size known up
//! front, copied with the kernel's file copy in large chunks straight into the temporary file.
//! A resumed copy continues after the bytes already there only if the source is the same version
//! (size, modification time and file identity, kept as the file's validator); otherwise it starts
//! over.

use super::{TransferError, TransferRequest, TransferSink, Transport};
use crate::{BgErrorContext, hresult};
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
        let path = request.source_path().ok_or_else(|| {
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
        let validator = validator(&metadata);
        let changed = sink.offset() > size
            || sink.size().is_some_and(|known| known != size)
            || (sink.offset() > 0 && sink.validator().is_some_and(|v| v != validator));
        if changed {
            // The source changed since the last attempt: start over.
            sink.restart()?;
        }
        if sink.validator() != Some(validator.as_str()) {
            sink.set_validator(Some(validator));
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

/// What identifies one version of a source file: its size, modification time and (on Unix) its
/// device and inode, so a file rewritten or replaced between two attempts is copied from zero
/// instead of being continued.
fn validator(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    let identity = {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", metadata.dev(), metadata.ino())
    };
    #[cfg(not(unix))]
    let identity = String::new();
    format!("local:{}:{modified}:{identity}", metadata.len())
}
