//! The `http` transport: `http://` and `https://` on ureq (blocking, rustls, no async runtime).
//! The rules it follows are documented on [`HttpTransport`]; `range` holds the resume checks,
//! `proxy` the proxy decision, `client` the requests, redirects and error mapping (`failure` the
//! connection's I/O failures), `stall` the waits a stop interrupts, `date` and
//! `retry_after` the `Retry-After` header of a `429` or `503`, `resolve` the bounded, cached
//! name look-up.

mod cache;
mod client;
mod date;
mod failure;
mod options;
mod proxy;
mod range;
mod ranged;
mod resolve;
mod retry_after;
mod segments;
mod stall;

use super::{RangeSink, TransferError, TransferRequest, TransferSink, Transport};
use crate::{BgErrorContext, hresult};
use client::{Client, Method, Ranged, RedirectPolicy};
use options::JobHttp;
use range::{Check, PartialHeaders, Validators, Verdict};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use ureq::Body;
use ureq::http::{HeaderMap, Response};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::unversioned::transport::Connector;
use url::Url;

/// Default limit on looking up a host name.
const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit on establishing a connection (TCP, then TLS).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default limit on one read that receives nothing.
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);
/// Default number of redirects followed.
const DEFAULT_MAX_REDIRECTS: u32 = 10;
/// Bytes read from a body per write to the file.
const BUFFER: usize = 1024 * 1024;
/// How often a body read on one connection looks whether the job now allows more.
const UPGRADE_CHECK: u64 = 8 * 1024 * 1024;
/// Half the bytes that must be left for a switch to segments to be worth it (segments of at
/// least 1 MiB, two of them).
const UPGRADE_MIN_LEFT: u64 = 1024 * 1024;
/// Restarts from zero one transfer call makes before it gives up on a server whose answers keep
/// contradicting each other (the next attempt starts fresh).
const MAX_START_OVERS: u32 = 3;

