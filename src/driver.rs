//! The driver API: how a transfer (the built-in engine, or a downloader's own code, sync or
//! async) moves a job. Every engine step goes through it, so a custom driver gets the same
//! guarantees: exclusive claims, temporary files created safely, bytes counted lock-free, sizes
//! never overrun, state changes checked by [`transition`](crate::transition), and a prompt stop
//! when the job is suspended or cancelled.
//!
//! 1. [`Job::claim`] takes a `Queued` job (`Queued → Connecting`); one driver per job at a time.
//! 2. [`JobDriver::connected`] (`Connecting → Transferring`) once bytes can move.
//! 3. For each file in order ([`JobDriver::next_file`]), [`JobDriver::open_file`] gives a
//!    [`FileTransfer`]: report the size, write bytes (or restart from zero), then
//!    [`FileTransfer::finish`].
//! 4. [`JobDriver::finish`] (`→ Transferred`), [`JobDriver::fail`] (`→ TransientError` or
//!    `Error`), or [`JobDriver::release`] (`→ Queued`, time slice over).
//!
//! Outside a claim, [`Job::retry_now`] moves a `TransientError` job back to `Queued` when its retry
//! delay has passed and [`Job::fail_no_progress`] moves it to `Error` when the no-progress timeout
//! has passed; timing them is the driver's business (the engine uses a monotonic clock).
//!
//! ```
//! use bgcopy::*;
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let manager = Manager::builder().without_engine().build();
//! let job = manager.create_job("by hand", BgJobType::Download)?;
//! job.add_file("https://example.com/hello.txt", &dir.path().join("hello.txt"))?;
//! job.resume()?;
//!
//! let driver = job.claim()?;
//! driver.connected()?;
//! while let Some(file) = driver.next_file() {
//!     let mut transfer = driver.open_file(file.index())?;
//!     transfer.set_size(Some(5))?;
//!     transfer.write(b"hello")?;
//!     transfer.finish()?;
//! }
//! driver.finish()?;
//! assert_eq!(job.get_state(), BgJobState::Transferred);
//! job.complete()?;
//! assert_eq!(std::fs::read(dir.path().join("hello.txt"))?, b"hello");
//! # Ok(()) }
//! ```

use crate::job::counters::Generation;
use crate::job::{disk, ErrorRecord, FileShared, JobEvent, JobShared};
use crate::notify::Event;
use crate::transport::{TransferError, TransferSink};
use crate::{
    hresult, BackgroundCopyJob, BgError, BgErrorContext, BgJobState, Job, JobFile, Result,
};
use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// Kernel-copy chunk between two progress updates and stop checks.
const COPY_CHUNK: u64 = 8 << 20;
/// Names tried for a temporary file before giving up.
const TEMP_NAME_ATTEMPTS: u32 = 16;

/// An exclusive claim on a job being transferred. Dropping it without [`finish`](Self::finish),
/// [`fail`](Self::fail) or [`release`](Self::release) releases the job back to `Queued` (if the
/// claim is still live).
pub struct JobDriver {
    job: Job,
    generation: Generation,
    done: bool,
}

impl Job {
    /// Claims a `Queued` job for transfer: it becomes `Connecting`, and this driver is the only
    /// one that can move it until it is finished, failed, released or dropped.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is `Queued`; [`BgError::Claimed`] while an earlier
    /// driver of this job still exists (it is stopping after a suspend; try again when it is
    /// dropped).
    pub fn claim(&self) -> Result<JobDriver> {
        let mut inner = self.lock();
        if inner.claimed {
            return Err(BgError::Claimed);
        }
        self.shared.apply(&mut inner, JobEvent::Claim)?;
        inner.claimed = true;
        let generation = self.shared.counters.generation();
        Ok(JobDriver { job: self.clone(), generation, done: false })
    }

    /// Retries a job in `TransientError` now that its retry delay has passed (`→ Queued`).
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is in `TransientError`.
    pub fn retry_now(&self) -> Result<()> {
        let state = self.shared.apply(&mut self.lock(), JobEvent::Retry)?;
        self.shared.after_change(state);
        Ok(())
    }

    /// Gives up on a job in `TransientError` whose no-progress timeout has passed (`→ Error`, the
    /// last error kept; `job_error` fires).
    ///
    /// # Errors
    /// [`BgError::InvalidState`] unless the job is in `TransientError`.
    pub fn fail_no_progress(&self) -> Result<()> {
        let state = self.shared.apply(&mut self.lock(), JobEvent::NoProgressTimeout)?;
        self.shared.after_change(state);
        Ok(())
    }
}

