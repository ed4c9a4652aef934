//! The job model: [`Job`], [`JobFile`] and [`JobError`] handles on shared job state, the state
//! machine ([`transition`]), the lock-free progress counters, callbacks, events and waiting.
//!
//! It knows neither the manager nor the engine: what it needs of them comes through its
//! [`JobContext`] (the registry and its wake-up signal, limits, accepted schemes, the callback
//! executor, the event hub, the service handles keep running).
//!
//! The rooms, lowest first (an import points to a room above it only through the callback
//! trait: see below):
//!
//! - `record/`: what is recorded of a job in a durable store, as plain data
//!   (`snapshot.rs`), and what the job layer asks of such a store (`recorder.rs`).
//! - `events/`: how changes are announced: subscribers' notification queues, the manager's event
//!   hub and progress pacer, subscriptions, and the watch that wakes waiters.
//! - `state/`: the state one job's handles share and how every change applies (`shared.rs`),
//!   the atomic counters, the pure state machine, the per-file state, segments,
//!   error records, queued callbacks, files in the group commit, and how the state is recorded
//!   (snapshots taken, checkpoints, jobs restored: `recording.rs`).
//! - `handles/`: the public handles and every method of them: [`Job`] (its
//!   [`BackgroundCopyJob`](crate::BackgroundCopyJob) methods in `job.rs`, waiting in `wait.rs`,
//!   HTTP options, connection and bandwidth caps, `complete()`/`cancel()` in `completion.rs`),
//!   [`JobFile`] (and its expected digests), [`JobError`], and the callback trait.
//! - `delivery.rs`: callbacks queued by a change, handed to the executor and delivered;
//!   `notify_cmd.rs`: the notify command line run instead when no callback is registered.
//! - `http_options.rs`, `state/http_options.rs`: custom headers, security flags, method and credentials
//!   (DESIGN 6.2); `ranged.rs`: the seam of ranged files (DESIGN 6.3).
//! - `context.rs`, `keepalive.rs`: what a job knows of its manager.
//! - `filled_ranges.rs`: which byte ranges of a temporary file are on disk (pure functions).
//! - `validate.rs`: checks of names, limits and schemes; `temp_files.rs`: the job's temporary
//!   files on disk (creation, commit, removal).
//!
//! One knot is left, forced by a type: the job's shared state (`state/`) holds its
//! `Arc<dyn BackgroundCopyCallback>`, and the trait's methods take the handles (`handles/`), which
//! hold the shared state.

mod context;
mod delivery;
pub(crate) mod events;
pub(crate) mod filled_ranges;
pub(crate) mod handles;
mod keepalive;
#[cfg(all(test, loom))]
mod loom_tests;
pub(crate) mod notify_cmd;
pub(crate) mod record;
pub(crate) mod state;
pub(crate) mod temp_files;
pub(crate) mod validate;

pub use events::notification::Notification;
pub use events::subscription::{Recv, Subscription};
#[cfg(feature = "async")]
pub use handles::async_reader::AsyncFileReader;
pub use handles::callback::{BackgroundCopyCallback, NoopCallback};
pub use handles::error::JobError;
pub use handles::file::JobFile;
pub use handles::job::Job;
pub use handles::reader::FileReader;
pub use handles::wait::JobSettled;
pub use state::transitions::{JobEvent, transition};

pub(crate) use context::JobContext;
pub(crate) use keepalive::Keepalive;
pub(crate) use state::error::ErrorRecord;
pub(crate) use state::file::FileShared;
pub(crate) use state::outbox::Callback;
pub(crate) use state::shared::{JobInner, JobShared};
pub(crate) use validate::Schemes;
