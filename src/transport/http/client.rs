//! One HTTP exchange on ureq: the request with the job's headers, credentials, proxy and
//! timeouts; redirects followed by hand, as the job's redirect policy says (so https → http can
//! be refused, the proxy re-decided per host and the job's secrets kept from other origins);
//! and ureq's errors mapped to [`TransferError`]s.

use super::HttpTransport;
use super::failure::io_error;
use super::proxy::{self, Route};
use super::stall;
use crate::transport::TransferError;
use crate::{BgErrorContext, BgProxySettings, hresult};
use parking_lot::Mutex;
use std::fmt;
use std::io;
use std::time::Duration;
use ureq::Body;
use ureq::http::Response;
use url::{Origin, Url};

/// The request method: the job's method (`GET` unless it set another), or `HEAD` to confirm a
/// file that holds all its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    /// The job's method ([`Client::method`]).
    Get,
    Head,
}

/// What the job's redirect policy does with a `3xx` (`BgHttpSecurity`'s redirect bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RedirectPolicy {
    /// Follow it (`REDIRECT_POLICY_ALLOW_SILENT`, the default).
    Follow,
    /// Follow it and report the final URL (`REDIRECT_POLICY_ALLOW_REPORT`).
    Report,
    /// Fail the file with the `3xx`'s HRESULT (`REDIRECT_POLICY_DISALLOW`).
    Refuse,
}

/// The job's secrets: sent only to the origin (scheme, host, port) of the file's own remote
/// name, never to a redirect target on another origin, a mirror or a cache host. `Debug`
/// never shows a value.
#[derive(Clone, Default)]
pub(super) struct Secrets {
    /// The job's custom headers.
    pub(super) headers: Vec<(String, String)>,
    /// The `Authorization` value of the job's `Basic` server credentials.
    pub(super) authorization: Option<String>,
    /// The job's `Basic` proxy credentials (user name, password), given to each proxy.
    pub(super) proxy: Option<(String, String)>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Secrets")
            .field("headers", &names)
            .field("authorization", &self.authorization.as_ref().map(|_| "<hidden>"))
            .field("proxy", &self.proxy.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// The `Authorization` value of `Basic` credentials (RFC 7617: `user:password`, UTF-8, Base64).
pub(super) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard Base64 with padding (RFC 4648 section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes a request asks for: `Range: bytes=first-[last]`, with `If-Range: validator` when
/// the bytes are to be added to ones from that content.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ranged<'v> {
    pub(super) first: u64,
    pub(super) last: Option<u64>,
    pub(super) if_range: Option<&'v str>,
}

/// What one transfer call needs for its requests (read from the job through its public API).
pub(super) struct Client<'a> {
    pub(super) transport: &'a HttpTransport,
    /// Where the requests go first: the file's source, or its address on the cache host.
    pub(super) url: Url,
    /// The origin the secrets may go to: the file's own remote name's.
    pub(super) secret_origin: Origin,
    pub(super) secrets: Secrets,
    /// The method of the requests for the file's bytes (`"GET"` unless the job set another).
    pub(super) method: String,
    pub(super) redirects: RedirectPolicy,
    /// Whether an `https` → `http` redirect may be followed.
    pub(super) https_to_http: bool,
    /// The requests go to a cache host: its connect timeout is at most [`CACHE_CONNECT`].
    pub(super) via_cache: bool,
    /// Bytes from another source may be joined without a common validator: the file has an
    /// expected SHA-256, checked once every byte is there.
    pub(super) may_join: bool,
    /// The job's (connect, read) timeouts; `None` for the transport's.
    pub(super) timeouts: (Option<Duration>, Option<Duration>),
    pub(super) proxy: BgProxySettings,
    /// The headers of the last response that was not a followed redirect, as `Name: value`
    /// CRLF-terminated lines.
    pub(super) last_headers: Mutex<Option<String>>,
    /// The URL of that response, when a redirect led to it.
    pub(super) redirected_to: Mutex<Option<Url>>,
}

/// The longest a cache host may take to accept a connection before the origin serves.
pub(super) const CACHE_CONNECT: Duration = Duration::from_secs(3);

/// The longest timeout handed to ureq: about a century, "never" for a read or a connection.
/// ureq adds a timeout to `Instant::now()` unchecked, so `Duration::MAX` would panic in the
/// worker (DESIGN 6.1: `Duration::MAX` means never).
const LONGEST_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `timeout`, at most [`LONGEST_TIMEOUT`].
fn bounded(timeout: Duration) -> Duration {
    timeout.min(LONGEST_TIMEOUT)
}

impl Client<'_> {
    fn resolve_timeout(&self) -> Duration {
        bounded(self.transport.resolve_timeout)
    }