/// Downloads `http://` and `https://` URLs (cargo feature `http`). Thread-safe; one value serves
/// every worker and keeps a pool of connections to reuse. `Manager::new()` registers one with
/// the defaults.
///
/// ```no_run
/// use bgcopy::transport::HttpTransport;
/// use bgcopy::*;
/// use std::sync::Arc;
/// use std::time::Duration;
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let http = HttpTransport::new().with_timeouts(Duration::from_secs(10), Duration::from_secs(30));
/// let manager = Manager::builder().transport(Arc::new(http)).build();
/// let job = manager.create_job("release", BgJobType::Download)?;
/// job.add_file("https://example.com/app.tar.gz", std::path::Path::new("/tmp/app.tar.gz"))?;
/// job.enum_files()[0].set_expected_sha256_hex(
///     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
/// )?;
/// job.resume()?;
/// # Ok(()) }
/// ```
///
/// # What it guarantees
///
/// - **Exact bytes.** Requests say `Accept-Encoding: identity` and nothing is decompressed, so
///   offsets, sizes and counts are the bytes on the wire, the bytes in the file. A response with
///   any other `Content-Encoding` (a server that ignores the request) is refused with a fatal
///   `BG_E_INVALID_SERVER_RESPONSE`: its bytes are never stored.
/// - **Size.** From `Content-Length` (or the complete length of a `Content-Range`); a chunked or
///   length-less body leaves the size unknown (`BG_SIZE_UNKNOWN`) until its end, when the bytes
///   received become it. A `HEAD` is sent only to confirm a file that already holds all its
///   bytes (same validator, same length) instead of fetching it again.
/// - **Resume, never corrupt.** A file that holds bytes from an earlier attempt is continued with
///   `Range: bytes=N-` and `If-Range` carrying the validator of the content those bytes came from:
///   its strong `ETag`, else its `Last-Modified` date when that is strong enough for `If-Range`
///   (the response's `Date`, compared as a time, is at least one second later: RFC 9110 section
///   8.8.2.2). The answer is appended only if it is a `206` whose `Content-Range` is one range
///   starting exactly at `N`, agreeing with `Content-Length` and with the size known before,
///   that repeats the `ETag` asked for (RFC 9110 section 15.3.7: one that leaves it out may come
///   from a server that ignored `If-Range`), and whose `Last-Modified`, when sent with a date
///   asked for, names the same second. Only the validator a request sent is checked: the first
///   `206` of a file allowed several connections answers a request without `If-Range`. A `200`
///   (the range was ignored, or the content changed) restarts the file from zero,
///   its bytes leaving the job's count, and takes the new body; so does a `416`, a `206` that
///   fails a check, a `200` whose `Content-Range` is not the whole body, and a file without a
///   validator (weak ETags do not count), which is never resumed.
/// - **Never past the end.** A body is read only up to the length its headers announced; a
///   server that sends more gets a transient `BG_E_INVALID_SERVER_RESPONSE` and the excess is
///   not written. A body cut short is a transient `BG_E_CONNECTION_CLOSED`; the retry resumes.
///   (A body framed only by the connection closing, with no length anywhere, cannot be told from
///   one cut short: set an expected digest with [`JobFile::set_expected_sha256`] for those.)
///
/// # Trusted certificates
///
/// `https://` servers (and `https://` proxies) must present a certificate that the platform's
/// verifier accepts ([rustls-platform-verifier]), so the certificates the machine's users and
/// administrators trust are trusted here too (a company's own root, a TLS-inspecting proxy's):
/// - **Windows**: the Windows API's certificate verification with the Windows certificate store
///   (with the roots an administrator or group policy deployed); the server certificate's
///   revocation is checked.
/// - **macOS and iOS**: the Security framework with the system roots and the Keychain's
///   certificates and trust settings; revocation is checked.
/// - **Android**: the platform's trust manager (system and user certificates; revocation from
///   Android 7).
/// - **Linux and the BSDs**: the system bundle that `openssl` uses (the distribution's
///   `ca-certificates`, with what the administrator added), or only the files that
///   `SSL_CERT_FILE` and `SSL_CERT_DIR` name when either is set, checked by webpki; no
///   revocation check.
///
/// When the system store yields no certificate at all (a minimal container without
/// `ca-certificates`), the platform verifier cannot start: the transport then trusts the
/// bundled web roots instead (Mozilla's list, [webpki-roots]), from then on. (The two are not
/// combined: a system store that exists is trusted as it is, as other programs on the machine
/// trust it.)
///
/// [rustls-platform-verifier]: https://docs.rs/rustls-platform-verifier
/// [webpki-roots]: https://docs.rs/webpki-roots
///
/// # Errors
///
/// Failures are reported with protocol `"http"`:
///
/// | what | HRESULT | context | kind |
/// |---|---|---|---|
/// | status ≥ 400 | `0x80190000 + status` | `RemoteFile` | transient for 408, 429, 500, 502, 503, 504; fatal otherwise; a `429` or `503` with a usable `Retry-After` carries its wait as [`TransferError::retry_after`] |
/// | redirect not followed (https → http, not http(s), no `Location`, past the limit), other unexpected status | `0x80190000 + status` | `RemoteFile` | fatal |
/// | refused, unreachable, name not found; a SOCKS proxy that does not connect to the server (or does not answer in SOCKS) | `BG_E_CONNECT_FAILURE` | `GeneralTransport` | transient |
/// | name look-up timeout, connect timeout, stalled read | `ERROR_TIMEOUT` (`0x800705B4`) | `GeneralTransport`, `RemoteFile` in a body | transient |
/// | connection cut, body short | `BG_E_CONNECTION_CLOSED` | `GeneralTransport`, `RemoteFile` in a body | transient |
/// | malformed response, body longer than announced | `BG_E_INVALID_SERVER_RESPONSE` | `RemoteFile` | transient |
/// | body with a `Content-Encoding` other than `identity` | `BG_E_INVALID_SERVER_RESPONSE` | `RemoteFile` | fatal |
/// | unusable proxy list or proxy variable; a SOCKS4 proxy for an IPv6 address | `BG_E_INVALID_PROXY_INFO` | `GeneralTransport` | fatal |
/// | a SOCKS proxy that wants credentials the job does not have, or refuses them | `0x80190197` (as an HTTP proxy's `407`) | `RemoteFile` | fatal |
/// | TLS failure: the server's certificate is not trusted, or the handshake failed (such as `https://` to a port that speaks plain HTTP) | `DO_E_HTTP_CERT_VALIDATION` | `RemoteFile` | fatal: retrying will not make a certificate trusted; the reason says which (`the server's certificate is not trusted: ...`) |
/// | TLS set-up failure on this machine (no usable root certificates) | `DO_E_HTTP_CERT_VALIDATION` | `GeneralTransport` | fatal |
/// | internal error: the request's thread panicked (a bug; the reason quotes the panic) | `E_UNEXPECTED` | `GeneralTransport` | fatal |
/// | the request's thread could not start, or ended without an answer | the thread's error, `E_UNEXPECTED` | `GeneralTransport` | transient |
///
/// A `Retry-After` (RFC 9110 section 10.2.3) is read on `429` and `503` answers only: a number
/// of seconds, or an HTTP-date in any of the three formats, counted from the response's `Date`
/// header when it has one (so a wrong local clock does not matter), else from the system clock.
/// A date in the past means no wait; a value that is neither form is ignored; a wait longer
/// than a day is cut to a day. The engine starts the next attempt no sooner than that wait and
/// no sooner than the job's minimum retry delay.
///
/// # Proxies
///
/// From the job's [`BackgroundCopyJob::get_proxy_settings`], decided per request (so again
/// after each redirect):
/// - `NoProxy`: direct.
/// - `Override`: the job's proxy list, unless the host matches its bypass list. Proxy entries are
///   separated by spaces or `;`, each `[scheme=][scheme://]server[:port]`: `http=` or `https=`
///   limits an entry to requests of that scheme; the entries that apply are tried in order when
///   connecting to one fails. Bypass entries (separated by spaces, `;` or `,`) are host names or
///   addresses where `*` matches any run of characters (`*.example.com`, `10.*`), optionally with
///   a `scheme://` prefix or `:port` suffix that must match too; `<local>` matches host names
///   without a dot.
/// - `Preconfig`: the environment, as curl reads it: `http_proxy` for `http://` URLs,
///   `https_proxy` for `https://`, else `all_proxy`, each in lower case first, then upper case;
///   `no_proxy`/`NO_PROXY` lists hosts reached directly (comma or space separated): `*` for all,
///   a domain (with or without a leading `.` or `*.`) matching itself and its subdomains, an
///   address, or a block such as `10.0.0.0/8`, each with an optional `:port`.
/// - `Autodetect`: there is no WPAD discovery; it is treated as `Preconfig`.
///
/// HTTP proxies are used through `CONNECT` tunnels (also for `http://` URLs); `https://` proxy
/// URLs work too, and SOCKS proxies: `socks4://` and `socks5://` (the server's name is looked up
/// here and the proxy is given its address), `socks4a://` and `socks5h://` (the proxy is given
/// the name to look up). The proxy list tries the next proxy when a SOCKS proxy cannot be
/// reached or does not connect to the server.
///
/// # Timeouts
///
/// Each step of reaching a server has its own bound, so a dead host or a dead DNS server is a
/// transient error within seconds, retried by the engine, never a hang:
///
/// | step | default | set with |
/// |---|---|---|
/// | name look-up | 10 s | [`with_resolve_timeout`](Self::with_resolve_timeout) |
/// | connect (TCP, TLS handshake, proxy tunnel or SOCKS handshake) | 15 s | [`with_timeouts`](Self::with_timeouts), per job [`Job::set_http_timeouts`] |
/// | a read that receives nothing (head or body) | 120 s | [`with_timeouts`](Self::with_timeouts), per job [`Job::set_http_timeouts`] |
///
/// A wait for input still looks at the job every 250 ms, while a response head is awaited (or
/// a proxy's answer to `CONNECT`) as while a body is read: a suspend, a cancel or the maximum
/// download time running out ends it then, closes the connection and frees the worker for the
/// next job, while the read timeout counts the whole time without input. A stop while a
/// connection is being made (TCP connect, TLS handshake, a SOCKS proxy's handshake) frees the
/// worker as promptly; that connection attempt is given up when it ends, within the connect
/// timeout. (Each request is made on a companion thread of the worker's, `bgcopy-http-call`, kept
/// for its next request, while the worker's thread looks at the job; the body is read on the
/// worker's thread.)
///
/// Looked-up addresses are reused for 30 s and dropped when a connection fails; an IP address
/// in the URL is not looked up; one look-up per name runs at a time, however many workers ask.
/// (Before 0.2 the connect default was 60 s and look-ups had no bound of their own.)
///
/// # Settings
///
/// Per job: the proxy settings above, the HTTP options
/// ([`BackgroundCopyJobHttpOptions`]: custom headers, redirect policy, method), the credentials
/// ([`BackgroundCopyJob2::set_credentials`]) and timeouts ([`Job::set_http_timeouts`]). Per
/// transport: the default timeouts, the redirect limit and the `User-Agent` (the `with_`
/// methods). The headers the transport manages cannot be set as custom headers
/// (`E_INVALIDARG`): `Range`, `If-Range` and the other conditional headers (`If-Match`,
/// `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`, so that no `304` or `412` can
/// answer a download), `Accept-Encoding`, `Host`, framing and connection headers.
///
/// # Secrets
///
/// Custom headers and `Basic` server credentials (sent as `Authorization: Basic`, unless a
/// custom `Authorization` header is set) go only to the origin (scheme, host and port) of the
/// file's own remote name. After a redirect to another origin none of them is sent, whatever
/// its name (an API key in `X-Api-Key` is as secret as an `Authorization`), and they are not
/// sent again if a later redirect comes back; nor do they go to a mirror
/// ([`TransferRequest::source`]) or a cache host. Credentials are sent with the first request
/// (there is no challenge round trip), so a `401` is never answered with them: it fails the file
/// with `0x80190191`, as a `407` of a proxy does with `0x80190197`. `Basic` proxy credentials
/// are given to each proxy the request goes through (`Proxy-Authorization` on its `CONNECT`; to
/// a SOCKS5 proxy as its user name and password, RFC 1929; SOCKS4 has no password). No error
/// message shows a header's value, a password, or a URL's query (a signed URL's signature).
///
/// # Redirects
///
/// As the job's security flags say ([`BgHttpSecurity`]'s redirect policy):
/// `REDIRECT_POLICY_ALLOW_SILENT` (the default) follows them; `REDIRECT_POLICY_ALLOW_REPORT`
/// follows them and reports the final URL to the sink ([`TransferSink::report_final_url`]; the
/// file's remote name becomes it); `REDIRECT_POLICY_DISALLOW` fails the file (fatal) with
/// `0x80190000 + status`. An `https` → `http` redirect is refused the same way unless
/// `ALLOW_HTTPS_TO_HTTP_REDIRECT` is set.
///
/// # Method
///
/// The job's method ([`BackgroundCopyJobHttpOptions::set_http_method`], `GET` by default) is
/// the method of every request for the file's bytes. With another method, a file is never
/// resumed (it starts from zero, without `Range`), never split into segments, never fetched
/// through a cache host, and every failure is fatal (a `POST` may not be repeated safely).
///
/// # Cache host
///
/// A request made with a cache host ([`TransferRequest::with_cache_host`]) for an `http://`
/// URL goes first to `http://<cache host>/<path>?<query>&cacheHostOrigin=<host[:port]>` (the
/// origin's host and port written literally); `https://` goes to the origin. The cache gets
/// none of the job's secrets. Its bytes are reported as from a peer
/// ([`TransferSink::set_from_peer`]). The request goes to the origin, after the fallback delay
/// counted on the job's clock from the first request to the cache, when the cache fails: it
/// does not connect within 3 s, it times out, it answers `5xx` or anything but the file (a
/// `4xx` passed on from the origin), or its answer is not the content of the bytes already held
/// (another validator or size; those bytes are kept, and the origin is asked for the rest with
/// their validator). A cache host that failed (except by a `4xx` or a cut connection) is skipped
/// for 15 minutes of the job's clock. A fallback delay of `Duration::MAX` means never: the
/// cache's failure is the attempt's.
///
/// The headers of the last response for the file (not a redirect followed) are reported to the
/// sink ([`TransferSink::set_response_headers`]), names in lower case.
///
/// [`BackgroundCopyJobHttpOptions`]: crate::BackgroundCopyJobHttpOptions
/// [`BackgroundCopyJobHttpOptions::set_http_method`]: crate::BackgroundCopyJobHttpOptions::set_http_method
/// [`BackgroundCopyJob2::set_credentials`]: crate::BackgroundCopyJob2::set_credentials
/// [`BgHttpSecurity`]: crate::BgHttpSecurity
/// [`TransferRequest::source`]: crate::transport::TransferRequest::source
/// [`TransferRequest::with_cache_host`]: crate::transport::TransferRequest::with_cache_host
/// [`TransferSink::report_final_url`]: crate::transport::TransferSink::report_final_url
/// [`TransferSink::set_from_peer`]: crate::transport::TransferSink::set_from_peer
/// [`TransferSink::set_response_headers`]: crate::transport::TransferSink::set_response_headers
/// [`Job::set_http_timeouts`]: crate::Job::set_http_timeouts
/// [`JobFile::set_expected_sha256`]: crate::JobFile::set_expected_sha256
/// [`BackgroundCopyJob::get_proxy_settings`]: crate::BackgroundCopyJob::get_proxy_settings
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Clone)]
pub struct HttpTransport {
    /// Verifies certificates with the platform verifier (the system's trust store).
    agent: ureq::Agent,
    /// Verifies certificates against the bundled web roots: for when the platform verifier
    /// cannot start (no root certificates in the system store).
    bundled_agent: ureq::Agent,
    /// Set once the platform verifier failed to start; shared by clones.
    platform_unusable: Arc<std::sync::OnceLock<()>>,
    resolver: resolve::Resolver,
    user_agent: String,
    resolve_timeout: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_redirects: u32,
    env: fn(&str) -> Option<String>,
    /// The cache hosts that failed lately, skipped until their ban ends.
    cache_bans: Arc<cache::Bans>,
}

