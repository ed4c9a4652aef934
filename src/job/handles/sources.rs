//! Where the bytes come from (DESIGN 6.2), on the job's side: a new remote name for a file
//! (`set_remote_name`, `replace_remote_prefix`), mirrors, the source a file is fetched from now,
//! peer caching flags, the maximum download time, validation by the caller, the bytes from the
//! origin and from peers, the last response's headers, and the notify command line
//! (`job/notify_cmd.rs` runs it). The state itself is in `state/sources.rs`.
//!
//! Every setting here is a change like any other ([`JobShared::change`]): recorded, then
//! applied, then announced; refused in a final state with `BG_E_INVALID_STATE`.

use crate::job::handles::file::JobFile;
use crate::job::handles::job::Job;
use crate::job::state::shared::{JobInner, JobShared};
use crate::job::state::sources::{MAX_MIRRORS, MAX_NOTIFY_PARAMETERS, MAX_NOTIFY_PROGRAM};
use crate::job::state::transitions::{JobEvent, transition};
use crate::job::validate;
use crate::{
    BackgroundCopyFile2, BackgroundCopyFile3, BackgroundCopyFile4, BackgroundCopyFile5,
    BackgroundCopyJob2, BackgroundCopyJob3, BackgroundCopyJob4, BgAuthCredentials, BgAuthScheme,
    BgAuthTarget, BgError, BgFileProperty, BgFilePropertyId, BgFileRange, BgJobState,
    BgPeerCaching, BgSuccess, Result, hresult,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
/// Refuses a change once the job is final.
fn check_not_final(shared: &JobShared) -> Result<()> {
    transition(shared.counters.state(), JobEvent::Modify).map(drop)
}

/// Checks a new remote name for a file as `add_file` checks one.
fn check_remote(shared: &JobShared, url: &str) -> Result<()> {
    validate::remote_name(url, &shared.ctx.schemes).map(drop)
}

/// Gives file `index` the remote name `url` in the change under way: the file's next request
/// uses it (a running transfer yields, so the engine starts the file again with it); the next
/// source to serve is the new remote name.
fn set_remote_in(inner: &mut JobInner, index: usize, url: String) {
    let sources = &mut inner.file_disk[index].sources;
    sources.remote = (url != inner.files[index].remote_name).then_some(url);
    // The caller's own name: its origin gets the secrets.
    sources.secrets_for = None;
    sources.source = 0;
    sources.strikes = 0;
    sources.failed = 0;
    sources.fatal = 0;
}

/// After a new remote name, in the change that set it: a transfer under way stops (its claim
/// is revoked) and the job is queued again, so the new name applies at the file's next request
/// without the caller restarting the job. The modification is announced first.
fn modified_and_yielded(shared: &Arc<JobShared>, inner: &mut JobInner) -> Result<()> {
    shared.apply(inner, JobEvent::Modify)?;
    if matches!(shared.state_in(inner), BgJobState::Connecting | BgJobState::Transferring) {
        shared.apply(inner, JobEvent::Yield)?;
    }
    inner.effects.save = true;
    Ok(())
}

impl Job {
    /// `set_notify_cmd_line` (see [`BackgroundCopyJob2`]).
    pub(crate) fn set_notify_cmd(
        &self,
        program: Option<&Path>,
        parameters: Option<&str>,
    ) -> Result<()> {
        check_not_final(&self.shared)?;
        let notify = match (program, parameters) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(BgError::InvalidArgument(
                    "notify parameters without a program".to_owned(),
                ));
            }
            (Some(program), parameters) => {
                let len = program.as_os_str().encode_wide_len();
                if len > MAX_NOTIFY_PROGRAM {
                    return Err(BgError::StringTooLong {
                        what: "the notify program",
                        len,
                        max: MAX_NOTIFY_PROGRAM,
                    });
                }
                let parameters = parameters.unwrap_or_default();
                let len = validate::utf16_len(parameters);
                if len > MAX_NOTIFY_PARAMETERS {
                    return Err(BgError::StringTooLong {
                        what: "the notify parameters",
                        len,
                        max: MAX_NOTIFY_PARAMETERS,
                    });
                }
                if program.as_os_str().is_empty() {
                    return Err(BgError::InvalidArgument("the notify program is empty".to_owned()));
                }
                Some((program.to_path_buf(), parameters.to_owned()))
            }
        };
        self.modify(false, |inner| inner.sources.notify = notify)
    }

    /// `get_notify_cmd_line` (see [`BackgroundCopyJob2`]).
    pub(crate) fn get_notify_cmd(&self) -> Option<(PathBuf, String)> {
        self.lock().sources.notify.clone()
    }

    /// For the engine: the maximum download time and the count of `resume()` calls.
    pub(crate) fn download_time_limit(&self) -> (Duration, u64) {
        let inner = self.lock();
        (inner.sources.max_download_time, inner.sources.resumes)
    }

    /// For the engine: the maximum download time ran out while the job was `Connecting` or
    /// `Transferring`: the job goes to `Error` with `BG_E_MAXDOWNLOAD_TIMEOUT`. Its claim ends,
    /// so a read that is blocked stops at once (its transfer's writes are refused).
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is `Connecting` or `Transferring`.
    pub(crate) fn fail_max_download_time(&self) -> Result<()> {
        self.shared
            .change(|inner| {
                let state = self.shared.state_in(inner);
                transition(state, JobEvent::FatalFailure)?;
                inner.error = Some(Arc::new(crate::job::ErrorRecord {
                    context: crate::BgErrorContext::GeneralQueueManager,
                    hresult: hresult::BG_E_MAXDOWNLOAD_TIMEOUT,
                    file_index: None,
                    protocol: None,
                    message: "the job's maximum download time ran out".to_owned(),
                }));
                inner.error_count = inner.error_count.saturating_add(1);
                self.shared.apply(inner, JobEvent::FatalFailure)
            })
            .map(drop)
    }

    /// For the engine: a new `resume()` (restarts the download-time count). Under the lock of
    /// the change `resume()` makes.
    pub(crate) fn note_resume(inner: &mut JobInner) {
        inner.sources.resumes = inner.sources.resumes.wrapping_add(1);
    }
}