    fn connect_timeout(&self) -> Duration {
        let timeout = bounded(self.timeouts.0.unwrap_or(self.transport.connect_timeout));
        if self.via_cache { timeout.min(CACHE_CONNECT) } else { timeout }
    }

    /// Whether the secrets may go to `url`: it is on the secrets' origin and so was every hop
    /// before it (`same_origin`); never through a cache host.
    fn secrets_for(&self, url: &Url, same_origin: bool) -> bool {
        same_origin && !self.via_cache && url.origin() == self.secret_origin
    }

    /// Takes the headers of the last response, if any came since the last call.
    pub(super) fn take_last_headers(&self) -> Option<String> {
        Mutex::lock(&self.last_headers).take()
    }

    /// Takes the URL a redirect led to, if any since the last call.
    pub(super) fn take_redirected_to(&self) -> Option<Url> {
        Mutex::lock(&self.redirected_to).take()
    }

    fn read_timeout(&self) -> Duration {
        bounded(self.timeouts.1.unwrap_or(self.transport.read_timeout))
    }

    /// Sends `method` for the file (with `Range` and `If-Range` as `range` says), following
    /// redirects, and returns the final response (any status). Each request runs as
    /// [`stall::call`] makes it: `stop` (the job's stop flag) is looked at while it connects and
    /// while its response head is awaited.
    ///
    /// # Errors
    /// Connection failures (transient), a redirect that cannot be followed (fatal, the 3xx's
    /// `0x80190000 + status`), an unusable proxy list (fatal `BG_E_INVALID_PROXY_INFO`),
    /// `Stopped` once `stop` turns true.
    pub(super) fn send(
        &self,
        method: Method,
        range: Option<Ranged<'_>>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Response<Body>, TransferError> {
        let mut url = self.url.clone();
        let mut same_origin = true;
        let mut hops = 0;
        loop {
            let response = self.send_once(method, &url, range, same_origin, stop)?;
            let status = response.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                *Mutex::lock(&self.last_headers) = Some(header_lines(response.headers()));
                if hops > 0 {
                    *Mutex::lock(&self.redirected_to) = Some(url);
                }
                return Ok(response);
            }
            let refuse = |why: String| {
                TransferError::fatal(
                    hresult::from_http_status(status),
                    BgErrorContext::RemoteFile,
                    format!("redirect from {} not followed: {why}", without_query(&url)),
                )
            };
            if self.redirects == RedirectPolicy::Refuse {
                *Mutex::lock(&self.last_headers) = Some(header_lines(response.headers()));
                return Err(refuse("the job's redirect policy disallows redirects".to_owned()));
            }
            hops += 1;
            if hops > self.transport.max_redirects {
                return Err(refuse(format!(
                    "more than {} redirects",
                    self.transport.max_redirects
                )));
            }
            let location = response.headers().get("location").and_then(|v| v.to_str().ok());
            let next = next_hop(&url, location, self.https_to_http).map_err(refuse)?;
            same_origin &= next.origin() == url.origin();
            url = next;
        }
    }

    /// One request to `url`, through the proxies its route names (in order when connecting to
    /// one fails), with one immediate retry of a connection that closed before answering (a
    /// pooled connection the server had just dropped).
    fn send_once(
        &self,
        method: Method,
        url: &Url,
        range: Option<Ranged<'_>>,
        same_origin: bool,
        stop: &dyn Fn() -> bool,
    ) -> Result<Response<Body>, TransferError> {
        let proxies = match proxy::route(&self.proxy, url, &self.transport.env)? {
            Route::Direct => vec![None],
            Route::Proxies(list) => list.into_iter().map(Some).collect(),
        };
        let mut last = None;
        for proxy in &proxies {
            let proxy = match proxy {
                Some(uri) => Some(self.proxy_with_credentials(uri)?),
                None => None,
            };
            let tls = speaks_tls(url, proxy.as_ref());
            let socks = proxy.as_ref().is_some_and(is_socks);
            for _ in 0..2 {
                match self.request(method, url, range, same_origin, proxy.clone(), stop) {
                    Ok(response) => return Ok(response),
                    Err(e) if stall::is_stop(&e) => return Err(TransferError::Stopped),
                    Err(e) => {
                        let closed = matches!(&e, ureq::Error::Io(io) if closed_early(io));
                        let by_proxy = if socks { socks_failure(&e) } else { None };
                        let unreachable = is_connect_failure(&e)
                            || by_proxy.as_ref().is_some_and(TransferError::is_transient);
                        let error = match by_proxy {
                            Some(failure) => failure,
                            None => request_error(e, tls),
                        };
                        if !closed && !unreachable {
                            return Err(error);
                        }
                        if unreachable {
                            // The cached addresses may be the reason: look the name up again.
                            self.transport.resolver.forget();
                        }
                        last = Some(error);
                        if unreachable {
                            break; // try the next proxy
                        }
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| unreachable_error(url)))
    }

    /// The proxy `uri` names, with the job's proxy credentials (ureq sends them as
    /// `Proxy-Authorization: Basic` on its `CONNECT`). No message names the credentials.
    fn proxy_with_credentials(&self, uri: &str) -> Result<ureq::Proxy, TransferError> {
        let unusable = |e: &dyn fmt::Display| {
            TransferError::fatal(
                hresult::BG_E_INVALID_PROXY_INFO,
                BgErrorContext::GeneralTransport,
                format!("proxy {uri:?} is not usable: {e}"),
            )
        };
        let plain = ureq::Proxy::new(uri).map_err(|e| unusable(&e))?;
        let Some((user, password)) = &self.secrets.proxy else { return Ok(plain) };
        let mut with = Url::parse(uri).map_err(|e| unusable(&e))?;
        if with.set_username(user).is_err() || with.set_password(Some(password)).is_err() {
            return Err(unusable(&"it cannot carry credentials"));
        }
        ureq::Proxy::new(with.as_str())
            .map_err(|_| unusable(&"the proxy credentials cannot be encoded in its address"))
    }

    /// One request, with the platform verifier's agent unless it could not start; if it cannot
    /// start now (ureq reports a rustls error from setting TLS up, before any byte is sent: no
    /// root certificates in the system store), the request is sent again with the bundled roots,
    /// which serve every later request too.
    fn request(
        &self,
        method: Method,
        url: &Url,
        range: Option<Ranged<'_>>,
        same_origin: bool,
        proxy: Option<ureq::Proxy>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Response<Body>, ureq::Error> {
        let (agent, platform) = self.transport.agent();
        let request = self.build(agent, method, url, range, same_origin, proxy.clone())?;
        match stall::call(agent, request, stop) {
            Err(ureq::Error::Rustls(_)) if platform => {
                self.transport.platform_verifier_failed();
                let (agent, _) = self.transport.agent();
                let request = self.build(agent, method, url, range, same_origin, proxy)?;
                stall::call(agent, request, stop)
            }
            other => other,
        }
    }

    /// The request to send with `agent`: the job's headers and secrets (as `url` and
    /// `same_origin` allow), the range, the proxy and the timeouts.
    fn build(
        &self,
        agent: &ureq::Agent,
        method: Method,
        url: &Url,
        range: Option<Ranged<'_>>,
        same_origin: bool,
        proxy: Option<ureq::Proxy>,
    ) -> Result<ureq::http::Request<()>, ureq::Error> {
        let method = match method {
            Method::Get => self.method.as_str(),
            Method::Head => "HEAD",
        };
        let mut request = ureq::http::Request::builder().method(method).uri(url.as_str());
        // Custom headers and credentials go to the file's own origin only: any custom header may
        // be a secret (an API key has no standard name), so none follows a redirect to another
        // scheme, host or port, and none goes to a mirror or a cache host.
        let secrets = self.secrets_for(url, same_origin);
        let custom: &[(String, String)] = if secrets { &self.secrets.headers } else { &[] };
        for (name, value) in custom {
            request = request.header(name.as_str(), value.as_bytes());
        }
        if let (true, Some(authorization)) = (secrets, &self.secrets.authorization) {
            // A custom `Authorization` header wins over the credentials.
            if !custom.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
                request = request.header("Authorization", authorization.as_str());
            }
        }
        // Identity only: no transparent decompression, so offsets and counts are wire bytes.
        request = request.header("Accept-Encoding", "identity");
        if let Some(Ranged { first, last, if_range }) = range {
            let last = last.map(|last| last.to_string()).unwrap_or_default();
            request = request.header("Range", format!("bytes={first}-{last}"));
            if let Some(validator) = if_range {
                request = request.header("If-Range", validator);
            }
        }
        let request = request.body(()).map_err(ureq::Error::from)?;
        // The resolve timeout bounds waiting for the transport's resolver (`resolve`), which
        // answers IP addresses and recent names without a thread or a look-up.
        let request = agent
            .configure_request(request)
            .proxy(proxy)
            .timeout_resolve(Some(self.resolve_timeout()))
            .timeout_connect(Some(self.connect_timeout()))
            .timeout_per_read(Some(self.read_timeout()))
            .timeout_per_write(Some(self.read_timeout()))
            .build();
        Ok(request)
    }
}

/// Where a redirect from `current` to `location` leads, if it may be followed: an `http` or
/// `https` URL, never from `https` down to `http` unless `https_to_http`.
fn next_hop(current: &Url, location: Option<&str>, https_to_http: bool) -> Result<Url, String> {
    let location = location.ok_or_else(|| "no Location".to_owned())?;
    let next = current.join(location).map_err(|e| format!("bad Location {location:?}: {e}"))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(format!("{} is not an http(s) URL", without_query(&next)));
    }
    if current.scheme() == "https" && next.scheme() == "http" && !https_to_http {
        return Err(format!("{} would downgrade https to http", without_query(&next)));
    }
    Ok(next)
}

