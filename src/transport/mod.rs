//! The [`Transport`] trait: how the engine moves the bytes of one file for one URL scheme, and
//! the [`TransferSink`] a transport writes them into.
//!
//! A transport is blocking: the engine runs it on a worker thread. It gets the remote name and a
//! sink that already holds the bytes of earlier attempts ([`TransferSink::offset`]); it reports
//! the size when it learns it, writes the remaining bytes, and returns. The sink counts every byte
//! into the job's lock-free counters, refuses bytes past a known size, and returns
//! [`TransferError::Stopped`] as soon as the job is suspended, cancelled or completed, or the
//! engine takes the worker back (end of a time slice, room for a `Foreground` job, shutdown); the
//! transport passes it on. A transport that blocks for long without touching its sink delays all
//! of these, including the drop of the last [`Manager`](crate::Manager): poll
//! [`TransferSink::should_stop`] while waiting. A server that ignored the offset is handled with
//! [`TransferSink::restart`].
//!
//! # Stability
//!
//! This module is the one path of every plug-in trait (nothing here is re-exported at the
//! crate root). [`Transport`], [`TransferSink`], [`TransferRequest`] and [`TransferError`] are
//! stable: they change only with a major version, as DESIGN section 6 promises. [`SegmentedSink`]
//! and [`SegmentSink`] (fetching one file over several connections) are not settled yet and may
//! change in a minor version. A driver that writes through a
//! [`FileTransfer`](crate::FileTransfer) calls its [`TransferSink`] methods, so it imports the
//! trait from here: `use bgcopy::transport::TransferSink;`.

mod error;
#[cfg(feature = "http")]
mod http;
mod local;

pub use error::TransferError;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use http::HttpTransport;
pub use local::LocalTransport;

use crate::clock::Clock;
use crate::{BgAuthCredentials, BgHttpSecurity, Job, JobFile};
use std::fmt;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What a transport is asked to fetch. Made with [`TransferRequest::new`], refined by the
/// engine with [`with_source`](Self::with_source) and [`with_cache_host`](Self::with_cache_host)
/// (new fields may come), and read with the accessors.
///
/// The accessors give a transport the job's settings that the job's own getters do not show:
/// [`custom_headers`](Self::custom_headers) once they are write-only, and
/// [`credentials`](Self::credentials), which have no getter. A transport must send them only to
/// the origin (scheme, host and port) of [`secrets_origin`](Self::secrets_origin) (the remote
/// name's): never to a redirect target on another origin, a mirror or a cache host (DESIGN
/// 6.2).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TransferRequest<'a> {
    /// The remote name as added to the job (URL or absolute path).
    pub remote_name: &'a str,
    /// The job the file belongs to (for its proxy settings and other options).
    pub job: &'a Job,
    /// The file's index in the job.
    pub file_index: usize,
    /// The URL to fetch now, when it is not the remote name (a mirror).
    source: Option<&'a str>,
    /// The URL whose origin the secrets may go to, when it is not the remote name's.
    secrets_for: Option<&'a str>,
    /// The cache host (`host[:port]`) and the fallback delay.
    cache_host: Option<(&'a str, Duration)>,
    /// The file.
    file: &'a JobFile,
}

