//! The scheduler's request that a worker give its job back: one atomic per worker, read by the
//! sink before every step and between copy chunks (a load, no lock, on the transfer's path).

use crate::sync::{AtomicU8, Ordering};

/// Why the scheduler wants a worker's job back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum Stop {
    /// Keep going.
    #[default]
    No = 0,
    /// A time slice ended or a foreground job needs the worker: stop at the next point where no
    /// work is lost (mid-file only if the file can be resumed, else at the end of the file).
    Preempt = 1,
    /// The engine shuts down: stop now.
    Shutdown = 2,
}

/// A worker's [`Stop`] request (see the module docs).
#[derive(Debug)]
pub(crate) struct StopFlag(AtomicU8);

impl Default for StopFlag {
    fn default() -> Self {
        StopFlag(AtomicU8::new(Stop::No as u8))
    }
}

impl StopFlag {
    /// The stop asked for.
    #[inline]
    pub(crate) fn get(&self) -> Stop {
        // Relaxed: a request, not a publication; nothing else is read because of it (the worker
        // learns everything else from the job and its slot under their locks).
        match self.0.load(Ordering::Relaxed) {
            0 => Stop::No,
            1 => Stop::Preempt,
            _ => Stop::Shutdown,
        }
    }

    /// Whether any stop was asked for.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.get() != Stop::No
    }

    /// Asks for `stop`. A shutdown is never downgraded to a preemption.
    pub(crate) fn set(&self, stop: Stop) {
        // Relaxed: as in `get`; fetch_max keeps the strongest request (Shutdown > Preempt > No).
        self.0.fetch_max(stop as u8, Ordering::Relaxed);
    }

    /// Clears the request when the worker's slot is freed.
    pub(crate) fn clear(&self) {
        // Relaxed: as in `get`; the slot's lock orders this before the next assignment.
        self.0.store(Stop::No as u8, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_request_wins_until_cleared() {
        let flag = StopFlag::default();
        assert_eq!(flag.get(), Stop::No);
        flag.set(Stop::Shutdown);
        flag.set(Stop::Preempt);
        assert_eq!(flag.get(), Stop::Shutdown);
        flag.clear();
        assert!(!flag.is_set());
        flag.set(Stop::Preempt);
        assert_eq!(flag.get(), Stop::Preempt);
    }
}

/// The loom model: a scheduler asking for a preemption and the engine asking for a shutdown at
/// once, while the worker reads. The worker only ever sees a request that was made, and once both
/// are made the shutdown wins, whatever the interleaving.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    #[test]
    fn shutdown_wins_over_a_concurrent_preemption() {
        loom::model(|| {
            let flag = Arc::new(StopFlag::default());
            let preempt = {
                let flag = flag.clone();
                thread::spawn(move || flag.set(Stop::Preempt))
            };
            let shutdown = {
                let flag = flag.clone();
                thread::spawn(move || flag.set(Stop::Shutdown))
            };
            let seen = flag.get();
            assert!(matches!(seen, Stop::No | Stop::Preempt | Stop::Shutdown));
            preempt.join().unwrap();
            shutdown.join().unwrap();
            assert_eq!(flag.get(), Stop::Shutdown);
        });
    }
}