/// `url` for a message: without its user information, query and fragment, which may carry a
/// secret (a signed URL's signature, a token).
pub(super) fn without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// A response's headers as `Name: value` lines, each ending in CRLF, in the order received
/// (names as the HTTP library gives them: lower case).
pub(super) fn header_lines(headers: &ureq::http::HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(&String::from_utf8_lossy(value.as_bytes()));
        out.push_str("\r\n");
    }
    out
}

fn unreachable_error(url: &Url) -> TransferError {
    TransferError::transient(
        hresult::BG_E_CONNECT_FAILURE,
        BgErrorContext::GeneralTransport,
        format!("could not connect for {url}"),
    )
}

/// The connection closed before a response: retrying at once on a new connection is safe (the
/// methods used are idempotent).
fn closed_early(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(error.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe)
}

/// Failures to reach the server (or proxy) at all: the next proxy of the list may do better.
fn is_connect_failure(error: &ureq::Error) -> bool {
    use io::ErrorKind::*;
    match error {
        ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => true,
        ureq::Error::Io(e) => {
            matches!(e.kind(), ConnectionRefused | HostUnreachable | NetworkUnreachable)
        }
        _ => false,
    }
}

/// Whether `proxy` is a SOCKS proxy (4, 4a, 5 or 5h).
fn is_socks(proxy: &ureq::Proxy) -> bool {
    use ureq::ProxyProtocol as P;
    matches!(proxy.protocol(), P::Socks4 | P::Socks4A | P::Socks5 | P::Socks5h)
}

