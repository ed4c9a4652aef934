//! # bgcopy
//!
//! A pure-Rust, cross-platform mirror of the Windows *Background Copy* job model: the
//! `IBackgroundCopyJob` family that BITS and Delivery Optimization expose as COM interfaces, with
//! their semantics (the nine-state machine, defaults, limits, HRESULTs), lock-free progress, and a
//! built-in engine that really moves the bytes.
//!
//! ```
//! use bgcopy::*;
//! use std::time::Duration;
//! # fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let source = dir.path().join("source.bin");
//! std::fs::write(&source, vec![7u8; 64 * 1024])?;
//!
//! let manager = Manager::new();
//! let job = manager.create_job("example", BgJobType::Download)?;
//! let remote = source.to_str().ok_or("the temporary directory's path is not UTF-8")?;
//! job.add_file(remote, &dir.path().join("copy.bin"))?;
//! assert_eq!(job.get_state(), BgJobState::Suspended); // new jobs wait for resume()
//! assert_eq!(job.get_progress().files_total, 1);
//!
//! job.resume()?;
//! let progress = job.get_progress(); // lock-free, from any thread, as often as you like
//! assert!(progress.is_consistent());
//! // Sleeps until the job settles: no polling. `job.settled()` is the same as a future.
//! assert_eq!(job.wait(Duration::from_secs(60)), BgJobState::Transferred);
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
//!   The state machine is the pure function [`state_machine::transition`], whose docs hold the
//!   full table. A job
//!   outlives its handles: any handle keeps the manager's engine running, and the engine stops
//!   when the last one is gone ([`Manager::shutdown`] stops it at once).
//! - **Waiting and events**: [`Job::wait`] and [`Job::settled`] wait for a job without polling;
//!   [`Job::subscribe`] and [`Manager::subscribe`] give any number of subscribers a
//!   [`Subscription`] of [`Notification`]s (a blocking iterator, or polled from async code),
//!   progress paced; [`meter::RateMeter`] turns progress snapshots into a rate and an ETA.
//! - **Durable store**: [`Manager::open`] (or [`ManagerBuilder::store`]) keeps the jobs in a
//!   directory: every change is durable when the call returns, progress is checkpointed, and on
//!   the next open (after an exit, a crash or a reboot) the jobs come back and resume from the
//!   bytes on disk.
//! - **Data types**: [`BgJobProgress`], [`BgFileProgress`], [`BgJobTimes`], [`BgJobState`] and the
//!   other `Bg*` mirrors, all serde-serializable; [`BgError`] says its HRESULT; [`hresult`] names
//!   every code.
//! - **Driver API**: [`Job::claim`], [`JobDriver`], [`FileTransfer`]: move a job from your own code
//!   (sync or async, [`JobDriver::revoked`] to `select!` on) with the engine's guarantees.
//! - **Engine and transports**: `Manager::new()` runs worker threads that transfer queued jobs
//!   by priority ([`ManagerBuilder`]: workers, time slice, transports, schemes, and a
//!   [`clock::Clock`]; tests use a [`clock::ManualClock`] to let retry delays pass at once).
//!   [`transport::Transport`] moves the bytes for one URL scheme;
//!   [`transport::LocalTransport`] serves `file://` and absolute paths.
//!
//! ## Blocking calls and async code
//!
//! Nothing in bgcopy is `async`, and no call needs a runtime. Most calls are quick: the getters
//! (lock-free or a short lock), [`Job::subscribe`], [`Subscription::try_recv`], and every change
//! of a manager without a store. These calls block the calling thread on I/O or on time (each
//! says so in a `# Blocking` paragraph of its docs):
//!
//! - with a store (feature `store`), every change of a job: the setters, [`add_file`](BackgroundCopyJob::add_file),
//!   [`add_file_set`](BackgroundCopyJob::add_file_set), [`Job::add`],
//!   [`Job::add_with_sha256`], [`suspend`](BackgroundCopyJob::suspend),
//!   [`resume`](BackgroundCopyJob::resume), [`take_ownership`](BackgroundCopyJob::take_ownership),
//!   [`create_job`](BackgroundCopyManager::create_job): each writes and syncs a record before it
//!   returns (and `add_file*` look at the local directories, with or without a store);
//! - [`complete()`](BackgroundCopyJob::complete) and [`cancel()`](BackgroundCopyJob::cancel):
//!   they sync, rename and delete files;
//! - [`Manager::open`], and [`ManagerBuilder::try_build`] or `build` with a store: they open the
//!   store and read every job;
//! - the driver calls that touch files or records: [`JobDriver::open_file`],
//!   [`FileTransfer::write_until`], [`FileTransfer::copy_from_file_until`], the `write` of its
//!   [`TransferSink`](transport::TransferSink), [`FileTransfer::finish`],
//!   [`JobDriver::finish`], [`JobDriver::fail`], [`JobDriver::release`];
//! - [`Manager::shutdown`], [`Job::wait`] and [`Job::wait_until`]: they wait.
//!
//! From async code, run them on a thread meant for blocking work (with tokio,
//! `tokio::task::spawn_blocking(move || job.complete())`), and await [`Job::settled`] rather than
//! calling `wait`, and a [`Subscription`] ([`Subscription::recv`]) rather than iterating it.
//!
//! ## Namespaces
//!
//! Each item has one path. The root holds the mirror and what a downloader uses every day;
//! the rest has a module of its own:
//!
//! - [`transport`]: the plug-in traits (transports and their sinks), their errors, and the
//!   built-in transports.
//! - [`clock`]: the injectable clock ([`clock::ManualClock`] for tests).
//! - [`meter`]: rate and ETA for a user interface.
//! - [`state_machine`]: the job state machine as a pure function, for tests and models.
//! - [`hresult`]: every HRESULT by name.
//!
//! ## Layers
//!
//! Each module uses only the ones above it (a test, `tests/layers.rs`, checks the import graph):
//!
//! | layer | modules |
//! |---|---|
//! | mirror types | `types` (the `Bg*` types, `JobId`, `BgError`), [`hresult`] |
//! | leaf helpers | `platform` (what differs between Unix, macOS and Windows, in one place), [`clock`] (the injectable monotonic clock of delays and caps), `sync` (the loom shim), `faults` (test-only fault points), `executor` (a serial task runner), `signal` (a wake-up counter), `registry` (ids to jobs, generic over what it holds), [`meter`] (rate and ETA), `limit` (token bucket) |
//! | interfaces | `interfaces`: the Windows interfaces as traits |
//! | job model | `job`, in rooms from the bottom: `job::record` (what a store keeps of a job), `job::events` (notification queues, the event hub, subscriptions, the waiters' watch), `job::state` (shared state and how a change applies, counters, the state machine, segments), `job::handles` (`Job`, `JobFile`, `JobError`, the callback trait, and all their methods); it knows neither the manager nor the engine |
//! | job model, public view | [`state_machine`]: the state machine's pure function, re-exported from `job` |
//! | transport interface | [`transport`]: the [`transport::Transport`] trait, its sink, its errors; the built-in `local` and `http` transports use only the public API |
//! | driver API | `driver`: claims and file transfers |
//! | engine | `engine`: scheduler, workers, retry timing, sources and mirrors, the maximum download time, ranged and on-demand files |
//! | store | `store` (feature `store`): durable job records on redb, recovery on open, the progress checkpointer |
//! | manager | `manager`: wires the registry, the jobs' context and the engine together |
//!
//! ## Crate features
//!
//! - `store` (on by default): the durable store on redb: [`Manager::open`],
//!   [`ManagerBuilder::store`], [`ManagerBuilder::read_only`], and the store's other builder
//!   settings. With `default-features = false` jobs live in memory only, redb is not compiled,
//!   and [`Manager::store_dir`] is always `None`.
//! - `http` (off by default): `HttpTransport` for `http://` and `https://`, on a blocking client
//!   (ureq with rustls) without an async runtime; resumes with validated `Range`/`If-Range`,
//!   honours the job's proxy settings, custom headers and timeouts ([`BackgroundCopyJobHttpOptions::set_custom_headers`],
//!   [`Job::set_http_timeouts`]). `Manager::new()` registers it. Without it, an `http://` or
//!   `https://` remote name is refused at `add_file` with an error naming the feature (unless
//!   your own driver declares the scheme, [`ManagerBuilder::scheme`]). The expected SHA-256
//!   digest per file ([`JobFile::set_expected_sha256`]) works with or without the feature, for
//!   every transport.
//! - `stream` (off by default): [`Subscription`] implements `futures_core::Stream`. Without it,
//!   [`Subscription::recv`] and [`Subscription::poll_recv`] serve async code just as well.
//! - `async` (off by default): `AsyncFileReader`, made by `JobFile::open_async_reader`:
//!   `futures_io::AsyncRead + AsyncSeek` over a file of an on-demand job, the async
//!   counterpart of [`FileReader`] (a pending read is woken by the write that brings its bytes).
//!   The traits only (`futures-io`); no runtime.
//! - `cli` (off by default): builds the `bgcopy` command (`src/bin/bgcopy`), the verbs of
//!   `bitsadmin` on the durable store (see the README); turns on `http` and `store`. Its
//!   dependencies are optional, so the library alone never compiles them.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
mod driver;
mod engine;
mod executor;
mod faults;
pub mod hresult;
mod interfaces;
mod job;
mod limit;
mod manager;
pub mod meter;
mod platform;
mod registry;
mod signal;
pub mod state_machine;
#[cfg(feature = "store")]
mod store;
mod sync;
pub mod transport;
mod types;

