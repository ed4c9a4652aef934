//! [`JobDriver::open_file`]: what it needs is read under the job lock (and the file reserved for
//! this writer), the temporary file is opened or created without the lock, and the result is
//! published under it again.

use super::claim::JobDriver;
use super::transfer::{self, FileTransfer};
use crate::job::filled_ranges;
use crate::job::temp_files;
use crate::transport::TransferError;
use crate::{BgErrorContext, hresult};
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Names tried for a temporary file before giving up.
const TEMP_NAME_ATTEMPTS: u32 = 16;

/// What phase two found on disk.
struct Opened {
    temp: File,
    path: PathBuf,
    /// Created now (not an earlier attempt's).
    created: bool,
    /// Its identity: as created now, or as reopened (known since its creation, or learnt now
    /// after a restart of the process, once its owner and link count were checked).
    id: Option<temp_files::FileId>,
    /// The bytes it holds, for a reopened file.
    on_disk: u64,
}

impl JobDriver {
    /// Opens file `index` for writing: creates its temporary file next to the destination
    /// (exclusively, owner-only, never through a symlink), or reopens the one an earlier attempt
    /// left and continues after its bytes. The file system work happens without the job lock.
    ///
    /// # Blocking
    /// Creates or opens the file's temporary file: file-system work.
    ///
    /// # Errors
    /// `Stopped` if the claim was revoked; a fatal `E_INVALIDARG` failure for an index out of
    /// range, a file already transferred or already open; a fatal `LocalFile` failure if the
    /// destination cannot be written (it is a directory, its directory is missing or read-only),
    /// before any byte is transferred.
    pub fn open_file(&self, index: usize) -> Result<FileTransfer, TransferError> {
        let shared = Arc::clone(self.shared());
        let misuse = |why: &str| {
            TransferError::fatal(hresult::E_INVALIDARG, BgErrorContext::GeneralQueueManager, why)
        };
        // Phase one: check and reserve the file for this writer.
        let (file, known_temp, known_id, ranges) = shared.change(|inner| {
            self.check_live()?;
            let file = Arc::clone(
                inner.files.get(index).ok_or_else(|| misuse("no file with that index"))?,
            );
            if file.counters.is_transferred() {
                return Err(misuse("the file is already transferred"));
            }
            if inner.file_disk[index].writer_active || shared.finishing.contains(index) {
                return Err(misuse("the file is already open, or being finished"));
            }
            // Off the byte-count stripe of any other open transfer of this job (counters.rs).
            let open = inner.files.iter().zip(&inner.file_disk).filter(|(_, d)| d.writer_active);
            shared.counters.pick_stripe(&file.counters, open.map(|(f, _)| &f.counters));
            let disk_state = &mut inner.file_disk[index];
            disk_state.writer_active = true;
            let ranges = disk_state.on_disk(file.counters.transferred());
            Ok((file, disk_state.temp_path.clone(), disk_state.temp_id, ranges))
        })?;
        // Phase two: the file system, without the lock.
        let keep = ranges.last().map_or(0, |&(_, end)| end);
        let known = known_temp.as_deref().map(|path| (path, known_id));
        let opened = open_or_create(&file.local_name, known, shared.id, index, keep);
        // Phase three: publish.
        let (result, orphan) = shared.change(|inner| {
            let disk_state = &mut inner.file_disk[index];
            let opened = match opened {
                Ok(opened) => opened,
                Err(error) => {
                    disk_state.writer_active = false;
                    return (Err(error), None);
                }
            };
            if opened.created {
                disk_state.temp_path = Some(opened.path.clone());
                disk_state.entry_synced = false;
            }
            disk_state.temp_id = opened.id;
            if !self.is_live() {
                disk_state.writer_active = false;
                // A job that became final meanwhile no longer knows its temporary files.
                let orphan = shared.counters.state().is_final().then(|| {
                    disk_state.temp_path = None;
                    opened.path.clone()
                });
                return (Err(TransferError::Stopped), orphan);
            }
            let counters = &file.counters;
            let mut ranges = ranges;
            if opened.created && !ranges.is_empty() {
                // The earlier attempt's file is gone: start over.
                shared.counters.restart_file(counters);
                disk_state.forget_bytes();
                ranges.clear();
            } else if !opened.created && opened.on_disk < keep {
                // Continue from what is really on disk: never more than was counted.
                ranges = filled_ranges::clip(&ranges, opened.on_disk);
                shared.counters.restart_file(counters);
                shared.counters.add_file_bytes(counters, filled_ranges::total(&ranges));
                let durable = filled_ranges::clip(&disk_state.durable(), opened.on_disk);
                disk_state.set_durable(durable);
                disk_state.epoch += 1;
            }
            disk_state.set_base(ranges.clone());
            let validator = disk_state.validator.clone();
            let priority = inner.priority;
            let opened = transfer::Opened {
                temp: opened.temp,
                temp_path: opened.path,
                validator,
                priority,
                ranges,
            };
            let transfer = FileTransfer::new(
                Arc::clone(&shared),
                Arc::clone(&file),
                self.generation,
                opened,
                self.job.keep.clone(),
            );
            (Ok(transfer), None)
        });
        if let Some(orphan) = orphan {
            let _ = temp_files::remove(&orphan);
        }
        let mut transfer = result?;
        transfer.seek_to_offset()?;
        Ok(transfer)
    }
}

