//! The `http` transport (feature `http`), in one test binary: against loopback servers that
//! inject faults, segmented downloads and the segment server itself, the trusted certificates,
//! nginx end to end, and only the bytes needed (ranged files, on-demand jobs and their reader,
//! the Job5 properties). Each module was a test file of its own; they share the support modules
//! below (compiled once here).

#[path = "../http_support/mod.rs"]
mod http_support;
#[path = "../support/mod.rs"]
mod support;
#[path = "../http_support/tls.rs"]
mod tls;

mod async_reader;
mod cache_host;
mod http;
mod http_segments;
mod http_segments_server;
mod http_sources;
mod http_tls;
mod job_properties;
mod needed_bytes_in_segments;
mod nginx;
mod on_demand;
mod ranges;
mod socks_proxy;
mod sources;
mod stalled_heads;
mod stalls;