impl<'a> TransferRequest<'a> {
    /// The request for `file` of `job`: from its remote name, without a cache host.
    pub fn new(job: &'a Job, file: &'a JobFile) -> TransferRequest<'a> {
        TransferRequest {
            remote_name: &file.file.remote_name,
            job,
            file_index: file.index(),
            source: None,
            secrets_for: None,
            cache_host: None,
            file,
        }
    }

    /// The same request, fetched from `url` (a mirror the engine chose) rather than from the
    /// remote name.
    pub fn with_source(mut self, url: &'a str) -> TransferRequest<'a> {
        self.source = Some(url);
        self
    }

    /// The same request with a cache host (`host[:port]` of an HTTP cache,
    /// [`ManagerBuilder::cache_host`](crate::ManagerBuilder)) and the delay before a request
    /// the cache failed goes to the origin, counted from the first request to the cache. The
    /// engine gives one only to jobs whose peer caching flags include `ENABLE_CLIENT`, and not
    /// for a file that must come from the origin.
    pub fn with_cache_host(mut self, host: &'a str, fallback_delay: Duration) -> Self {
        self.cache_host = Some((host, fallback_delay));
        self
    }

    /// The same request, with the job's secrets (custom headers, server credentials) allowed
    /// only to the origin of `url` rather than of the remote name: for a remote name that a
    /// redirect report rewrote (`REDIRECT_POLICY_ALLOW_REPORT`), the name the caller gave, so
    /// that a redirect never earns a secret.
    pub fn with_secrets_for(mut self, url: &'a str) -> TransferRequest<'a> {
        self.secrets_for = Some(url);
        self
    }

    /// The URL whose origin (scheme, host and port) the secrets may go to: the remote name,
    /// unless [`with_secrets_for`](Self::with_secrets_for) said otherwise.
    pub fn secrets_origin(&self) -> &'a str {
        self.secrets_for.unwrap_or(self.remote_name)
    }

    /// The URL to fetch now: the remote name, or the mirror the engine chose.
    pub fn source(&self) -> &'a str {
        self.source.unwrap_or(self.remote_name)
    }

    /// The cache host to ask first for `http://` URLs, if the request has one:
    /// `(host[:port], fallback delay)`.
    pub fn cache_host(&self) -> Option<(&'a str, Duration)> {
        self.cache_host
    }

    /// Whether bytes from another source may be joined to the bytes already held without a
    /// common validator: the file has an expected SHA-256
    /// ([`JobFile::set_expected_sha256`]), which is checked once every byte is there.
    pub fn may_join_sources(&self) -> bool {
        self.file.get_expected_sha256().is_some()
    }

    /// The job's custom request headers, in the order set, also once they are write-only
    /// (secrets: see the type's docs).
    pub fn custom_headers(&self) -> Vec<(String, String)> {
        self.job.shared.inner.lock().options.headers.clone()
    }

    /// The job's credentials (`BackgroundCopyJob2::set_credentials`, which has no getter): one
    /// per target and scheme, in the order set (secrets: see the type's docs; `Proxy`
    /// credentials go to the proxy).
    pub fn credentials(&self) -> Vec<BgAuthCredentials> {
        self.job.shared.inner.lock().options.http.credentials.clone()
    }

    /// The method of the requests for the file (`"GET"` unless the job set another with
    /// `BackgroundCopyJobHttpOptions::set_http_method`). With another method, a transport never
    /// resumes (the file starts from zero) and reports every failure as fatal.
    pub fn http_method(&self) -> String {
        let inner = self.job.shared.inner.lock();
        inner.options.http.method.clone().unwrap_or_else(|| "GET".to_owned())
    }

    /// The job's TLS and redirect flags (`BackgroundCopyJobHttpOptions::set_security_flags`).
    pub fn security_flags(&self) -> BgHttpSecurity {
        self.job.shared.inner.lock().options.http.security
    }

    /// The clock of the job's manager ([`ManagerBuilder::clock`](crate::ManagerBuilder::clock)),
    /// for a transport that measures delays (a cache host's fallback delay and ban).
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(self.job.shared.ctx.limiter.clock())
    }

    /// The local path the URL to fetch now ([`source`](Self::source): the remote name or a
    /// mirror) names, for a `file://` URL (percent-decoded) or a plain absolute path; `None` for
    /// other URLs.
    pub fn source_path(&self) -> Option<PathBuf> {
        crate::job::validate::local_source_path(self.source())
    }
}

/// Moves the bytes of one file for the URL schemes it serves. Implementations must be
/// thread-safe: the engine calls them from several workers at once.
pub trait Transport: Send + Sync + fmt::Debug {
    /// The URL schemes served, lower case (for example `["http", "https"]`). The scheme `"file"`
    /// also covers plain absolute paths.
    fn schemes(&self) -> &[&str];

    /// A short name of the transport (`"http"`, `"file"`, ...), used in messages about it (such
    /// as a panic it caused). It is not what
    /// [`BackgroundCopyError::get_protocol`](crate::BackgroundCopyError::get_protocol) reports:
    /// that comes from the file's URL scheme (`"http"` for `http` and `https`, `"file"` for
    /// `file` URLs and absolute paths, the scheme itself for a scheme a manager registered).
    fn protocol(&self) -> &str;

