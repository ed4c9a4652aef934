//! The HTTP options of DESIGN 6.2 for [`Job`]: [`BackgroundCopyJobHttpOptions`] (custom
//! headers, write-only once asked, the security flags, the method) and the credentials of
//! [`BackgroundCopyJob2`](crate::BackgroundCopyJob2). They are durable job changes like every
//! other property (recorded, then applied, then announced: `JobShared::change`), kept in
//! `HttpOptions` (`state/http_options.rs`, plain data) under the job lock and in the job's record.
//!
//! The transports read them through [`TransferRequest`](crate::TransferRequest): the headers
//! also once write-only, the credentials that have no getter. `Debug` never shows a header's
//! value or a password.

use crate::job::handles::job::Job;
use crate::job::state::transitions::{JobEvent, transition};
use crate::{
    BackgroundCopyJobHttpOptions, BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgError,
    BgHttpSecurity, BgSuccess, Result,
};

/// Limit on the custom headers of one job: names, values, `": "` and `"\r\n"` counted, in
/// characters.
pub(crate) const MAX_CUSTOM_HEADERS: usize = 16 * 1024;

/// Limit on a user name or a password, in characters (BITS's).
pub(crate) const MAX_CREDENTIAL: usize = 300;

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

/// The TLS flags the transport can honour on this platform: certificate revocation is checked
/// by the platform verifier on Windows, macOS, iOS and Android (so `ENABLE_CRL_CHECK` asks for
/// what is done anyway), not on Linux and the BSDs; no certificate check can be relaxed.
const HONOURED_TLS: BgHttpSecurity = if crate::platform::tls::VERIFIER_CHECKS_REVOCATION {
    BgHttpSecurity::ENABLE_CRL_CHECK
} else {
    BgHttpSecurity::empty()
};