impl JobDriver {
    /// The job being driven.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// Whether the claim still holds: the job was not suspended, cancelled or completed meanwhile.
    /// One atomic load.
    pub fn is_live(&self) -> bool {
        self.job.shared.counters.claim_is_live(self.generation)
    }

    fn check_live(&self) -> Result<(), TransferError> {
        if self.is_live() {
            Ok(())
        } else {
            Err(TransferError::Stopped)
        }
    }

    /// The connection is up and bytes start to move (`Connecting → Transferring`).
    ///
    /// # Errors
    /// [`TransferError::Stopped`] if the claim was revoked.
    pub fn connected(&self) -> Result<(), TransferError> {
        let mut inner = self.job.lock();
        self.check_live()?;
        self.job
            .shared
            .apply(&mut inner, JobEvent::Connected)
            .map_err(|_| TransferError::Stopped)?;
        Ok(())
    }

    /// The first file (in the order added) that is not transferred yet.
    pub fn next_file(&self) -> Option<JobFile> {
        let inner = self.job.lock();
        inner
            .files
            .iter()
            .find(|file| !file.counters.is_transferred())
            .map(|file| JobFile { job: Arc::clone(&self.job.shared), file: Arc::clone(file) })
    }

    /// Opens file `index` for writing: creates its temporary file next to the destination
    /// (exclusively, owner-only, never through a symlink), or reopens the one an earlier attempt
    /// left and continues after its bytes.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked; a fatal `E_INVALIDARG` failure for an index out of
    /// range, a file already transferred or already open; a `LocalFile` failure if the temporary
    /// file cannot be created (a missing or read-only directory is fatal).
    pub fn open_file(&self, index: usize) -> Result<FileTransfer, TransferError> {
        let shared = &self.job.shared;
        let mut inner = self.job.lock();
        self.check_live()?;
        let misuse = |why: &str| {
            TransferError::fatal(hresult::E_INVALIDARG, BgErrorContext::GeneralQueueManager, why)
        };
        let file =
            Arc::clone(inner.files.get(index).ok_or_else(|| misuse("no file with that index"))?);
        if file.counters.is_transferred() {
            return Err(misuse("the file is already transferred"));
        }
        if !inner.file_disk[index].writer_active {
            // Off the byte-count stripe of any other open transfer of this job (job/counters.rs).
            let open = inner.files.iter().zip(&inner.file_disk).filter(|(_, d)| d.writer_active);
            shared.counters.pick_stripe(&file.counters, open.map(|(f, _)| &f.counters));
        }
        let disk_state = &mut inner.file_disk[index];
        if disk_state.writer_active {
            return Err(misuse("the file is already open"));
        }
        let local_error = |e: io::Error| TransferError::from_io(&e, BgErrorContext::LocalFile);
        let counted = file.counters.transferred();
        let reopened = match &disk_state.temp_path {
            Some(path) => match disk::open_temp(path) {
                Ok(temp) => Some((temp, path.clone())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(local_error(e)),
            },
            None => None,
        };
        let (mut temp, temp_path) = match reopened {
            Some((temp, path)) => {
                // Continue from what is really on disk: never more than was counted.
                let on_disk = temp.metadata().map_err(local_error)?.len();
                if on_disk < counted {
                    shared.counters.restart_file(&file.counters);
                    shared.counters.add_file_bytes(&file.counters, on_disk);
                }
                temp.set_len(on_disk.min(counted)).map_err(local_error)?;
                (temp, path)
            }
            None => {
                if counted > 0 {
                    shared.counters.restart_file(&file.counters);
                }
                let (temp, path) =
                    create_temp_file(&file.local_name, shared.id, index).map_err(local_error)?;
                disk_state.temp_path = Some(path.clone());
                (temp, path)
            }
        };
        let offset = file.counters.transferred();
        temp.seek(SeekFrom::Start(offset)).map_err(local_error)?;
        disk_state.writer_active = true;
        Ok(FileTransfer {
            job: Arc::clone(shared),
            file,
            generation: self.generation,
            temp,
            temp_path,
            validator: disk_state.validator.clone(),
        })
    }

    /// Every file is transferred: the job becomes `Transferred` (`job_transferred` fires).
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked; a fatal failure if a file is not transferred yet.
    pub fn finish(mut self) -> Result<(), TransferError> {
        let mut inner = self.job.lock();
        self.check_live()?;
        if inner.files.iter().any(|f| !f.counters.is_transferred()) {
            return Err(TransferError::fatal(
                hresult::E_UNEXPECTED,
                BgErrorContext::GeneralQueueManager,
                "finish() called with files left to transfer",
            ));
        }
        let state = self
            .job
            .shared
            .apply(&mut inner, JobEvent::Transferred)
            .map_err(|_| TransferError::Stopped)?;
        inner.claimed = false;
        self.done = true;
        drop(inner);
        self.job.shared.after_change(state);
        Ok(())
    }

    /// The transfer failed: the job goes to `TransientError` (a transient error, while the job's
    /// no-progress timeout is not zero and not shorter than its retry delay) or `Error`; the error
    /// count rises by one and `get_error` reports `error` (with `file_index`'s file and protocol).
    /// [`TransferError::Stopped`] is not a failure: it only releases the claim.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked meanwhile (the failure is not recorded then).
    pub fn fail(
        mut self,
        error: TransferError,
        file_index: Option<usize>,
    ) -> Result<BgJobState, TransferError> {
        let TransferError::Failed { hresult, context, transient, message } = error else {
            self.end_claim();
            return Ok(self.job.get_state());
        };
        let mut inner = self.job.lock();
        self.check_live()?;
        let retryable = transient
            && !inner.no_progress_timeout.is_zero()
            && inner.min_retry_delay <= inner.no_progress_timeout;
        let protocol =
            file_index.and_then(|i| inner.files.get(i)).map(|f| f.protocol.name().to_owned());
        inner.error =
            Some(Arc::new(ErrorRecord { context, hresult, file_index, protocol, message }));
        inner.error_count = inner.error_count.saturating_add(1);
        let event = if retryable { JobEvent::TransientFailure } else { JobEvent::FatalFailure };
        let state = self.job.shared.apply(&mut inner, event).map_err(|_| TransferError::Stopped)?;
        inner.claimed = false;
        self.done = true;
        drop(inner);
        self.job.shared.after_change(state);
        Ok(state)
    }

    /// Gives the job back unfinished (`→ Queued`), for example at the end of a time slice.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked meanwhile.
    pub fn release(mut self) -> Result<(), TransferError> {
        let result = {
            let mut inner = self.job.lock();
            self.check_live().and_then(|()| {
                self.job
                    .shared
                    .apply(&mut inner, JobEvent::Yield)
                    .map(drop)
                    .map_err(|_| TransferError::Stopped)
            })
        };
        self.end_claim();
        result
    }

    fn end_claim(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let state = {
            let mut inner = self.job.lock();
            inner.claimed = false;
            if self.is_live() {
                let _ = self.job.shared.apply(&mut inner, JobEvent::Yield);
            }
            self.job.shared.counters.state()
        };
        self.job.shared.after_change(state);
    }
}

impl Drop for JobDriver {
    fn drop(&mut self) {
        self.end_claim();
    }
}

impl fmt::Debug for JobDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobDriver")
            .field("job", &self.job.shared.id)
            .field("live", &self.is_live())
            .finish()
    }
}

