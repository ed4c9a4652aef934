//! [`FileTransfer`]: one file of a claimed job, open for writing. Bytes go to the file's
//! temporary file and into the job's lock-free counters; nothing on this path takes a lock.

use super::commit::{COMMITS, Finished};
use super::digest::check_sha256;
use super::revoked::Revoked;
use crate::job::filled_ranges;
use crate::job::state::counters::Generation;
use crate::job::state::on_demand::{OnDemand, Run};
use crate::job::{Callback, FileShared, JobInner, JobShared, Keepalive};
use crate::limit::Grant;
use crate::transport::{SegmentedSink, TransferError, TransferSink};
use crate::{BgErrorContext, BgJobPriority, JobFile, Notification, hresult};
use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Kernel-copy chunk between two progress updates and stop checks.
const COPY_CHUNK: u64 = 8 << 20;
/// The longest a writer sleeps for bandwidth before it looks at its stop request again.
const MAX_TOKEN_SLEEP: std::time::Duration = std::time::Duration::from_millis(250);

/// One file of a claimed job, open for writing: the [`TransferSink`] the engine gives transports.
/// At most one exists per file; it writes to the file's temporary file and counts the bytes.
#[must_use = "dropping the transfer closes the file; call finish() once its last byte is written"]
pub struct FileTransfer {
    pub(super) job: Arc<JobShared>,
    pub(super) file: Arc<FileShared>,
    generation: Generation,
    pub(super) temp: File,
    temp_path: PathBuf,
    validator: Option<String>,
    /// The job's priority when the file was opened (its weight under a manager's cap).
    priority: BgJobPriority,
    /// Where the next sequential byte goes (the first hole of the file), while `ahead` is not
    /// empty; without ranges ahead it is the file's count, and this field is not kept.
    pos: u64,
    /// Ranges already on disk past `pos` (from segments of an earlier attempt): written over
    /// again, but not counted again (see `job/filled_ranges.rs`).
    ahead: Vec<(u64, u64)>,
    keep: Keepalive,
    /// With a store: the offset past which the bytes written so far are handed to the group
    /// commit's thread to be synced early (`u64::MAX`: never), so that the fsync a finished
    /// file needs overlaps its download instead of following it.
    presync_at: u64,
}

/// Bytes written between two early syncs of a file being downloaded into a store.
const PRESYNC_STEP: u64 = 16 << 20;

/// What `open_file` found for a new [`FileTransfer`].
pub(super) struct Opened {
    pub(super) temp: File,
    pub(super) temp_path: PathBuf,
    pub(super) validator: Option<String>,
    pub(super) priority: BgJobPriority,
    /// The ranges of the temporary file that hold bytes (counted already).
    pub(super) ranges: Vec<(u64, u64)>,
}

impl FileTransfer {
    pub(super) fn new(
        job: Arc<JobShared>,
        file: Arc<FileShared>,
        generation: Generation,
        opened: Opened,
        keep: Keepalive,
    ) -> FileTransfer {
        let Opened { temp, temp_path, validator, priority, ranges } = opened;
        let pos = filled_ranges::first_hole(&ranges);
        let ahead = ranges.into_iter().filter(|&(start, _)| start > 0).collect();
        let presync_at = if job.ctx.persist.is_some() { PRESYNC_STEP } else { u64::MAX };
        FileTransfer {
            job,
            file,
            generation,
            temp,
            temp_path,
            validator,
            priority,
            pos,
            ahead,
            keep,
            presync_at,
        }
    }

    /// Hands the bytes written so far to the group commit's thread to sync, once past
    /// `presync_at` (see the field). Never blocks the writer.
    #[inline]
    fn maybe_presync(&mut self) {
        if self.file.counters.transferred() >= self.presync_at {
            self.presync_at = self.presync_at.saturating_add(PRESYNC_STEP);
            if let Ok(temp) = self.temp.try_clone() {
                COMMITS.presync(temp);
            }
        }
    }

    pub(super) fn offset_now(&self) -> u64 {
        self.position()
    }

    /// Where the next sequential byte goes: every byte before it is on disk and counted unless
    /// ranges lie ahead.
    #[inline]
    fn position(&self) -> u64 {
        if self.ahead.is_empty() { self.file.counters.transferred() } else { self.pos }
    }

    /// Moves the sequential position past `n` bytes just written at it; returns how many of
    /// them are new (not in a range already on disk).
    #[inline]
    fn advance(&mut self, n: u64) -> u64 {
        if self.ahead.is_empty() {
            return n;
        }
        let start = self.pos;
        self.pos += n;
        let again = filled_ranges::overlap(&self.ahead, start, self.pos);
        let pos = self.pos;
        self.ahead.retain(|&(_, end)| end > pos);
        n - again
    }

