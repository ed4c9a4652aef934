//! The mirror of `IBackgroundCopyJob` itself, in one test binary: the public surface, serde,
//! errors and their HRESULTs, the state machine, the properties, the reference model, and the
//! conformance checks against Microsoft's documentation and Wine's implementation. Each module
//! was a test file of its own; they share `tests/support` (compiled once here).

#[path = "../support/mod.rs"]
mod support;

mod api_surface;
mod conformance_docs;
mod conformance_wine;
mod errors;
mod model;
mod properties;
mod serde;
mod state_machine;