fn create_temp_file(
    local_name: &Path,
    job: crate::JobId,
    index: usize,
) -> io::Result<(File, PathBuf)> {
    let mut last = None;
    for attempt in 0..TEMP_NAME_ATTEMPTS {
        let path = disk::temp_path(local_name, job, index, attempt);
        match disk::create_temp(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)))
}

/// One file of a claimed job, open for writing: the [`TransferSink`] the engine gives transports.
/// At most one exists per file; it writes to the file's temporary file and counts the bytes.
pub struct FileTransfer {
    job: Arc<JobShared>,
    file: Arc<FileShared>,
    generation: Generation,
    temp: File,
    temp_path: PathBuf,
    validator: Option<String>,
}

impl FileTransfer {
    /// The file being written.
    pub fn file(&self) -> JobFile {
        JobFile { job: Arc::clone(&self.job), file: Arc::clone(&self.file) }
    }

    /// The remote name.
    pub fn remote_name(&self) -> &str {
        &self.file.remote_name
    }

    /// The temporary file the bytes go to.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// Counts `n` bytes the caller wrote to [`temp_path`](Self::temp_path) through its own handle
    /// (for drivers doing their own, e.g. async, I/O). It does what
    /// [`write`](TransferSink::write) does minus the write: the claim check, the size check, then
    /// the lock-free count. The bytes must sit at [`offset`](TransferSink::offset) in the
    /// temporary file; this handle's own position does not move, so do not mix it with `write`
    /// or `copy_from_file` on the same transfer.
    ///
    /// ```
    /// use bgcopy::*;
    /// use std::io::Write;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("own I/O", BgJobType::Download)?;
    /// job.add_file("https://example.com/a.bin", &dir.path().join("a.bin"))?;
    /// job.resume()?;
    /// let driver = job.claim()?;
    /// driver.connected()?;
    /// let mut transfer = driver.open_file(0)?;
    /// transfer.set_size(Some(3))?;
    /// let mut own = std::fs::OpenOptions::new().append(true).open(transfer.temp_path())?;
    /// own.write_all(b"abc")?;
    /// transfer.add_bytes(3)?;
    /// assert_eq!(job.get_progress().bytes_transferred, 3);
    /// assert!(transfer.add_bytes(1).is_err(), "past the known size");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`TransferError::Stopped`] if the claim was revoked (the job was suspended, cancelled or
    /// completed); a transient `BG_E_INVALID_SERVER_RESPONSE` failure if the bytes would pass the
    /// file's known size. Nothing is counted in either case.
    #[inline]
    pub fn add_bytes(&mut self, n: u64) -> Result<(), TransferError> {
        self.check_live()?;
        if self.job.counters.add_file_bytes(&self.file.counters, n) {
            Ok(())
        } else {
            Err(self.refused(n))
        }
    }

