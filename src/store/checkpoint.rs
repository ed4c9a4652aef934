//! The checkpointer: a thread that records the progress of a store's jobs at a bounded rate
//! (once per interval, one durable commit per job whose bytes moved: sync its temporary files,
//! then record), so that transfer threads only ever touch their atomic counters and a restart
//! resumes from the bytes of the last checkpoint. A small job with `HighPerformance` takes none
//! (see [`JobShared::skips_progress_checkpoints`]). It ends when its manager's service does, or
//! when the registry is gone.

use crate::job::JobShared;
use crate::registry::Registry;
use parking_lot::{Condvar, Mutex};
use std::fmt;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The default interval between two checkpoints of a job that is transferring.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// The running checkpointer; dropping it asks the thread to stop without waiting for it.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts checkpointing the jobs of `registry` every `interval`.
    pub(crate) fn start(registry: Weak<Registry<JobShared>>, interval: Duration) -> Checkpointer {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bgcopy-checkpointer".into())
            .spawn(move || run(&registry, interval, &flag))
            .ok();
        Checkpointer { stop, thread: Mutex::new(thread) }
    }

    /// Asks the thread to stop; with `wait`, waits until it has.
    pub(crate) fn stop(&self, wait: bool) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if wait
            && let Some(thread) = self.thread.lock().take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// Records the progress of every job of `registry` that moved; a failure is left for the next
/// round (the record keeps its last bytes, which stay correct).
pub(crate) fn checkpoint_all(registry: &Registry<JobShared>) {
    for job in registry.list() {
        if job.skips_progress_checkpoints() {
            continue;
        }
        let _ = job.checkpoint();
    }
}

fn run(registry: &Weak<Registry<JobShared>>, interval: Duration, stop: &(Mutex<bool>, Condvar)) {
    loop {
        // Checked: an interval too long for the clock means no checkpoint until the final one
        // (`Manager::shutdown`), never a panic that ends the thread (DESIGN 6.1).
        let deadline = Instant::now().checked_add(interval);
        {
            let mut stopped = stop.0.lock();
            while !*stopped && deadline.is_none_or(|deadline| Instant::now() < deadline) {
                match deadline {
                    Some(deadline) => {
                        let _ = stop.1.wait_until(&mut stopped, deadline);
                    }
                    None => stop.1.wait(&mut stopped),
                }
            }
            if *stopped {
                return;
            }
        }
        let Some(registry) = registry.upgrade() else { return };
        checkpoint_all(&registry);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop(false);
    }
}

impl fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpointer").field("stopped", &*self.stop.0.lock()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_of_duration_max_means_never_and_the_thread_lives_until_stopped() {
        for interval in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            let checkpointer = Checkpointer::start(Weak::new(), interval);
            checkpointer.stop(false);
            let thread = checkpointer.thread.lock().take().expect("the thread started");
            assert!(thread.join().is_ok(), "the checkpointer thread panicked");
        }
    }
}
