//! The driver API: how a transfer (the built-in engine, or a downloader's own code, sync or
//! async) moves a job. Every engine step goes through it, so a custom driver gets the same
//! guarantees: exclusive claims, temporary files created safely, bytes counted lock-free, sizes
//! never overrun, state changes checked by [`transition`](crate::state_machine::transition), and
//! a prompt stop when the job is suspended or cancelled.
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
//! use bgcopy::transport::TransferSink;
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

mod claim;
mod commit;
mod digest;
mod open;
mod revoked;
mod segmented;
mod transfer;

pub use claim::JobDriver;

use crate::job::record::recorder::Recorded;
use crate::transport::TransferError;

/// A driver step whose record failed reports the store's error: a transient `LocalFile` failure
/// when the store's disk failed (see `From<BgError> for TransferError`).
impl<T> Recorded for std::result::Result<T, TransferError> {
    fn or_store_error(self, stored: crate::Result<()>) -> Self {
        self.and_then(|value| stored.map(|()| value).map_err(TransferError::from))
    }
}
pub use revoked::Revoked;
pub use transfer::FileTransfer;
