//! The public handles on a job and all their methods, each file one concept:
//!
//! - `job.rs`: [`Job`](job::Job) and its [`BackgroundCopyJob`](crate::BackgroundCopyJob) methods;
//!   `adding.rs`: adding one file and getting its handle (with its expected digest);
//!   `wait.rs`: waiting for it without polling ([`JobSettled`](wait::JobSettled));
//!   `http_options.rs`: its HTTP headers and timeouts; `caps.rs`: its connections per file and
//!   bandwidth cap; `completion.rs`: `complete()` and `cancel()` and their file work.
//! - `file.rs`: [`JobFile`](file::JobFile); `digests.rs`: its expected SHA-256 digest.
//! - `error.rs`: [`JobError`](error::JobError).
//! - `callback.rs`: the [`BackgroundCopyCallback`](callback::BackgroundCopyCallback) trait.

mod adding;
pub(crate) mod callback;
mod caps;
mod completion;
mod digests;
pub(crate) mod error;
pub(crate) mod file;
pub(crate) mod http_options;
pub(crate) mod job;
pub(crate) mod wait;
