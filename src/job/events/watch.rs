//! [`Watch`]: how waiters learn that a job changed, without polling. The job notifies its watch
//! after every change of its state word (a state change, or a claim revoked) once the change is
//! published; blocking waiters sleep on a condition variable and futures register their waker.
//! A waiter checks its condition (an atomic load) while it holds the watch's lock, and the
//! notifier takes that lock after publishing, so a change between the check and the sleep is
//! never missed. Nothing wakes a waiter while nothing changes.

use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Change notification of one job (see the module docs).
#[derive(Default)]
pub(crate) struct Watch {
    state: Mutex<WatchState>,
    changed: Condvar,
}

#[derive(Default)]
struct WatchState {
    /// The wakers of pending futures, by key; all are taken (and woken) at each change.
    wakers: Vec<(u64, Waker)>,
    next_key: u64,
}

impl Watch {
    /// The job changed: wakes every waiter. Call after publishing the change, without the job lock.
    pub(crate) fn notify(&self) {
        let wakers = std::mem::take(&mut self.state.lock().wakers);
        self.changed.notify_all();
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// Blocks until `ready()` holds or `deadline` passes (`None`: no deadline); returns whether
    /// it holds. `ready` must only read atomics (it runs under the watch's lock).
    pub(crate) fn wait(&self, mut ready: impl FnMut() -> bool, deadline: Option<Instant>) -> bool {
        let mut state = self.state.lock();
        loop {
            if ready() {
                return true;
            }
            match deadline {
                None => self.changed.wait(&mut state),
                Some(deadline) => {
                    if self.changed.wait_until(&mut state, deadline).timed_out() {
                        return ready();
                    }
                }
            }
        }
    }

    /// For a future: registers `waker` under `key` (given a key on first use) unless `ready()`
    /// holds; returns whether it holds. The next change wakes the waker once.
    pub(crate) fn register(
        &self,
        key: &mut Option<u64>,
        waker: &Waker,
        ready: impl Fn() -> bool,
    ) -> bool {
        if ready() {
            return true;
        }
        let mut state = self.state.lock();
        let key = *key.get_or_insert_with(|| {
            state.next_key += 1;
            state.next_key
        });
        match state.wakers.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) if old.will_wake(waker) => {}
            Some((_, old)) => old.clone_from(waker),
            None => state.wakers.push((key, waker.clone())),
        }
        drop(state);
        // A change published before the registration was seen by the notifier without this
        // waker: look once more.
        ready()
    }

    /// Forgets the waker registered under `key` (a future dropped before it resolved).
    pub(crate) fn deregister(&self, key: Option<u64>) {
        if let Some(key) = key {
            self.state.lock().wakers.retain(|(k, _)| *k != key);
        }
    }
}

/// A future's place among the wakers of the watch of `owner` (a job): registered when polled,
/// forgotten when dropped. Both futures that wait on a job ([`JobSettled`] and [`Revoked`]) are
/// one of these plus their condition.
///
/// [`JobSettled`]: crate::JobSettled
/// [`Revoked`]: crate::Revoked
pub(crate) struct Registration<T: AsRef<Watch>> {
    owner: Arc<T>,
    /// The key of the registered waker, once polled.
    key: Option<u64>,
}

impl<T: AsRef<Watch>> Registration<T> {
    /// Not registered yet: the first poll registers.
    pub(crate) fn new(owner: Arc<T>) -> Registration<T> {
        Registration { owner, key: None }
    }

    /// What it watches.
    pub(crate) fn owner(&self) -> &T {
        &self.owner
    }

    /// `Ready` if `ready(owner)` holds; otherwise registers the waker of `cx` for the next change.
    /// `ready` must only read atomics (it may run under the watch's lock).
    pub(crate) fn poll(&mut self, cx: &Context<'_>, ready: impl Fn(&T) -> bool) -> Poll<()> {
        let owner = &*self.owner;
        if owner.as_ref().register(&mut self.key, cx.waker(), || ready(owner)) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T: AsRef<Watch>> Drop for Registration<T> {
    fn drop(&mut self) {
        AsRef::<Watch>::as_ref(&*self.owner).deregister(self.key);
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch").field("pending_futures", &self.state.lock().wakers.len()).finish()
    }
}
