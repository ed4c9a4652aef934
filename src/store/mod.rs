//! The durable store (DESIGN 5.2): job records that survive an exit, a crash and a reboot.
//!
//! A store is a directory that bgcopy owns. It holds `LOCK` ([`lock`]: one process at a time)
//! and `bgcopy.redb`, a redb database ([`redb_file`]) of job records in bgcopy's own versioned
//! format ([`record`], on the byte codec of [`codec`]). The job layer hands [`JobSnapshot`]s in
//! and gets them back; it does not know how they are stored.
//!
//! Opening a store, in order:
//!
//! 1. Create the directory if it is missing.
//! 2. Take the lock; a second opener fails at once with [`BgError::StoreLocked`].
//! 3. Check the database on a copy in memory: a damaged file, or metadata that makes no sense,
//!    is [`BgError::StoreCorrupt`] (or, with [`StoreOptions::reset_corrupt`], the file is moved
//!    aside and an empty store begins); a newer format version is [`BgError::StoreTooNew`]. Either
//!    way the file is left exactly as it was.
//! 4. Open the database for real; a new store gets format version [`FORMAT_VERSION`], and every
//!    store records the version of the bgcopy that opened it last.
//!
//! A failed open holds nothing: the database is closed and the lock released before it returns.

mod backend;
pub(crate) mod checkpoint;
mod codec;
mod lock;
mod record;
pub(crate) mod recover;
mod redb_file;

#[cfg(test)]
pub(crate) mod arbitrary;
#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

pub(crate) use codec::DecodeError;
pub(crate) use record::FORMAT_VERSION;

use crate::job::record::recorder::Persist;
use crate::job::record::snapshot::JobSnapshot;
use crate::{BgError, JobId, Result};
use backend::{Backend, RawRecord};
use codec::Problem;
use lock::LockFile;
use parking_lot::{Mutex, RwLock};
use redb_file::RedbFile;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The database file's name in the store directory.
pub(crate) const DB_FILE: &str = "bgcopy.redb";
/// Metadata: the store's format version, a little-endian `u32`.
const META_FORMAT: &str = "format_version";
/// Metadata: the version of the bgcopy that last opened the store, UTF-8.
const META_WRITER: &str = "bgcopy_version";
/// This bgcopy's version, as recorded in [`META_WRITER`].
const BGCOPY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How [`Store::open`] treats what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StoreOptions {
    /// Move a corrupt database aside (to `bgcopy.redb.corrupt-<unix seconds>`) and start an empty
    /// store, instead of failing with [`BgError::StoreCorrupt`]. Default: `false`.
    pub(crate) reset_corrupt: bool,
    /// Open to read only (an existing store): the lock is taken as for any open, but the
    /// database is read from a copy in memory and nothing on disk is written (no metadata, no
    /// permissions, no repair). Default: `false`.
    pub(crate) read_only: bool,
}

/// What [`Store::load`] found.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Loaded {
    /// Every record that decoded, in creation order (`seq`).
    pub(crate) jobs: Vec<JobSnapshot>,
    /// Every record that did not; each is left in the database as it is.
    pub(crate) unreadable: Vec<Unreadable>,
}

/// A stored record that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// The record's key as stored (normally a job id's 16 bytes).
    pub(crate) key: Vec<u8>,
    /// Why it could not be read (a [`DecodeError`] as text, or a key that makes no sense).
    pub(crate) reason: String,
}

impl Unreadable {
    /// The job id the key names, if it is a 16-byte key.
    pub(crate) fn id(&self) -> Option<JobId> {
        let key: [u8; 16] = self.key.as_slice().try_into().ok()?;
        Some(JobId::from_u128(u128::from_be_bytes(key)))
    }
}

/// An open store: the lock on its directory and its database. `Send + Sync`; calls from several
/// threads run concurrently (redb serializes the commits).
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    /// `None` once closed.
    held: RwLock<Option<Held>>,
    /// A lazy put happened since the last durable commit (closing then flushes once).
    lazy_pending: Mutex<bool>,
}

