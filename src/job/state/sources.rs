//! The sources of a job and of each file (DESIGN 6.2) as state under the job lock: peer
//! caching, the maximum download time, the notify command line; a file's remote name now, its
//! mirrors, the source serving it, its validation state, its bytes from the origin and from
//! peers, its last response's headers. The handles' methods are in `handles/sources.rs`; what
//! the store keeps of them is in `record/snapshot.rs`.

use crate::BgPeerCaching;
use crate::job::record::snapshot::{FileSourcesSnapshot, JobSourcesSnapshot};
use std::path::PathBuf;
use std::time::Duration;

/// Mirrors one file may have.
pub(crate) const MAX_MIRRORS: usize = 16;
/// The longest notify program, in UTF-16 code units (`MAX_PATH`).
pub(crate) const MAX_NOTIFY_PROGRAM: usize = 260;
/// The longest notify parameters, in UTF-16 code units.
pub(crate) const MAX_NOTIFY_PARAMETERS: usize = 4000;
/// The default maximum download time: 90 days, as BITS.
pub(crate) use crate::job::record::snapshot::DEFAULT_MAX_DOWNLOAD_TIME;

/// The job's part of its sources (under the job lock).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobSources {
    /// `set_peer_caching_flags`.
    pub(crate) peer_caching: BgPeerCaching,
    /// `set_maximum_download_time`.
    pub(crate) max_download_time: Duration,
    /// The notify program and its parameters (`set_notify_cmd_line`).
    pub(crate) notify: Option<(PathBuf, String)>,
    /// Bumped by every `resume()`: the engine restarts the download-time count when it moves.
    pub(crate) resumes: u64,
}

impl Default for JobSources {
    fn default() -> Self {
        JobSources {
            peer_caching: BgPeerCaching::default(),
            max_download_time: DEFAULT_MAX_DOWNLOAD_TIME,
            notify: None,
            resumes: 0,
        }
    }
}

/// One file's part of its sources (in [`FileDisk`](super::file::FileDisk), under the job lock).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FileSources {
    /// The remote name now, when `set_remote_name` (or a reported redirect) changed it.
    pub(crate) remote: Option<String>,
    /// Ordered fallbacks (`set_mirrors`).
    pub(crate) mirrors: Vec<String>,
    /// The source the bytes come from now: 0 the remote name, `i` mirror `i - 1`.
    pub(crate) source: usize,
    /// Transient failures in a row of the current source.
    pub(crate) strikes: u32,
    /// The file's bytes at the last failure (bytes since then break the row).
    pub(crate) strike_bytes: u64,
    /// Sources that failed in this round (bit `i`: source `i`), and those that failed fatally.
    pub(crate) failed: u32,
    /// Sources that failed fatally in this round.
    pub(crate) fatal: u32,
    /// `set_validation_state`.
    pub(crate) valid: bool,
    /// Bytes of the file on disk that came from a peer (the cache host) and from the origin.
    pub(crate) from_peer: u64,
    /// See `from_peer`.
    pub(crate) from_origin: u64,
    /// When a reported redirect (`REDIRECT_POLICY_ALLOW_REPORT`) rewrote the remote name: the
    /// name before, whose origin alone gets the job's secrets (a redirect never earns them). A
    /// name the caller sets clears it.
    pub(crate) secrets_for: Option<String>,
    /// Any byte came from a peer since the file last started from zero.
    pub(crate) peer_used: bool,
    /// The caller found bytes from a peer invalid: fetch from the origin only.
    pub(crate) origin_only: bool,
    /// The headers of the last response, one `Name: value` per CRLF-terminated line.
    pub(crate) response_headers: Option<String>,
}

impl FileSources {
    /// The URL of source `index` of a file whose remote name is `remote`.
    pub(crate) fn url<'a>(&'a self, remote: &'a str, index: usize) -> Option<&'a str> {
        match index {
            0 => Some(remote),
            i => self.mirrors.get(i - 1).map(String::as_str),
        }
    }

    /// Sources: the remote name and the mirrors.
    pub(crate) fn count(&self) -> usize {
        1 + self.mirrors.len()
    }
}

/// What the store keeps of a job's sources.
pub(crate) fn job_snapshot(sources: &JobSources) -> JobSourcesSnapshot {
    JobSourcesSnapshot {
        peer_caching: sources.peer_caching.bits(),
        max_download_time: sources.max_download_time,
        notify: sources.notify.clone(),
    }
}

/// A job's sources as its record gives them (unknown flag bits dropped).
pub(crate) fn job_restore(snapshot: JobSourcesSnapshot) -> JobSources {
    JobSources {
        peer_caching: BgPeerCaching::from_bits_truncate(snapshot.peer_caching),
        max_download_time: snapshot.max_download_time,
        notify: snapshot.notify,
        resumes: 0,
    }
}

/// What the store keeps of a file's sources (not the failures of this round, nor the last
/// response's headers: a restart begins a new round, and the next response brings new headers).
pub(crate) fn file_snapshot(sources: &FileSources) -> FileSourcesSnapshot {
    FileSourcesSnapshot {
        remote: sources.remote.clone(),
        mirrors: sources.mirrors.clone(),
        source: u32::try_from(sources.source).unwrap_or(0),
        valid: sources.valid,
        peer_used: sources.peer_used,
        origin_only: sources.origin_only,
        from_origin: sources.from_origin,
        from_peer: sources.from_peer,
        secrets_for: sources.secrets_for.clone(),
    }
}

/// A file's sources as its record gives them; a source index past the mirrors is the remote name.
pub(crate) fn file_restore(snapshot: FileSourcesSnapshot) -> FileSources {
    let mut sources = FileSources {
        remote: snapshot.remote,
        mirrors: snapshot.mirrors,
        source: snapshot.source as usize,
        valid: snapshot.valid,
        peer_used: snapshot.peer_used,
        origin_only: snapshot.origin_only,
        from_origin: snapshot.from_origin,
        from_peer: snapshot.from_peer,
        secrets_for: snapshot.secrets_for,
        ..FileSources::default()
    };
    if sources.source >= sources.count() {
        sources.source = 0;
    }
    sources
}
