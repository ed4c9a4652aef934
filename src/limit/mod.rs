//! Bandwidth caps (DESIGN.md 5.3): the pieces that keep a job, and all the jobs of a manager
//! together, within a number of body bytes per second.
//!
//! - [`bucket`]: the token bucket, on an injected clock, that says how many bytes may go now or
//!   how long to wait.

// Nothing outside the tests uses the bucket yet: the engine integration (per-job and manager-wide
// caps in the transfer loop) will, and this attribute goes away with it.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod bucket;