/// What an open store holds. Fields drop in order: the database closes before the lock goes.
#[derive(Debug)]
struct Held {
    backend: Box<dyn Backend>,
    /// Held for its `Drop`, which releases the lock.
    _lock: LockFile,
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if it is missing.
    ///
    /// # Errors
    ///
    /// - [`BgError::StoreLocked`] (`0x8007_0020`): another open, in this process or another,
    ///   holds the store.
    /// - [`BgError::StoreCorrupt`] (`BG_E_DATABASE_CORRUPT`): the database cannot be read; its
    ///   file is unchanged. Not with [`StoreOptions::reset_corrupt`].
    /// - [`BgError::StoreTooNew`] (`0x8007_051A`): a newer bgcopy wrote the store.
    /// - [`BgError::Io`]: the directory, the lock file or the database cannot be created or read.
    pub(crate) fn open(dir: &Path, options: &StoreOptions) -> Result<Store> {
        let path = dir.join(DB_FILE);
        if options.read_only && path.exists() {
            let lock = LockFile::acquire(dir)?;
            let backend: Box<dyn Backend> =
                Box::new(RedbFile::open_copy(&path, |copy| check_meta(dir, &path, copy))?);
            let held = RwLock::new(Some(Held { backend, _lock: lock }));
            return Ok(Store { dir: dir.to_owned(), held, lazy_pending: Mutex::new(false) });
        }
        create_private_dir(dir).map_err(|e| BgError::io("create", dir, e))?;
        let lock = LockFile::acquire(dir)?;
        let backend = match open_database(dir, &path) {
            Err(BgError::StoreCorrupt { .. }) if options.reset_corrupt => {
                move_aside(&path)?;
                open_database(dir, &path)?
            }
            other => other?,
        };
        let held = RwLock::new(Some(Held { backend, _lock: lock }));
        Ok(Store { dir: dir.to_owned(), held, lazy_pending: Mutex::new(false) })
    }

    /// Every job record: those that decode, in creation order, and those that do not.
    ///
    /// # Errors
    ///
    /// [`BgError::StoreTooNew`] if a record has a newer format version; [`BgError::StoreCorrupt`]
    /// or [`BgError::Io`] if the database cannot be read; `E_UNEXPECTED` after [`Store::close`].
    pub(crate) fn load(&self) -> Result<Loaded> {
        let raw = self.with_backend(|backend| backend.load_all())?;
        let mut loaded = Loaded::default();
        for record in raw {
            match decode(&record) {
                Ok(job) => loaded.jobs.push(job),
                Err(Some(error)) => {
                    if let Problem::TooNew { found, supported } = error.problem {
                        return Err(BgError::StoreTooNew {
                            path: self.dir.clone(),
                            found,
                            supported,
                        });
                    }
                    loaded
                        .unreadable
                        .push(Unreadable { key: record.key, reason: error.to_string() });
                }
                Err(None) => {
                    let reason =
                        format!("the key is {} bytes, not a 16-byte job id", record.key.len());
                    loaded.unreadable.push(Unreadable { key: record.key, reason });
                }
            }
        }
        loaded.jobs.sort_by_key(|job| job.seq);
        Ok(loaded)
    }

    /// Stores one job (replacing its earlier record) in one durable commit.
    ///
    /// # Errors
    ///
    /// [`BgError::InvalidArgument`] for a snapshot the format cannot hold (see
    /// [`record::encode`]); [`BgError::Io`] or [`BgError::StoreCorrupt`] if the commit fails;
    /// `E_UNEXPECTED` after [`Store::close`].
    pub(crate) fn put(&self, job: &JobSnapshot) -> Result<()> {
        let value = encode(job)?;
        self.with_backend(|backend| backend.put(record::key(job.id), &value))?;
        // A durable commit makes every lazy one before it durable too.
        *self.lazy_pending.lock() = false;
        Ok(())
    }

    /// Stores several jobs in one durable commit: all of them, or none. An empty slice commits
    /// nothing.
    ///
    /// # Errors
    ///
    /// As [`Store::put`]; nothing is stored if any snapshot cannot be encoded.
    pub(crate) fn put_many(&self, jobs: &[JobSnapshot]) -> Result<()> {
        let records = jobs
            .iter()
            .map(|job| Ok((record::key(job.id), encode(job)?)))
            .collect::<Result<Vec<_>>>()?;
        if records.is_empty() {
            return Ok(());
        }
        self.with_backend(|backend| backend.put_many(&records))
    }

    /// Removes a job's record in one durable commit; a job with no record is not an error.
    ///
    /// # Errors
    ///
    /// [`BgError::Io`] or [`BgError::StoreCorrupt`] if the commit fails; `E_UNEXPECTED` after
    /// [`Store::close`].
    pub(crate) fn delete(&self, id: JobId) -> Result<()> {
        self.with_backend(|backend| backend.delete(record::key(id)))
    }

