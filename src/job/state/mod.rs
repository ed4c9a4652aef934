//! The state one job's handles share, and how it changes: `shared.rs`
//! ([`JobShared`](shared::JobShared) and how every change is recorded, applied and announced), `counters.rs` (the atomic counters
//! and state word), `transitions.rs` (the pure state machine), `file.rs` (one file's shared state
//! and what is on disk of it), `segments.rs` (the segments of a file fetched over several
//! connections), `error.rs` (the record of a
//! failure), `outbox.rs` (callbacks a change queues), `finishing.rs` (files in the group commit)
//! and `recording.rs` (snapshots taken under the lock, progress checkpoints, jobs restored from
//! records); `sources.rs`: where a job's bytes come from (DESIGN 6.2); `properties.rs` and `on_demand.rs`: the Job5 properties and what an
//! on-demand job asked for and has (DESIGN 6.3).

pub(crate) mod counters;
pub(crate) mod error;
pub(crate) mod file;
pub(crate) mod finishing;
pub(crate) mod on_demand;
pub(crate) mod outbox;
pub(crate) mod properties;

mod recording;
pub(crate) mod segments;
pub(crate) mod shared;
pub(crate) mod sources;
pub(crate) mod transitions;
