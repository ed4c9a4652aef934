//! The expected SHA-256 of a file ([`JobFile::set_expected_sha256`](crate::JobFile::set_expected_sha256)),
//! checked when its last byte is in its temporary file, before it counts as transferred, for
//! every transport.

use crate::transport::TransferError;
use crate::{BgErrorContext, hresult};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

fn to_hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of everything in `file`, read from its start (its position is left at the end).
fn sha256_of(file: &mut File) -> io::Result<[u8; 32]> {
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    file.seek(SeekFrom::End(0))?;
    Ok(hasher.finalize().into())
}

/// Reads a finished temporary file back and compares its SHA-256 with `expected`. A mismatch is
/// `Ok(Some(error))`: the fatal `BG_E_VALIDATION_FAILED` failure to report once the file has
/// been restarted; a read failure is a `LocalFile` error.
pub(super) fn check_sha256(
    file: &mut File,
    expected: &[u8; 32],
    remote_name: &str,
) -> Result<Option<TransferError>, TransferError> {
    let actual =
        sha256_of(file).map_err(|e| TransferError::from_io(&e, BgErrorContext::LocalFile))?;
    if &actual == expected {
        return Ok(None);
    }
    Ok(Some(TransferError::fatal(
        hresult::BG_E_VALIDATION_FAILED,
        BgErrorContext::RemoteFile,
        format!(
            "the SHA-256 of {remote_name:?} is {}, not the expected {}",
            to_hex(&actual),
            to_hex(expected)
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{LocalTransport, TransferRequest, Transport};
    use crate::*;

    /// Copies `content` through the local transport into a job whose file expects `digest`.
    fn local_copy_with_digest(
        content: &[u8],
        digest: [u8; 32],
    ) -> (tempfile::TempDir, Job, Result<(), TransferError>) {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source.bin");
        std::fs::write(&source, content).unwrap();
        let manager = Manager::builder().without_engine().build();
        let job = manager.create_job("digest", BgJobType::Download).unwrap();
        let remote = source.to_str().unwrap().to_owned();
        job.add_file(&remote, &dir.path().join("copy.bin")).unwrap();
        job.enum_files()[0].set_expected_sha256(Some(digest)).unwrap();
        job.resume().unwrap();
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut sink = driver.open_file(0).unwrap();
        let file = sink.file();
        let request = TransferRequest::new(&job, &file);
        LocalTransport.transfer(&request, &mut sink).unwrap();
        let result = sink.finish();
        (dir, job, result)
    }

    #[test]
    fn expected_digest_is_checked_for_every_transport() {
        let content = b"hello digest";
        let right: [u8; 32] = Sha256::digest(content).into();
        let (_dir, job, result) = local_copy_with_digest(content, right);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 12);

        let (_dir, job, result) = local_copy_with_digest(content, [7; 32]);
        let error = result.unwrap_err();
        assert_eq!(error.hresult(), hresult::BG_E_VALIDATION_FAILED);
        assert_eq!(error.context(), BgErrorContext::RemoteFile);
        assert!(!error.is_transient());
        let file = &job.enum_files()[0];
        assert_eq!(file.get_progress().bytes_transferred, 0, "restarted from zero");
        assert!(!file.get_progress().completed);
    }

    #[test]
    fn digests_print_as_lower_case_hex() {
        assert_eq!(to_hex(&[0xE3, 0x0B, 0x00]), "e30b00");
    }
}