/// The TLS part of the flags (everything that is not the redirect policy).
const TLS_FLAGS: BgHttpSecurity = BgHttpSecurity::ENABLE_CRL_CHECK
    .union(BgHttpSecurity::IGNORE_CERT_CN_INVALID)
    .union(BgHttpSecurity::IGNORE_CERT_DATE_INVALID)
    .union(BgHttpSecurity::IGNORE_UNKNOWN_CA)
    .union(BgHttpSecurity::IGNORE_CERT_WRONG_USAGE);

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks one header: a token name (RFC 9110), not one the transport manages, and a value without
/// control characters other than horizontal tab (so no CR, LF or NUL can split a request). No
/// message shows the value.
pub(crate) fn check_header(name: &str, value: &str) -> Result<()> {
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

/// Checks the redirect policy and the TLS flags of `flags`.
fn check_security(flags: BgHttpSecurity) -> Result<()> {
    let policy = flags.redirect_policy();
    let known = [
        BgHttpSecurity::REDIRECT_POLICY_ALLOW_SILENT,
        BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT,
        BgHttpSecurity::REDIRECT_POLICY_DISALLOW,
    ];
    if !known.contains(&policy) {
        return Err(BgError::InvalidArgument(format!(
            "{:#x} is not a redirect policy",
            policy.bits()
        )));
    }
    let unhonoured = flags.intersection(TLS_FLAGS).difference(HONOURED_TLS);
    if !unhonoured.is_empty() {
        return Err(BgError::NotImplemented(
            "a TLS flag the transport cannot honour (it never relaxes certificate checks, and \
             checks revocation only where the platform's verifier does)",
        ));
    }
    Ok(())
}

/// Checks a method: an HTTP token (RFC 9110).
fn check_method(method: &str) -> Result<()> {
    if method.is_empty() || !method.bytes().all(is_token_char) {
        return Err(BgError::InvalidArgument(format!("{method:?} is not an HTTP method")));
    }
    Ok(())
}

impl BackgroundCopyJobHttpOptions for Job {
    /// Replaces the job's custom request headers: each `(name, value)` is sent with every HTTP
    /// request to the origin of the file's own remote name, in the order given (the same name
    /// may repeat). An empty slice clears them. The transport's own headers (`Range`,
    /// `If-Range`, `Accept-Encoding`, `Host`, framing and connection headers) cannot be set.
    /// Write-only headers can still be replaced, and stay write-only.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("with headers", BgJobType::Download)?;
    /// job.set_custom_headers(&[("Authorization", "Bearer abc"), ("X-Trace", "1")])?;
    /// assert_eq!(job.get_custom_headers()?[1], ("X-Trace".to_owned(), "1".to_owned()));
    /// assert!(job.set_custom_headers(&[("X-Evil", "a\r\nHost: b")]).is_err());
    /// job.make_custom_headers_write_only()?;
    /// assert_eq!(job.get_custom_headers().unwrap_err().hresult(), hresult::E_ACCESSDENIED);
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state (`Acknowledged`, `Cancelled`);
    /// [`BgError::InvalidArgument`] (`E_INVALIDARG`) for a name that is not an HTTP token or is
    /// managed by the transport, or a value with a control character (CR, LF, NUL, ...);
    /// [`BgError::StringTooLong`] (`BG_E_STRING_TOO_LONG`) if the headers together, written as
    /// `name: value\r\n` lines, pass 16,384 characters. On error nothing changes.
    fn set_custom_headers(&self, headers: &[(&str, &str)]) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        let mut len = 0;
        for (name, value) in headers {
            check_header(name, value)?;
            len += name.chars().count() + value.chars().count() + 4;
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
    ///
    /// # Errors
    /// [`BgError::AccessDenied`] (`E_ACCESSDENIED`) once the headers are write-only.
    fn get_custom_headers(&self) -> Result<Vec<(String, String)>> {
        let inner = self.lock();
        if inner.options.http.write_only {
            return Err(BgError::AccessDenied("the custom headers are write-only"));
        }
        Ok(inner.options.headers.clone())
    }

    /// Makes the custom headers write-only, for good (it survives a reopen of the store).
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state.
    fn make_custom_headers_write_only(&self) -> Result<()> {
        self.modify(false, |inner| inner.options.http.write_only = true)
    }

    /// Sets the TLS and redirect flags. The redirect policy takes effect at the file's next
    /// request.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; [`BgError::InvalidArgument`] for a redirect
    /// policy other than the three of [`BgHttpSecurity`]; [`BgError::NotImplemented`]
    /// (`E_NOTIMPL`) for a TLS flag the transport cannot honour: every `IGNORE_*` flag (no
    /// certificate check is ever relaxed), and `ENABLE_CRL_CHECK` where the platform's verifier
    /// does not check revocation (Linux, the BSDs).
    fn set_security_flags(&self, flags: BgHttpSecurity) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        check_security(flags)?;
        self.modify(false, |inner| inner.options.http.security = flags)
    }

    fn get_security_flags(&self) -> BgHttpSecurity {
        self.lock().options.http.security
    }

    /// Sets the method of the job's requests (case-sensitive, as HTTP methods are). Only
    /// before the first `resume()`. A method other than `GET` makes transient errors final and
    /// a resume start from zero; such a job never uses a cache host.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state, and once the job was resumed (reason
    /// [`Resumed`](crate::InvalidStateReason::Resumed)); [`BgError::InvalidArgument`] unless
    /// `method` is an HTTP token.
    fn set_http_method(&self, method: &str) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        check_method(method)?;
        let method = (method != "GET").then(|| method.to_owned());
        self.shared.change(|inner| {
            transition(self.shared.counters.state(), JobEvent::Modify)?;
            if inner.options.http.resumed {
                return Err(BgError::InvalidState {
                    state: self.shared.state_in(inner),
                    reason: crate::InvalidStateReason::Resumed,
                });
            }
            inner.options.http.method = method;
            self.shared.apply(inner, JobEvent::Modify)?;
            Ok(())
        })
    }

    fn get_http_method(&self) -> String {
        self.lock().options.http.method.clone().unwrap_or_else(|| "GET".to_owned())
    }
}