impl HttpTransport {
    /// A transport with the defaults: name look-up timeout 10 s, connect timeout 15 s,
    /// stalled-read timeout 120 s (jobs may set their own connect and read timeouts), at most 10
    /// redirects, `User-Agent: bgcopy/<version>`.
    pub fn new() -> HttpTransport {
        let user_agent = format!("bgcopy/{}", env!("CARGO_PKG_VERSION"));
        let resolver = resolve::Resolver::new();
        HttpTransport {
            agent: agent(&user_agent, &resolver, RootCerts::PlatformVerifier),
            bundled_agent: agent(&user_agent, &resolver, RootCerts::WebPki),
            platform_unusable: Arc::new(std::sync::OnceLock::new()),
            resolver,
            user_agent,
            resolve_timeout: DEFAULT_RESOLVE_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            env: |name| std::env::var(name).ok(),
            cache_bans: Arc::default(),
        }
    }

    /// Sets the timeouts used for jobs that set none ([`Job::set_http_timeouts`]): `connect`
    /// bounds establishing a connection (TCP connect, TLS handshake, proxy tunnel or SOCKS
    /// handshake; default 15 s), `read` one read that receives nothing (default 120 s). Zero
    /// durations are raised to one millisecond. The name look-up before a connection has its
    /// own bound, [`with_resolve_timeout`](Self::with_resolve_timeout).
    ///
    /// [`Job::set_http_timeouts`]: crate::Job::set_http_timeouts
    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> HttpTransport {
        self.connect_timeout = connect.max(Duration::from_millis(1));
        self.read_timeout = read.max(Duration::from_millis(1));
        self
    }

