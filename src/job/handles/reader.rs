//! [`FileReader`]: `Read + Seek` over a file of an on-demand job while it downloads (DESIGN 6.3).

use crate::job::state::on_demand::OnDemand;
use crate::{BgError, BgJobState, InvalidStateReason, JobFile, Result};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// What a read asks for beyond the bytes it needs, so that the next reads find their bytes on
/// disk.
const READ_AHEAD: u64 = 1 << 20;

/// Reads a file of an on-demand job (`OnDemandMode(true)`) while it downloads: seek anywhere and
/// read; a read asks for the bytes it needs (and places the job's download position just before
/// them, so they come first), blocks until they are on disk, and returns them. A read on a job
/// that failed (`Error`) or was cancelled or completed ends with an error instead of blocking.
///
/// Made by [`JobFile::open_reader`]. `Read + Seek + Send`.
///
/// ```no_run
/// use bgcopy::*;
/// use std::io::{Read, Seek, SeekFrom};
/// # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let manager = Manager::new();
/// let job = manager.create_job("read while downloading", BgJobType::Download)?;
/// job.set_property(BgJobProperty::OnDemandMode(true))?;
/// job.add_file("https://example.com/big.iso", &std::env::temp_dir().join("big.iso"))?;
/// job.resume()?;
/// let mut reader = job.enum_files()[0].open_reader()?;
/// reader.seek(SeekFrom::End(-64 * 1024))?;
/// let mut tail = Vec::new();
/// reader.read_to_end(&mut tail)?; // only the last 64 KiB are fetched
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileReader {
    file: JobFile,
    on_demand: Arc<OnDemand>,
    position: u64,
    /// The temporary file, once it was opened.
    temp: Option<File>,
}

impl JobFile {
    /// A reader of this file while it downloads (on-demand jobs only).
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is not on demand, or is final.
    pub fn open_reader(&self) -> Result<FileReader> {
        let on_demand = self.on_demand_state()?;
        Ok(FileReader { file: self.clone(), on_demand, position: 0, temp: None })
    }
}

pub(super) fn io_error(error: BgError) -> io::Error {
    io::Error::other(error)
}

/// An error once the job of `file` can no longer bring bytes: failed, cancelled or completed.
pub(super) fn check_job(file: &JobFile) -> Result<()> {
    let state = file.job.counters.state();
    match state {
        BgJobState::Error => {
            let inner = file.job.inner.lock();
            let (hresult, context, message) = inner.error.as_ref().map_or_else(
                || (crate::hresult::E_FAIL, crate::BgErrorContext::None, "the job failed".into()),
                |record| (record.hresult, record.context, record.message.clone()),
            );
            Err(BgError::Transfer { hresult, context, transient: false, message: message.into() })
        }
        BgJobState::Cancelled | BgJobState::Acknowledged => {
            Err(BgError::InvalidState { state, reason: InvalidStateReason::JobState })
        }
        _ => Ok(()),
    }
}

/// What a read at `offset` of `want` bytes asks for: from there, at least [`READ_AHEAD`] bytes.
pub(super) fn asked_range(offset: u64, want: u64) -> (u64, u64) {
    (offset, offset.saturating_add(want.max(READ_AHEAD)))
}

/// Opens the temporary file of `file`.
pub(super) fn open_temp(file: &JobFile) -> io::Result<File> {
    let index = file.index();
    let path = file.job.inner.lock().file_disk[index].temp_path.clone();
    let path = path.ok_or_else(|| io::Error::other("the temporary file is gone"))?;
    File::open(path)
}

/// Reads from `temp` at `position` into `buf`, at most `available` bytes (bytes known to be on
/// disk).
pub(super) fn read_at(
    temp: &mut File,
    position: u64,
    available: u64,
    buf: &mut [u8],
) -> io::Result<usize> {
    let take = usize::try_from(available).unwrap_or(buf.len()).min(buf.len());
    temp.seek(SeekFrom::Start(position))?;
    temp.read(&mut buf[..take])
}

/// Where a seek from `position` lands, given the file's `size` (needed by `SeekFrom::End`).
pub(super) fn seek_target(position: u64, to: SeekFrom, size: Option<u64>) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(offset) => Some(offset),
        SeekFrom::Current(delta) => position.checked_add_signed(delta),
        SeekFrom::End(delta) => {
            let size = size.ok_or_else(|| io::Error::other("the size is unknown"))?;
            size.checked_add_signed(delta)
        }
    };
    target.ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "a seek before the start of the file")
    })
}

impl FileReader {
    /// The file read.
    pub fn file(&self) -> &JobFile {
        &self.file
    }

    /// Blocks until byte `offset` is on disk (asking for it first); the bytes on disk from
    /// there, 0 at the end.
    fn bytes_at(&self, offset: u64, want: u64) -> Result<u64> {
        let index = self.file.index();
        self.file.ask(&self.on_demand, &[asked_range(offset, want)], Some(offset))?;
        self.on_demand.wait_for(index, offset, &self.file.job.counters, || check_job(&self.file))
    }

    fn temp(&mut self) -> io::Result<&mut File> {
        if self.temp.is_none() {
            self.temp = Some(open_temp(&self.file)?);
        }
        Ok(self.temp.as_mut().expect("opened above"))
    }
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let available = self.bytes_at(self.position, buf.len() as u64).map_err(io_error)?;
        if available == 0 {
            return Ok(0);
        }
        let position = self.position;
        let n = read_at(self.temp()?, position, available, buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for FileReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        if matches!(to, SeekFrom::End(_)) && self.file.known_size().is_none() {
            // The size comes with the first response: ask for the first byte.
            self.bytes_at(0, 1).map_err(io_error)?;
        }
        self.position = seek_target(self.position, to, self.file.known_size())?;
        Ok(self.position)
    }
}