/// Length of an OS string in UTF-16 code units (what Windows' `MAX_PATH` counts).
trait WideLen {
    fn encode_wide_len(&self) -> usize;
}

impl WideLen for std::ffi::OsStr {
    fn encode_wide_len(&self) -> usize {
        validate::utf16_len(&self.to_string_lossy())
    }
}

impl BackgroundCopyJob2 for Job {
    fn set_notify_cmd_line(&self, program: Option<&Path>, parameters: Option<&str>) -> Result<()> {
        self.set_notify_cmd(program, parameters)
    }

    fn get_notify_cmd_line(&self) -> Option<(PathBuf, String)> {
        self.get_notify_cmd()
    }

    fn set_credentials(&self, credentials: &BgAuthCredentials) -> Result<()> {
        self.set_job_credentials(credentials)
    }

    fn remove_credentials(&self, target: BgAuthTarget, scheme: BgAuthScheme) -> Result<BgSuccess> {
        self.remove_job_credentials(target, scheme)
    }
}

impl BackgroundCopyJob3 for Job {
    fn replace_remote_prefix(&self, old_prefix: &str, new_prefix: &str) -> Result<BgSuccess> {
        if old_prefix.is_empty() || new_prefix.is_empty() {
            return Err(BgError::InvalidArgument("a remote prefix is empty".to_owned()));
        }
        self.shared.change(|inner| {
            check_not_final(&self.shared)?;
            // Every new name first: all or nothing.
            let mut renamed = Vec::new();
            for (index, file) in inner.files.iter().enumerate() {
                let disk = &inner.file_disk[index];
                let now = disk.sources.remote.as_deref().unwrap_or(&file.remote_name);
                if let Some(rest) = now.strip_prefix(old_prefix) {
                    let url = format!("{new_prefix}{rest}");
                    check_remote(&self.shared, &url)?;
                    renamed.push((index, url));
                }
            }
            if renamed.is_empty() {
                return Ok(BgSuccess::NoChange);
            }
            for (index, url) in renamed {
                set_remote_in(inner, index, url);
            }
            modified_and_yielded(&self.shared, inner)?;
            Ok(BgSuccess::Ok)
        })
    }

