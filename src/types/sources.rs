//! The mirrored types of DESIGN section 6.2, where the bytes come from: credentials
//! (`BG_AUTH_*`), peer caching flags (`BG_JOB_ENABLE_PEERCACHING_*`), HTTP security flags
//! (`BG_HTTP_*`, `BG_SSL_*`) and the file property ids of `IBackgroundCopyFile5`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Whom credentials answer (`BG_AUTH_TARGET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgAuthTarget {
    /// The server that serves the file (`BG_AUTH_TARGET_SERVER`).
    Server = 1,
    /// The proxy between bgcopy and the server (`BG_AUTH_TARGET_PROXY`); it gets
    /// `Proxy-Authorization`.
    Proxy = 2,
}

super::enum_try_from_u32!(BgAuthTarget, "BG_AUTH_TARGET", [Server, Proxy]);

/// The authentication scheme of credentials (`BG_AUTH_SCHEME`). bgcopy answers `Basic`; the
/// others are refused by `set_credentials` with `E_NOTIMPL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgAuthScheme {
    /// HTTP Basic (`BG_AUTH_SCHEME_BASIC`).
    Basic = 1,
    /// HTTP Digest (`BG_AUTH_SCHEME_DIGEST`).
    Digest = 2,
    /// NTLM (`BG_AUTH_SCHEME_NTLM`).
    Ntlm = 3,
    /// Negotiate (`BG_AUTH_SCHEME_NEGOTIATE`).
    Negotiate = 4,
    /// Passport (`BG_AUTH_SCHEME_PASSPORT`): needs Windows.
    Passport = 5,
}

super::enum_try_from_u32!(
    BgAuthScheme,
    "BG_AUTH_SCHEME",
    [Basic, Digest, Ntlm, Negotiate, Passport]
);

/// A user name and password for one target and scheme (`BG_AUTH_CREDENTIALS` with its basic
/// credentials). Built with a struct literal.
///
/// `Debug` never shows the password, so logging a value is safe:
///
/// ```
/// use bgcopy::*;
/// let credentials = BgAuthCredentials {
///     target: BgAuthTarget::Server,
///     scheme: BgAuthScheme::Basic,
///     user_name: "ada".into(),
///     password: "hunter2".into(),
/// };
/// assert!(!format!("{credentials:?}").contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BgAuthCredentials {
    /// Whom they answer.
    pub target: BgAuthTarget,
    /// The scheme.
    pub scheme: BgAuthScheme,
    /// The user name, at most 300 characters (`BG_E_USERNAME_TOO_LARGE`).
    pub user_name: String,
    /// The password, at most 300 characters (`BG_E_PASSWORD_TOO_LARGE`).
    pub password: String,
}

impl fmt::Debug for BgAuthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BgAuthCredentials")
            .field("target", &self.target)
            .field("scheme", &self.scheme)
            .field("user_name", &self.user_name)
            .field("password", &"<hidden>")
            .finish()
    }
}

bitflags::bitflags! {
    /// Peer caching of a job (`BG_JOB_ENABLE_PEERCACHING_*`). The default of a new job is
    /// `ENABLE_CLIENT`: its `http://` requests go to the manager's cache host first, if it has one
    /// (`ManagerBuilder::cache_host`).
    ///
    /// ```
    /// use bgcopy::BgPeerCaching;
    /// assert_eq!(BgPeerCaching::default(), BgPeerCaching::ENABLE_CLIENT);
    /// assert_eq!(BgPeerCaching::from_bits(0x8), None);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    pub struct BgPeerCaching: u32 {
        /// Fetch from peers (here: the cache host) (`BG_JOB_ENABLE_PEERCACHING_CLIENT`).
        const ENABLE_CLIENT = 0x0001;
        /// Serve the job's files to peers (`BG_JOB_ENABLE_PEERCACHING_SERVER`); bgcopy serves
        /// nothing, so this flag is only recorded.
        const ENABLE_SERVER = 0x0002;
        /// Do not use BranchCache (`BG_JOB_DISABLE_BRANCH_CACHE`); recorded.
        const DISABLE_BRANCH_CACHE = 0x0004;
    }
}

impl Default for BgPeerCaching {
    /// `ENABLE_CLIENT`, the flags of a new job.
    fn default() -> Self {
        BgPeerCaching::ENABLE_CLIENT
    }
}

