//! The job model: [`Job`], [`JobFile`] and [`JobError`] handles on shared job state, the state
//! machine ([`transition`]), the lock-free progress counters, callbacks, events and waiting.
//!
//! It knows neither the manager nor the engine: what it needs of them comes through its
//! [`JobContext`] (the registry and its wake-up signal, limits, accepted schemes, the callback
//! executor, the event hub, the service handles keep running).
//!
//! - `handle.rs`: the [`Job`] handle and its [`BackgroundCopyJob`](crate::BackgroundCopyJob)
//!   methods; `settle.rs`: `complete()` and `cancel()`, their file work outside the lock;
//!   `options.rs`: HTTP timeouts and expected digests; `http_options.rs`: custom headers,
//!   security flags, method and credentials (DESIGN 6.2), kept in `http_state.rs`.
//! - `shared.rs`: the state one job's handles share, and how every change is applied.
//! - `counters.rs`: the atomic counters and state word (the only atomics of a job).
//! - `transitions.rs`: the pure state machine.
//! - `file.rs`, `report.rs`: [`JobFile`] and [`JobError`].
//! - `validate.rs`: names, limits, schemes; `disk.rs`: temporary files, commit, removal.
//! - `callback.rs`: the BITS callback slot and its delivery.
//! - `notification.rs`, `subscription.rs`, `hub.rs`: events for any number of subscribers and
//!   the progress pacer; `watch.rs`, `wait.rs`: waiting without polling.
//! - `context.rs`, `keepalive.rs`: what a job knows of its manager.

mod callback;
mod context;
pub(crate) mod counters;
pub(crate) mod disk;
mod durable;
mod file;
pub(crate) mod finishing;
mod handle;
mod http_options;
pub(crate) mod http_state;
mod hub;
mod keepalive;
mod limits;
#[cfg(all(test, loom))]
mod loom_tests;
mod notification;
mod notify_cmd;
pub(crate) mod on_demand;
pub(crate) mod options;
pub(crate) mod persist;
pub(crate) mod properties;
mod ranged;
pub(crate) mod ranges;
mod reader;
mod report;
pub(crate) mod segments;
mod settle;
mod shared;
pub(crate) mod snapshot;
pub(crate) mod source_switch;
pub(crate) mod sources;
mod subscription;
pub(crate) mod transitions;
pub(crate) mod validate;
mod wait;
mod watch;

pub use callback::{BackgroundCopyCallback, NoopCallback};
pub use file::JobFile;
pub use handle::Job;
pub use notification::Notification;
pub use reader::FileReader;
pub use report::JobError;
pub use subscription::{Recv, Subscription};
pub use transitions::{JobEvent, transition};
pub use wait::JobSettled;

pub(crate) use callback::Callback;
pub(crate) use context::JobContext;
pub(crate) use file::FileShared;
pub(crate) use keepalive::Keepalive;
pub(crate) use report::ErrorRecord;
pub(crate) use shared::{JobInner, JobShared};
pub(crate) use validate::Schemes;
