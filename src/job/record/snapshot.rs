//! [`JobSnapshot`]: everything the durable store keeps about one job, as plain data.
//!
//! A snapshot has no behaviour and no locks: the job layer fills one in under the job's lock and
//! hands it to the store, which encodes it with its own versioned codec (`store/record.rs`); on
//! open the store hands snapshots back and the job layer rebuilds jobs from them. Nothing here
//! knows how it is stored.

use crate::{BgErrorContext, BgJobPriority, BgJobState, BgJobType, BgProxySettings, JobId};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// One job as the store keeps it. `Debug` shows the custom headers' names, never their values
/// (nor any password: see `HttpOptions`).
#[derive(Clone, PartialEq)]
pub(crate) struct JobSnapshot {
    /// The job's id; also the record's key in the store.
    pub(crate) id: JobId,
    /// Creation order within the store (`enum_jobs` lists jobs in this order).
    pub(crate) seq: u64,
    /// Download, upload or upload-reply.
    pub(crate) job_type: BgJobType,
    /// The display name (`set_display_name`).
    pub(crate) display_name: String,
    /// The description (`set_description`).
    pub(crate) description: String,
    /// The owner (`take_ownership`).
    pub(crate) owner: String,
    /// The priority (`set_priority`).
    pub(crate) priority: BgJobPriority,
    /// The notify flags as raw `BgNotify` bits (`set_notify_flags`), kept exactly as set.
    pub(crate) notify_flags: u32,
    /// The minimum retry delay (`set_minimum_retry_delay`).
    pub(crate) min_retry_delay: Duration,
    /// The no-progress timeout (`set_no_progress_timeout`).
    pub(crate) no_progress_timeout: Duration,
    /// The proxy usage and lists (`set_proxy_settings`).
    pub(crate) proxy: BgProxySettings,
    /// Custom HTTP headers as name and value, in the order set.
    pub(crate) headers: Vec<(String, String)>,
    /// The HTTP connect timeout, if one was set.
    pub(crate) connect_timeout: Option<Duration>,
    /// The HTTP read timeout, if one was set.
    pub(crate) read_timeout: Option<Duration>,
    /// Connections per file (`set_max_connections`).
    pub(crate) max_connections: u32,
    /// The job's bandwidth cap in bytes per second; `None`: no cap.
    pub(crate) max_bytes_per_second: Option<u64>,
    /// The state the job was in when the snapshot was taken.
    pub(crate) state: BgJobState,
    /// How many times the job has failed (`get_error_count`).
    pub(crate) error_count: u32,
    /// The last failure, if the job has one on record.
    pub(crate) error: Option<ErrorSnapshot>,
    /// When the job was created.
    pub(crate) creation_time: SystemTime,
    /// When the job was last changed.
    pub(crate) modification_time: SystemTime,
    /// When the job entered `Transferred`; `None` before.
    pub(crate) transfer_completion_time: Option<SystemTime>,
    /// The wall-clock retry deadlines while the job is in `TransientError`.
    pub(crate) retry: Option<RetrySnapshot>,
    /// A `complete()` or `cancel()` that had started its file work when the snapshot was taken.
    pub(crate) intent: Option<Intent>,
    /// The files, in the order added.
    pub(crate) files: Vec<FileSnapshot>,
    /// The job's DESIGN 6.3 state (Job5 properties, ranges as given, on-demand requests).
    pub(crate) bytes_needed: super::bytes_needed::BytesNeeded,
    /// Write-only headers, security flags, method, credentials (DESIGN 6.2; format version 2).
    pub(crate) http: crate::job::record::http_options::HttpOptions,
    /// Where the bytes come from (DESIGN 6.2); the defaults in a format-version-1 record.
    pub(crate) sources: JobSourcesSnapshot,
}

impl std::fmt::Debug for JobSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSnapshot")
            .field("id", &self.id)
            .field("seq", &self.seq)
            .field("job_type", &self.job_type)
            .field("display_name", &self.display_name)
            .field("description", &self.description)
            .field("owner", &self.owner)
            .field("priority", &self.priority)
            .field("notify_flags", &self.notify_flags)
            .field("min_retry_delay", &self.min_retry_delay)
            .field("no_progress_timeout", &self.no_progress_timeout)
            .field("proxy", &self.proxy)
            .field("header_names", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_bytes_per_second", &self.max_bytes_per_second)
            .field("state", &self.state)
            .field("error_count", &self.error_count)
            .field("error", &self.error)
            .field("creation_time", &self.creation_time)
            .field("modification_time", &self.modification_time)
            .field("transfer_completion_time", &self.transfer_completion_time)
            .field("retry", &self.retry)
            .field("intent", &self.intent)
            .field("files", &self.files)
            .field("http", &self.http)
            .field("sources", &self.sources)
            .finish()
    }
}