pub use driver::{FileTransfer, JobDriver, Revoked};
pub use interfaces::{
    BackgroundCopyError, BackgroundCopyFile, BackgroundCopyFile2, BackgroundCopyFile3,
    BackgroundCopyFile4, BackgroundCopyFile5, BackgroundCopyFile6, BackgroundCopyJob,
    BackgroundCopyJob2, BackgroundCopyJob3, BackgroundCopyJob4, BackgroundCopyJob5,
    BackgroundCopyJobHttpOptions, BackgroundCopyManager,
};
#[cfg(feature = "async")]
pub use job::AsyncFileReader;
pub use job::{
    BackgroundCopyCallback, FileReader, Job, JobError, JobFile, JobSettled, NoopCallback,
    Notification, Recv, Subscription,
};
pub use manager::{Manager, ManagerBuilder, UnreadableJob};
pub use types::{
    BG_LENGTH_TO_EOF, BG_SIZE_UNKNOWN, BITS_COST_OPTION_IGNORE_CONGESTION,
    BITS_COST_STATE_BELOW_CAP, BITS_COST_STATE_CAPPED_USAGE_UNKNOWN, BITS_COST_STATE_NEAR_CAP,
    BITS_COST_STATE_OVERCAP_CHARGED, BITS_COST_STATE_OVERCAP_THROTTLED, BITS_COST_STATE_RESERVED,
    BITS_COST_STATE_ROAMING, BITS_COST_STATE_UNRESTRICTED, BITS_COST_STATE_USAGE_BASED,
    BITS_JOB_TRANSFER_POLICY_ALWAYS, BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE,
    BITS_JOB_TRANSFER_POLICY_NOT_ROAMING, BITS_JOB_TRANSFER_POLICY_STANDARD,
    BITS_JOB_TRANSFER_POLICY_UNRESTRICTED, BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgError,
    BgErrorContext, BgFileInfo, BgFileProgress, BgFileProperty, BgFilePropertyId, BgFileRange,
    BgHttpSecurity, BgJobPriority, BgJobProgress, BgJobProperty, BgJobPropertyId, BgJobProxyUsage,
    BgJobState, BgJobTimes, BgJobType, BgNotify, BgPeerCaching, BgProxySettings, BgSuccess,
    InvalidStateReason, JobId, NetworkCost, Result, UnrestrictedNetwork,
};

/// Test hooks: not part of the API (internal feature `_test-hooks`).
#[cfg(feature = "_test-hooks")]
#[doc(hidden)]
pub use faults::{
    clear_failure as __clear_failure_hook, clear_hook as __clear_fault_hook,
    set_failure as __set_failure_hook, set_hook as __set_fault_hook,
};
/// The per-write bookkeeping of on-demand runs, for the benches (internal feature `_test-hooks`).
#[cfg(feature = "_test-hooks")]
#[doc(hidden)]
pub use job::state::on_demand::WriteBench as __OnDemandWriteBench;

/// The README's examples, compiled as doctests when every feature they use is on (the README's
/// test command, `cargo test --all-features`): some use the HTTP transport, the store or the
/// async reader.
#[cfg(all(doctest, feature = "http", feature = "store", feature = "async"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
