//! Per-job HTTP options (the `IBackgroundCopyJobHttpOptions` part users rely on): custom request
//! headers and the connect and stalled-read timeouts (methods of [`Job`]). The expected digest of
//! a file is in `digests.rs`.
//!
//! The options are plain settings under the job lock, changed like every other property: refused
//! in a final state (`BG_E_INVALID_STATE`), stamping the modification time and firing
//! `job_modification`.

use crate::job::handles::job::Job;
use crate::job::state::transitions::{JobEvent, transition};
use crate::{BgError, Result};
use std::time::Duration;

/// Limit on the custom headers of one job: names, values, `": "` and `"\r\n"` counted, in bytes.
pub(crate) const MAX_CUSTOM_HEADERS: usize = 16 * 1024;

/// Header names the transport manages itself: a custom value would break framing, resuming or the
/// byte counts (decompression), so they are refused.
const RESERVED_HEADERS: &[&str] = &[
    "accept-encoding",
    "connection",
    "content-length",
    "host",
    "if-range",
    "keep-alive",
    "proxy-connection",
    "range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks one header: a token name (RFC 9110), not one the transport manages, and a value without
/// control characters other than horizontal tab (so no CR, LF or NUL can split a request).
fn check_header(name: &str, value: &str) -> Result<()> {
    if name.is_empty() || !name.bytes().all(is_token_char) {
        return Err(BgError::InvalidArgument(format!("{name:?} is not a valid header name")));
    }
    // Conditional headers are the transport's too: `If-None-Match` or `If-Modified-Since` would
    // turn a download into a `304` with no body, `If-Match` or `If-Unmodified-Since` into a
    // `412`, and any of them would fight the transport's own `If-Range` when it resumes.
    const CONDITIONAL: &[&str] =
        &["if-match", "if-modified-since", "if-none-match", "if-unmodified-since"];
    if RESERVED_HEADERS.iter().chain(CONDITIONAL).any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(BgError::InvalidArgument(format!(
            "the header {name:?} is managed by the transport"
        )));
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(BgError::InvalidArgument(format!(
            "the value of header {name:?} contains a control character"
        )));
    }
    Ok(())
}

fn check_timeout(what: &str, timeout: Option<Duration>) -> Result<()> {
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(BgError::InvalidArgument(format!("the {what} timeout is zero")));
    }
    Ok(())
}

impl Job {
    /// Replaces the job's custom request headers: each `(name, value)` is sent with every HTTP
    /// request of the job, in the order given (the same name may repeat). An empty slice clears
    /// them. The transport's own headers (`Range`, `If-Range`, `Accept-Encoding`, `Host`, framing
    /// and connection headers) cannot be set.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("with headers", BgJobType::Download)?;
    /// job.set_custom_headers(&[("Authorization", "Bearer abc"), ("X-Trace", "1")])?;
    /// assert_eq!(job.get_custom_headers()[1], ("X-Trace".to_owned(), "1".to_owned()));
    /// assert!(job.set_custom_headers(&[("X-Evil", "a\r\nHost: b")]).is_err());
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state (`Acknowledged`, `Cancelled`);
    /// [`BgError::InvalidArgument`] (`E_INVALIDARG`) for a name that is not an HTTP token or is
    /// managed by the transport, or a value with a control character (CR, LF, NUL, ...);
    /// [`BgError::StringTooLong`] (`BG_E_STRING_TOO_LONG`) if the headers together, written as
    /// `name: value\r\n` lines, pass 16 KiB. On error nothing changes.
    pub fn set_custom_headers(&self, headers: &[(&str, &str)]) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        let mut len = 0;
        for (name, value) in headers {
            check_header(name, value)?;
            len += name.len() + value.len() + 4;
        }
        if len > MAX_CUSTOM_HEADERS {
            return Err(BgError::StringTooLong {
                what: "the custom headers",
                len,
                max: MAX_CUSTOM_HEADERS,
            });
        }
        let headers =
            headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        self.modify(false, |inner| inner.options.headers = headers)
    }

    /// The job's custom request headers, in the order set (empty by default).
    pub fn get_custom_headers(&self) -> Vec<(String, String)> {
        self.lock().options.headers.clone()
    }

    /// Removes every custom request header.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state (`Acknowledged`, `Cancelled`).
    pub fn clear_custom_headers(&self) -> Result<()> {
        self.modify(false, |inner| inner.options.headers.clear())
    }

    /// Sets the job's HTTP timeouts: `connect` bounds establishing a connection (TCP and TLS
    /// set-up, a proxy's tunnel; a name look-up has its own bound, `HttpTransport::with_resolve_timeout`),
    /// `read` bounds one read that receives nothing (a stalled server, while waiting for the
    /// response or inside the body). `None` keeps the transport's default (see
    /// `HttpTransport::with_timeouts`). A timeout that fires is a transient failure: the job goes
    /// to `TransientError` and is retried.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_must_be_tokens() {
        assert!(check_header("X-Ok_1", "v").is_ok());
        for bad in ["", "Bad Name", "a:b", "é", "a\r\nb"] {
            assert!(check_header(bad, "v").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_values_reject_control_characters() {
        assert!(check_header("X", "tab\tok and spaces, ünïcode").is_ok());
        for bad in ["a\rb", "a\nb", "a\0b", "a\x7fb", "a\x01b"] {
            assert!(check_header("X", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transport_managed_headers_are_refused() {
        for name in ["Range", "IF-RANGE", "accept-encoding", "Host", "Transfer-Encoding"] {
            assert!(check_header(name, "x").is_err(), "{name}");
        }
    }
}
