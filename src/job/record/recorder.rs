//! What the job layer asks of a durable store ([`Persist`]), without knowing how it stores: a
//! job's [`JobSnapshot`] after every change that matters, and a way for a change's result to
//! carry a failed record ([`Recorded`]). How snapshots are taken, restored and checkpointed is
//! in `state/recording.rs`.

use crate::job::record::snapshot::{FileSnapshot, JobSnapshot};
use crate::{BgError, JobId, Result};

/// A durable home for job records: every method is one durable commit when it returns `Ok`.
pub(crate) trait Persist: Send + Sync + std::fmt::Debug {
    /// Records `job` (replacing its earlier record).
    ///
    /// # Errors
    /// The store's error; the record may then be missing or older.
    fn save(&self, job: &JobSnapshot) -> Result<()>;

    /// Records `job` without waiting for the disk: durable with the next [`save`](Self::save)
    /// or when the store closes (a crash before may lose it). For changes a restart undoes anyway
    /// (`Queued`, `Connecting` and `Transferring` all come back `Queued`).
    ///
    /// # Errors
    /// The store's error.
    fn save_lazy(&self, job: &JobSnapshot) -> Result<()>;

    /// Forgets job `id` (it became final).
    ///
    /// # Errors
    /// The store's error.
    fn remove(&self, id: JobId) -> Result<()>;
}

/// The result of a change, which a failed record of that change turns into an error (see
/// [`JobShared::change`]). Results that report nothing ignore it.
pub(crate) trait Recorded: Sized {
    /// `self`, or the store's error if `self` is a success and `stored` failed.
    fn or_store_error(self, stored: Result<()>) -> Self;
}

impl<T> Recorded for std::result::Result<T, BgError> {
    fn or_store_error(self, stored: Result<()>) -> Self {
        self.and_then(|value| stored.map(|()| value))
    }
}

impl<R: Recorded, X> Recorded for (R, X) {
    fn or_store_error(self, stored: Result<()>) -> Self {
        (self.0.or_store_error(stored), self.1)
    }
}

impl Recorded for () {
    fn or_store_error(self, _stored: Result<()>) -> Self {}
}

/// `None` made no change (nothing to record); `Some` carries the change's result.
impl<T: Recorded> Recorded for Option<T> {
    fn or_store_error(self, stored: Result<()>) -> Self {
        self.map(|result| result.or_store_error(stored))
    }
}

/// The bytes a file's snapshot says are on disk: the total of its ranges (one from zero for a
/// file written by one connection; several, with holes, for one fetched in segments).
pub(crate) fn recorded_bytes(file: &FileSnapshot) -> u64 {
    crate::job::filled_ranges::total(&file.ranges)
}
