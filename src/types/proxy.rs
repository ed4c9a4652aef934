use super::BgJobProxyUsage;
use serde::{Deserialize, Serialize};

/// A job's proxy settings, as returned by
/// [`BackgroundCopyJob::get_proxy_settings`](crate::BackgroundCopyJob::get_proxy_settings).
///
/// Both lists are `None` unless `usage` is [`BgJobProxyUsage::Override`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BgProxySettings {
    /// How the job finds its proxy.
    pub usage: BgJobProxyUsage,
    /// Space-separated proxies, `[scheme=][scheme://]server[:port]` (only with `Override`).
    pub proxy_list: Option<String>,
    /// Space-separated hosts that bypass the proxy; `<local>` and `*` wildcards (only with `Override`).
    pub bypass_list: Option<String>,
}

impl Default for BgProxySettings {
    /// The BITS default: `Preconfig`, no lists.
    fn default() -> Self {
        BgProxySettings { usage: BgJobProxyUsage::Preconfig, proxy_list: None, bypass_list: None }
    }
}
