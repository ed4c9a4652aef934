//! Which proxy (if any) a request goes through, from the job's [`BgProxySettings`]. The rules
//! are documented for users on [`HttpTransport`](crate::transport::HttpTransport) (section "Proxies").
//! A list that cannot be used is a fatal `BG_E_INVALID_PROXY_INFO` failure, reported when the job
//! transfers (as Windows does).

use crate::transport::TransferError;
use crate::{BgErrorContext, BgJobProxyUsage, BgProxySettings, hresult};
use std::net::IpAddr;
use url::{Host, Url};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// Straight to the server.
    Direct,
    /// Through these proxies, tried in order (URIs `scheme://host:port`).
    Proxies(Vec<String>),
}

/// Decides the route of a request to `url`. `env` reads an environment variable (injected so the
/// rules can be tested without touching the process environment).
///
/// # Errors
/// A fatal `BG_E_INVALID_PROXY_INFO` failure for a proxy entry that cannot be used.
pub(crate) fn route(
    settings: &BgProxySettings,
    url: &Url,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Route, TransferError> {
    let scheme = url.scheme();
    match settings.usage {
        BgJobProxyUsage::NoProxy => Ok(Route::Direct),
        BgJobProxyUsage::Override => {
            let bypass = settings.bypass_list.as_deref().unwrap_or("");
            if bypass_matches(bypass, url) {
                return Ok(Route::Direct);
            }
            let list = settings.proxy_list.as_deref().unwrap_or("");
            let mut proxies = Vec::new();
            for entry in
                list.split(|c: char| c.is_whitespace() || c == ';').filter(|e| !e.is_empty())
            {
                let (only, server) = match entry.split_once('=') {
                    Some((only, server)) => (Some(only), server),
                    None => (None, entry),
                };
                if let Some(only) = only {
                    if !matches!(only.to_ascii_lowercase().as_str(), "http" | "https") {
                        return Err(invalid(format!("proxy entry {entry:?}: unknown scheme")));
                    }
                    if !only.eq_ignore_ascii_case(scheme) {
                        continue;
                    }
                }
                proxies.push(proxy_uri(server)?);
            }
            Ok(if proxies.is_empty() { Route::Direct } else { Route::Proxies(proxies) })
        }
        BgJobProxyUsage::Preconfig | BgJobProxyUsage::Autodetect => {
            let var = |name: &str| {
                env(name)
                    .or_else(|| env(&name.to_ascii_uppercase()))
                    .filter(|v| !v.trim().is_empty())
            };
            let proxy = var(&format!("{scheme}_proxy")).or_else(|| var("all_proxy"));
            let Some(proxy) = proxy else { return Ok(Route::Direct) };
            if no_proxy_matches(&var("no_proxy").unwrap_or_default(), url) {
                return Ok(Route::Direct);
            }
            Ok(Route::Proxies(vec![proxy_uri(proxy.trim())?]))
        }
    }
}

fn invalid(message: String) -> TransferError {
    TransferError::fatal(
        hresult::BG_E_INVALID_PROXY_INFO,
        BgErrorContext::GeneralTransport,
        message,
    )
}

/// `[scheme://]server[:port][/]` to `scheme://server[:port]` (http by default), checked.
fn proxy_uri(server: &str) -> Result<String, TransferError> {
    let with_scheme =
        if server.contains("://") { server.to_owned() } else { format!("http://{server}") };
    let parsed = Url::parse(&with_scheme)
        .map_err(|e| invalid(format!("proxy {server:?} is not usable: {e}")))?;
    let known = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"];
    if !known.contains(&parsed.scheme())
        || parsed.host_str().is_none_or(str::is_empty)
        || !matches!(parsed.path(), "" | "/")
        || parsed.query().is_some()
    {
        return Err(invalid(format!("proxy {server:?} is not usable")));
    }
    Ok(with_scheme.trim_end_matches('/').to_owned())
}

/// The host as the lists name it: lower case, IPv6 without brackets.
fn host_of(url: &Url) -> Option<String> {
    Some(match url.host()? {
        Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.to_string(),
    })
}

/// Whether the job's bypass list sends `url` direct.
pub(crate) fn bypass_matches(list: &str, url: &Url) -> bool {
    let Some(host) = host_of(url) else { return false };
    let port = url.port_or_known_default();
    let is_name = matches!(url.host(), Some(Host::Domain(_)));
    list.split(|c: char| c.is_whitespace() || c == ';' || c == ',').filter(|e| !e.is_empty()).any(
        |entry| {
            if entry.eq_ignore_ascii_case("<local>") {
                return is_name && !host.contains('.');
            }
            let mut pattern = entry.to_ascii_lowercase();
            if let Some((scheme, rest)) = pattern.split_once("://") {
                if scheme != url.scheme() {
                    return false;
                }
                pattern = rest.to_owned();
            }
            let (pattern, want_port) = split_port(&pattern);
            want_port.is_none_or(|p| Some(p) == port) && glob(pattern, &host)
        },
    )
}

/// Splits a `:port` suffix off a host pattern (not off a bare IPv6 address).
fn split_port(pattern: &str) -> (&str, Option<u16>) {
    fn unbracket(h: &str) -> &str {
        h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(h)
    }
    if let Some((host, port)) = pattern.rsplit_once(':') {
        let bare_ipv6 = host.contains(':') && !host.starts_with('[');
        if !bare_ipv6 && let Ok(port) = port.parse::<u16>() {
            return (unbracket(host), Some(port));
        }
    }
    (unbracket(pattern), None)
}

/// `*` matches any run of characters (including none); everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether a `no_proxy` list sends `url` direct (curl's rules).
pub(crate) fn no_proxy_matches(list: &str, url: &Url) -> bool {
    let Some(host) = host_of(url) else { return false };
    let port = url.port_or_known_default();
    let address: Option<IpAddr> = host.parse().ok();
    list.split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        if let Some((block, bits)) = entry.split_once('/') {
            return match (address, block.parse::<IpAddr>(), bits.parse::<u8>()) {
                (Some(addr), Ok(block), Ok(bits)) => in_block(addr, block, bits),
                _ => false,
            };
        }
        let (name, want_port) = split_port(&entry);
        if want_port.is_some_and(|p| Some(p) != port) {
            return false;
        }
        let name = name.trim_start_matches('*').trim_start_matches('.').trim_end_matches('.');
        if name.is_empty() {
            return false;
        }
        match (address, name.parse::<IpAddr>()) {
            (Some(addr), Ok(want)) => addr == want,
            (None, Err(_)) => host == name || host.ends_with(&format!(".{name}")),
            _ => false,
        }
    })
}

