//! The `local` transport: plain absolute paths and `file://` URLs (percent-decoded), size known up
//! front, copied with the kernel's file copy in large chunks straight into the temporary file.
//! A resumed copy continues after the bytes already there only if the source is the same version
//! (size, modification time and file identity, kept as the file's validator); otherwise it starts
//! over.

use super::{RangeSink, TransferError, TransferRequest, TransferSink, Transport};
use crate::{BgErrorContext, hresult};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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
        let (mut source, metadata, path) = open(request)?;
        let remote = remote_error(&path);
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

    /// Copies bytes `first..=last` of the source (to its end for `None`), for a ranged file.
    fn transfer_range(
        &self,
        request: &TransferRequest<'_>,
        first: u64,
        last: Option<u64>,
        sink: &mut dyn RangeSink,
    ) -> Result<(), TransferError> {
        let (mut source, metadata, path) = open(request)?;
        let remote = remote_error(&path);
        let validator = validator(&metadata);
        match sink.validator() {
            Some(held) if held != validator => {
                // The source changed since the earlier ranges were copied: start over.
                return sink.restart();
            }
            Some(_) => {}
            None => sink.set_validator(Some(validator)),
        }
        let size = metadata.len();
        sink.set_remote_size(size)?;
        if first >= size {
            // The size reported says the range starts past the end: nothing to write.
            return Ok(());
        }
        let end = last.map_or(size, |last| last.saturating_add(1).min(size));
        source.seek(SeekFrom::Start(first)).map_err(&remote)?;
        let mut left = end - first;
        let mut buf = vec![0u8; usize::try_from(left).unwrap_or(RANGE_BUFFER).min(RANGE_BUFFER)];
        while left > 0 {
            if sink.should_stop() {
                return Err(TransferError::Stopped);
            }
            let want = usize::try_from(left).unwrap_or(buf.len()).min(buf.len());
            let n = source.read(&mut buf[..want]).map_err(&remote)?;
            if n == 0 {
                return Err(TransferError::transient(
                    hresult::BG_E_CONNECTION_CLOSED,
                    BgErrorContext::RemoteFile,
                    format!("{} shrank while it was copied", path.display()),
                ));
            }
            sink.write(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// The read buffer of a range copy.
const RANGE_BUFFER: usize = 1 << 20;

/// Opens the source a request names: a regular file.
fn open(
    request: &TransferRequest<'_>,
) -> Result<(File, std::fs::Metadata, PathBuf), TransferError> {
    let path = request.source_path().ok_or_else(|| {
        TransferError::fatal(hresult::E_INVALIDARG, BgErrorContext::RemoteFile, "not a local path")
    })?;
    let (source, metadata) = {
        let remote = remote_error(&path);
        let source = File::open(&path).map_err(&remote)?;
        let metadata = source.metadata().map_err(&remote)?;
        (source, metadata)
    };
    if !metadata.is_file() {
        return Err(TransferError::fatal(
            hresult::ERROR_FILE_NOT_FOUND_HR,
            BgErrorContext::RemoteFile,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((source, metadata, path))
}

/// How a failure to read the source at `path` is reported: a source that does not exist is
/// fatal (DESIGN section 4), other failures as their kind says.
fn remote_error(path: &Path) -> impl Fn(io::Error) -> TransferError + '_ {
    move |e: io::Error| {
        let error = TransferError::from_io(&e, BgErrorContext::RemoteFile);
        if e.kind() == io::ErrorKind::NotFound {
            return TransferError::fatal(
                error.hresult(),
                BgErrorContext::RemoteFile,
                format!("{}: {e}", path.display()),
            );
        }
        error
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
