//! The optional expected SHA-256 digest of each file, checked before the file counts as
//! transferred (methods of [`JobFile`]).

use crate::job::handles::file::JobFile;
use crate::job::state::transitions::{JobEvent, transition};
use crate::{BgError, Result};

impl JobFile {
    /// Sets (or with `None` removes) the SHA-256 digest the file's content must have. When the
    /// last byte of the file is in its temporary file, the driver reads the file back and compares;
    /// on a mismatch the file starts over from zero (its bytes leave the job's count) and the job
    /// goes to `Error` with `BG_E_VALIDATION_FAILED`, context `RemoteFile`, so nothing that fails
    /// the check is ever made visible by `complete()`. Works for every transport.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state, and with the reason
    /// [`FileTransferred`](crate::InvalidStateReason::FileTransferred) once the file is
    /// transferred (the check has run already).
    pub fn set_expected_sha256(&self, digest: Option<[u8; 32]>) -> Result<()> {
        self.job.change(|inner| {
            transition(self.job.counters.state(), JobEvent::Modify)?;
            if self.file.counters.is_transferred() {
                let (state, reason) =
                    (self.job.counters.state(), crate::InvalidStateReason::FileTransferred);
                return Err(BgError::InvalidState { state, reason });
            }
            inner.file_disk[self.file.index].expected_sha256 = digest.map(Box::new);
            self.job.apply(inner, JobEvent::Modify)?;
            Ok(())
        })
    }

    /// [`set_expected_sha256`](Self::set_expected_sha256) from 64 hexadecimal digits (either
    /// case), as `sha256sum` prints them.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("checked", BgJobType::Download)?;
    /// # let dir = std::env::temp_dir();
    /// job.add_file("https://example.com/empty", &dir.join("empty"))?;
    /// let file = &job.enum_files()[0];
    /// file.set_expected_sha256_hex(
    ///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    /// )?;
    /// assert_eq!(file.get_expected_sha256().unwrap()[0], 0xe3);
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidArgument`] unless `hex` is exactly 64 hexadecimal digits; otherwise as
    /// [`set_expected_sha256`](Self::set_expected_sha256).
    pub fn set_expected_sha256_hex(&self, hex: &str) -> Result<()> {
        let digest = parse_sha256_hex(hex).ok_or_else(|| {
            BgError::InvalidArgument("a SHA-256 digest is 64 hexadecimal digits".to_owned())
        })?;
        self.set_expected_sha256(Some(digest))
    }

    /// The SHA-256 digest the file must have, if one was set.
    pub fn get_expected_sha256(&self) -> Option<[u8; 32]> {
        self.job.inner.lock().file_disk[self.file.index].expected_sha256.as_deref().copied()
    }
}

fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_parses_64_digits_only() {
        let empty = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let digest = parse_sha256_hex(empty).unwrap();
        assert_eq!((digest[0], digest[31]), (0xE3, 0x55));
        assert_eq!(parse_sha256_hex(&empty[..62]), None);
        assert_eq!(parse_sha256_hex(&format!("{}zz", &empty[..62])), None);
        assert_eq!(parse_sha256_hex(&format!("{}+1", &empty[..62])), None);
        assert_eq!(parse_sha256_hex(&"é".repeat(32)), None);
    }
}