    /// Transfers the file named by `request` into `sink`, starting at `sink.offset()`.
    ///
    /// # Errors
    /// [`TransferError::Stopped`] when the sink says the job stopped; otherwise a
    /// [`TransferError::Failed`] that says its HRESULT, context and whether it is transient.
    fn transfer(
        &self,
        request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError>;

    /// Transfers bytes `first..=last` of the remote file (to its end for `last: None`) into
    /// `sink`, for a ranged file (DESIGN 6.3): report the remote file's complete size as soon
    /// as a response tells it, then write exactly those bytes, in order. Return `Ok` after the
    /// last byte of the range (or of the file, when it ends first; with nothing written when
    /// the range starts at or past the end and the size was reported). Call
    /// [`RangeSink::restart`] and return `Ok` when the remote content is no longer the one the
    /// sink's validator names. The default serves no range:
    /// `BG_E_INSUFFICIENT_RANGE_SUPPORT`.
    ///
    /// # Errors
    /// As [`transfer`](Self::transfer); a fatal `BG_E_INSUFFICIENT_RANGE_SUPPORT` when the
    /// source cannot serve the range, and a fatal `BG_E_INVALID_RANGE` when the range starts
    /// past the end of the file.
    fn transfer_range(
        &self,
        request: &TransferRequest<'_>,
        first: u64,
        last: Option<u64>,
        sink: &mut dyn RangeSink,
    ) -> Result<(), TransferError> {
        let _ = (first, last, sink);
        Err(TransferError::fatal(
            crate::hresult::BG_E_INSUFFICIENT_RANGE_SUPPORT,
            crate::BgErrorContext::RemoteFile,
            format!(
                "the {:?} transport serves no ranges of {}",
                self.protocol(),
                request.remote_name
            ),
        ))
    }
}

/// Where a transport writes one range of a ranged file ([`Transport::transfer_range`]).
pub trait RangeSink {
    /// The validator of the content the file's earlier ranges came from: send it with the
    /// request (`If-Range`), so that a changed content is not spliced onto them.
    fn validator(&self) -> Option<&str>;

    /// Stores the validator of the content (from the first response).
    fn set_validator(&mut self, validator: Option<String>);

    /// Reports the remote file's complete size.
    ///
    /// # Errors
    /// A fatal `BG_E_INVALID_RANGE` when a range of the file lies past that size (nothing is
    /// written then), or `Stopped`.
    fn set_remote_size(&mut self, size: u64) -> Result<(), TransferError>;

    /// Appends bytes of the range, in order.
    ///
    /// # Errors
    /// As [`TransferSink::write`].
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError>;

    /// The remote content changed: the file starts over from its first range.
    ///
    /// # Errors
    /// As [`TransferSink::restart`].
    fn restart(&mut self) -> Result<(), TransferError>;

    /// Whether the job stopped: stop promptly if so.
    fn should_stop(&self) -> bool;
}

/// Where a transport writes one file: the file's temporary file plus the job's counters.
/// [`FileTransfer`](crate::FileTransfer) is the implementation the engine hands out.
pub trait TransferSink {
    /// Bytes already in the temporary file from earlier attempts: resume from here.
    fn offset(&self) -> u64;

    /// The file's size if known (from an earlier attempt or [`set_size`](Self::set_size)).
    fn size(&self) -> Option<u64>;

    /// The content validator stored by an earlier attempt (an HTTP strong ETag or Last-Modified).
    fn validator(&self) -> Option<&str>;

    /// Stores a content validator for the next attempt to resume against.
    fn set_validator(&mut self, validator: Option<String>);

    /// Reports the file's size (`None`: unknown until the end, when the bytes received become it).
    ///
    /// # Errors
    /// A fatal error if the size is below the bytes already held (restart first), or `Stopped`.
    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError>;

    /// Appends bytes at the current offset and counts them.
    ///
    /// # Blocking
    /// Writes to the destination (for the engine's sink, the temporary file).
    ///
    /// # Errors
    /// `Stopped` if the job was suspended or cancelled (nothing written); a transient
    /// `BG_E_INVALID_SERVER_RESPONSE` failure if the bytes would pass the known size (nothing
    /// written); a `LocalFile` failure if the write failed.
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError>;

    /// Appends everything `source` has from its current position (at most the remaining known
    /// size), in large chunks, checking for a stop between chunks. The default reads and writes
    /// through a buffer; [`FileTransfer`](crate::FileTransfer) uses the kernel's copy.
    ///
    /// # Errors
    /// As [`write`](Self::write), plus a `RemoteFile` failure if reading fails.
    fn copy_from_file(&mut self, source: &mut File) -> Result<u64, TransferError> {
        use std::io::Read;
        let mut buf = vec![0u8; 1 << 20];
        let mut copied = 0;
        loop {
            let n = source
                .read(&mut buf)
                .map_err(|e| TransferError::from_io(&e, crate::BgErrorContext::RemoteFile))?;
            if n == 0 {
                return Ok(copied);
            }
            self.write(&buf[..n])?;
            copied += n as u64;
        }
    }