/// The default maximum download time: 90 days, as BITS.
pub(crate) const DEFAULT_MAX_DOWNLOAD_TIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// The job-wide settings of DESIGN 6.2 that the store keeps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobSourcesSnapshot {
    /// The peer caching flags as raw bits.
    pub(crate) peer_caching: u32,
    /// The maximum download time.
    pub(crate) max_download_time: Duration,
    /// The notify program and parameters.
    pub(crate) notify: Option<(PathBuf, String)>,
}

impl Default for JobSourcesSnapshot {
    fn default() -> Self {
        JobSourcesSnapshot {
            peer_caching: crate::BgPeerCaching::default().bits(),
            max_download_time: DEFAULT_MAX_DOWNLOAD_TIME,
            notify: None,
        }
    }
}

/// One file's part of DESIGN 6.2 that the store keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FileSourcesSnapshot {
    /// The remote name now, when it is not the one added.
    pub(crate) remote: Option<String>,
    /// The mirrors, in order.
    pub(crate) mirrors: Vec<String>,
    /// The source serving the file: 0 the remote name, `i` mirror `i - 1`.
    pub(crate) source: u32,
    /// The validation state the caller set.
    pub(crate) valid: bool,
    /// Any byte of the file came from a peer.
    pub(crate) peer_used: bool,
    /// Fetch from the origin only (the caller found a peer's bytes invalid).
    pub(crate) origin_only: bool,
    /// Bytes of the file from the origin.
    pub(crate) from_origin: u64,
    /// Bytes of the file from peers.
    pub(crate) from_peer: u64,
    /// The name whose origin the secrets go to, when a reported redirect rewrote the remote
    /// name (the name before it).
    pub(crate) secrets_for: Option<String>,
}

impl FileSourcesSnapshot {
    /// Whether every field has its default (a format-version-1 record can hold the file).
    #[cfg(feature = "store")]
    pub(crate) fn is_default(&self) -> bool {
        *self == FileSourcesSnapshot::default()
    }
}

/// A job's error record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorSnapshot {
    /// Where the failure happened.
    pub(crate) context: BgErrorContext,
    /// The HRESULT of the failure.
    pub(crate) hresult: u32,
    /// The index of the file the failure is tied to, if any.
    pub(crate) file_index: Option<u32>,
    /// The protocol of the failure (`"http"`, `"file"`), if any.
    pub(crate) protocol: Option<String>,
    /// The failure's message.
    pub(crate) message: String,
}

/// The retry timing of a job in `TransientError`, as wall-clock times (the engine's monotonic
/// clock does not survive a restart).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetrySnapshot {
    /// The next attempt starts no sooner than this.
    pub(crate) retry_at: SystemTime,
    /// The start of the no-progress window: the job goes to `Error` once the no-progress timeout
    /// has passed since then without progress.
    pub(crate) quiet_since: SystemTime,
}

/// A caller's `complete()` or `cancel()` that began moving or deleting files and must be carried
/// to its end when the store is opened again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    /// `complete()`: rename every transferred temporary file into place.
    Complete,
    /// `cancel()`: delete every temporary file.
    Cancel,
}

/// One file of a job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSnapshot {
    /// The remote name (URL or absolute path), as added.
    pub(crate) remote_name: String,
    /// The destination path, as added.
    pub(crate) local_name: PathBuf,
    /// The temporary file the bytes go to, once it was created.
    pub(crate) temp_path: Option<PathBuf>,
    /// The file's size, once known.
    pub(crate) size: Option<u64>,
    /// Half-open byte ranges `[start, end)` known durable in the temporary file (one range
    /// `[0, n)` for a single connection): each non-empty, sorted, disjoint.
    pub(crate) ranges: Vec<(u64, u64)>,
    /// The remote validator (a strong ETag or Last-Modified date) the ranges were fetched under.
    pub(crate) validator: Option<String>,
    /// All of the file's bytes are in its temporary file.
    pub(crate) transferred: bool,
    /// `complete()` made the file visible under its local name.
    pub(crate) completed: bool,
    /// The SHA-256 digest the file must have, if one was set.
    pub(crate) expected_sha256: Option<[u8; 32]>,
    /// Where the file's bytes come from (DESIGN 6.2).
    pub(crate) sources: FileSourcesSnapshot,
}
