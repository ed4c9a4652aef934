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

use crate::{Job, JobFile};
use std::fmt;
use std::fs::File;
use std::path::PathBuf;

/// What a transport is asked to fetch. Made with [`TransferRequest::new`] (new fields may come).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TransferRequest<'a> {
    /// The remote name as added to the job (URL or absolute path).
    pub remote_name: &'a str,
    /// The job the file belongs to (for its proxy settings and other options).
    pub job: &'a Job,
    /// The file's index in the job.
    pub file_index: usize,
}

impl<'a> TransferRequest<'a> {
    /// The request for `file` of `job`.
    pub fn new(job: &'a Job, file: &'a JobFile) -> TransferRequest<'a> {
        TransferRequest { remote_name: &file.file.remote_name, job, file_index: file.index() }
    }

    /// The local path the remote name names, for a `file://` URL (percent-decoded) or a plain
    /// absolute path; `None` for other URLs.
    pub fn source_path(&self) -> Option<PathBuf> {
        crate::job::validate::local_source_path(self.remote_name)
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