fn local_error(e: &io::Error) -> TransferError {
    TransferError::from_io(e, BgErrorContext::LocalFile)
}

/// Phase two of `open_file`: checks that the destination can be written, then reopens the
/// earlier attempt's temporary file (cut to `keep`, the end of the bytes counted) or creates
/// one. `known` is the earlier attempt's file and its identity if known; a file at its name that
/// is not the one created (R7) is left alone, and a new one is created under another name.
fn open_or_create(
    local_name: &Path,
    known: Option<(&Path, Option<temp_files::FileId>)>,
    job: crate::JobId,
    index: usize,
    keep: u64,
) -> Result<Opened, TransferError> {
    crate::faults::point("open:before", local_name);
    if local_name.is_dir() {
        return Err(TransferError::fatal(
            hresult::E_ACCESSDENIED,
            BgErrorContext::LocalFile,
            format!("the destination {} is a directory", local_name.display()),
        ));
    }
    if let Some((path, id)) = known {
        match temp_files::open_temp(path, id) {
            Ok(temp) => {
                let on_disk = temp.metadata().map_err(|e| local_error(&e))?.len();
                temp.set_len(on_disk.min(keep)).map_err(|e| local_error(&e))?;
                let path = path.to_owned();
                let id = id.or_else(|| temp_files::FileId::of(&temp));
                return Ok(Opened { temp, path, created: false, id, on_disk });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound || temp_files::is_not_ours(&e) => {}
            Err(e) => return Err(local_error(&e)),
        }
    }
    let mut last = None;
    for attempt in 0..TEMP_NAME_ATTEMPTS {
        let path = temp_files::temp_path(local_name, job, index, attempt);
        match temp_files::create_temp(&path) {
            Ok(temp) => {
                let id = temp_files::FileId::of(&temp);
                return Ok(Opened { temp, path, created: true, id, on_disk: 0 });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            // Creating a new name fails this way only when its directory is gone (removed after
            // `add_file` checked it): say so, with the path, as `add_file` would.
            Err(e)
                if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) =>
            {
                return Err(TransferError::fatal(
                    hresult::ERROR_PATH_NOT_FOUND_HR,
                    BgErrorContext::LocalFile,
                    format!("the directory of {} does not exist", local_name.display()),
                ));
            }
            Err(e) => return Err(local_error(&e)),
        }
    }
    Err(local_error(&last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists))))
}

impl FileTransfer {
    /// Positions the file's handle where its writer starts (after `open_file`).
    fn seek_to_offset(&mut self) -> Result<(), TransferError> {
        let offset = self.offset_now();
        self.temp_mut().seek(SeekFrom::Start(offset)).map_err(|e| local_error(&e))?;
        Ok(())
    }
}