    /// The error for `n` bytes that [`add_bytes`](Self::add_bytes) refused (off the hot path).
    #[cold]
    fn refused(&self, n: u64) -> TransferError {
        let size = self.file.counters.size().unwrap_or(u64::MAX);
        let have = self.file.counters.transferred();
        self.overrun(have.saturating_add(n).saturating_sub(size).max(1))
    }

    /// [`TransferSink::copy_from_file`] that also stops with [`TransferError::Stopped`] when
    /// `stop` returns `true`; it is asked between two chunks (the bytes copied so far stay
    /// counted). For drivers that preempt their own transfers: time slices, shutdown.
    ///
    /// # Errors
    /// As [`TransferSink::copy_from_file`].
    pub fn copy_from_file_until(
        &mut self,
        source: &mut File,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<u64, TransferError> {
        use std::io::Read;
        let mut copied = 0;
        loop {
            self.check_live()?;
            if stop() {
                return Err(TransferError::Stopped);
            }
            let remaining = self
                .file
                .counters
                .size()
                .map(|s| s.saturating_sub(self.file.counters.transferred()));
            let chunk = remaining.map_or(COPY_CHUNK, |r| r.min(COPY_CHUNK));
            if chunk == 0 {
                // At the known size: anything more in the source is an overrun.
                let mut probe = [0u8; 1];
                return match source.read(&mut probe) {
                    Ok(0) => Ok(copied),
                    Ok(_) => Err(self.overrun(1)),
                    Err(e) => Err(TransferError::from_io(&e, BgErrorContext::RemoteFile)),
                };
            }
            // `io::copy` between two files uses the kernel's copy (copy_file_range on Linux).
            let n = io::copy(&mut Read::by_ref(source).take(chunk), &mut self.temp)
                .map_err(|e| Self::local_error(&e))?;
            if n == 0 {
                return Ok(copied);
            }
            self.job.counters.add_file_bytes(&self.file.counters, n);
            copied += n;
        }
    }

    #[inline]
    fn check_live(&self) -> Result<(), TransferError> {
        if self.job.counters.claim_is_live(self.generation) {
            Ok(())
        } else {
            Err(TransferError::Stopped)
        }
    }

    fn local_error(e: &io::Error) -> TransferError {
        TransferError::from_io(e, BgErrorContext::LocalFile)
    }

    fn overrun(&self, extra: u64) -> TransferError {
        TransferError::transient(
            hresult::BG_E_INVALID_SERVER_RESPONSE,
            BgErrorContext::RemoteFile,
            format!("{extra} bytes more than the announced size of {:?}", self.file.remote_name),
        )
    }

    /// The last byte is written: the file counts as transferred (`file_transferred` fires). If
    /// an expected SHA-256 was set ([`JobFile::set_expected_sha256`]), the temporary file is read
    /// back and checked first.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked; a transient `BG_E_CONNECTION_CLOSED` failure if fewer
    /// bytes than the known size arrived; a fatal `BG_E_VALIDATION_FAILED` failure (context
    /// `RemoteFile`) if the content does not have the expected digest: the file is restarted from
    /// zero first, so a later resume downloads it again.
    pub fn finish(mut self) -> Result<(), TransferError> {
        let index = self.file.index;
        let complete =
            self.file.counters.size().is_none_or(|s| s == self.file.counters.transferred());
        let mut inner = loop {
            // Hash without the job lock (it can take a while); recheck the digest under it.
            let expected = self.job.inner.lock().file_disk[index].expected_sha256;
            if let (Some(expected), true, false) =
                (expected, complete, self.file.counters.is_transferred())
            {
                if let Some(mismatch) = crate::job::options::check_sha256(
                    &mut self.temp,
                    &expected,
                    &self.file.remote_name,
                )? {
                    self.restart()?;
                    return Err(mismatch);
                }
            }
            let inner = self.job.inner.lock();
            if inner.file_disk[index].expected_sha256 == expected {
                break inner;
            }
        };
        self.check_live()?;
        if self.file.counters.is_transferred() {
            return Ok(());
        }
        if !self.job.counters.finish_file(&self.file.counters) {
            return Err(TransferError::transient(
                hresult::BG_E_CONNECTION_CLOSED,
                BgErrorContext::RemoteFile,
                format!("{:?} ended before its announced size", self.file.remote_name),
            ));
        }
        inner.modification_time = SystemTime::now();
        inner.file_disk[self.file.index].validator = self.validator.clone();
        self.job.post(&inner, Event::FileTransferred(Arc::clone(&self.file)));
        self.job.post(&inner, Event::Modification);
        Ok(())
    }
}

impl TransferSink for FileTransfer {
    fn offset(&self) -> u64 {
        self.file.counters.transferred()
    }

