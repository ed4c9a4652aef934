//! The job's HTTP settings one transfer needs, read once from the request through the public
//! API: the secrets and the origin they may go to, the method, the redirect policy, the
//! timeouts and the proxy.

use super::client::{RedirectPolicy, Secrets};
use crate::transport::{TransferError, TransferRequest};
use crate::{BackgroundCopyJob, BgErrorContext, BgProxySettings, hresult};
use std::time::Duration;
use url::Url;

/// See the module docs.
#[derive(Debug)]
pub(super) struct JobHttp {
    /// The file's own remote name: its origin is the only one the secrets go to.
    pub(super) remote: Url,
    pub(super) secrets: Secrets,
    pub(super) method: String,
    pub(super) redirects: RedirectPolicy,
    pub(super) https_to_http: bool,
    pub(super) timeouts: (Option<Duration>, Option<Duration>),
    pub(super) proxy: BgProxySettings,
}

impl JobHttp {
    /// The settings of `request`'s job.
    ///
    /// # Errors
    /// A fatal `E_INVALIDARG` if the remote name is not a URL.
    pub(super) fn of(request: &TransferRequest<'_>) -> Result<JobHttp, TransferError> {
        let remote = Url::parse(request.remote_name).map_err(|e| {
            TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::RemoteFile,
                format!("the remote name is not a URL: {e}"),
            )
        })?;
        let secrets = Secrets { headers: request.custom_headers(), ..Secrets::default() };
        Ok(JobHttp {
            remote,
            secrets,
            method: "GET".to_owned(),
            redirects: RedirectPolicy::Follow,
            https_to_http: false,
            timeouts: request.job.get_http_timeouts(),
            proxy: request.job.get_proxy_settings(),
        })
    }
}
