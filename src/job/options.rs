//! Per-job HTTP timeouts (connect and stalled read; the custom headers and the rest of
//! `IBackgroundCopyJobHttpOptions` are in `http_options.rs`); and the optional expected SHA-256
//! digest of each file, checked before the file counts as transferred.
//!
//! The options are plain settings under the job lock, changed like every other property: refused
//! in a final state (`BG_E_INVALID_STATE`), stamping the modification time and firing
//! `job_modification`.

use super::file::JobFile;
use super::handle::Job;
use super::transitions::{JobEvent, transition};
use crate::{BgError, Result, hresult};
use std::time::Duration;

fn check_timeout(what: &str, timeout: Option<Duration>) -> Result<()> {
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(BgError::InvalidArgument(format!("the {what} timeout is zero")));
    }
    Ok(())
}

impl Job {
    /// Sets the job's HTTP timeouts: `connect` bounds establishing a connection (TCP and TLS
    /// set-up, a proxy's tunnel; a name look-up has its own bound, `HttpTransport::with_resolve_timeout`),
    /// `read` bounds one read that receives nothing (a stalled server, while waiting for the
    /// response or inside the body). `None` keeps the transport's default (see
    /// `HttpTransport::with_timeouts`). A timeout that fires is a transient failure: the job goes
    /// to `TransientError` and is retried.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; [`BgError::InvalidArgument`] for a zero
    /// duration.
    pub fn set_http_timeouts(
        &self,
        connect: Option<Duration>,
        read: Option<Duration>,
    ) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        check_timeout("connect", connect)?;
        check_timeout("read", read)?;
        self.modify(false, |inner| {
            inner.options.connect_timeout = connect;
            inner.options.read_timeout = read;
        })
    }

    /// The job's HTTP timeouts as `(connect, read)`; `None` means the transport's default.
    pub fn get_http_timeouts(&self) -> (Option<Duration>, Option<Duration>) {
        let inner = self.lock();
        (inner.options.connect_timeout, inner.options.read_timeout)
    }
}

impl JobFile {
    /// Sets (or with `None` removes) the SHA-256 digest the file's content must have. When the
    /// last byte of the file is in its temporary file, the driver reads the file back and compares;
    /// on a mismatch the file starts over from zero (its bytes leave the job's count) and the job
    /// goes to `Error` with `BG_E_VALIDATION_FAILED`, context `RemoteFile`, so nothing that fails
    /// the check is ever made visible by `complete()`. Works for every transport.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; a [`BgError::Failed`] with `BG_E_INVALID_STATE`
    /// once the file is transferred (the check has run already).
    pub fn set_expected_sha256(&self, digest: Option<[u8; 32]>) -> Result<()> {
        self.job.change(|inner| {
            transition(self.job.counters.state(), JobEvent::Modify)?;
            if self.file.counters.is_transferred() {
                return Err(BgError::Failed {
                    hresult: hresult::BG_E_INVALID_STATE,
                    message: "the file is already transferred".to_owned(),
                });
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