/// The failure a SOCKS proxy caused, if `error` (of a request through one) is one: ureq reports
/// the proxy's answers as I/O errors of kinds that the connection's own failures seldom have
/// (a TLS error and a call without an answer are told apart first). The proxy did not
/// connect to the server (`Other`, `PermissionDenied`: refused, unreachable from the proxy, its
/// rules say no) or its answer is not SOCKS (`InvalidData`: not a SOCKS proxy at that port):
/// transient `BG_E_CONNECT_FAILURE`, and the next proxy of the list is tried. It wants
/// credentials the job does not have or it refused them: fatal, as an HTTP proxy's `407`. It
/// cannot be asked for this server (`InvalidInput`: an IPv6 address to SOCKS4, a name longer
/// than 255 bytes, empty credentials): fatal `BG_E_INVALID_PROXY_INFO`.
fn socks_failure(error: &ureq::Error) -> Option<TransferError> {
    use io::ErrorKind::*;
    let ureq::Error::Io(e) = error else { return None };
    if carries_tls_error(e) || stall::lost_call(error).is_some() {
        return None;
    }
    let transport = BgErrorContext::GeneralTransport;
    Some(match e.kind() {
        Other | PermissionDenied if e.to_string().contains("auth") => TransferError::fatal(
            hresult::from_http_status(407),
            BgErrorContext::RemoteFile,
            format!("the SOCKS proxy asked for credentials the job cannot give ({e})"),
        ),
        Other | PermissionDenied => TransferError::transient(
            hresult::BG_E_CONNECT_FAILURE,
            transport,
            format!("the SOCKS proxy did not connect to the server: {e}"),
        ),
        InvalidData => TransferError::transient(
            hresult::BG_E_CONNECT_FAILURE,
            transport,
            format!("the proxy did not answer in SOCKS (not a SOCKS proxy?): {e}"),
        ),
        InvalidInput => TransferError::fatal(
            hresult::BG_E_INVALID_PROXY_INFO,
            transport,
            format!("the SOCKS proxy cannot be asked for this server: {e}"),
        ),
        _ => return None,
    })
}

