//! The public handles on a job and all their methods, each file one concept:
//!
//! - `job.rs`: [`Job`](job::Job) and its [`BackgroundCopyJob`](crate::BackgroundCopyJob) methods;
//!   `adding.rs`: adding one file and getting its handle (with its expected digest);
//!   `wait.rs`: waiting for it without polling ([`JobSettled`](wait::JobSettled));
//!   `http_options.rs`: its custom headers, security flags, method and credentials (DESIGN 6.2);
//!   `http_timeouts.rs`: its HTTP timeouts; `caps.rs`: its connections per file and
//!   bandwidth cap; `completion.rs`: `complete()` and `cancel()` and their file work.
//! - `file.rs`: [`JobFile`](file::JobFile); `digests.rs`: its expected SHA-256 digest.
//! - `error.rs`: [`JobError`](error::JobError).
//! - `callback.rs`: the [`BackgroundCopyCallback`](callback::BackgroundCopyCallback) trait.
//! - `properties.rs`, `on_demand.rs`, `reader.rs`, `ranged_files.rs`: DESIGN 6.3, the Job5
//!   properties, a file's on-demand calls and its [`FileReader`](reader::FileReader), and files
//!   of which only some ranges are fetched; `async_reader.rs` (feature `async`): the reader's
//!   async counterpart, `AsyncFileReader`.

mod adding;
#[cfg(feature = "async")]
pub(crate) mod async_reader;
pub(crate) mod callback;
mod caps;
mod completion;
mod digests;
pub(crate) mod error;
pub(crate) mod file;
mod http_options;
mod http_timeouts;
pub(crate) mod job;
mod on_demand;
mod properties;
pub(crate) mod ranged_files;
pub(crate) mod reader;
mod sources;
pub(crate) mod wait;
