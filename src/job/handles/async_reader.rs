//! [`AsyncFileReader`] (feature `async`): `futures_io::AsyncRead + AsyncSeek` over a file of an
//! on-demand job while it downloads, the async counterpart of [`FileReader`](super::reader::FileReader)
//! (DESIGN 6.3).

use super::reader::{asked_range, check_job, io_error, open_temp, read_at, seek_target};
use crate::job::events::watch::Registration;
use crate::job::state::on_demand::OnDemand;
use crate::job::state::shared::JobShared;
use crate::{BgJobState, JobFile, Result};
use std::fmt;
use std::fs::File;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// Reads a file of an on-demand job (`OnDemandMode(true)`) from async code while it downloads:
/// the async counterpart of [`FileReader`](crate::FileReader), with the same semantics. A read
/// asks for the bytes it needs (once per position, not on every poll; the job's download
/// position goes just before them, so they come first) and stays `Pending` until they are on
/// disk; the write that brings them wakes the task. A read on a job that failed (`Error`) or was
/// cancelled or completed ends with an error instead: the job's change wakes the task, whether
/// or not the engine was running it.
///
/// Made by [`JobFile::open_async_reader`] (feature `async`). `futures_io::AsyncRead +
/// AsyncSeek + Send + Unpin`; it needs no runtime, and works with any executor.
///
/// **Reading the temporary file.** Once a poll knows the bytes are on disk, it reads them from
/// the job's temporary file with an ordinary blocking read, inside `poll_read`. That read is of
/// bytes already written to a local file (typically in the page cache), so it is short; it is
/// what many async file wrappers do when they have no thread pool to hand the read to, and it
/// keeps the crate free of any runtime. The wait for the network, which is what can be long,
/// never blocks: it is the `Pending`.
///
/// A seek from the end before the file's size is known asks for the first byte and is
/// `Pending` until the first response tells the size.
///
/// ```no_run
/// # async fn tail() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// use bgcopy::*;
/// use futures_io::{AsyncRead, AsyncSeek};
/// use std::io::SeekFrom;
/// use std::pin::Pin;
/// use std::future::poll_fn;
///
/// let manager = Manager::new();
/// let job = manager.create_job("read while downloading", BgJobType::Download)?;
/// job.set_property(BgJobProperty::OnDemandMode(true))?;
/// job.add_file("https://example.com/big.iso", &std::env::temp_dir().join("big.iso"))?;
/// job.resume()?;
/// let mut reader = job.enum_files()[0].open_async_reader()?;
/// // With the `futures` crate: `reader.seek(..).await` and `reader.read(..).await`
/// // (`AsyncSeekExt`, `AsyncReadExt`); the bare traits here.
/// poll_fn(|cx| Pin::new(&mut reader).poll_seek(cx, SeekFrom::End(-64 * 1024))).await?;
/// let mut tail = vec![0u8; 64 * 1024];
/// let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut tail)).await?;
/// println!("{n} bytes of the tail; only the last 64 KiB are fetched");
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct AsyncFileReader {
    file: JobFile,
    on_demand: Arc<OnDemand>,
    position: u64,
    /// The temporary file, once it was opened.
    temp: Option<File>,
    /// The offset the last request of this reader was for: a read (or a seek from the end)
    /// asks once per position, not on every poll.
    asked: Option<u64>,
    /// This reader's key among the on-demand state's wakers, once a read was pending.
    slot: Option<u64>,
    /// The waker on the job's watch while a read is pending: a job that fails, is cancelled or
    /// completes wakes it (the engine may not be running the job at all).
    job_changed: Option<Registration<JobShared>>,
}

impl JobFile {
    /// An async reader of this file while it downloads (on-demand jobs only; feature `async`).
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is not on demand, or is final.
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn open_async_reader(&self) -> Result<AsyncFileReader> {
        let on_demand = self.on_demand_state()?;
        Ok(AsyncFileReader {
            file: self.clone(),
            on_demand,
            position: 0,
            temp: None,
            asked: None,
            slot: None,
            job_changed: None,
        })
    }
}

/// Whether a job in `state` can no longer bring bytes: failed, cancelled or completed (what
/// `check_job` turns into an error). Reads an atomic only: it runs under the watch's lock.
fn job_over(job: &JobShared) -> bool {
    matches!(
        job.counters.state(),
        BgJobState::Error | BgJobState::Cancelled | BgJobState::Acknowledged
    )
}

impl AsyncFileReader {
    /// The file read.
    pub fn file(&self) -> &JobFile {
        &self.file
    }

    /// The bytes on disk from byte `offset` (asking for them first, once per position; `want`:
    /// how many the read needs), 0 at the end; `Pending` until there are some.
    fn poll_bytes(&mut self, cx: &Context<'_>, offset: u64, want: u64) -> Poll<Result<u64>> {
        if self.asked != Some(offset) {
            self.file.ask(&self.on_demand, &[asked_range(offset, want)], Some(offset))?;
            self.asked = Some(offset);
        }
        let (file, job_changed) = (&self.file, &mut self.job_changed);
        // The byte is missing: watch the job first, then look at its state, so that a job
        // that ends after the look wakes the task.
        let abort = || {
            let watch = job_changed.get_or_insert_with(|| Registration::new(Arc::clone(&file.job)));
            let _ = watch.poll(cx, job_over);
            check_job(file)
        };
        let counters = &self.file.job.counters;
        let polled = self.on_demand.poll_for(
            file.index(),
            offset,
            counters,
            &mut self.slot,
            cx.waker(),
            abort,
        );
        if polled.is_ready() {
            // Dropped: off the watch's wakers.
            self.job_changed = None;
        }
        polled
    }
}

impl futures_io::AsyncRead for AsyncFileReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available =
            ready!(this.poll_bytes(cx, this.position, buf.len() as u64)).map_err(io_error)?;
        if available == 0 {
            return Poll::Ready(Ok(0));
        }
        if this.temp.is_none() {
            this.temp = Some(open_temp(&this.file)?);
        }
        let temp = this.temp.as_mut().expect("opened above");
        // A blocking read of bytes known to be on disk (see the type's docs).
        let n = read_at(temp, this.position, available, buf)?;
        this.position += n as u64;
        Poll::Ready(Ok(n))
    }
}

impl futures_io::AsyncSeek for AsyncFileReader {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        if matches!(to, SeekFrom::End(_)) && this.file.known_size().is_none() {
            // The size comes with the first response: ask for the first byte.
            ready!(this.poll_bytes(cx, 0, 1)).map_err(io_error)?;
        }
        this.position = seek_target(this.position, to, this.file.known_size())?;
        Poll::Ready(Ok(this.position))
    }
}

impl Drop for AsyncFileReader {
    fn drop(&mut self) {
        // A read left pending: its waker leaves the on-demand state, uncounted.
        self.on_demand.forget(&self.slot);
    }
}

impl fmt::Debug for AsyncFileReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFileReader")
            .field("file", &self.file)
            .field("position", &self.position)
            .field("asked", &self.asked)
            .field("key", &self.slot)
            .finish_non_exhaustive()
    }
}
