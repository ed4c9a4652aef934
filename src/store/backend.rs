//! [`Backend`]: the few database operations the store needs, on raw bytes.
//!
//! The store encodes and decodes records itself ([`record`](super::record)); a backend only keeps
//! bytes under keys, durably. The production backend is redb ([`RedbFile`](super::redb_file));
//! tests wrap it to count commits or to plant bytes the codec would never write.

use crate::{BgError, Result};
use std::fmt;
use std::path::Path;

/// The key of a job record: the job id's 16 bytes ([`record::key`](super::record::key)).
pub(crate) type Key = [u8; 16];

/// One stored job record as raw bytes: its key as stored (normally 16 bytes) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    /// The key as stored.
    pub(crate) key: Vec<u8>,
    /// The value as stored.
    pub(crate) value: Vec<u8>,
}

/// Durable storage of job records and store metadata. Every method that changes something is one
/// durable commit: when it returns `Ok`, the change survives a crash.
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// Every job record, in key order.
    fn load_all(&self) -> Result<Vec<RawRecord>>;

    /// How many job records there are.
    fn job_count(&self) -> Result<u64>;

    /// Stores one record (replacing any under the same key) in one commit.
    fn put(&self, key: Key, value: &[u8]) -> Result<()>;

    /// Stores one record without waiting for the disk: it becomes durable with the next durable
    /// commit (or [`flush`](Self::flush)), and a crash before that may lose it.
    fn put_lazy(&self, key: Key, value: &[u8]) -> Result<()>;

    /// Makes every lazy put before it durable (one commit).
    fn flush(&self) -> Result<()>;

    /// Stores several records in one commit: all of them, or none if it fails. A key given twice
    /// keeps the last value.
    fn put_many(&self, records: &[(Key, Vec<u8>)]) -> Result<()>;

    /// Removes a record in one commit; a missing key is not an error.
    fn delete(&self, key: Key) -> Result<()>;

    /// A metadata value, `None` if it was never set.
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>>;

    /// Sets several metadata values in one commit.
    fn set_meta(&self, entries: &[(&str, &[u8])]) -> Result<()>;
}

/// The error of a call on a store after [`Store::close`](super::Store::close): a caller's mistake,
/// so `E_UNEXPECTED`.
pub(crate) fn closed(dir: &Path) -> BgError {
    BgError::StoreClosed { path: dir.to_owned() }
}
