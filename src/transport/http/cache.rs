//! A cache host (DESIGN 6.2, as Delivery Optimization uses a Connected Cache): the address of a
//! file on it, which failures send a request to the origin and which ban the host for
//! [`BAN`], and the wait before the origin is asked (the fallback delay).

use crate::clock::Clock;
use crate::hresult;
use crate::transport::{TransferError, TransferSink};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;
use url::Url;

/// How long a cache host that failed is skipped.
pub(super) const BAN: Duration = Duration::from_secs(15 * 60);

/// The longest the fallback wait sleeps between two looks at the clock and the sink: a
/// [`ManualClock`](crate::ManualClock) moves without waking anyone.
const POLL: Duration = Duration::from_millis(20);

/// The address of `source` on the cache `host` (`host[:port]`): `http://<host>/<path>?<query>`
/// with `cacheHostOrigin=<origin host[:port]>` added, the host and port written literally (not
/// percent-encoded) so that a cache can use the parameter as its upstream. `None` unless
/// `source` is `http://` (a cache cannot see inside TLS) and the address is a URL.
pub(super) fn address(source: &Url, host: &str) -> Option<Url> {
    if source.scheme() != "http" || host.is_empty() {
        return None;
    }
    let origin = match (source.host_str(), source.port()) {
        (Some(name), Some(port)) => format!("{name}:{port}"),
        (Some(name), None) => name.to_owned(),
        (None, _) => return None,
    };
    let query = match source.query() {
        Some(query) if !query.is_empty() => format!("{query}&cacheHostOrigin={origin}"),
        _ => format!("cacheHostOrigin={origin}"),
    };
    let url = Url::parse(&format!("http://{host}{}?{query}", source.path())).ok()?;
    // A host that is really a path or carries user information is not a cache host.
    (url.username().is_empty() && url.path() == source.path()).then_some(url)
}

/// Whether a failure of the cache bans it: it could not be reached or timed out, it answered
/// `5xx`, or its answer failed validation (not the file's size or validator, a malformed or
/// overlong response). A `4xx` (the cache passing on the origin's answer) and a connection cut
/// mid-body send the request to the origin without a ban.
pub(super) fn bans(error: &TransferError) -> bool {
    let code = error.hresult();
    let http = code & 0xFFFF_0000 == 0x8019_0000;
    matches!(
        code,
        hresult::BG_E_CONNECT_FAILURE
            | hresult::ERROR_TIMEOUT_HR
            | hresult::BG_E_INVALID_SERVER_RESPONSE
    ) || (http && code & 0xFFFF >= 500)
}

/// Waits until the fallback delay has passed since `started` (the first request to the cache),
/// on the job's clock. A delay that never ends (`Duration::MAX`) means the origin is never
/// asked: the cache's `error` is the result then.
///
/// # Errors
/// `Stopped` once the sink says so; the cache's error for a delay that never ends.
pub(super) fn wait_fallback(
    clock: &dyn Clock,
    started: Duration,
    delay: Duration,
    sink: &dyn TransferSink,
    error: TransferError,
) -> Result<(), TransferError> {
    let Some(until) = started.checked_add(delay).filter(|at| at.as_secs() < u64::MAX) else {
        return Err(error);
    };
    loop {
        if sink.should_stop() {
            return Err(TransferError::Stopped);
        }
        let now = clock.now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(POLL));
    }
}

/// The cache hosts that failed, with the clock time of the failure; shared by the clones of
/// one transport.
#[derive(Debug, Default)]
pub(super) struct Bans {
    failed: Mutex<HashMap<String, Duration>>,
}

impl Bans {
    /// Whether `host` failed less than [`BAN`] before `now`.
    pub(super) fn is_banned(&self, host: &str, now: Duration) -> bool {
        let mut failed = Mutex::lock(&self.failed);
        match failed.get(host) {
            Some(at) if now.saturating_sub(*at) < BAN => true,
            Some(_) => {
                failed.remove(host);
                false
            }
            None => false,
        }
    }

    /// Records that `host` failed at `now`.
    pub(super) fn ban(&self, host: &str, now: Duration) {
        Mutex::lock(&self.failed).insert(host.to_owned(), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BgErrorContext;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_cache_address_keeps_path_and_query_and_names_the_origin_literally() {
        let at = address(&url("http://origin.example:8080/a/b.bin?x=1&y=%20"), "cache:3128");
        assert_eq!(
            at.unwrap().as_str(),
            "http://cache:3128/a/b.bin?x=1&y=%20&cacheHostOrigin=origin.example:8080"
        );
        let at = address(&url("http://origin.example/f"), "10.0.0.5").unwrap();
        assert_eq!(at.as_str(), "http://10.0.0.5/f?cacheHostOrigin=origin.example");
        let at = address(&url("http://[::1]:81/f"), "c").unwrap();
        assert_eq!(at.as_str(), "http://c/f?cacheHostOrigin=[::1]:81");
    }

    #[test]
    fn https_and_odd_hosts_have_no_cache_address() {
        assert_eq!(address(&url("https://origin.example/f"), "cache"), None);
        assert_eq!(address(&url("http://origin.example/f"), ""), None);
        assert_eq!(address(&url("http://origin.example/f"), "user@cache"), None);
        assert_eq!(address(&url("http://origin.example/f"), "cache/sub"), None);
    }

    #[test]
    fn connect_failures_5xx_and_bad_answers_ban_4xx_and_cuts_do_not() {
        let ctx = BgErrorContext::RemoteFile;
        for code in [
            hresult::BG_E_CONNECT_FAILURE,
            hresult::ERROR_TIMEOUT_HR,
            hresult::BG_E_INVALID_SERVER_RESPONSE,
        ] {
            assert!(bans(&TransferError::transient(code, ctx, "x")), "{code:#x}");
        }
        assert!(bans(&TransferError::http_status(502)));
        assert!(bans(&TransferError::http_status(500)));
        assert!(!bans(&TransferError::http_status(404)));
        assert!(!bans(&TransferError::http_status(401)));
        assert!(!bans(&TransferError::transient(hresult::BG_E_CONNECTION_CLOSED, ctx, "cut")));
    }

    #[test]
    fn a_ban_lasts_fifteen_minutes_of_the_clock() {
        let bans = Bans::default();
        let t0 = Duration::from_secs(100);
        assert!(!bans.is_banned("cache", t0));
        bans.ban("cache", t0);
        assert!(bans.is_banned("cache", t0 + BAN - Duration::from_secs(1)));
        assert!(!bans.is_banned("other", t0));
        assert!(!bans.is_banned("cache", t0 + BAN));
        assert!(!bans.is_banned("cache", t0), "forgotten once over");
    }
}
