//! [`RedbFile`]: the [`Backend`] on a redb database file.
//!
//! Two tables, both raw bytes so that redb's own type encodings never shape bgcopy's data:
//! `jobs` (`&[u8]` → `&[u8]`: the 16-byte job id to the encoded record) and `meta` (`&str` →
//! `&[u8]`: store metadata). The `meta` table's name and types are fixed for every format version,
//! so any bgcopy can read a store's format version before anything else.
//!
//! Every write is one transaction committed with [`Durability::Immediate`] (one fsync per commit,
//! redb's 1-phase commit), but a lazy put ([`Durability::None`]: no fsync), which becomes durable
//! with the next durable commit, or with the flush when the store is closed.
//!
//! # Corruption without changing the file
//!
//! redb trusts a file that was shut down cleanly: a plain open of a damaged file may panic (redb
//! says so, and the store's tests have seen it), while an open that checks integrity *repairs*
//! the file it opens, writing to it. Neither leaves a damaged file as it was, so
//! [`RedbFile::open`] first checks an in-memory copy ([`check_copy`]): redb runs its full integrity
//! check (and any crash recovery) on the copy, and a panic there is caught. Only a file whose
//! copy opens, and whose metadata the store accepts on the copy, is opened for real, where redb
//! may then finish a crash recovery on the file itself. A store refused as corrupt or too new is
//! thus never opened for writing. The copy costs one read of the file and its size in memory, once
//! per open.

use super::backend::{Backend, Key, RawRecord};
use crate::{BgError, Result};
use parking_lot::RwLock;
use redb::backends::InMemoryBackend;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, StorageBackend,
    TableDefinition, TableError,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Job records: the 16-byte job id to the encoded record. (Visible to the store's tests, which
/// plant a key the store never writes.)
pub(super) const JOBS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("jobs");
/// Store metadata, such as the format version.
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

/// redb's page cache: the store is small, and redb's default (1 GiB) is meant for big databases.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A redb database file holding a store.
///
/// After an I/O error (a full disk), redb refuses every later call until the database is
/// opened again ("previous I/O error"): the database is then closed, and the next call opens it
/// again (redb repairs what the failed commit left), so that the store works again once the
/// disk does, with no restart of the process (DESIGN 6.1).
#[derive(Debug)]
pub(crate) struct RedbFile {
    /// `None` after an I/O error, until the next call opens the file again.
    db: RwLock<Option<Database>>,
    path: PathBuf,
    /// Whether the database can be opened again from `path` (not an in-memory copy).
    reopenable: bool,
}

impl RedbFile {
    /// Opens the database at `path`, creating it if it does not exist (or is empty). An existing
    /// file is first checked on a copy in memory, and `inspect` reads that copy (the real file
    /// is opened only if both succeed).
    ///
    /// # Errors
    ///
    /// [`BgError::StoreCorrupt`] if the file is not a redb database or is damaged;
    /// [`BgError::StoreLocked`] if something else has the file open; [`BgError::Io`] if it cannot
    /// be read; whatever `inspect` returns. When the check or `inspect` fails, the file is
    /// unchanged.
    pub(crate) fn open(
        path: &Path,
        inspect: impl FnOnce(&RedbFile) -> Result<()>,
    ) -> Result<RedbFile> {
        match std::fs::read(path) {
            Ok(bytes) if !bytes.is_empty() => check_copy(path, bytes, inspect)?,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BgError::io("read", path, e)),
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| fault(path, "open", e))?;
        Ok(RedbFile { db: RwLock::new(Some(db)), path: path.to_owned(), reopenable: true })
    }

    /// Opens the database at `path` to read it only: a copy in memory, checked as
    /// [`open`](Self::open) checks one (redb's repair, if the file needs one, happens on the
    /// copy); the file itself is read once and never written.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub(crate) fn open_copy(
        path: &Path,
        inspect: impl FnOnce(&RedbFile) -> Result<()>,
    ) -> Result<RedbFile> {
        let bytes = std::fs::read(path).map_err(|e| BgError::io("read", path, e))?;
        let db = catch_unwind(AssertUnwindSafe(|| -> Result<Database, redb::Error> {
            let copy = InMemoryBackend::new();
            copy.set_len(bytes.len() as u64).map_err(redb::StorageError::Io)?;
            copy.write(0, &bytes).map_err(redb::StorageError::Io)?;
            Ok(Database::builder()
                .set_cache_size(CACHE_BYTES)
                .set_check_integrity_on_open(true)
                .create_with_backend(copy)?)
        }));
        let db = match db {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(corrupt(path, e.to_string())),
            Err(_) => return Err(corrupt(path, "the database could not be checked".to_owned())),
        };
        let file = RedbFile { db: RwLock::new(Some(db)), path: path.to_owned(), reopenable: false };
        inspect(&file)?;
        Ok(file)
    }

    /// Runs `call` on the database, opening it again first if an I/O error closed it. An I/O
    /// error of `call` closes it (see the type's docs).
    fn with_db<T>(
        &self,
        op: &'static str,
        call: impl FnOnce(&Database) -> Result<T, redb::Error>,
    ) -> Result<T> {
        if self.db.read().is_none() {
            self.reopen(op)?;
        }
        let result = {
            let db = self.db.read();
            let db = db.as_ref().ok_or_else(|| BgError::io(op, &self.path, closed()))?;
            call(db)
        };
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                if self.reopenable && matches!(error, redb::Error::Io(_) | redb::Error::PreviousIo)
                {
                    *self.db.write() = None;
                }
                Err(fault(&self.path, op, error))
            }
        }
    }

    /// Opens the database file again after an I/O error closed it.
    fn reopen(&self, op: &'static str) -> Result<()> {
        let mut db = self.db.write();
        if db.is_none() && self.reopenable {
            let opened = Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&self.path)
                .map_err(|e| fault(&self.path, op, e))?;
            *db = Some(opened);
        }
        Ok(())
    }

    /// Runs `write` in one write transaction and commits it durably.
    fn commit(
        &self,
        op: &'static str,
        write: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<()> {
        self.commit_with(Durability::Immediate, op, write)
    }

    /// Runs `write` in one write transaction and commits it with `durability`.
    fn commit_with(
        &self,
        durability: Durability,
        op: &'static str,
        write: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<()> {
        self.with_db(op, |db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(durability)?;
            write(&txn)?;
            Ok(txn.commit()?)
        })
    }

    /// Runs `read` on the table `table` in a read transaction; a table that does not exist yet
    /// reads as `absent`.
    fn read<K: redb::Key + 'static, V: redb::Value + 'static, T>(
        &self,
        op: &'static str,
        table: TableDefinition<'_, K, V>,
        absent: T,
        read: impl FnOnce(&redb::ReadOnlyTable<K, V>) -> Result<T, redb::Error>,
    ) -> Result<T> {
        self.with_db(op, |db| {
            let txn = db.begin_read()?;
            match txn.open_table(table) {
                Ok(table) => read(&table),
                Err(TableError::TableDoesNotExist(_)) => Ok(absent),
                Err(e) => Err(e.into()),
            }
        })
    }
}

