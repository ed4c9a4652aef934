//! Which source serves a file, and what happens when it fails (DESIGN 6.2, mirrors): the
//! engine's worker asks [`Job::source_plan`] before each request of a file and [`Job::source_failed`]
//! after each failure; its sink reports where bytes came from, the last response's headers and
//! a reported redirect's URL.
//!
//! A file with mirrors has sources `0` (its remote name) to `n` (its mirrors in order). A source
//! fails when it fails fatally (a fatal HTTP error, a content that fails the expected SHA-256), a
//! read of it stalls (`ERROR_TIMEOUT`: it outlasted the job's read timeout, or the connection
//! could not be made in time), or it fails transiently twice in a row (with no byte between the
//! two). The next source that has not failed in this round then serves, at once, within the same
//! claim of the job. When every source has failed, the job fails with the last error: `Error` if
//! every source failed fatally, else `TransientError` (the job retries after its minimum retry
//! delay, and a new round begins with the remote name). A file without mirrors fails as before.
//!
//! Bytes are never joined blindly: the next source is asked for what is missing with the
//! validator the bytes were fetched under, so a transport keeps them only where the new source
//! serves the same size and strong validator (or the file has an expected SHA-256), and
//! otherwise starts the file over.

use crate::Job;
use crate::transport::TransferError;
use crate::{BgErrorContext, BgPeerCaching, hresult};

/// What the next request of a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourcePlan {
    /// The file's remote name now (the origin its secrets belong to).
    pub(crate) remote: String,
    /// The mirror to fetch from, when not the remote name.
    pub(crate) mirror: Option<String>,
    /// The name whose origin alone gets the job's secrets, when a reported redirect rewrote the
    /// remote name.
    pub(crate) secrets_for: Option<String>,
    /// Whether the request may go to the cache host first (the peer caching flags include
    /// `ENABLE_CLIENT`, and the caller did not find a peer's bytes invalid).
    pub(crate) via_cache: bool,
}

impl super::Engine {
    /// The request of `file` that `plan` says: the remote name now (`set_remote_name`), the
    /// mirror serving the file, whose origin gets the secrets, and the cache host.
    pub(crate) fn request<'r>(
        &'r self,
        job: &'r Job,
        file: &'r crate::JobFile,
        plan: &'r SourcePlan,
    ) -> crate::transport::TransferRequest<'r> {
        let mut request = crate::transport::TransferRequest::new(job, file);
        request.remote_name = &plan.remote;
        if let Some(mirror) = &plan.mirror {
            request = request.with_source(mirror);
        }
        if let Some(name) = &plan.secrets_for {
            request = request.with_secrets_for(name);
        }
        if let (true, Some((host, delay))) = (plan.via_cache, &self.cache_host) {
            request = request.with_cache_host(host, *delay);
        }
        request
    }
}

impl SourcePlan {
    /// The URL the request goes to.
    pub(crate) fn url(&self) -> &str {
        self.mirror.as_deref().unwrap_or(&self.remote)
    }
}

/// What the engine does after a failure of a file.
#[derive(Debug)]
pub(crate) enum SourceStep {
    /// Ask again now: the same source once more, or the next one.
    Again,
    /// Fail the job with this error.
    Fail(TransferError),
}

/// The switch is applied even when it cannot be recorded (see [`Job::source_failed`]).
impl crate::job::record::recorder::Recorded for SourceStep {
    fn or_store_error(self, _stored: crate::Result<()>) -> Self {
        self
    }
}

/// Transient failures in a row after which a source counts as failed.
const STRIKES: u32 = 2;

impl Job {
    /// The next request of file `index`.
    pub(crate) fn source_plan(&self, index: usize) -> SourcePlan {
        let inner = self.lock();
        let file = &inner.files[index];
        let sources = &inner.file_disk[index].sources;
        let remote = sources.remote.clone().unwrap_or_else(|| file.remote_name.clone());
        let mirror = match sources.source {
            0 => None,
            i => sources.mirrors.get(i - 1).cloned(),
        };
        let via_cache = inner.sources.peer_caching.contains(BgPeerCaching::ENABLE_CLIENT)
            && !sources.origin_only;
        SourcePlan { remote, mirror, secrets_for: sources.secrets_for.clone(), via_cache }
    }

