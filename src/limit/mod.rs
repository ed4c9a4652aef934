//! Bandwidth caps (DESIGN.md 5.3): the pieces that keep a job, and all the jobs of a manager
//! together, within a number of body bytes per second.
//!
//! - [`bucket`]: the token bucket, on an injected clock, that says how many bytes may go now or
//!   how long to wait.
//! - [`limiter`]: a manager's caps: each job's and the manager's, with shares by priority.

pub(crate) mod bucket;
pub(crate) mod limiter;

pub(crate) use bucket::Grant;
pub(crate) use limiter::Limiter;