    /// Sets how long looking up a host name may take (default 10 s; zero is raised to one
    /// millisecond). A look-up that takes longer fails the attempt with a transient
    /// `ERROR_TIMEOUT`; it goes on in the background, and its answer, if it comes, serves the
    /// retry. A proxy's own name is looked up within the connect timeout instead.
    ///
    /// ```
    /// use bgcopy::transport::HttpTransport;
    /// use std::time::Duration;
    ///
    /// let http = HttpTransport::new()
    ///     .with_resolve_timeout(Duration::from_secs(3))
    ///     .with_timeouts(Duration::from_secs(5), Duration::from_secs(30));
    /// assert!(format!("{http:?}").contains("resolve_timeout: 3s"));
    /// ```
    pub fn with_resolve_timeout(mut self, resolve: Duration) -> HttpTransport {
        self.resolve_timeout = resolve.max(Duration::from_millis(1));
        self
    }

    /// Sets how many redirects a request follows (0: none; a redirect is then a fatal error).
    pub fn with_max_redirects(mut self, max_redirects: u32) -> HttpTransport {
        self.max_redirects = max_redirects;
        self
    }

    /// Sets the `User-Agent` header (a job's custom `User-Agent` header still wins).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> HttpTransport {
        self.user_agent = user_agent.into();
        self.agent = agent(&self.user_agent, &self.resolver, RootCerts::PlatformVerifier);
        self.bundled_agent = agent(&self.user_agent, &self.resolver, RootCerts::WebPki);
        self
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        HttpTransport::new()
    }
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("user_agent", &self.user_agent)
            .field("resolve_timeout", &self.resolve_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_redirects", &self.max_redirects)
            .finish()
    }
}

fn agent(user_agent: &str, resolver: &resolve::Resolver, roots: RootCerts) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        // Statuses, redirects and the proxy are decided here, per request.
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .user_agent(user_agent)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    // Last in the chain: body reads that a stop interrupts (`stall`).
    let connector = Connector::chain(
        ureq::unversioned::transport::DefaultConnector::default(),
        stall::Interruptible,
    );
    ureq::Agent::with_parts(config, connector, resolver.clone())
}

impl HttpTransport {
    /// The agent for the next request: the platform verifier's, unless it could not start.
    fn agent(&self) -> (&ureq::Agent, bool) {
        if self.platform_unusable.get().is_some() {
            (&self.bundled_agent, false)
        } else {
            (&self.agent, true)
        }
    }

