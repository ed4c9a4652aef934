//! The monotonic clock the engine reads for retry delays, no-progress timeouts and time slices,
//! and the bandwidth caps for their tokens; injectable so that tests can move time by hand
//! instead of waiting for minutes.

use parking_lot::Mutex;
use std::fmt;
use std::time::{Duration, Instant};

/// A function a clock calls when its time jumps; it returns `false` once its engine is gone.
pub type ClockWaker = Box<dyn Fn() -> bool + Send + Sync>;

/// The time source of an engine: a monotonic clock (changing the wall clock moves nothing).
///
/// The engine measures every delay with it: the minimum retry delay after a transient error, the
/// no-progress timeout, and the time slice of a background job. [`SystemClock`] is the default;
/// [`ManualClock`] lets a test move time by hand.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time elapsed since an origin the clock picks; never decreases.
    fn now(&self) -> Duration;

    /// Registers `wake`, to be called whenever this clock's time jumps ahead by other means than
    /// the passing of real time, so that an engine waiting for a deadline looks again. A clock
    /// may drop a waker once it returned `false`. The default does nothing, which is right for a
    /// clock that follows real time.
    fn subscribe(&self, wake: ClockWaker) {
        drop(wake);
    }
}

/// The engine-clock time `after` past `start`, or `None` if it never comes: past the last second
/// a clock can tell (a [`ManualClock`] advanced by `Duration::MAX` stops there), so that
/// `Duration::MAX` as a delay, a timeout or a time slice means never (DESIGN 6.1), and a clock at
/// its end sets off no deadline again and again.
pub(crate) fn deadline(start: Duration, after: Duration) -> Option<Duration> {
    start.checked_add(after).filter(|at| at.as_secs() < u64::MAX)
}

/// The real monotonic clock ([`Instant`]); the engine's default.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> SystemClock {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that stands still until [`advance`](ManualClock::advance) moves it, for tests of retry
/// timing. Advancing wakes every engine that uses it.
///
/// ```
/// use bgcopy::clock::{Clock, ManualClock};
/// use bgcopy::*;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let clock = Arc::new(ManualClock::new());
/// let manager = Manager::builder().clock(clock.clone()).build();
/// # drop(manager);
/// clock.advance(Duration::from_secs(600)); // a retry delay passes at once
/// assert_eq!(clock.now(), Duration::from_secs(600));
/// ```
#[derive(Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
    wakers: Mutex<Vec<ClockWaker>>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves the clock forward by `by` and wakes the engines that use it.
    pub fn advance(&self, by: Duration) {
        {
            let mut now = self.now.lock();
            *now = now.saturating_add(by);
        }
        self.wakers.lock().retain(|wake| wake());
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock()
    }

    fn subscribe(&self, wake: ClockWaker) {
        self.wakers.lock().push(wake);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .field("engines", &self.wakers.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_wakes_live_subscribers() {
        let clock = ManualClock::new();
        assert_eq!(clock.now(), Duration::ZERO);
        let calls = Arc::new(Mutex::new(0u32));
        let seen = Arc::clone(&calls);
        clock.subscribe(Box::new(move || {
            *seen.lock() += 1;
            true
        }));
        clock.subscribe(Box::new(|| false)); // an engine that is gone
        clock.advance(Duration::from_secs(5));
        clock.advance(Duration::from_secs(7));
        assert_eq!(clock.now(), Duration::from_secs(12));
        assert_eq!(*calls.lock(), 2);
        assert_eq!(clock.wakers.lock().len(), 1);
    }

    #[test]
    fn system_clock_never_goes_back() {
        let clock = SystemClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
    }
}
