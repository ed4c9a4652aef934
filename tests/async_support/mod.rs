//! A minimal executor for the tests of bgcopy's futures: `block_on` parks the thread until the
//! future's waker is woken, and counts the wake-ups, so a test can check that a pending future is
//! woken by a change and not by a timer. No async runtime.

#![allow(dead_code)]

use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A waker that unparks a thread and counts how often it was woken.
pub(crate) struct CountingWaker {
    thread: Thread,
    wakes: Mutex<u64>,
}

impl CountingWaker {
    pub(crate) fn new() -> Arc<CountingWaker> {
        Arc::new(CountingWaker { thread: std::thread::current(), wakes: Mutex::new(0) })
    }

    pub(crate) fn wakes(&self) -> u64 {
        *self.wakes.lock()
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.wakes.lock() += 1;
        self.thread.unpark();
    }
}

/// Polls `future` once with `waker`.
pub(crate) fn poll_once<F: Future + Unpin>(
    future: &mut F,
    waker: &Arc<CountingWaker>,
) -> Poll<F::Output> {
    let waker = Waker::from(Arc::clone(waker));
    let mut cx = Context::from_waker(&waker);
    std::pin::Pin::new(future).poll(&mut cx)
}

/// Runs `future` to completion on this thread, at most `limit`; panics past it.
pub(crate) fn block_on<F: Future>(future: F, limit: Duration) -> F::Output {
    let waker = CountingWaker::new();
    let mut future = std::pin::pin!(future);
    let start = Instant::now();
    loop {
        let w = Waker::from(Arc::clone(&waker));
        if let Poll::Ready(value) = future.as_mut().poll(&mut Context::from_waker(&w)) {
            return value;
        }
        let left = limit.checked_sub(start.elapsed()).expect("the future did not resolve in time");
        std::thread::park_timeout(left);
    }
}