    /// The platform verifier could not start: the bundled roots serve from now on.
    fn platform_verifier_failed(&self) {
        let _ = self.platform_unusable.set(());
    }
}

impl Transport for HttpTransport {
    fn schemes(&self) -> &[&str] {
        &["http", "https"]
    }

    fn protocol(&self) -> &str {
        "http"
    }

    fn transfer(
        &self,
        request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        let job = JobHttp::of(request)?;
        let result = self.transfer_from(request, &job, sink);
        if job.method == "GET" {
            return result;
        }
        // Another method than GET (a POST that asks for the file): what it did cannot be
        // resumed or repeated safely, so every failure is final (DESIGN 6.2).
        result.map_err(|error| match error {
            TransferError::Failed { hresult, context, message, .. } => {
                TransferError::fatal(hresult, context, message)
            }
            stopped => stopped,
        })
    }

    /// One range of a ranged or on-demand file (DESIGN 6.3): see `ranged.rs`. From the source
    /// itself (no cache host).
    fn transfer_range(
        &self,
        request: &TransferRequest<'_>,
        first: u64,
        last: Option<u64>,
        sink: &mut dyn RangeSink,
    ) -> Result<(), TransferError> {
        let job = JobHttp::of(request)?;
        let client = self.client(&job, parse_url(request.source())?, false);
        ranged::fetch(&client, first, last, sink)
    }
}

impl HttpTransport {
    /// The request's client for `url`, to the cache host or not.
    fn client<'t>(&'t self, job: &JobHttp, url: Url, via_cache: bool) -> Client<'t> {
        Client {
            transport: self,
            url,
            secret_origin: job.remote.origin(),
            secrets: job.secrets.clone(),
            method: job.method.clone(),
            redirects: job.redirects,
            https_to_http: job.https_to_http,
            via_cache,
            may_join: job.may_join,
            timeouts: job.timeouts,
            proxy: job.proxy.clone(),
            last_headers: parking_lot::Mutex::new(None),
            redirected_to: parking_lot::Mutex::new(None),
        }
    }

    /// The file from the cache host first, when it has one that may serve the source (DESIGN
    /// 6.2 "A cache host"), then from the source.
    fn transfer_from(
        &self,
        request: &TransferRequest<'_>,
        job: &JobHttp,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        let source = parse_url(request.source())?;
        if let Some((host, delay)) = request.cache_host()
            && let Some(cache_url) = cache::address(&source, host)
            && job.method == "GET"
        {
            let clock = request.clock();
            if !self.cache_bans.is_banned(host, clock.now()) {
                let client = self.client(job, cache_url, true);
                let started = clock.now();
                sink.set_from_peer(true);
                let outcome = fetch(&client, sink);
                report(&client, sink, false);
                match outcome {
                    Ok(()) => return Ok(()),
                    Err(TransferError::Stopped) => return Err(TransferError::Stopped),
                    Err(error) if error.context() == BgErrorContext::LocalFile => {
                        return Err(error);
                    }
                    Err(error) => {
                        if cache::bans(&error) {
                            self.cache_bans.ban(host, clock.now());
                        }
                        cache::wait_fallback(&*clock, started, delay, sink, error)?;
                    }
                }
            }
        }
        let client = self.client(job, source, false);
        sink.set_from_peer(false);
        let outcome = fetch(&client, sink);
        report(&client, sink, job.redirects == RedirectPolicy::Report);
        outcome
    }
}

/// Reports what the last requests of `client` learnt: the last response's headers, and (when
/// `final_url`) the URL a redirect led to.
fn report(client: &Client<'_>, sink: &mut dyn TransferSink, final_url: bool) {
    if let Some(headers) = client.take_last_headers() {
        sink.set_response_headers(&headers);
    }
    if let Some(url) = client.take_redirected_to()
        && final_url
    {
        sink.report_final_url(url.as_str());
    }
}

fn parse_url(url: &str) -> Result<Url, TransferError> {
    Url::parse(url).map_err(|e| {
        TransferError::fatal(
            hresult::E_INVALIDARG,
            BgErrorContext::RemoteFile,
            format!("the remote name is not a URL: {e}"),
        )
    })
}

/// The rounds of one transfer through `client`, until the file holds every byte.
fn fetch(client: &Client<'_>, sink: &mut dyn TransferSink) -> Result<(), TransferError> {
    let mut start_overs = 0;
    // Cleared once the server shows it does not serve bounded ranges: one connection then.
    // Another method than GET is never split, and never resumed.
    let mut segments = client.method == "GET";
    loop {
        if sink.should_stop() {
            return Err(TransferError::Stopped);
        }
        match round(client, sink, &mut segments)? {
            Step::Done => return Ok(()),
            Step::More => {}
            Step::StartOver => {
                start_overs += 1;
                if start_overs > MAX_START_OVERS {
                    return Err(invalid_response("the server's answers keep contradicting"));
                }
            }
        }
    }
}

/// What one request achieved.
enum Step {
    /// The file holds all its bytes.
    Done,
    /// Bytes were appended; more are due (the server sent a shorter range than asked).
    More,
    /// The file was restarted from zero; ask again without a range.
    StartOver,
}

fn invalid_response(message: impl Into<String>) -> TransferError {
    TransferError::transient(
        hresult::BG_E_INVALID_SERVER_RESPONSE,
        BgErrorContext::RemoteFile,
        message,
    )
}

/// A body in a coding (`Content-Encoding`) from a server that ignored `Accept-Encoding:
/// identity`. Fatal: the server will send it coded again on every retry, so retrying would only
/// hold the job until its no-progress timeout; as BITS does with a server it cannot use, the job
/// goes to `Error` with a reason, and a `resume()` tries again once the server is fixed.
fn coded(coding: &str) -> TransferError {
    TransferError::fatal(
        hresult::BG_E_INVALID_SERVER_RESPONSE,
        BgErrorContext::RemoteFile,
        format!(
            "the server sent the file with Content-Encoding: {coding}, though the request \
             accepted only identity; coded bytes are not the file's"
        ),
    )
}

