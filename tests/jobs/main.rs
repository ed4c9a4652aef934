//! A job at work, in one test binary: callbacks and events, waiting, the lifecycle of handles,
//! progress, files, `complete()` and `cancel()`, connection and bandwidth limits, the driver API,
//! file work outside the job's lock, and the engine. Each module was a test file of its own; they
//! share the support modules below (compiled once here).

#[path = "../async_support/mod.rs"]
mod async_support;
#[path = "../engine_support/mod.rs"]
mod engine_support;
#[path = "../support/mod.rs"]
mod support;

mod adding;
mod callbacks;
mod complete_cancel;
mod driver_add_bytes;
mod engine;
mod events;
mod files;
mod io_outside_lock;
mod lifecycle;
mod limits;
mod on_demand_engine;
mod progress;
#[cfg(feature = "store")]
mod sources_jobs;
mod wait;