    /// Stores one job without waiting for the disk (see [`Backend::put_lazy`]).
    ///
    /// # Errors
    /// As [`Store::put`].
    pub(crate) fn put_lazy(&self, job: &JobSnapshot) -> Result<()> {
        let value = encode(job)?;
        self.with_backend(|backend| backend.put_lazy(record::key(job.id), &value))?;
        *self.lazy_pending.lock() = true;
        Ok(())
    }

    /// Closes the database and releases the lock, at once (waiting only for calls in progress,
    /// and for one durable commit of what lazy puts left). Every later call fails with
    /// `E_UNEXPECTED`; closing twice is harmless. Dropping the store does the same.
    pub(crate) fn close(&self) {
        let held = self.held.write().take();
        if let Some(held) = &held
            && std::mem::take(&mut *self.lazy_pending.lock())
        {
            let _ = held.backend.flush();
        }
        drop(held);
    }

    /// The store directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `call` on the open backend.
    fn with_backend<T>(&self, call: impl FnOnce(&dyn Backend) -> Result<T>) -> Result<T> {
        let held = self.held.read();
        let held = held.as_ref().ok_or_else(|| backend::closed(&self.dir))?;
        call(held.backend.as_ref())
    }
}

/// The job layer records its jobs here (one durable commit per call).
impl Persist for Store {
    fn save_lazy(&self, job: &JobSnapshot) -> Result<()> {
        self.injected_failure()?;
        self.put_lazy(job)
    }

    fn save(&self, job: &JobSnapshot) -> Result<()> {
        crate::faults::point("store:before-commit", &self.dir);
        self.injected_failure()?;
        self.put(job)?;
        crate::faults::point("store:after-commit", &self.dir);
        Ok(())
    }

    fn remove(&self, id: JobId) -> Result<()> {
        crate::faults::point("store:before-commit", &self.dir);
        self.injected_failure()?;
        self.delete(id)?;
        crate::faults::point("store:after-commit", &self.dir);
        Ok(())
    }
}

/// A store opened to read only: every record is refused (the change it would record is not
/// made, see `JobShared::change`).
#[derive(Debug)]
pub(crate) struct ReadOnly(pub(crate) Arc<Store>);

impl ReadOnly {
    fn refused(&self) -> BgError {
        let why = std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the store is open to read only",
        );
        BgError::io("write", self.0.dir.join(DB_FILE), why)
    }
}

impl Persist for ReadOnly {
    fn save(&self, _job: &JobSnapshot) -> Result<()> {
        Err(self.refused())
    }

    fn save_lazy(&self, _job: &JobSnapshot) -> Result<()> {
        Err(self.refused())
    }

    fn remove(&self, _id: JobId) -> Result<()> {
        Err(self.refused())
    }
}

impl Store {
    /// A commit failure a test asked for (see `faults::fail`); never without test hooks.
    fn injected_failure(&self) -> Result<()> {
        crate::faults::fail("store:commit", &self.dir)
            .map_err(|e| BgError::io("write", self.dir.join(DB_FILE), e))
    }
}

/// Opens the database file: its metadata is checked on the in-memory copy first, then written
/// for a new store, and this bgcopy's version recorded.
fn open_database(dir: &Path, path: &Path) -> Result<Box<dyn Backend>> {
    if !path.exists() {
        create_database(path)?;
    }
    crate::platform::dirs::make_private_file(path).map_err(|e| BgError::io("restrict", path, e))?;
    let database = RedbFile::open(path, |copy| check_meta(dir, path, copy))?;
    if database.meta(META_FORMAT)?.is_none() {
        let version = FORMAT_VERSION.to_le_bytes();
        let entries = [(META_FORMAT, &version[..]), (META_WRITER, BGCOPY_VERSION.as_bytes())];
        database.set_meta(&entries)?;
    } else if database.meta(META_WRITER)?.as_deref() != Some(BGCOPY_VERSION.as_bytes()) {
        database.set_meta(&[(META_WRITER, BGCOPY_VERSION.as_bytes())])?;
    }
    Ok(Box::new(database))
}

