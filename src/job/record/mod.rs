//! Records: what a durable store keeps of a job. `snapshot.rs` holds a job's record as plain data
//! ([`JobSnapshot`](snapshot::JobSnapshot)); `recorder.rs` what the job layer asks of a store
//! ([`Persist`](recorder::Persist)). How records are taken from a job and a job is rebuilt from
//! one is in `state/recording.rs`.

pub(crate) mod bytes_needed;
pub(crate) mod recorder;
pub(crate) mod snapshot;
