//! A wake-up signal: a counter that changes whenever something may matter to a waiting thread,
//! and a condition variable to wait for the next change. The registry carries one; the engine's
//! scheduler waits on it.

use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::time::Duration;

/// A counter to wait on for a change (see the module docs).
#[derive(Default)]
pub(crate) struct Signal {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    /// Counts a change and wakes every waiter.
    pub(crate) fn wake(&self) {
        *self.count.lock() += 1;
        self.changed.notify_all();
    }

    /// The current count; pass it to [`wait`](Self::wait) to wait for a later change.
    pub(crate) fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// Waits until the count differs from `seen` or `timeout` passes.
    pub(crate) fn wait(&self, seen: u64, timeout: Duration) {
        let mut count = self.count.lock();
        if *count == seen {
            let _ = self.changed.wait_for(&mut count, timeout);
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("count", &self.count()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_wake_ends_a_wait_that_started_before_it() {
        let signal = Arc::new(Signal::default());
        let seen = signal.count();
        let waker = Arc::clone(&signal);
        let thread = std::thread::spawn(move || waker.wake());
        let start = Instant::now();
        signal.wait(seen, Duration::from_secs(30));
        assert!(start.elapsed() < Duration::from_secs(30));
        thread.join().unwrap();
    }

    #[test]
    fn a_wake_between_count_and_wait_is_not_lost() {
        let signal = Signal::default();
        let seen = signal.count();
        signal.wake();
        let start = Instant::now();
        signal.wait(seen, Duration::from_secs(30));
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}