    fn add_file_with_ranges(
        &self,
        remote_url: &str,
        local_name: &Path,
        ranges: &[BgFileRange],
    ) -> Result<()> {
        self.add_ranged_file(remote_url, local_name, ranges)
    }
}

impl BackgroundCopyJob4 for Job {
    fn set_peer_caching_flags(&self, flags: BgPeerCaching) -> Result<()> {
        self.modify(true, |inner| inner.sources.peer_caching = flags)
    }

    fn get_peer_caching_flags(&self) -> BgPeerCaching {
        self.lock().sources.peer_caching
    }

    fn set_maximum_download_time(&self, timeout: Duration) -> Result<()> {
        self.modify(true, |inner| inner.sources.max_download_time = timeout)
    }

    fn get_maximum_download_time(&self) -> Duration {
        self.lock().sources.max_download_time
    }
}

impl JobFile {
    /// The remote name now: as added, or as `set_remote_name` (or a reported redirect) made it.
    pub(crate) fn remote_name_now(&self) -> String {
        let inner = self.job.inner.lock();
        inner.file_disk[self.file.index]
            .sources
            .remote
            .clone()
            .unwrap_or_else(|| self.file.remote_name.clone())
    }

    /// Gives the file ordered fallback sources: when the source serving the file fails (a
    /// transient error twice in a row, a fatal HTTP error, a read that outlasts the job's HTTP
    /// read timeout), the next one serves, and the job goes to `Error` only when every source
    /// failed fatally. Bytes from two sources are joined only when both give the same size and
    /// strong validator, or when the file has an expected SHA-256; otherwise a switch restarts
    /// the file. An empty slice removes them. Durable.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("mirrored", BgJobType::Download)?;
    /// # let dir = std::env::temp_dir();
    /// job.add_file("https://a.example/f.iso", &dir.join("f.iso"))?;
    /// let file = &job.enum_files()[0];
    /// file.set_mirrors(&["https://b.example/f.iso", "https://c.example/f.iso"])?;
    /// assert_eq!(file.get_mirrors().len(), 2);
    /// assert_eq!(file.current_source(), "https://a.example/f.iso");
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_INVALIDARG`: more than 16 mirrors, or one that `add_file` would refuse.
    pub fn set_mirrors(&self, urls: &[&str]) -> Result<()> {
        check_not_final(&self.job)?;
        if urls.len() > MAX_MIRRORS {
            return Err(BgError::InvalidArgument(format!(
                "{} mirrors; a file may have at most {MAX_MIRRORS}",
                urls.len()
            )));
        }
        for url in urls {
            check_remote(&self.job, url)?;
        }
        let mirrors: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        let index = self.file.index;
        self.job.change(|inner| {
            check_not_final(&self.job)?;
            let sources = &mut inner.file_disk[index].sources;
            sources.mirrors = mirrors;
            if sources.source >= sources.count() {
                sources.source = 0;
            }
            sources.failed = 0;
            sources.fatal = 0;
            sources.strikes = 0;
            self.job.apply(inner, JobEvent::Modify)?;
            inner.effects.wake = true;
            Ok(())
        })
    }

    /// The file's mirrors, in order (empty by default).
    pub fn get_mirrors(&self) -> Vec<String> {
        self.job.inner.lock().file_disk[self.file.index].sources.mirrors.clone()
    }

    /// The URL the file's bytes come from now: the remote name, or the mirror serving it.
    pub fn current_source(&self) -> String {
        let inner = self.job.inner.lock();
        let sources = &inner.file_disk[self.file.index].sources;
        let remote = sources.remote.as_deref().unwrap_or(&self.file.remote_name);
        sources.url(remote, sources.source).unwrap_or(remote).to_owned()
    }
}

impl BackgroundCopyFile2 for JobFile {
    fn get_file_ranges(&self) -> Vec<BgFileRange> {
        self.ranges_as_given()
    }

    fn set_remote_name(&self, remote_url: &str) -> Result<()> {
        check_not_final(&self.job)?;
        check_remote(&self.job, remote_url)?;
        let index = self.file.index;
        self.job.change(|inner| {
            check_not_final(&self.job)?;
            set_remote_in(inner, index, remote_url.to_owned());
            modified_and_yielded(&self.job, inner)
        })
    }
}

impl BackgroundCopyFile3 for JobFile {
    fn get_temporary_name(&self) -> Option<PathBuf> {
        JobFile::get_temporary_name(self)
    }

    fn set_validation_state(&self, valid: bool) -> Result<()> {
        check_not_final(&self.job)?;
        let index = self.file.index;
        self.job.change(|inner| {
            check_not_final(&self.job)?;
            if !JobShared::transferred_in(inner, index) {
                return Err(BgError::Pending("the file is not transferred yet"));
            }
            inner.file_disk[index].sources.valid = valid;
            if !valid {
                if inner.file_disk[index].sources.peer_used {
                    return self.job.refetch_from_origin(inner, index);
                }
                return self.job.fail_validation(inner, index);
            }
            self.job.apply(inner, JobEvent::Modify)?;
            Ok(())
        })
    }

    fn get_validation_state(&self) -> bool {
        self.job.inner.lock().file_disk[self.file.index].sources.valid
    }

    fn is_downloaded_from_peer(&self) -> bool {
        self.job.inner.lock().file_disk[self.file.index].sources.peer_used
    }
}

impl BackgroundCopyFile4 for JobFile {
    fn get_peer_download_stats(&self) -> (u64, u64) {
        let inner = self.job.inner.lock();
        let sources = &inner.file_disk[self.file.index].sources;
        (sources.from_origin, sources.from_peer)
    }
}

impl BackgroundCopyFile5 for JobFile {
    fn get_property(&self, id: BgFilePropertyId) -> Result<BgFileProperty> {
        match id {
            BgFilePropertyId::HttpResponseHeaders => self.job.inner.lock().file_disk
                [self.file.index]
                .sources
                .response_headers
                .clone()
                .map(BgFileProperty::HttpResponseHeaders)
                .ok_or(BgError::NotSet("no response was received for the file yet")),
        }
    }
}

impl JobShared {
    /// `set_validation_state(false)` on a file whose bytes all came from the origin: the job
    /// goes to `Error` with `BG_E_VALIDATION_FAILED` (context `RemoteFile`). In a change.
    fn fail_validation(self: &Arc<Self>, inner: &mut JobInner, index: usize) -> Result<()> {
        let protocol = inner.files[index].protocol.name().to_owned();
        inner.error = Some(Arc::new(crate::job::ErrorRecord {
            context: crate::BgErrorContext::RemoteFile,
            hresult: hresult::BG_E_VALIDATION_FAILED,
            file_index: Some(index),
            protocol: Some(protocol),
            message: "the caller found the file's content invalid".to_owned(),
        }));
        inner.error_count = inner.error_count.saturating_add(1);
        self.apply(inner, JobEvent::ValidationFailed)?;
        Ok(())
    }

    /// `set_validation_state(false)` on a file with bytes from a peer: fetched again, from the
    /// origin only. In a change.
    fn refetch_from_origin(self: &Arc<Self>, inner: &mut JobInner, index: usize) -> Result<()> {
        if inner.file_disk[index].writer_active {
            return Err(BgError::InvalidState {
                state: self.state_in(inner),
                reason: crate::InvalidStateReason::Claimed,
            });
        }
        let disk = &mut inner.file_disk[index];
        disk.forget_bytes();
        disk.validator = None;
        let sources = &mut disk.sources;
        sources.origin_only = true;
        sources.peer_used = false;
        sources.from_peer = 0;
        sources.from_origin = 0;
        sources.valid = false;
        // Counted as not transferred once the change is recorded.
        inner.pending.unfinished.push(index);
        inner.effects.save = true;
        inner.effects.wake = true;
        let state = self.state_in(inner);
        if state == BgJobState::Transferred {
            // A new round, as when files are added to a transferred job.
            self.apply(inner, JobEvent::Resume { has_work: true })?;
        } else {
            self.apply(inner, JobEvent::Modify)?;
        }
        Ok(())
    }
}
