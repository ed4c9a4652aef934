//! # bgcopy
//!
//! A pure-Rust, cross-platform mirror of the Windows *Background Copy* job model: the
//! `IBackgroundCopyJob` family that BITS and Delivery Optimization expose as COM interfaces, with
//! their semantics (the nine-state machine, defaults, limits, HRESULTs), lock-free progress, and a
//! built-in engine that really moves the bytes.
//!
//! ```
//! use bgcopy::*;
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let source = dir.path().join("source.bin");
//! std::fs::write(&source, vec![7u8; 64 * 1024])?;
//!
//! let manager = Manager::new();
//! let job = manager.create_job("example", BgJobType::Download)?;
//! job.add_file(source.to_str().unwrap(), &dir.path().join("copy.bin"))?;
//! assert_eq!(job.get_state(), BgJobState::Suspended); // new jobs wait for resume()
//! assert_eq!(job.get_progress().files_total, 1);
//!
//! job.resume()?;
//! # let start = std::time::Instant::now();
//! while job.get_state() != BgJobState::Transferred {
//!     let progress = job.get_progress(); // lock-free, from any thread
//!     assert!(progress.is_consistent());
//!     # assert!(start.elapsed().as_secs() < 60, "{:?}", job.get_error().map(|e| e.get_error()));
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//! }
//! assert_eq!(job.get_progress().bytes_transferred, 64 * 1024);
//! job.complete()?; // the file appears only now
//! assert_eq!(std::fs::read(dir.path().join("copy.bin"))?.len(), 64 * 1024);
//! # Ok(()) }
//! ```
//!
//! ## The pieces
//!
//! - **Interfaces**: [`BackgroundCopyManager`], [`BackgroundCopyJob`], [`BackgroundCopyFile`],
//!   [`BackgroundCopyError`], [`BackgroundCopyCallback`]: every method of the Windows interfaces in
//!   snake case (`GetProgress` → `get_progress`). Bring them into scope with `use bgcopy::*`.
//! - **Job model**: [`Manager`], [`Job`], [`JobFile`], [`JobError`]: cheap, thread-safe handles.
//!   The state machine is the pure function [`transition`], whose docs hold the full table.
//! - **Data types**: [`BgJobProgress`], [`BgFileProgress`], [`BgJobTimes`], [`BgJobState`] and the
//!   other `Bg*` mirrors, all serde-serializable; [`BgError`] says its HRESULT; [`hresult`] names
//!   every code.
//! - **Driver API**: [`Job::claim`], [`JobDriver`], [`FileTransfer`]: move a job from your own code
//!   (sync or async) with the engine's guarantees.
//! - **Engine and transports**: `Manager::new()` runs worker threads that transfer queued jobs
//!   by priority ([`EngineConfig`]: workers, time slice, transports, and a [`Clock`]; tests use a
//!   [`ManualClock`] to let retry delays pass at once). [`Transport`] moves the bytes for one URL
//!   scheme; [`LocalTransport`] serves `file://` and absolute paths.
//!
//! ## Crate features
//!
//! - `http` (off by default): `HttpTransport` for `http://` and `https://`, on a blocking client
//!   (ureq with rustls) without an async runtime; resumes with validated `Range`/`If-Range`,
//!   honours the job's proxy settings, custom headers and timeouts ([`Job::set_custom_headers`],
//!   [`Job::set_http_timeouts`]). `Manager::new()` registers it. The expected SHA-256 digest per
//!   file ([`JobFile::set_expected_sha256`]) works with or without the feature, for every
//!   transport.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod driver;
mod engine;
mod error;
pub mod hresult;
mod interfaces;
mod job;
mod manager;
mod notify;
// Durable job records (DESIGN 5.2); wired into `Manager::open` by the integration.
mod store;
mod sync;
pub mod transport;
mod types;

pub use driver::{FileTransfer, JobDriver};
pub use engine::{Clock, ClockWaker, EngineConfig, ManualClock, SystemClock};
pub use error::{BgError, Result};
pub use interfaces::{
    BackgroundCopyCallback, BackgroundCopyError, BackgroundCopyFile, BackgroundCopyJob,
    BackgroundCopyManager, NoopCallback,
};
pub use job::{transition, Job, JobError, JobEvent, JobFile};
pub use manager::{Manager, ManagerBuilder};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use transport::HttpTransport;
pub use transport::{LocalTransport, TransferError, TransferRequest, TransferSink, Transport};
pub use types::{
    BgErrorContext, BgFileInfo, BgFileProgress, BgJobPriority, BgJobProgress, BgJobProxyUsage,
    BgJobState, BgJobTimes, BgJobType, BgNotify, BgProxySettings, BgSuccess, JobId,
    BG_SIZE_UNKNOWN,
};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