    /// After segments: the sequential writer continues at the first hole of `on_disk`.
    pub(super) fn reposition(&mut self, on_disk: &[(u64, u64)]) -> Result<(), TransferError> {
        self.pos = filled_ranges::first_hole(on_disk);
        self.ahead = on_disk.iter().copied().filter(|&(start, _)| start > 0).collect();
        self.temp.seek(SeekFrom::Start(self.pos)).map_err(|e| Self::local_error(&e))?;
        Ok(())
    }

    pub(super) fn temp_mut(&mut self) -> &mut File {
        &mut self.temp
    }

    /// The file being written.
    pub fn file(&self) -> JobFile {
        JobFile::new(Arc::clone(&self.job), Arc::clone(&self.file), self.keep.clone())
    }

    /// A future that resolves once the claim this transfer belongs to no longer holds (see
    /// [`JobDriver::revoked`](crate::JobDriver::revoked)).
    pub fn revoked(&self) -> Revoked {
        Revoked::new(Arc::clone(&self.job), self.generation)
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
    /// use bgcopy::transport::TransferSink;
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
        if !self.ahead.is_empty() {
            return self.add_bytes_over_ranges(n);
        }
        if self.job.counters.add_file_bytes(&self.file.counters, n) {
            Ok(())
        } else {
            Err(self.refused(n))
        }
    }