/// Creates a new, empty store database so that a crash half-way leaves no half-made database
/// under its name: it is made and synced under a temporary name (which a later open replaces),
/// then renamed into place and the directory synced.
fn create_database(path: &Path) -> Result<()> {
    let new = path.with_extension("redb.new");
    let io = |op, e| BgError::io(op, path, e);
    match std::fs::remove_file(&new) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove", e)),
        _ => {}
    }
    {
        let database = RedbFile::open(&new, |_| Ok(()))?;
        crate::platform::dirs::make_private_file(&new).map_err(|e| io("restrict", e))?;
        let version = FORMAT_VERSION.to_le_bytes();
        database
            .set_meta(&[(META_FORMAT, &version[..]), (META_WRITER, BGCOPY_VERSION.as_bytes())])?;
    }
    std::fs::File::open(&new).and_then(|f| f.sync_all()).map_err(|e| io("sync", e))?;
    crate::faults::point("store:created", &new);
    std::fs::rename(&new, path).map_err(|e| io("rename", e))?;
    // A store whose database's name may not survive a power loss is not created.
    crate::job::temp_files::sync_dirs([path]).map_err(|e| io("sync the directory of", e))
}

/// Creates the store directory if it is missing, making every directory it creates durable in
/// its parent, and makes it private to its user (0700 on Unix) whoever created it: its records
/// hold URLs and custom headers such as `Authorization` (DESIGN 6.2).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(level) = at.filter(|level| !level.as_os_str().is_empty() && !level.exists()) {
        missing.push(level);
        at = level.parent();
    }
    for level in missing.into_iter().rev() {
        match std::fs::create_dir(level) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        crate::job::temp_files::sync_dirs([level])?;
    }
    crate::platform::dirs::make_private_dir(dir)
}

/// Refuses metadata that makes no sense or names a newer format, without writing anything.
fn check_meta(dir: &Path, path: &Path, backend: &dyn Backend) -> Result<()> {
    let corrupt =
        |reason: String| BgError::StoreCorrupt { path: path.to_owned(), reason: reason.into() };
    let Some(format) = backend.meta(META_FORMAT)? else {
        return match backend.job_count()? {
            0 => Ok(()),
            _ => Err(corrupt("job records but no format version".to_owned())),
        };
    };
    let found = match <[u8; 4]>::try_from(format.as_slice()) {
        Ok(bytes) => u32::from_le_bytes(bytes),
        Err(_) => {
            return Err(corrupt(format!("the format version is {} bytes long", format.len())));
        }
    };
    if found == 0 {
        return Err(corrupt("format version 0".to_owned()));
    }
    if found > FORMAT_VERSION {
        let supported = FORMAT_VERSION;
        return Err(BgError::StoreTooNew { path: dir.to_owned(), found, supported });
    }
    match backend.meta(META_WRITER)? {
        Some(writer) if std::str::from_utf8(&writer).is_err() => {
            Err(corrupt("the bgcopy version is not UTF-8".to_owned()))
        }
        _ => Ok(()),
    }
}

/// Renames a corrupt database to `bgcopy.redb.corrupt-<unix seconds>` (plus `-<n>` if taken).
fn move_aside(path: &Path) -> Result<PathBuf> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    let base = format!("{DB_FILE}.corrupt-{secs}");
    let mut aside = path.with_file_name(&base);
    let mut n = 1;
    while aside.exists() {
        aside = path.with_file_name(format!("{base}-{n}"));
        n += 1;
    }
    std::fs::rename(path, &aside).map_err(|e| BgError::io("rename", path, e))?;
    Ok(aside)
}

/// Encodes a job for the database.
fn encode(job: &JobSnapshot) -> Result<Vec<u8>> {
    record::encode(job)
        .map_err(|e| BgError::InvalidArgument(format!("cannot store job {}: {e}", job.id)))
}

/// Decodes a stored record; `Err(None)` for a key that is not a job id, and a record whose id is
/// not its key is an error too.
fn decode(raw: &RawRecord) -> std::result::Result<JobSnapshot, Option<DecodeError>> {
    let key: [u8; 16] = raw.key.as_slice().try_into().map_err(|_| None)?;
    let job = record::decode(&raw.value).map_err(Some)?;
    if record::key(job.id) != key {
        let problem = Problem::Invalid("the record's id is not its key");
        return Err(Some(DecodeError { what: "id", offset: 8, problem }));
    }
    Ok(job)
}