/// The validator to resume with from a response that answered no `If-Range` ([`range::check`]
/// with nothing sent), or the error for a coded body.
fn fresh_validator(validators: &Validators<'_>) -> Result<Option<String>, TransferError> {
    match range::check(None, validators) {
        Check::Same(validator) => Ok(validator),
        Check::Coded(coding) => Err(coded(&coding)),
        // Nothing was sent, so nothing can be contradicted.
        Check::Changed => Ok(None),
    }
}

/// The headers [`range::check`] reads.
fn validators(headers: &HeaderMap) -> Validators<'_> {
    Validators {
        etag: header(headers, "etag"),
        last_modified: header(headers, "last-modified"),
        date: header(headers, "date"),
        content_encoding: header(headers, "content-encoding"),
    }
}

/// A status the transfer has no use for: `≥ 400` as [`TransferError::http_status`] (with the
/// wait a `429` or `503` asks for in its `Retry-After`), anything else (an unfollowed 3xx, a
/// 204, ...) fatal with its `0x80190000 + status`.
fn unexpected(status: u16, headers: &HeaderMap) -> TransferError {
    if status >= 400 {
        let error = TransferError::http_status(status);
        if !matches!(status, 429 | 503) {
            return error;
        }
        let wait = header(headers, "retry-after").and_then(|value| {
            retry_after::delay(value, header(headers, "date"), SystemTime::now())
        });
        match wait {
            Some(wait) => error.with_retry_after(wait),
            None => error,
        }
    } else {
        TransferError::fatal(
            hresult::from_http_status(status),
            BgErrorContext::RemoteFile,
            format!("the server answered HTTP {status}, not the file"),
        )
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    header(headers, name).and_then(|v| v.trim().parse().ok())
}

/// One request, chosen by what the file already holds.
fn round(
    client: &Client<'_>,
    sink: &mut dyn TransferSink,
    segments: &mut bool,
) -> Result<Step, TransferError> {
    if client.method != "GET" {
        return whole(client, sink);
    }
    let offset = sink.offset();
    let validator = match sink.validator() {
        // A validator means bytes of that content may be on disk, from `offset` on or (after
        // segments) further in: never add to them without `If-Range`.
        Some(v) => v.to_owned(),
        None => {
            if offset > 0 {
                // Bytes from content that cannot be identified: never append to them.
                sink.restart()?;
            }
            // With more than one connection allowed, ask for a range: a `206` shows the server
            // can serve segments.
            let ranged = (*segments && sink.max_connections() > 1).then_some(Ranged {
                first: 0,
                last: None,
                if_range: None,
            });
            let response = client.send(Method::Get, ranged, &|| sink.should_stop())?;
            return match response.status().as_u16() {
                200 => take_full(response, sink, false, *segments),
                206 if ranged.is_some() => take_first_partial(client, response, sink, segments),
                206 => Err(invalid_response("partial content for a request without Range")),
                status => Err(unexpected(status, response.headers())),
            };
        }
    };
    if sink.size() == Some(offset) {
        return confirm_complete(client, sink, offset, &validator);
    }
    // With an expected SHA-256, the bytes held may be continued from a source that names
    // another validator (a mirror, a cache): the range is asked without `If-Range`, and the
    // digest judges the whole once it is there.
    let if_range = (!client.may_join).then_some(validator.as_str());
    let ranged = Ranged { first: offset, last: None, if_range };
    let response = client.send(Method::Get, Some(ranged), &|| sink.should_stop())?;
    match response.status().as_u16() {
        206 if client.may_join => take_joined(client, response, sink, offset, &validator, segments),
        206 => take_partial(client, response, sink, offset, &validator, segments),
        200 => {
            // The range was ignored or the content changed: start over with this body (a coded
            // one is refused before the bytes held are given up). A cache host that names
            // another validator fails validation: the origin decides instead.
            let fresh = fresh_validator(&validators(response.headers()))?;
            if client.via_cache && fresh.as_deref() != Some(validator.as_str()) {
                return Err(cache_mismatch());
            }
            sink.restart()?;
            take_full(response, sink, true, *segments)
        }
        416 => {
            let headers = response.headers();
            let partial = PartialHeaders {
                content_range: header(headers, "content-range"),
                content_length: None,
                validators: validators(headers),
            };
            if range::unsatisfied_at_end(&partial, offset, &validator, sink.size()) {
                // The range starts at the end: every byte is already here.
                sink.set_size(Some(offset))?;
                return Ok(Step::Done);
            }
            changed(client, sink)
        }
        status => Err(unexpected(status, response.headers())),
    }
}

/// A request with a method other than `GET`: never resumed, never split; the file starts from
/// zero and takes the whole body of a `200`.
fn whole(client: &Client<'_>, sink: &mut dyn TransferSink) -> Result<Step, TransferError> {
    if sink.offset() > 0 || sink.validator().is_some() {
        sink.restart()?;
    }
    let response = client.send(Method::Get, None, &|| sink.should_stop())?;
    match response.status().as_u16() {
        200 => take_full(response, sink, false, false),
        status => Err(unexpected(status, response.headers())),
    }
}

/// The answer shows other content than the bytes held: start over from zero, unless it came
/// from a cache host, whose bytes then fail validation (the origin is asked, and the bytes held
/// are kept for it to judge).
fn changed(client: &Client<'_>, sink: &mut dyn TransferSink) -> Result<Step, TransferError> {
    if client.via_cache {
        return Err(cache_mismatch());
    }
    sink.restart()?;
    Ok(Step::StartOver)
}

/// A cache host's answer that is not the content of the bytes held (another size or
/// validator).
fn cache_mismatch() -> TransferError {
    TransferError::transient(
        hresult::BG_E_INVALID_SERVER_RESPONSE,
        BgErrorContext::RemoteFile,
        "the cache host's answer is not the content of the bytes already held",
    )
}

/// A file that holds all its bytes but was not finished: a `HEAD` tells whether they are still
/// the content's (same validator, same length); if not, start over.
fn confirm_complete(
    client: &Client<'_>,
    sink: &mut dyn TransferSink,
    held: u64,
    validator: &str,
) -> Result<Step, TransferError> {
    let response = client.send(Method::Head, None, &|| sink.should_stop())?;
    let status = response.status().as_u16();
    let headers = response.headers();
    if status == 200
        && range::head_confirms(
            validator,
            &validators(headers),
            header_u64(headers, "content-length"),
            held,
        )
    {
        return Ok(Step::Done);
    }
    if status >= 400 && !matches!(status, 405 | 501) {
        return Err(unexpected(status, headers));
    }
    changed(client, sink)
}

/// A `200`: the whole content from byte zero (the sink is at zero).
fn take_full(
    mut response: Response<Body>,
    sink: &mut dyn TransferSink,
    ranged: bool,
    segments: bool,
) -> Result<Step, TransferError> {
    let headers = response.headers();
    let validator = fresh_validator(&validators(headers))?;
    let length = response.body().content_length();
    if !range::full_body_range_ok(header(headers, "content-range"), length) {
        if ranged {
            // A 200 that is really a part: do not trust it; ask for the whole without a range.
            return Ok(Step::StartOver);
        }
        return Err(invalid_response("a 200 whose Content-Range is not the whole body"));
    }
    let upgrade = segments && validator.is_some() && length.is_some();
    sink.set_size(length)?;
    sink.set_validator(validator);
    match read_body(response.body_mut(), sink, length, upgrade)? {
        BodyEnd::Whole => Ok(Step::Done),
        BodyEnd::ForSegments => Ok(Step::More),
    }
}

/// A `206` to `Range: bytes=offset-`: appended only if every check passes.
fn take_partial(
    client: &Client<'_>,
    response: Response<Body>,
    sink: &mut dyn TransferSink,
    offset: u64,
    validator: &str,
    segments: &mut bool,
) -> Result<Step, TransferError> {
    let partial = partial_headers(response.headers());
    match range::judge_partial(&partial, offset, Some(validator), sink.size()) {
        Verdict::Refuse(coding) => Err(coded(&coding)),
        Verdict::StartOver => changed(client, sink),
        Verdict::Append { len, complete } => {
            if complete.is_some() {
                sink.set_size(complete)?;
            }
            take_body(client, response, sink, (offset, len), validator, segments)
        }
    }
}

/// A `206` to `Range: bytes=offset-` without `If-Range`, for a file with an expected SHA-256:
/// appended if its range and size agree with the bytes held, whatever validator it names; the
/// file then goes on under that validator (its source's), or under the one held if it names
/// none (on one connection then: its segments could not name it).
fn take_joined(
    client: &Client<'_>,
    response: Response<Body>,
    sink: &mut dyn TransferSink,
    offset: u64,
    held: &str,
    segments: &mut bool,
) -> Result<Step, TransferError> {
    let partial = partial_headers(response.headers());
    match range::judge_partial(&partial, offset, None, sink.size()) {
        Verdict::Refuse(coding) => Err(coded(&coding)),
        Verdict::StartOver => changed(client, sink),
        Verdict::Append { len, complete } => {
            let validator = match fresh_validator(&partial.validators)? {
                Some(now) => {
                    if now != held {
                        sink.set_validator(Some(now.clone()));
                    }
                    now
                }
                None => {
                    *segments = false;
                    held.to_owned()
                }
            };
            if complete.is_some() {
                sink.set_size(complete)?;
            }
            take_body(client, response, sink, (offset, len), &validator, segments)
        }
    }
}

/// A `206` to the first request of a file allowed several connections (`Range: bytes=0-`, no
/// `If-Range`): the whole content, or its first part. Its validator, if `If-Range` accepts it,
/// is what every later request names.
fn take_first_partial(
    client: &Client<'_>,
    response: Response<Body>,
    sink: &mut dyn TransferSink,
    segments: &mut bool,
) -> Result<Step, TransferError> {
    let partial = partial_headers(response.headers());
    let validator = fresh_validator(&partial.validators)?;
    // Judged as a resume from zero; no `If-Range` was sent, so only its range is checked (R3).
    let (len, complete) = match range::judge_partial(&partial, 0, None, None) {
        Verdict::Append { len, complete } => (len, complete),
        Verdict::Refuse(coding) => return Err(coded(&coding)),
        Verdict::StartOver => {
            return Err(invalid_response("a 206 to Range: bytes=0- that is not a range from 0"));
        }
    };
    if complete.is_none() && len > 0 {
        // No complete length: the size stays unknown, so the body is read to its end.
        sink.set_size(None)?;
    } else {
        sink.set_size(complete)?;
    }
    sink.set_validator(validator.clone());
    match validator {
        Some(validator) => take_body(client, response, sink, (0, len), &validator, segments),
        None => {
            let mut response = response;
            read_body(response.body_mut(), sink, Some(len), false)?;
            let more = sink.size().is_some_and(|total| sink.offset() < total);
            // Without a validator the rest cannot be asked for safely: start over then.
            if more {
                sink.restart()?;
                return Ok(Step::StartOver);
            }
            Ok(Step::Done)
        }
    }
}

/// The headers a `206` is judged by.
fn partial_headers(headers: &HeaderMap) -> PartialHeaders<'_> {
    PartialHeaders {
        content_range: header(headers, "content-range"),
        content_length: header_u64(headers, "content-length")
            .filter(|_| !headers.contains_key("transfer-encoding")),
        validators: validators(headers),
    }
}

