//! What survives, in one test binary: the durable store in one process, crashes (`kill -9` and
//! aborts at fault points, feature `http`), full disks, and power loss on a FUSE file system
//! (Linux, as root, feature `http`). Each module was a test file of its own; they share the
//! support modules below (compiled once here). The fault hooks are one per process: every test
//! adds its own through `support::hooks`, filtered on its own directory.

#[path = "../engine_support/mod.rs"]
mod engine_support;
#[cfg(feature = "http")]
#[path = "../http_support/mod.rs"]
mod http_support;
#[cfg(all(feature = "http", target_os = "linux"))]
#[path = "../powerloss_support/mod.rs"]
mod powerloss_support;
#[path = "../support/mod.rs"]
mod support;

mod adding;
#[cfg(feature = "http")]
mod crash;
mod faults;
#[cfg(feature = "http")]
mod on_demand_crash;
#[cfg(feature = "http")]
mod powerloss;
mod store;