/// Whether `error` carries rustls's error: a TLS failure, whatever the connection (direct, or
/// through any proxy). The type is ureq's `Error::Rustls` variant's, so that it need not be
/// named.
fn carries_tls_error(error: &io::Error) -> bool {
    fn is<T: std::error::Error + 'static>(
        _variant: fn(T) -> ureq::Error,
        inner: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> bool {
        inner.is::<T>()
    }
    error.get_ref().is_some_and(|inner| is(ureq::Error::Rustls, inner))
}

/// Whether a request to `url` through `proxy` runs a TLS handshake whose failures rustls reports
/// as `InvalidData` I/O errors: to an `https` URL or an `https` proxy. Not through a SOCKS
/// proxy, whose own protocol errors are `InvalidData` too ([`socks_failure`] maps those; a TLS
/// error through it is told by its type, [`carries_tls_error`]).
fn speaks_tls(url: &Url, proxy: Option<&ureq::Proxy>) -> bool {
    let https_proxy = proxy.is_some_and(|p| p.protocol() == ureq::ProxyProtocol::Https);
    (url.scheme() == "https" || https_proxy) && !proxy.is_some_and(is_socks)
}

/// A TLS failure: the certificate not trusted (no root vouches for it, expired, for another
/// name, ...) or the handshake failed (the port does not speak TLS, no common protocol, ...).
/// `DO_E_HTTP_CERT_VALIDATION` as the crate's docs promise, context `RemoteFile` (it is the
/// server's certificate or the server's answer), and fatal: a certificate that is not trusted
/// will not become trusted by retrying, and a port that does not speak TLS will not start to;
/// the job stops in `Error` with the reason until someone fixes the server, the URL or the
/// trust store and resumes it.
fn tls_error(reason: &str) -> TransferError {
    let message = match reason.strip_prefix("invalid peer certificate: ") {
        Some(why) => format!("the server's certificate is not trusted: {}", certificate_words(why)),
        None if reason.contains("InvalidContentType") => format!(
            "the TLS handshake with the server failed: it did not answer in TLS (a plain-HTTP \
             port?): {reason}"
        ),
        None => format!("the TLS handshake with the server failed: {reason}"),
    };
    TransferError::fatal(hresult::DO_E_HTTP_CERT_VALIDATION, BgErrorContext::RemoteFile, message)
}