    /// [`add_bytes`](Self::add_bytes) for a file with ranges on disk ahead of its position
    /// (off the hot path): only the bytes that fill holes are counted.
    #[cold]
    #[inline(never)]
    fn add_bytes_over_ranges(&mut self, n: u64) -> Result<(), TransferError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.overrun(n))?;
        if let Some(size) = self.file.counters.size()
            && end > size
        {
            return Err(self.overrun(end - size));
        }
        let new = self.advance(n);
        self.job.counters.add_file_bytes(&self.file.counters, new);
        Ok(())
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
    /// # Blocking
    /// Reads and writes files.
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
            let remaining = self.file.counters.size().map(|s| s.saturating_sub(self.position()));
            let mut chunk = remaining.map_or(COPY_CHUNK, |r| r.min(COPY_CHUNK));
            if chunk > 0 {
                chunk = self.take_bandwidth(chunk, stop)?;
            }
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
            self.return_bandwidth(chunk - n);
            if n == 0 {
                return Ok(copied);
            }
            let new = self.advance(n);
            self.job.counters.add_file_bytes(&self.file.counters, new);
            self.maybe_presync();
            copied += n;
        }
    }

    /// Asks the job's and the manager's bandwidth caps for `want` bytes: `Ok(n)`, `1..=want`
    /// bytes may go now (they are taken), or `Err(wait)`: ask again after `wait`. Without caps it
    /// is `Ok(want)` at once (one atomic load). For drivers doing their own, e.g. async, I/O
    /// (with [`add_bytes`](Self::add_bytes)): they wait the time themselves, on their own timer,
    /// instead of being put to sleep. [`write`](TransferSink::write) and
    /// [`copy_from_file`](TransferSink::copy_from_file) ask by themselves.
    ///
    /// ```
    /// use bgcopy::transport::TransferSink;
    /// use bgcopy::*;
    /// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("capped", BgJobType::Download)?;
    /// job.add_file("https://example.com/a.bin", &dir.path().join("a.bin"))?;
    /// job.set_max_bytes_per_second(Some(4096))?; // bursts of a quarter second: 1024 bytes
    /// job.resume()?;
    /// let driver = job.claim()?;
    /// let transfer = driver.open_file(0)?;
    /// assert_eq!(transfer.reserve_bandwidth(64 * 1024), Ok(1024));
    /// assert!(transfer.reserve_bandwidth(64 * 1024).is_err(), "wait for more tokens");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The time to wait before asking again, while the caps have no bytes to give.
    pub fn reserve_bandwidth(&self, want: u64) -> Result<u64, std::time::Duration> {
        match self.job.ctx.limiter.grant(self.job.id, self.priority, want) {
            Grant::Now(n) => Ok(n),
            Grant::Wait(wait) => Err(wait),
        }
    }

    /// Takes up to `want` bytes of bandwidth, sleeping while the caps say wait: woken at once by
    /// a suspend or cancel (the job's watch), and asking `stop` at least every quarter second.
    pub(super) fn take_bandwidth(
        &self,
        want: u64,
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<u64, TransferError> {
        loop {
            match self.reserve_bandwidth(want) {
                Ok(n) => return Ok(n),
                Err(wait) => {
                    let (counters, generation) = (&self.job.counters, self.generation);
                    let until = Instant::now().checked_add(wait.min(MAX_TOKEN_SLEEP));
                    self.job.watch.wait(|| !counters.claim_is_live(generation), until);
                    self.check_live()?;
                    if stop() {
                        return Err(TransferError::Stopped);
                    }
                }
            }
        }
    }

    /// Gives back bandwidth taken but not used (a read shorter than asked).
    fn return_bandwidth(&self, unused: u64) {
        self.job.ctx.limiter.refund(self.job.id, unused);
    }

    /// Writes `data` at the current offset and counts it, within the caps (see
    /// [`TransferSink::write`]), asking `stop` between pieces while the caps make it wait.
    ///
    /// # Blocking
    /// Writes to the temporary file.
    ///
    /// # Errors
    /// As [`TransferSink::write`]; `Stopped` if `stop` says so.
    pub fn write_until(
        &mut self,
        data: &[u8],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<(), TransferError> {
        let mut rest = data;
        while !rest.is_empty() {
            let n = self.take_bandwidth(rest.len() as u64, stop)? as usize;
            self.write_counted(&rest[..n])?;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Writes `data` at `at` of the temporary file, within the caps, as bytes of `run` of an
    /// on-demand file (DESIGN 6.3), and records each piece with
    /// [`OnDemand::record_write`]: no lock on this path. Several connections fetching runs of
    /// the file share the transfer.
    pub(crate) fn write_run(
        &self,
        on_demand: &OnDemand,
        run: &Run,
        at: u64,
        data: &[u8],
        stop: &mut dyn FnMut() -> bool,
    ) -> Result<(), TransferError> {
        self.check_live()?;
        let end = at.saturating_add(data.len() as u64);
        if let Some(size) = self.file.counters.size()
            && end > size
        {
            return Err(self.overrun(end - size));
        }
        if at < run.start || end > run.end {
            return Err(TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                format!("bytes {at}..{end} outside the range {}..{} asked for", run.start, run.end),
            ));
        }
        let (mut rest, mut at) = (data, at);
        while !rest.is_empty() {
            let n = self.take_bandwidth(rest.len() as u64, stop)?;
            let (piece, after) = rest.split_at(n as usize);
            crate::platform::files::write_all_at(&self.temp, piece, at)
                .map_err(|e| Self::local_error(&e))?;
            at += n;
            on_demand.record_write(run, at, n, &self.job.counters, &self.file.counters);
            rest = after;
        }
        Ok(())
    }

    /// Sets the file's size as [`TransferSink::set_size`] does, through a shared reference (the
    /// connections of an on-demand job share the transfer).
    ///
    /// # Errors
    /// As [`TransferSink::set_size`].
    pub(crate) fn set_size_shared(&self, size: Option<u64>) -> Result<(), TransferError> {
        // A known size that changes is a resize, which must be serialized by the job lock.
        let inner = self.job.inner.lock();
        self.check_live()?;
        let max = inner.properties.max_download_size;
        if let Some(size) = size
            && max > 0
            && size > max
        {
            // MaxDownloadSize (DESIGN 6.3): refused before any byte of it is written.
            return Err(TransferError::fatal(
                hresult::BG_E_TOO_LARGE,
                BgErrorContext::RemoteFile,
                format!(
                    "{:?} has {size} bytes, more than the job's limit of {max}",
                    self.file.remote_name
                ),
            ));
        }
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

    /// Records the content's validator for a later attempt (the job's record), through a
    /// shared reference; [`TransferSink::set_validator`] also keeps it in the transfer.
    pub(crate) fn record_validator(&self, validator: Option<String>) {
        // Every writer of the cold state holds `serial` (see `JobShared::change`).
        let _serial = self.job.serial.lock();
        self.job.inner.lock().file_disk[self.file.index].validator = validator;
    }

    /// Hands the file's ranges to the on-demand state `on_demand` while its runs are fetched
    /// (`Some`), or takes them back into the job's record (`None`), so that a checkpoint sees
    /// the bytes of the runs.
    pub(crate) fn hand_ranges_to(&self, on_demand: Option<&Arc<OnDemand>>) {
        let index = self.file.index;
        let _serial = self.job.serial.lock();
        let mut inner = self.job.inner.lock();
        let disk = &mut inner.file_disk[index];
        let ranges = disk.on_disk(self.file.counters.transferred());
        match on_demand {
            Some(on_demand) => {
                on_demand.set_filled(index, ranges);
                let _ = self.file.on_demand.set(Arc::clone(on_demand));
                disk.set_on_demand(Some((Arc::clone(on_demand), index)));
            }
            None => {
                disk.set_on_demand(None);
                disk.set_base(ranges);
            }
        }
    }

    /// Writes and counts `data`, which the caps already allowed.
    #[inline]
    fn write_counted(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.check_live()?;
        let len = data.len() as u64;
        if let Some(size) = self.file.counters.size() {
            let end = self.position().saturating_add(len);
            if end > size {
                return Err(self.overrun(end - size));
            }
        }
        self.temp.write_all(data).map_err(|e| Self::local_error(&e))?;
        let new = self.advance(len);
        // Cannot fail: the count is at most `pos` (the bytes before it) plus the ranges ahead,
        // all within the size checked above, and this thread is the only writer.
        self.job.counters.add_file_bytes(&self.file.counters, new);
        self.maybe_presync();
        Ok(())
    }

    #[inline]
    pub(super) fn check_live(&self) -> Result<(), TransferError> {
        if self.job.counters.claim_is_live(self.generation) {
            Ok(())
        } else {
            Err(TransferError::Stopped)
        }
    }

    pub(super) fn local_error(e: &io::Error) -> TransferError {
        TransferError::from_io(e, BgErrorContext::LocalFile)
    }

    /// The error for a file whose bytes end before its announced size.
    fn cut_short(&self) -> TransferError {
        TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            format!("{:?} ended before its announced size", self.file.remote_name),
        )
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
    /// # Blocking
    /// Reads the file back if a digest is expected; with a store, syncs the file and writes and
    /// syncs a record.
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
        loop {
            // Hash without the job lock (it can take a while); recheck the digest under it.
            let expected =
                self.job.inner.lock().file_disk[index].expected_sha256.as_deref().copied();
            if let (Some(expected), true, false) =
                (expected, complete, self.file.counters.is_transferred())
                && let Some(mismatch) =
                    check_sha256(&mut self.temp, &expected, &self.file.remote_name)?
            {
                self.restart()?;
                return Err(mismatch);
            }
            // With a store, the file's bytes are on disk before it counts as transferred (and
            // before its `file_transferred` callback).
            if self.job.ctx.persist.is_some() && complete {
                // `sync_all`, not `sync_data`: then `complete()`'s fsync finds nothing left to write
                // (not even the modification time), as the same cost is paid once here.
                self.temp.sync_all().map_err(|e| Self::local_error(&e))?;
                // The record will say the file is there: its name must survive a power loss too.
                let entry_synced = self.job.inner.lock().file_disk[index].entry_synced;
                if !entry_synced {
                    crate::job::temp_files::sync_dirs([self.temp_path.as_path()])
                        .map_err(|e| Self::local_error(&e))?;
                }
                crate::faults::point("finish:synced", &self.temp_path);
            }
            let job = Arc::clone(&self.job);
            let finished = job.change(|inner| {
                if inner.file_disk[index].expected_sha256.as_deref().copied() != expected {
                    return None; // the digest changed while hashing: check again
                }
                Some(self.finish_locked(inner))
            });
            if let Some(result) = finished {
                return result;
            }
        }
    }

    /// [`finish`](Self::finish) without waiting for the disk: with a store, the file is handed
    /// to the store's group commit and this returns at once, so the driver can start the next
    /// file while the finished ones are made durable in batches (their bytes, their directory,
    /// one record for many files). The file counts as transferred, and its events fire, once it
    /// is recorded; until then [`JobDriver::next_file`](crate::JobDriver::next_file) skips it,
    /// and [`JobDriver::finish`](crate::JobDriver::finish) waits for it (and reports a file that
    /// could not be recorded). Without a store it is [`finish`](Self::finish).
    ///
    /// # Blocking
    /// Reads the file back if a digest is expected; with a store, syncs the file (the record is
    /// written later, by the group commit).
    ///
    /// # Errors
    /// As [`finish`](Self::finish), for what can be checked before the hand-over: `Stopped`, a
    /// file short of its announced size, an expected SHA-256 that does not match.
    pub fn finish_deferred(mut self) -> Result<(), TransferError> {
        if self.job.ctx.persist.is_none() {
            return self.finish();
        }
        let index = self.file.index;
        self.check_live()?;
        if self.file.counters.is_transferred() {
            return Ok(());
        }
        if !self.file.counters.is_complete() {
            return Err(self.cut_short());
        }
        let (expected, epoch) = {
            let inner = self.job.inner.lock();
            let disk = &inner.file_disk[index];
            (disk.expected_sha256.as_deref().copied(), disk.epoch)
        };
        if let Some(expected) = expected
            && let Some(mismatch) = check_sha256(&mut self.temp, &expected, &self.file.remote_name)?
        {
            self.restart()?;
            return Err(mismatch);
        }
        let temp = self.temp.try_clone().map_err(|e| Self::local_error(&e))?;
        self.job.finishing.add(index);
        COMMITS.submit(Finished {
            job: Arc::clone(&self.job),
            file: Arc::clone(&self.file),
            temp,
            temp_path: self.temp_path.clone(),
            validator: self.validator.clone(),
            epoch,
        });
        Ok(())
    }

    /// The end of [`finish`](Self::finish), under the job lock.
    fn finish_locked(&self, inner: &mut JobInner) -> Result<(), TransferError> {
        self.check_live()?;
        if JobShared::transferred_in(inner, self.file.index) {
            return Ok(());
        }
        if !self.file.counters.is_complete() {
            return Err(self.cut_short());
        }
        // Counted as transferred once recorded (DESIGN 6.1).
        inner.pending.finished.push(self.file.index);
        inner.modification_time = SystemTime::now();
        let disk = &mut inner.file_disk[self.file.index];
        disk.validator.clone_from(&self.validator);
        if self.job.ctx.persist.is_some() && disk.temp_path.as_ref() == Some(&self.temp_path) {
            disk.entry_synced = true;
        }
        let all = self.file.counters.transferred();
        disk.set_base(Vec::new());
        disk.set_durable(if all > 0 { vec![(0, all)] } else { Vec::new() });
        inner.effects.save = true;
        self.job.post(inner, Callback::FileTransferred(Arc::clone(&self.file)));
        self.job.post(inner, Callback::Modification);
        let job = self.job.id;
        self.job.publish(inner, Notification::FileTransferred { job, index: self.file.index });
        Ok(())
    }
}

impl TransferSink for FileTransfer {
    fn offset(&self) -> u64 {
        self.position()
    }

    fn size(&self) -> Option<u64> {
        self.file.counters.size()
    }

    fn validator(&self) -> Option<&str> {
        self.validator.as_deref()
    }

    fn max_connections(&self) -> u32 {
        self.job.inner.lock().max_connections
    }

    fn segmented(&mut self) -> Option<Box<dyn SegmentedSink + '_>> {
        let segmented = self.segmented_until(Box::new(|| false))?;
        Some(Box::new(segmented))
    }

    fn set_validator(&mut self, validator: Option<String>) {
        self.validator.clone_from(&validator);
        self.record_validator(validator);
    }

    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError> {
        self.set_size_shared(size)
    }

    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.write_until(data, &mut || false)
    }

    fn copy_from_file(&mut self, source: &mut File) -> Result<u64, TransferError> {
        self.copy_from_file_until(source, &mut || false)
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.check_live()?;
        self.temp.set_len(0).map_err(|e| Self::local_error(&e))?;
        self.temp.seek(SeekFrom::Start(0)).map_err(|e| Self::local_error(&e))?;
        self.pos = 0;
        self.ahead.clear();
        // The validator named the content those bytes came from.
        self.validator = None;
        self.job.counters.restart_file(&self.file.counters);
        let job = Arc::clone(&self.job);
        let index = self.file.index;
        job.change(|inner| {
            // Applied whatever the disk says: the bytes are gone already. A record that still
            // names them is harmless: on the next open, the short temporary file restarts the
            // file from zero.
            inner.effects.best_effort = true;
            // The bytes recorded as on disk belonged to the earlier content.
            let disk = &mut inner.file_disk[index];
            disk.forget_bytes();
            disk.validator = None;
            inner.effects.save = true;
            job.post(inner, Callback::Modification);
            job.publish(inner, Notification::Modified { job: job.id });
            Ok::<(), TransferError>(())
        })
    }

    fn should_stop(&self) -> bool {
        !self.job.counters.claim_is_live(self.generation)
    }
}

impl Drop for FileTransfer {
    fn drop(&mut self) {
        // Every writer of the cold state holds `serial` (see `JobShared::change`); a transfer is
        // never dropped while its thread holds it.
        let _serial = self.job.serial.lock();
        self.job.inner.lock().file_disk[self.file.index].writer_active = false;
    }
}

impl fmt::Debug for FileTransfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTransfer")
            .field("job", &self.job.id)
            .field("index", &self.file.index)
            .field("temp_path", &self.temp_path)
            .field("offset", &self.position())
            .finish()
    }
}
