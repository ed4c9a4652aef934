//! Records: what a durable store keeps of a job. `snapshot.rs` holds a job's record as plain data
//! ([`JobSnapshot`](snapshot::JobSnapshot)); `recorder.rs` what the job layer asks of a store
//! ([`Persist`](recorder::Persist)); `http_options.rs` a job's HTTP options (DESIGN 6.2) and
//! `bytes_needed.rs` its Job5 properties and on-demand requests (DESIGN 6.3), as plain data that
//! the job's state holds and its record carries. How records are taken from a job and a job is rebuilt from
//! one is in `state/recording.rs`.

pub(crate) mod bytes_needed;
pub(crate) mod http_options;
pub(crate) mod recorder;
pub(crate) mod snapshot;