impl Job {
    /// `BackgroundCopyJob2::set_credentials`: `Basic` for the server or the proxy; the others
    /// are `E_NOTIMPL`.
    pub(crate) fn set_job_credentials(&self, credentials: &BgAuthCredentials) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        if credentials.scheme != BgAuthScheme::Basic {
            return Err(BgError::NotImplemented("only Basic credentials are supported"));
        }
        let len = credentials.user_name.chars().count();
        if len > MAX_CREDENTIAL {
            return Err(BgError::UserNameTooLarge { len, max: MAX_CREDENTIAL });
        }
        let len = credentials.password.chars().count();
        if len > MAX_CREDENTIAL {
            return Err(BgError::PasswordTooLarge { len, max: MAX_CREDENTIAL });
        }
        let credentials = credentials.clone();
        self.modify(false, |inner| {
            let list = &mut inner.options.http.credentials;
            let same = |c: &BgAuthCredentials| {
                (c.target, c.scheme) == (credentials.target, credentials.scheme)
            };
            match list.iter_mut().find(|c| same(c)) {
                Some(slot) => *slot = credentials,
                None => list.push(credentials),
            }
        })
    }

    /// `BackgroundCopyJob2::remove_credentials`: `NoChange` when there were none.
    pub(crate) fn remove_job_credentials(
        &self,
        target: BgAuthTarget,
        scheme: BgAuthScheme,
    ) -> Result<BgSuccess> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        let held = self
            .lock()
            .options
            .http
            .credentials
            .iter()
            .any(|c| (c.target, c.scheme) == (target, scheme));
        if !held {
            return Ok(BgSuccess::NoChange);
        }
        self.modify(false, |inner| {
            inner.options.http.credentials.retain(|c| (c.target, c.scheme) != (target, scheme));
        })?;
        Ok(BgSuccess::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hresult;
    use crate::job::record::http_options::HttpOptions;

    #[test]
    fn header_names_must_be_tokens() {
        assert!(check_header("X-Ok_1", "v").is_ok());
        for bad in ["", "Bad Name", "a:b", "é", "a\r\nb"] {
            assert!(check_header(bad, "v").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_values_reject_control_characters_without_showing_the_value() {
        assert!(check_header("X", "tab\tok and spaces, ünïcode").is_ok());
        for bad in ["a\rb", "a\nb", "a\0b", "a\x7fb", "a\x01b"] {
            let error = check_header("X", bad).unwrap_err();
            assert!(!error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn transport_managed_headers_are_refused() {
        for name in ["Range", "IF-RANGE", "accept-encoding", "Host", "Transfer-Encoding"] {
            assert!(check_header(name, "x").is_err(), "{name}");
        }
    }

    #[test]
    fn redirect_policies_are_three_and_no_certificate_check_is_relaxed() {
        assert!(check_security(BgHttpSecurity::empty()).is_ok());
        assert!(check_security(BgHttpSecurity::REDIRECT_POLICY_DISALLOW).is_ok());
        let report = BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT
            | BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT;
        assert!(check_security(report).is_ok());
        let odd = BgHttpSecurity::from_bits_retain(0x300);
        assert_eq!(check_security(odd).unwrap_err().hresult(), hresult::E_INVALIDARG);
        for flag in [
            BgHttpSecurity::IGNORE_CERT_CN_INVALID,
            BgHttpSecurity::IGNORE_CERT_DATE_INVALID,
            BgHttpSecurity::IGNORE_UNKNOWN_CA,
            BgHttpSecurity::IGNORE_CERT_WRONG_USAGE,
        ] {
            assert_eq!(check_security(flag).unwrap_err().hresult(), hresult::E_NOTIMPL);
        }
    }

    #[test]
    fn methods_are_tokens() {
        assert!(check_method("POST").is_ok());
        assert!(check_method("PROPFIND").is_ok());
        for bad in ["", "GE T", "P\r\nX"] {
            assert_eq!(check_method(bad).unwrap_err().hresult(), hresult::E_INVALIDARG);
        }
    }

    #[test]
    fn debug_hides_every_password() {
        let options = HttpOptions {
            credentials: vec![BgAuthCredentials {
                target: BgAuthTarget::Proxy,
                scheme: BgAuthScheme::Basic,
                user_name: "u".into(),
                password: "pw-secret-1".into(),
            }],
            ..HttpOptions::default()
        };
        let debug = format!("{options:?} {options:#?}");
        assert!(!debug.contains("pw-secret-1"), "{debug}");
        assert!(debug.contains("Proxy"), "{debug}");
    }
}