/// The body of a validated `206` (`len` bytes from `offset`): in segments when the sink can
/// segment the file (several connections allowed, or several holes) and the server serves
/// bounded ranges (`segments`), else on this one.
fn take_body(
    client: &Client<'_>,
    mut response: Response<Body>,
    sink: &mut dyn TransferSink,
    (offset, len): (u64, u64),
    validator: &str,
    segments: &mut bool,
) -> Result<Step, TransferError> {
    if let (true, Some(size)) = (*segments, sink.size()) {
        let fetched = match sink.segmented() {
            Some(file) => {
                Ok(segments::fetch(client, &*file, response, offset, len, validator, size))
            }
            None => Err(response),
        };
        match fetched {
            Ok(fetched) => {
                return match fetched? {
                    segments::Fetched::Complete => Ok(Step::Done),
                    segments::Fetched::Incomplete => Ok(Step::More),
                    segments::Fetched::Unsupported => {
                        // Same content, but no bounded ranges: the rest on one connection.
                        *segments = false;
                        Ok(Step::More)
                    }
                    // Once: the next round asks afresh (the restart forgot the validator) and
                    // takes the new one.
                    segments::Fetched::Changed => changed(client, sink),
                };
            }
            Err(unused) => response = unused,
        }
    }
    read_body(response.body_mut(), sink, Some(len), *segments)?;
    let more = sink.size().is_some_and(|total| sink.offset() < total);
    Ok(if more { Step::More } else { Step::Done })
}

