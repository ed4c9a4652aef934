//! The loom shim: the one place that chooses between real and model-checked primitives.
//!
//! Under `cfg(loom)` the atomics and the lock type come from `loom` so that the model tests in
//! `job/loom_tests.rs` and `engine/stop.rs` can explore every interleaving; otherwise they come from `std` and
//! `parking_lot`. What the loom tests model imports from here (the job's lock and its
//! atomics), so it compiles unchanged in both worlds. The rest of the job model uses
//! `parking_lot` directly and is not modelled: the queues that wait on a `Condvar` (notification
//! queues, the event hub, the waiters' watch, files in the group commit) and the segment table.
//! Under loom, [`Mutex`] wraps loom's mutex so that `lock()` returns the guard directly, as
//! `parking_lot` does.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering, fence};

/// A loom mutex whose `lock()` returns the guard directly, like `parking_lot`.
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        // A poisoned loom mutex means a model thread panicked; the model has failed already.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.0.try_lock().ok()
    }
}
