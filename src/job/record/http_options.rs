//! The HTTP options of one job as plain data (DESIGN 6.2; the setters are in
//! `handles/http_options.rs`), so that the job's state and its snapshot name this type without
//! depending on the job's handles.

use crate::{BgAuthCredentials, BgHttpSecurity};
use std::fmt;

/// The HTTP options of one job besides the headers and timeouts (`JobOptions`).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct HttpOptions {
    /// `make_custom_headers_write_only` was called: `get_custom_headers` is refused for good.
    pub(crate) write_only: bool,
    /// The TLS and redirect flags.
    pub(crate) security: BgHttpSecurity,
    /// The method, when not `GET`.
    pub(crate) method: Option<String>,
    /// The job was resumed once: the method is fixed.
    pub(crate) resumed: bool,
    /// One entry per (target, scheme), in the order set.
    pub(crate) credentials: Vec<BgAuthCredentials>,
}

impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials: Vec<_> =
            self.credentials.iter().map(|c| (c.target, c.scheme, "<hidden>")).collect();
        f.debug_struct("HttpOptions")
            .field("write_only", &self.write_only)
            .field("security", &self.security)
            .field("method", &self.method)
            .field("resumed", &self.resumed)
            .field("credentials", &credentials)
            .finish()
    }
}

impl HttpOptions {
    /// What `take_ownership` keeps: the secrets (headers are in `JobOptions`) and the
    /// credentials go, as in BITS.
    pub(crate) fn forget_credentials(&mut self) {
        self.credentials.clear();
    }
}