/// How [`read_body`] ended.
enum BodyEnd {
    /// The whole body is in the sink.
    Whole,
    /// The job now allows more than one connection: the body was left, the next round asks
    /// for the rest in segments.
    ForSegments,
}

/// Copies a body into the sink: exactly `expected` bytes when that is known (fewer is a cut
/// connection, more is refused unwritten), else everything until the body ends. With
/// `upgrade`, it looks every [`UPGRADE_CHECK`] bytes whether the job's connection count rose
/// above one (a running transfer takes a new count at its next split: this is one), and
/// then leaves the rest of the body to segments.
fn read_body(
    body: &mut Body,
    sink: &mut dyn TransferSink,
    expected: Option<u64>,
    upgrade: bool,
) -> Result<BodyEnd, TransferError> {
    let upgrade = upgrade && sink.max_connections() == 1;
    let mut next_check = UPGRADE_CHECK;
    let mut reader = body.as_reader();
    // Small bodies get a small buffer: many small files should not each zero a large one.
    let capacity =
        expected.map_or(BUFFER, |e| usize::try_from(e).unwrap_or(BUFFER).clamp(1, BUFFER));
    let mut buf = vec![0u8; capacity];
    let mut received: u64 = 0;
    loop {
        let n = stall::read(&mut reader, &mut buf, || sink.should_stop())?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if let Some(expected) = expected {
            let room = expected - received;
            if n as u64 > room {
                // Keep what was announced; refuse the rest.
                let room = usize::try_from(room).unwrap_or(n);
                sink.write(&chunk[..room])?;
                return Err(invalid_response(format!(
                    "the body is longer than the {expected} bytes announced"
                )));
            }
        }
        sink.write(chunk)?;
        received += n as u64;
        if upgrade && received >= next_check {
            next_check = received + UPGRADE_CHECK;
            let left = expected.map_or(0, |e| e - received);
            if left >= 2 * UPGRADE_MIN_LEFT && sink.max_connections() > 1 {
                return Ok(BodyEnd::ForSegments);
            }
        }
    }
    match expected {
        Some(expected) if received < expected => Err(TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            format!("the body ended after {received} of {expected} bytes"),
        )),
        _ => Ok(BodyEnd::Whole),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, ureq::http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn unexpected_statuses_map_to_http_hresults() {
        let none = HeaderMap::new();
        let e = unexpected(404, &none);
        assert_eq!(e.hresult(), 0x8019_0194);
        assert!(!e.is_transient());
        assert!(unexpected(503, &none).is_transient());
        let e = unexpected(204, &none);
        assert_eq!(e.hresult(), 0x8019_00CC);
        assert!(!e.is_transient());
        assert_eq!(e.context(), BgErrorContext::RemoteFile);
    }

    #[test]
    fn retry_after_is_kept_only_for_429_and_503() {
        let asks = headers(&[("retry-after", "7")]);
        assert_eq!(unexpected(503, &asks).retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(unexpected(429, &asks).retry_after(), Some(Duration::from_secs(7)));
        for status in [500, 502, 504, 408, 404, 301] {
            assert_eq!(unexpected(status, &asks).retry_after(), None, "{status}");
        }
        assert_eq!(unexpected(503, &HeaderMap::new()).retry_after(), None);
        assert_eq!(unexpected(503, &headers(&[("retry-after", "soon")])).retry_after(), None);
        let dated = headers(&[
            ("date", "Wed, 02 Jul 2025 10:00:00 GMT"),
            ("retry-after", "Wed, 02 Jul 2025 10:02:00 GMT"),
        ]);
        assert_eq!(unexpected(429, &dated).retry_after(), Some(Duration::from_secs(120)));
    }
}