fn in_block(addr: IpAddr, block: IpAddr, bits: u8) -> bool {
    let mask = |width: u32| -> u128 {
        let bits = u32::from(bits).min(width);
        if bits == 0 { 0 } else { (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width)) }
    };
    match (addr, block) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let m = mask(32);
            u128::from(u32::from(a)) & m == u128::from(u32::from(b)) & m
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let m = mask(128);
            u128::from(a) & m == u128::from(b) & m
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn settings(
        usage: BgJobProxyUsage,
        list: Option<&str>,
        bypass: Option<&str>,
    ) -> BgProxySettings {
        BgProxySettings {
            usage,
            proxy_list: list.map(str::to_owned),
            bypass_list: bypass.map(str::to_owned),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn no_proxy_usage_goes_direct() {
        let s = settings(BgJobProxyUsage::NoProxy, None, None);
        let env = |_: &str| Some("http://proxy:1".to_owned());
        assert_eq!(route(&s, &url("http://a.example/"), &env).unwrap(), Route::Direct);
    }

    #[test]
    fn override_list_entries_apply_per_scheme_in_order() {
        let s = settings(
            BgJobProxyUsage::Override,
            Some("https=secure:8443 http=plain:8080;both"),
            None,
        );
        assert_eq!(
            route(&s, &url("http://a.example/"), &no_env).unwrap(),
            Route::Proxies(vec!["http://plain:8080".into(), "http://both".into()])
        );
        assert_eq!(
            route(&s, &url("https://a.example/"), &no_env).unwrap(),
            Route::Proxies(vec!["http://secure:8443".into(), "http://both".into()])
        );
    }

    #[test]
    fn unusable_proxy_entries_are_invalid_proxy_info() {
        for list in ["ftp=x:1", "http://", "proxy:notaport", "http://p:1/path", "gopher://p:1"] {
            let s = settings(BgJobProxyUsage::Override, Some(list), None);
            let error = route(&s, &url("http://a.example/"), &no_env).unwrap_err();
            assert_eq!(error.hresult(), hresult::BG_E_INVALID_PROXY_INFO, "{list}");
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn bypass_local_matches_names_without_a_dot() {
        assert!(bypass_matches("<local>", &url("http://intranet/x")));
        assert!(bypass_matches("<LOCAL>", &url("http://localhost:8080/x")));
        assert!(!bypass_matches("<local>", &url("http://a.example/x")));
        assert!(!bypass_matches("<local>", &url("http://127.0.0.1/x")));
        assert!(!bypass_matches("<local>", &url("http://[::1]/x")));
    }

    #[test]
    fn bypass_wildcards_match_any_run_of_characters() {
        assert!(bypass_matches("*.example.com", &url("http://a.b.example.com/")));
        assert!(!bypass_matches("*.example.com", &url("http://example.com/")));
        assert!(bypass_matches("10.*", &url("http://10.1.2.3/")));
        assert!(bypass_matches("*mid*", &url("http://amidb.org/")));
        assert!(bypass_matches("EXAMPLE.com", &url("http://example.COM/")));
        assert!(!bypass_matches("example.co", &url("http://example.com/")));
        assert!(bypass_matches("other.org *.example.com", &url("http://x.example.com/")));
        assert!(bypass_matches("other.org;x.example.com", &url("http://x.example.com/")));
    }

    #[test]
    fn bypass_scheme_and_port_must_match_when_given() {
        assert!(bypass_matches("https://*.example.com", &url("https://a.example.com/")));
        assert!(!bypass_matches("https://*.example.com", &url("http://a.example.com/")));
        assert!(bypass_matches("a.example.com:8080", &url("http://a.example.com:8080/")));
        assert!(!bypass_matches("a.example.com:8080", &url("http://a.example.com/")));
        assert!(bypass_matches("a.example.com:80", &url("http://a.example.com/")));
        assert!(bypass_matches("[::1]:8080", &url("http://[::1]:8080/")));
        assert!(bypass_matches("::1", &url("http://[::1]:8080/")));
    }

    #[test]
    fn bypassed_host_goes_direct_under_override() {
        let s = settings(BgJobProxyUsage::Override, Some("proxy:3128"), Some("<local> *.corp"));
        assert_eq!(route(&s, &url("http://build.corp/x"), &no_env).unwrap(), Route::Direct);
        assert_eq!(route(&s, &url("http://localhost/x"), &no_env).unwrap(), Route::Direct);
        assert_eq!(
            route(&s, &url("http://a.example/x"), &no_env).unwrap(),
            Route::Proxies(vec!["http://proxy:3128".into()])
        );
    }

    #[test]
    fn preconfig_reads_scheme_variables_lower_case_first() {
        let env = |name: &str| match name {
            "http_proxy" => Some("lower:1".to_owned()),
            "HTTP_PROXY" => Some("upper:2".to_owned()),
            "HTTPS_PROXY" => Some("socks5://upper:3".to_owned()),
            _ => None,
        };
        let s = settings(BgJobProxyUsage::Preconfig, None, None);
        assert_eq!(
            route(&s, &url("http://a.example/"), &env).unwrap(),
            Route::Proxies(vec!["http://lower:1".into()])
        );
        assert_eq!(
            route(&s, &url("https://a.example/"), &env).unwrap(),
            Route::Proxies(vec!["socks5://upper:3".into()])
        );
    }

    #[test]
    fn preconfig_falls_back_to_all_proxy_and_autodetect_reads_the_same() {
        let env = |name: &str| (name == "ALL_PROXY").then(|| "http://all:9".to_owned());
        for usage in [BgJobProxyUsage::Preconfig, BgJobProxyUsage::Autodetect] {
            assert_eq!(
                route(&settings(usage, None, None), &url("https://a.example/"), &env).unwrap(),
                Route::Proxies(vec!["http://all:9".into()])
            );
        }
        let s = settings(BgJobProxyUsage::Preconfig, None, None);
        assert_eq!(route(&s, &url("https://a.example/"), &no_env).unwrap(), Route::Direct);
    }

    #[test]
    fn preconfig_honours_no_proxy() {
        let env = |name: &str| match name {
            "http_proxy" => Some("p:1".to_owned()),
            "NO_PROXY" => {
                Some("internal.org, .corp.example,*.svc 127.0.0.0/8 ::1 host:8080".to_owned())
            }
            _ => None,
        };
        let s = settings(BgJobProxyUsage::Preconfig, None, None);
        for direct in [
            "http://internal.org/",
            "http://a.internal.org/",
            "http://corp.example/",
            "http://x.corp.example/",
            "http://a.svc/",
            "http://127.0.0.1:9/",
            "http://127.200.0.1/",
            "http://[::1]:9/",
            "http://host:8080/",
        ] {
            assert_eq!(route(&s, &url(direct), &env).unwrap(), Route::Direct, "{direct}");
        }
        for proxied in ["http://notinternal.org/", "http://128.0.0.1/", "http://host:8081/"] {
            assert!(
                matches!(route(&s, &url(proxied), &env).unwrap(), Route::Proxies(_)),
                "{proxied}"
            );
        }
    }

    #[test]
    fn no_proxy_star_sends_everything_direct() {
        assert!(no_proxy_matches("*", &url("http://anything.example/")));
        assert!(!no_proxy_matches("", &url("http://anything.example/")));
    }

    #[test]
    fn address_blocks_mask_the_right_bits() {
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_block(v4("192.168.1.7"), v4("192.168.0.0"), 16));
        assert!(!in_block(v4("192.169.1.7"), v4("192.168.0.0"), 16));
        assert!(in_block(v4("8.8.8.8"), v4("0.0.0.0"), 0));
        assert!(in_block(v4("fd00::1"), v4("fd00::"), 8));
        assert!(!in_block(v4("fe00::1"), v4("fd00::"), 8));
        assert!(!in_block(v4("10.0.0.1"), v4("::"), 0));
    }
}
