//! The job's HTTP settings one transfer needs, read once from the request through the public
//! API: the secrets and the origin they may go to, the method, the redirect policy, the
//! timeouts and the proxy.

use super::client::{RedirectPolicy, Secrets, basic};
use crate::transport::{TransferError, TransferRequest};
use crate::{
    BackgroundCopyJob, BgAuthScheme, BgAuthTarget, BgErrorContext, BgHttpSecurity, BgProxySettings,
    hresult,
};
use std::time::Duration;
use url::Url;

/// See the module docs.
#[derive(Debug)]
pub(super) struct JobHttp {
    /// The file's own remote name (or the URL the engine named for the secrets): its origin is
    /// the only one the secrets go to.
    pub(super) remote: Url,
    pub(super) secrets: Secrets,
    pub(super) method: String,
    /// `TransferRequest::may_join_sources`.
    pub(super) may_join: bool,
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
        let remote = Url::parse(request.secrets_origin()).map_err(|e| {
            TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::RemoteFile,
                format!("the remote name is not a URL: {e}"),
            )
        })?;
        let mut secrets = Secrets { headers: request.custom_headers(), ..Secrets::default() };
        // `set_credentials` accepts `Basic` only; anything else is not answered.
        for credentials in request.credentials() {
            if credentials.scheme != BgAuthScheme::Basic {
                continue;
            }
            let (user, password) = (credentials.user_name, credentials.password);
            match credentials.target {
                BgAuthTarget::Server => secrets.authorization = Some(basic(&user, &password)),
                BgAuthTarget::Proxy => secrets.proxy = Some((user, password)),
            }
        }
        let flags = request.security_flags();
        let redirects = match flags.redirect_policy() {
            BgHttpSecurity::REDIRECT_POLICY_ALLOW_SILENT => RedirectPolicy::Follow,
            BgHttpSecurity::REDIRECT_POLICY_ALLOW_REPORT => RedirectPolicy::Report,
            // `DISALLOW`, and any policy that is not one (refused by `set_security_flags`).
            _ => RedirectPolicy::Refuse,
        };
        Ok(JobHttp {
            remote,
            secrets,
            method: request.http_method(),
            may_join: request.may_join_sources(),
            redirects,
            https_to_http: flags.contains(BgHttpSecurity::ALLOW_HTTPS_TO_HTTP_REDIRECT),
            timeouts: request.job.get_http_timeouts(),
            proxy: request.job.get_proxy_settings(),
        })
    }
}
