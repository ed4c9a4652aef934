//! The `bgcopy` command (feature `cli`), in one test binary: every verb and exit code, several
//! processes on one store, and interrupted transfers. Each module was a test file of its own;
//! they share the support modules below (compiled once here).

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../http_support/mod.rs"]
mod http_support;

mod cli;
mod cli_holder;
mod cli_interrupt;
mod cli_ranges;
mod cli_sources;
#[cfg(unix)]
mod sources_serve;