    /// Starts the file over from zero: truncates the temporary file, removes its bytes from the
    /// job's count and forgets its validator (the server ignored the offset, or the remote
    /// content changed).
    ///
    /// # Errors
    /// `Stopped`, or a `LocalFile` failure if truncating failed.
    fn restart(&mut self) -> Result<(), TransferError>;

    /// Whether the job was suspended or cancelled (one atomic load): stop promptly if so.
    fn should_stop(&self) -> bool;

    /// The connections the job allows for one file now
    /// ([`Job::get_max_connections`](crate::Job::get_max_connections)); the default is 1.
    fn max_connections(&self) -> u32 {
        1
    }

    /// Switches the file to segments, for a transport that can fetch ranges of it, over
    /// several connections at once or one after another: `None` unless the size and a
    /// validator are known and segments are worth it: the file has several holes (an earlier
    /// attempt fetched it in segments; each hole is fetched on its own, so nothing already on
    /// disk is fetched again), or the job allows more than one connection and a hole is large
    /// enough to split (2 MiB). While the returned value lives, bytes go through its
    /// [`SegmentSink`]s, not through this sink; once it is dropped,
    /// [`offset`](Self::offset) is the first byte still missing. The default is `None`: one
    /// connection, one range.
    fn segmented(&mut self) -> Option<Box<dyn SegmentedSink + '_>> {
        None
    }

    /// Reports the headers of the last response for the file (HTTP: not counting redirects
    /// followed), one `Name: value` per CRLF-terminated line. The default ignores them.
    fn set_response_headers(&mut self, headers: &str) {
        let _ = headers;
    }

    /// Reports where the bytes written from now on come from: a peer (a cache host) when
    /// `true`, the origin (the remote name or a mirror) when `false`. A transport that does not
    /// call it serves every byte from the origin. The default ignores it.
    fn set_from_peer(&mut self, from_peer: bool) {
        let _ = from_peer;
    }

    /// Reports the URL a redirect led to, when the job's redirect policy is
    /// `REDIRECT_POLICY_ALLOW_REPORT` (the file's remote name becomes it). The default ignores
    /// it.
    fn report_final_url(&mut self, url: &str) {
        let _ = url;
    }
}

/// A file fetched over several connections ([`TransferSink::segmented`]). Each connection asks
/// for a [`SegmentSink`], fetches its range, and asks again until there is none. Shared by the
/// connections' threads.
pub trait SegmentedSink: Sync {
    /// The range that starts at `offset`, if no connection holds it: for the connection whose
    /// response already delivers the bytes from there (the request that found the file could
    /// be segmented).
    fn segment_at(&self, offset: u64) -> Option<Box<dyn SegmentSink + '_>>;

    /// The next range for a connection that has none: one no connection holds, else the upper
    /// half of the largest range being fetched (its connection stops where the new one starts).
    /// `None` when no range is left to hand out, when as many connections as the job allows
    /// hold one, or once the job stopped.
    fn next_segment(&self) -> Option<Box<dyn SegmentSink + '_>>;

    /// The connections the job allows now (it can change while the file is fetched).
    fn max_connections(&self) -> u32;

    /// The connections holding a range now.
    fn active(&self) -> u32;

    /// Whether every byte of the file is written and counted.
    fn complete(&self) -> bool;

    /// Makes every connection stop at its next write, with [`TransferError::Stopped`] (the
    /// content changed, or one connection failed for good): the transport then drops this value
    /// and decides what comes next (start over, or report the failure).
    fn abandon(&self);

    /// Whether the job stopped or [`abandon`](Self::abandon) was called: stop promptly if so.
    fn should_stop(&self) -> bool;
}

/// One range of a file, held by one connection ([`SegmentedSink`]). Dropping it lets the range
/// go: another connection continues it from its first byte not yet written.
pub trait SegmentSink: Send {
    /// The next byte to write: fetch from here.
    fn position(&self) -> u64;

    /// Where the range ends now (exclusive): it only moves down, when an idle connection
    /// takes its upper half.
    fn end(&self) -> u64;

    /// Writes `data` at [`position`](Self::position), within the bandwidth caps, and counts it.
    /// Returns how many bytes it took: fewer than `data.len()` when the range ended before
    /// (split off to another connection): stop reading this response then.
    ///
    /// # Errors
    /// `Stopped` if the job stopped or the file was abandoned; a `LocalFile` failure if the
    /// write failed.
    fn write(&mut self, data: &[u8]) -> Result<usize, TransferError>;
}
