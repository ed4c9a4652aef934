//! `IBackgroundCopyJobHttpOptions` (with its versions 2 and 3 in one trait): custom headers,
//! TLS and redirect flags, and the HTTP method (DESIGN section 6.2).

use crate::{BgHttpSecurity, Result};

/// HTTP options of a job (`IBackgroundCopyJobHttpOptions`, `...2`, `...3`).
pub trait BackgroundCopyJobHttpOptions {
    /// Sets the custom headers sent with every request to the origin of each file's own remote
    /// name (`SetCustomHeaders`); an empty slice clears them. Never sent to another origin, a
    /// mirror or a cache host. Write-only headers can still be replaced.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_INVALIDARG`: a name or value that is not a valid header.
    /// - `BG_E_STRING_TOO_LONG`: over 16,384 characters in all.
    fn set_custom_headers(&self, headers: &[(&str, &str)]) -> Result<()>;

    /// The custom headers (`GetCustomHeaders`).
    ///
    /// # Errors
    /// `E_ACCESSDENIED` once [`make_custom_headers_write_only`](Self::make_custom_headers_write_only)
    /// was called.
    fn get_custom_headers(&self) -> Result<Vec<(String, String)>>;

    /// Makes the custom headers write-only (`MakeCustomHeadersWriteOnly`); this cannot be undone,
    /// and it survives a reopen of the store.
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is final.
    fn make_custom_headers_write_only(&self) -> Result<()>;

    /// Sets the TLS and redirect flags (`SetSecurityFlags`).
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_NOTIMPL`: a TLS flag the transport cannot honour (never ignored silently).
    /// - `E_INVALIDARG`: bits outside [`BgHttpSecurity`], or a redirect policy that does not exist.
    fn set_security_flags(&self, flags: BgHttpSecurity) -> Result<()>;

    /// The TLS and redirect flags (`GetSecurityFlags`).
    fn get_security_flags(&self) -> BgHttpSecurity;

    /// Sets the HTTP method (`SetHttpMethod`). A method other than `GET` makes transient errors
    /// final and a resume start from zero.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: after the first `resume()`, or the job is final.
    /// - `E_INVALIDARG`: not a valid method token.
    fn set_http_method(&self, method: &str) -> Result<()>;

    /// The HTTP method (`GetHttpMethod`): `"GET"` by default.
    fn get_http_method(&self) -> String;
}
