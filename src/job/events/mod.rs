//! How a job's changes are announced without polling: `notification.rs` (what subscribers hear,
//! and each subscriber's queue), `hub.rs` (a manager's subscriptions and the progress pacer),
//! `subscription.rs` (the handle on one queue) and `watch.rs` (what wakes waiters). The waits
//! themselves are methods of the job handle (`handles/wait.rs`); callbacks are delivered by
//! `delivery.rs`.

pub(crate) mod hub;
pub(crate) mod notification;
pub(crate) mod subscription;
pub(crate) mod watch;