    fn size(&self) -> Option<u64> {
        self.file.counters.size()
    }

    fn validator(&self) -> Option<&str> {
        self.validator.as_deref()
    }

    fn set_validator(&mut self, validator: Option<String>) {
        self.validator.clone_from(&validator);
        self.job.inner.lock().file_disk[self.file.index].validator = validator;
    }

    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError> {
        // A known size that changes is a resize, which must be serialized by the job lock.
        let _inner = self.job.inner.lock();
        self.check_live()?;
        if self.job.counters.set_file_size(&self.file.counters, size) {
            Ok(())
        } else {
            Err(TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::GeneralQueueManager,
                "the size is below the bytes already written; restart the file first",
            ))
        }
    }

    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.check_live()?;
        let len = data.len() as u64;
        if let Some(size) = self.file.counters.size() {
            let have = self.file.counters.transferred();
            if have + len > size {
                return Err(self.overrun(have + len - size));
            }
        }
        self.temp.write_all(data).map_err(|e| Self::local_error(&e))?;
        // Cannot fail: the size check above is the same one, and this thread is the only writer.
        self.job.counters.add_file_bytes(&self.file.counters, len);
        Ok(())
    }

    fn copy_from_file(&mut self, source: &mut File) -> Result<u64, TransferError> {
        self.copy_from_file_until(source, &mut || false)
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.check_live()?;
        self.temp.set_len(0).map_err(|e| Self::local_error(&e))?;
        self.temp.seek(SeekFrom::Start(0)).map_err(|e| Self::local_error(&e))?;
        self.job.counters.restart_file(&self.file.counters);
        let inner = self.job.inner.lock();
        self.job.post(&inner, Event::Modification);
        Ok(())
    }

    fn should_stop(&self) -> bool {
        !self.job.counters.claim_is_live(self.generation)
    }
}

impl Drop for FileTransfer {
    fn drop(&mut self) {
        self.job.inner.lock().file_disk[self.file.index].writer_active = false;
    }
}

impl fmt::Debug for FileTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTransfer")
            .field("job", &self.job.id)
            .field("index", &self.file.index)
            .field("temp_path", &self.temp_path)
            .field("offset", &self.file.counters.transferred())
            .finish()
    }
}

impl From<BgError> for TransferError {
    fn from(error: BgError) -> TransferError {
        match error {
            BgError::InvalidState { .. } | BgError::Claimed => TransferError::Stopped,
            other => TransferError::fatal(
                other.hresult(),
                BgErrorContext::GeneralQueueManager,
                other.to_string(),
            ),
        }
    }
}