    /// File `index` failed with `error` after its request; `bytes` is what it holds now. Decides
    /// whether another request follows at once (see the module docs). The source the file is
    /// on is recorded with the job (a reopened job resumes on it).
    pub(crate) fn source_failed(
        &self,
        index: usize,
        error: TransferError,
        bytes: u64,
    ) -> SourceStep {
        let TransferError::Failed { hresult: code, context, .. } = &error else {
            return SourceStep::Fail(error);
        };
        let (code, context, transient) = (*code, *context, error.is_transient());
        if context == BgErrorContext::LocalFile {
            // The disk, not the source.
            return SourceStep::Fail(error);
        }
        self.shared.change(|inner| {
            // The switch happens whatever the disk says; its record is best effort (a restart
            // of the process begins with the remote name if it was lost).
            inner.effects.best_effort = true;
            let sources = &mut inner.file_disk[index].sources;
            if code == hresult::BG_E_VALIDATION_FAILED && sources.peer_used && !sources.origin_only
            {
                // Bytes from the cache failed the expected SHA-256 (the file restarted from
                // zero): the file goes to the origin, and the job still finishes.
                sources.origin_only = true;
                sources.peer_used = false;
                sources.from_peer = 0;
                sources.from_origin = 0;
                inner.effects.save = true;
                return SourceStep::Again;
            }
            if code == hresult::BG_E_VALIDATION_FAILED {
                sources.from_peer = 0;
                sources.from_origin = 0;
            }
            let count = sources.count();
            if count == 1 {
                return SourceStep::Fail(error);
            }
            let current = sources.source.min(count - 1);
            if bytes > sources.strike_bytes {
                // Bytes came since the last failure: the failures are not in a row.
                sources.strikes = 0;
            }
            sources.strike_bytes = bytes;
            let stalled = code == hresult::ERROR_TIMEOUT_HR;
            if transient && !stalled {
                sources.strikes += 1;
                if sources.strikes < STRIKES {
                    return SourceStep::Again;
                }
            }
            sources.strikes = 0;
            sources.failed |= 1 << current;
            if !transient {
                sources.fatal |= 1 << current;
            }
            let all = if count >= 32 { u32::MAX } else { (1u32 << count) - 1 };
            let next =
                (1..count).map(|k| (current + k) % count).find(|i| sources.failed & (1 << i) == 0);
            if let Some(next) = next {
                sources.source = next;
                inner.effects.save = true;
                return SourceStep::Again;
            }
            // Every source failed in this round.
            let every_fatal = sources.fatal & all == all;
            sources.failed = 0;
            sources.fatal = 0;
            sources.source = 0;
            inner.effects.save = true;
            if every_fatal {
                SourceStep::Fail(error)
            } else {
                let TransferError::Failed { hresult, context, message, .. } = error else {
                    unreachable!("matched above")
                };
                SourceStep::Fail(TransferError::transient(hresult, context, message))
            }
        })
    }

    /// File `index` is transferred: its next round of failures starts afresh.
    pub(crate) fn source_done(&self, index: usize) {
        let _serial = self.shared.serial.lock();
        let mut inner = self.lock();
        let sources = &mut inner.file_disk[index].sources;
        sources.strikes = 0;
        sources.failed = 0;
        sources.fatal = 0;
    }

    /// The sink's report: `bytes` more of file `index` came from a peer (the cache host) or
    /// from the origin.
    pub(crate) fn note_source_bytes(&self, index: usize, from_peer: bool, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let _serial = self.shared.serial.lock();
        let mut inner = self.lock();
        let sources = &mut inner.file_disk[index].sources;
        if from_peer {
            sources.from_peer = sources.from_peer.saturating_add(bytes);
            sources.peer_used = true;
        } else {
            sources.from_origin = sources.from_origin.saturating_add(bytes);
        }
    }

    /// The sink's report: file `index` restarted from zero, so none of its bytes came from
    /// anywhere.
    pub(crate) fn forget_source_bytes(&self, index: usize) {
        let _serial = self.shared.serial.lock();
        let mut inner = self.lock();
        let sources = &mut inner.file_disk[index].sources;
        sources.from_peer = 0;
        sources.from_origin = 0;
        sources.peer_used = false;
    }

    /// The sink's report: the headers of the last response for file `index`.
    pub(crate) fn set_response_headers(&self, index: usize, headers: &str) {
        let _serial = self.shared.serial.lock();
        let mut inner = self.lock();
        inner.file_disk[index].sources.response_headers = Some(headers.to_owned());
    }

    /// The sink's report under `REDIRECT_POLICY_ALLOW_REPORT`: file `index`'s remote name
    /// becomes the URL the redirect led to. Durable; the file stays on its source.
    pub(crate) fn report_final_url(&self, index: usize, url: &str) {
        let _ = self.shared.change(|inner| {
            let file = &inner.files[index];
            let sources = &mut inner.file_disk[index].sources;
            let now = sources.remote.as_deref().unwrap_or(&file.remote_name);
            if now != url {
                // The secrets stay with the name the caller gave (DESIGN 6.2: a redirect to
                // another origin never gets them, also not on the next request).
                if sources.secrets_for.is_none() {
                    sources.secrets_for = Some(now.to_owned());
                }
                sources.remote = (url != file.remote_name).then(|| url.to_owned());
                inner.effects.save = true;
            }
            Ok::<(), crate::BgError>(())
        });
    }
}