impl Backend for RedbFile {
    fn load_all(&self) -> Result<Vec<RawRecord>> {
        self.read("read", JOBS, Vec::new(), |table| {
            let mut records = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                records
                    .push(RawRecord { key: key.value().to_vec(), value: value.value().to_vec() });
            }
            Ok(records)
        })
    }

    fn job_count(&self) -> Result<u64> {
        self.read("read", JOBS, 0, |table| Ok(table.len()?))
    }

    fn put(&self, key: Key, value: &[u8]) -> Result<()> {
        self.commit("write", |txn| {
            txn.open_table(JOBS)?.insert(&key[..], value)?;
            Ok(())
        })
    }

    fn put_lazy(&self, key: Key, value: &[u8]) -> Result<()> {
        self.commit_with(Durability::None, "write", |txn| {
            txn.open_table(JOBS)?.insert(&key[..], value)?;
            Ok(())
        })
    }

    fn flush(&self) -> Result<()> {
        // An empty durable commit makes the lazy commits before it durable too.
        self.commit("flush", |_| Ok(()))
    }

    fn put_many(&self, records: &[(Key, Vec<u8>)]) -> Result<()> {
        self.commit("write", |txn| {
            let mut table = txn.open_table(JOBS)?;
            for (key, value) in records {
                table.insert(&key[..], &value[..])?;
            }
            Ok(())
        })
    }

    fn delete(&self, key: Key) -> Result<()> {
        self.commit("delete", |txn| {
            txn.open_table(JOBS)?.remove(&key[..])?;
            Ok(())
        })
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read("read", META, None, |table| Ok(table.get(name)?.map(|v| v.value().to_vec())))
    }

    fn set_meta(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.commit("write", |txn| {
            let mut table = txn.open_table(META)?;
            for (name, value) in entries {
                table.insert(*name, *value)?;
            }
            Ok(())
        })
    }
}

/// Opens an in-memory copy of the file's `bytes` with redb's full integrity check, so that damage
/// is found without writing to (or panicking on) the real file, then lets `inspect` read it.
fn check_copy(
    path: &Path,
    bytes: Vec<u8>,
    inspect: impl FnOnce(&RedbFile) -> Result<()>,
) -> Result<()> {
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Result<()>, redb::Error> {
        let copy = InMemoryBackend::new();
        copy.set_len(bytes.len() as u64).map_err(redb::StorageError::Io)?;
        copy.write(0, &bytes).map_err(redb::StorageError::Io)?;
        drop(bytes);
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .set_check_integrity_on_open(true)
            .create_with_backend(copy)?;
        // The tables bgcopy reads must open with their types.
        let txn = db.begin_read()?;
        for table in [txn.open_table(JOBS).map(drop), txn.open_table(META).map(drop)] {
            match table {
                Ok(()) | Err(TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        drop(txn);
        Ok(inspect(&RedbFile {
            db: RwLock::new(Some(db)),
            path: path.to_owned(),
            reopenable: false,
        }))
    }));
    match outcome {
        Ok(Ok(inspected)) => inspected,
        // Everything about a copy in memory is the file's content: any failure is corruption.
        Ok(Err(e)) => Err(corrupt(path, e.to_string())),
        Err(_) => Err(corrupt(path, "the database could not be checked".to_owned())),
    }
}

/// The error of a call while the database is closed and cannot be opened again.
fn closed() -> std::io::Error {
    std::io::Error::other("the database is closed after an I/O error")
}

fn corrupt(path: &Path, reason: String) -> BgError {
    BgError::StoreCorrupt { path: path.to_owned(), reason: reason.into() }
}

/// The `BgError` for a redb failure during `op` on the database at `path`.
fn fault(path: &Path, op: &'static str, error: impl Into<redb::Error>) -> BgError {
    match error.into() {
        redb::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            corrupt(path, e.to_string())
        }
        redb::Error::Io(e) => BgError::io(op, path, e),
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            BgError::StoreLocked { path: path.to_owned(), pid: None }
        }
        e @ (redb::Error::Corrupted(_)
        | redb::Error::UpgradeRequired(_)
        | redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => corrupt(path, e.to_string()),
        e => BgError::StoreFailed { path: path.to_owned(), reason: format!("{op}: {e}").into() },
    }
}