bitflags::bitflags! {
    /// HTTP security flags of a job (`BG_SSL_*` and `BG_HTTP_REDIRECT_POLICY_*`), set with
    /// `BackgroundCopyJobHttpOptions::set_security_flags`. The redirect policy is the value under
    /// [`REDIRECT_POLICY_MASK`](Self::REDIRECT_POLICY_MASK) (see [`BgHttpSecurity::redirect_policy`]).
    ///
    /// ```
    /// use bgcopy::BgHttpSecurity;
    /// let flags = BgHttpSecurity::REDIRECT_POLICY_DISALLOW | BgHttpSecurity::ENABLE_CRL_CHECK;
    /// assert_eq!(flags.redirect_policy(), BgHttpSecurity::REDIRECT_POLICY_DISALLOW);
    /// assert_eq!(BgHttpSecurity::default().redirect_policy(), BgHttpSecurity::REDIRECT_POLICY_ALLOW_SILENT);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
    pub struct BgHttpSecurity: u32 {
        /// Check certificate revocation lists (`BG_SSL_ENABLE_CRL_CHECK`).
        const ENABLE_CRL_CHECK = 0x0001;
        /// Accept a certificate whose name does not match the host (`BG_SSL_IGNORE_CERT_CN_INVALID`).
        const IGNORE_CERT_CN_INVALID = 0x0002;
        /// Accept an expired or not yet valid certificate (`BG_SSL_IGNORE_CERT_DATE_INVALID`).
        const IGNORE_CERT_DATE_INVALID = 0x0004;
        /// Accept a certificate of an unknown authority (`BG_SSL_IGNORE_UNKNOWN_CA`).
        const IGNORE_UNKNOWN_CA = 0x0008;
        /// Accept a certificate made for another use (`BG_SSL_IGNORE_CERT_WRONG_USAGE`).
        const IGNORE_CERT_WRONG_USAGE = 0x0010;
        /// Follow redirects silently: the default policy (`BG_HTTP_REDIRECT_POLICY_ALLOW_SILENT`, 0).
        const REDIRECT_POLICY_ALLOW_SILENT = 0x0000;
        /// Follow redirects, and the file's remote name becomes the final URL
        /// (`BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT`).
        const REDIRECT_POLICY_ALLOW_REPORT = 0x0100;
        /// Refuse redirects: the file fails with `0x80190000 | status`
        /// (`BG_HTTP_REDIRECT_POLICY_DISALLOW`).
        const REDIRECT_POLICY_DISALLOW = 0x0200;
        /// The bits of the redirect policy (`BG_HTTP_REDIRECT_POLICY_MASK`).
        const REDIRECT_POLICY_MASK = 0x0700;
        /// Allow a redirect from `https://` to `http://` (`BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP`).
        const ALLOW_HTTPS_TO_HTTP_REDIRECT = 0x0800;
    }
}

impl BgHttpSecurity {
    /// The redirect policy: the flags under [`REDIRECT_POLICY_MASK`](Self::REDIRECT_POLICY_MASK).
    pub const fn redirect_policy(self) -> BgHttpSecurity {
        self.intersection(BgHttpSecurity::REDIRECT_POLICY_MASK)
    }
}

/// The id of a file property (`BITS_FILE_PROPERTY_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgFilePropertyId {
    /// The headers of the last HTTP response for the file
    /// (`BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS`).
    HttpResponseHeaders = 1,
}

super::enum_try_from_u32!(BgFilePropertyId, "BITS_FILE_PROPERTY_ID", [HttpResponseHeaders]);

/// The value of a file property (`BITS_FILE_PROPERTY_VALUE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BgFileProperty {
    /// The headers of the last response, one `Name: value` per CRLF-terminated line.
    HttpResponseHeaders(String),
}

impl BgFileProperty {
    /// The id of this property.
    pub const fn id(&self) -> BgFilePropertyId {
        match self {
            BgFileProperty::HttpResponseHeaders(_) => BgFilePropertyId::HttpResponseHeaders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_say_their_windows_values_and_refuse_others() {
        assert_eq!(BgAuthTarget::try_from(2).unwrap(), BgAuthTarget::Proxy);
        assert_eq!(BgAuthScheme::try_from(5).unwrap(), BgAuthScheme::Passport);
        assert_eq!(BgFilePropertyId::try_from(1).unwrap(), BgFilePropertyId::HttpResponseHeaders);
        for bad in [0, 6, u32::MAX] {
            let error = BgAuthScheme::try_from(bad).unwrap_err();
            assert_eq!(error.hresult(), crate::hresult::E_NOTIMPL);
        }
        assert!(BgAuthTarget::try_from(3).is_err());
    }

    #[test]
    fn flags_have_the_windows_bits() {
        assert_eq!(BgPeerCaching::all().bits(), 0x7);
        assert_eq!(BgHttpSecurity::all().bits(), 0x0F1F);
        assert_eq!(BgHttpSecurity::from_bits(0x1000), None);
        let flags = BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT
            | BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT;
        assert_eq!(flags.redirect_policy(), BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT);
        assert_eq!(BgHttpSecurity::empty().redirect_policy().bits(), 0);
    }

    #[test]
    fn credentials_round_trip_through_serde_and_hide_the_password_in_debug() {
        let credentials = BgAuthCredentials {
            target: BgAuthTarget::Proxy,
            scheme: BgAuthScheme::Basic,
            user_name: "u".into(),
            password: "s3cret-value".into(),
        };
        let debug = format!("{credentials:?} {:#?}", credentials.clone());
        assert!(!debug.contains("s3cret-value"), "{debug}");
        assert!(debug.contains("Proxy"), "{debug}");
        let property = BgFileProperty::HttpResponseHeaders("A: b\r\n".into());
        assert_eq!(property.id(), BgFilePropertyId::HttpResponseHeaders);
    }
}