/// rustls's name for why a certificate was refused, in words, the name kept in parentheses.
fn certificate_words(why: &str) -> String {
    let words = [
        ("UnknownIssuer", "no trusted authority signed it (self-signed, or a private CA)"),
        ("Expired", "it has expired"),
        ("NotValidYet", "it is not valid yet"),
        ("NotValidForName", "it is for another name than the URL's host"),
        ("Revoked", "it was revoked"),
        ("BadSignature", "its signature is wrong"),
        ("BadEncoding", "it is malformed"),
    ];
    match words.iter().find(|(name, _)| why.starts_with(name)) {
        Some((_, words)) => format!("{words} ({why})"),
        None => why.to_owned(),
    }
}

/// Maps a failure to send a request or receive its response head; `tls` says whether the
/// connection runs a TLS handshake ([`speaks_tls`]), so that rustls's errors, which reach here
/// as `InvalidData` I/O errors carrying the rustls error, are told apart (an error that carries
/// rustls's own type is one whatever `tls` says: through a SOCKS proxy).
pub(super) fn request_error(error: ureq::Error, tls: bool) -> TransferError {
    use ureq::Error as E;
    if let Some(lost) = stall::lost_call(&error) {
        return lost;
    }
    let transport = BgErrorContext::GeneralTransport;
    let message = error.to_string();
    match error {
        E::Io(e) if (tls || carries_tls_error(&e)) && e.kind() == io::ErrorKind::InvalidData => {
            // The rustls error itself, without the I/O wrapping.
            let reason = e.get_ref().map_or_else(|| e.to_string(), ToString::to_string);
            tls_error(&reason)
        }
        E::Timeout(phase) => TransferError::transient(
            hresult::ERROR_TIMEOUT_HR,
            transport,
            format!("timed out ({phase:?}): {message}"),
        ),
        E::ConnectProxyFailed(reason) if reason.contains(" 407") => TransferError::fatal(
            hresult::from_http_status(407),
            BgErrorContext::RemoteFile,
            format!("the proxy asked for credentials the job cannot give ({reason})"),
        ),
        E::ConnectionFailed | E::HostNotFound | E::ConnectProxyFailed(_) => {
            TransferError::transient(hresult::BG_E_CONNECT_FAILURE, transport, message)
        }
        E::Io(e) => io_error(&e, transport),
        E::Protocol(_) | E::LargeResponseHeader(..) | E::BodyExceedsLimit(_) => {
            TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                message,
            )
        }
        E::BadUri(_) | E::Http(_) => {
            TransferError::fatal(hresult::E_INVALIDARG, BgErrorContext::RemoteFile, message)
        }
        E::InvalidProxyUrl => {
            TransferError::fatal(hresult::BG_E_INVALID_PROXY_INFO, transport, message)
        }
        E::Tls(_) | E::Pem(_) | E::Rustls(_) | E::TlsRequired | E::RequireHttpsOnly(_) => {
            TransferError::fatal(hresult::DO_E_HTTP_CERT_VALIDATION, transport, message)
        }
        _ => TransferError::transient(hresult::E_FAIL, transport, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_timeout_of_duration_max_reaches_ureq_as_a_century_it_can_add_to_now() {
        for huge in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            assert_eq!(bounded(huge), LONGEST_TIMEOUT);
            // What ureq does with each timeout (unchecked): it must not panic.
            let _ = std::time::Instant::now() + bounded(huge);
        }
        assert_eq!(bounded(Duration::from_secs(15)), Duration::from_secs(15));
    }

    #[test]
    fn redirect_from_https_to_http_is_refused() {
        let error =
            next_hop(&url("https://a.example/f"), Some("http://a.example/f"), false).unwrap_err();
        assert!(error.contains("downgrade"), "{error}");
        assert!(next_hop(&url("https://a.example/f"), Some("https://b.example/g"), false).is_ok());
        assert!(next_hop(&url("http://a.example/f"), Some("https://a.example/f"), false).is_ok());
    }

    #[test]
    fn redirect_from_https_to_http_is_followed_only_when_allowed() {
        let next = next_hop(&url("https://a.example/f"), Some("http://b.example/g"), true);
        assert_eq!(next.unwrap().as_str(), "http://b.example/g");
    }

    #[test]
    fn messages_show_urls_without_query_or_user_information() {
        let shown = without_query(&url("https://u:pw@a.example/f?sig=SECRET#frag"));
        assert_eq!(shown, "https://a.example/f");
    }

    #[test]
    fn basic_credentials_are_base64_of_user_colon_password() {
        // RFC 7617 section 2's example.
        assert_eq!(basic("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64("é:ü".as_bytes()), "w6k6w7w=");
    }

    #[test]
    fn secrets_debug_shows_header_names_only() {
        let secrets = Secrets {
            headers: vec![("X-Api-Key".to_owned(), "s3cr3t-value".to_owned())],
            authorization: Some(basic("u", "s3cr3t-pw")),
            proxy: Some(("u".to_owned(), "s3cr3t-proxy-pw".to_owned())),
        };
        let shown = format!("{secrets:?} {secrets:#?}");
        assert!(shown.contains("X-Api-Key"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains(&basic("u", "s3cr3t-pw")[6..]), "{shown}");
    }

    #[test]
    fn a_proxy_refusing_the_credentials_is_a_fatal_407() {
        let e = request_error(
            ureq::Error::ConnectProxyFailed("proxy server responded 407/Proxy Auth".into()),
            false,
        );
        assert_eq!((e.hresult(), e.is_transient()), (0x8019_0197, false));
        let e = request_error(
            ureq::Error::ConnectProxyFailed("proxy server responded 502/Bad Gateway".into()),
            false,
        );
        assert_eq!((e.hresult(), e.is_transient()), (hresult::BG_E_CONNECT_FAILURE, true));
    }

    #[test]
    fn response_headers_are_crlf_lines() {
        let mut headers = ureq::http::HeaderMap::new();
        headers.append("etag", ureq::http::HeaderValue::from_static("\"a\""));
        headers.append("x-two", ureq::http::HeaderValue::from_static("1"));
        headers.append("x-two", ureq::http::HeaderValue::from_static("2"));
        assert_eq!(header_lines(&headers), "etag: \"a\"\r\nx-two: 1\r\nx-two: 2\r\n");
    }

    #[test]
    fn redirect_location_resolves_against_the_current_url() {
        let next = next_hop(&url("https://a.example/dir/f"), Some("../g?x=1"), false).unwrap();
        assert_eq!(next.as_str(), "https://a.example/g?x=1");
        let next = next_hop(&url("http://a.example/dir/f"), Some("//b.example/h"), false).unwrap();
        assert_eq!(next.as_str(), "http://b.example/h");
    }

    #[test]
    fn redirect_without_usable_location_is_refused() {
        assert!(next_hop(&url("http://a.example/f"), None, false).is_err());
        assert!(next_hop(&url("http://a.example/f"), Some("ftp://a.example/f"), false).is_err());
        assert!(next_hop(&url("http://a.example/f"), Some("file:///etc/passwd"), false).is_err());
        assert!(next_hop(&url("http://a.example/f"), Some("http://[bad"), false).is_err());
    }

    #[test]
    fn connection_failures_map_to_transient_connect_failure() {
        let e = request_error(ureq::Error::ConnectionFailed, false);
        assert_eq!((e.hresult(), e.is_transient()), (hresult::BG_E_CONNECT_FAILURE, true));
        let e = request_error(ureq::Error::Io(io::ErrorKind::ConnectionReset.into()), true);
        assert_eq!((e.hresult(), e.is_transient()), (hresult::BG_E_CONNECTION_CLOSED, true));
        let e = request_error(ureq::Error::Timeout(ureq::Timeout::Connect), false);
        assert_eq!((e.hresult(), e.is_transient()), (hresult::ERROR_TIMEOUT_HR, true));
        let e = request_error(ureq::Error::InvalidProxyUrl, false);
        assert_eq!((e.hresult(), e.is_transient()), (hresult::BG_E_INVALID_PROXY_INFO, false));
        let e = request_error(ureq::Error::Tls("bad certificate"), true);
        assert!(!e.is_transient());
    }

    #[test]
    fn tls_failures_are_fatal_certificate_errors_with_a_readable_reason() {
        let rustls = |text: &str| {
            ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, text.to_owned()))
        };
        let e = request_error(rustls("invalid peer certificate: UnknownIssuer"), true);
        assert_eq!(
            (e.hresult(), e.is_transient(), e.context()),
            (hresult::DO_E_HTTP_CERT_VALIDATION, false, BgErrorContext::RemoteFile)
        );
        let TransferError::Failed { message, .. } = &e else { panic!("{e:?}") };
        assert_eq!(
            message,
            "the server's certificate is not trusted: no trusted authority signed it \
             (self-signed, or a private CA) (UnknownIssuer)"
        );
        let e = request_error(rustls("received corrupt message of type InvalidContentType"), true);
        let TransferError::Failed { message, .. } = &e else { panic!("{e:?}") };
        assert!(message.starts_with("the TLS handshake with the server failed: "), "{message}");
        assert!(message.contains("plain-HTTP"), "{message}");
        // Without TLS (plain http, or through SOCKS), `InvalidData` is not read as TLS.
        let e = request_error(rustls("SOCKS5 reply: bad version"), false);
        assert_ne!(e.hresult(), hresult::DO_E_HTTP_CERT_VALIDATION);
    }

    #[test]
    fn rustls_errors_are_told_by_their_type_not_their_words() {
        let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(carries_tls_error(&tls));
        assert_eq!(
            request_error(ureq::Error::Io(tls), false).hresult(),
            hresult::DO_E_HTTP_CERT_VALIDATION
        );
        let words = io::Error::new(io::ErrorKind::InvalidData, "invalid peer certificate: x");
        assert!(!carries_tls_error(&words));
        assert!(socks_failure(&ureq::Error::Io(words)).is_some());
    }

    #[test]
    fn tls_is_spoken_to_https_urls_and_https_proxies_not_through_socks() {
        let proxy = |uri: &str| ureq::Proxy::new(uri).unwrap();
        assert!(speaks_tls(&url("https://a.example/f"), None));
        assert!(!speaks_tls(&url("http://a.example/f"), None));
        assert!(speaks_tls(&url("https://a.example/f"), Some(&proxy("http://p:3128"))));
        assert!(speaks_tls(&url("http://a.example/f"), Some(&proxy("https://p:3128"))));
        assert!(!speaks_tls(&url("https://a.example/f"), Some(&proxy("socks5://p:1080"))));
    }
}
