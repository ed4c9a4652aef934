//! A serial executor: runs tasks one at a time, in the order they were posted, on a thread of its
//! own. It knows nothing of jobs; the job layer uses one per manager to deliver callbacks off the
//! callers' and the transfers' threads, in event order.
//!
//! The thread starts with the first task and ends once the executor is dropped and every task
//! posted before has run. A task that panics is caught; later tasks still run. Posting never
//! blocks on a running task.

use parking_lot::Mutex;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Sender, channel};

type Task = Box<dyn FnOnce() + Send>;

/// Runs posted tasks in order on one thread (see the module docs).
pub(crate) struct SerialExecutor {
    name: &'static str,
    /// `None` until the first task starts the thread.
    sender: Mutex<Option<Sender<Task>>>,
}

impl SerialExecutor {
    /// An executor whose thread, once started, is called `name`.
    pub(crate) fn new(name: &'static str) -> SerialExecutor {
        SerialExecutor { name, sender: Mutex::new(None) }
    }

    /// Queues `task` after every task posted before it; starts the thread on first use.
    pub(crate) fn post(&self, task: impl FnOnce() + Send + 'static) {
        let mut sender = self.sender.lock();
        let tx = sender.get_or_insert_with(|| {
            let (tx, rx) = channel::<Task>();
            let spawned = std::thread::Builder::new().name(self.name.into()).spawn(move || {
                while let Ok(task) = rx.recv() {
                    let _ = catch_unwind(AssertUnwindSafe(task));
                }
            });
            // Without a thread (resource exhaustion) the tasks are dropped unrun, as Windows may
            // drop notifications under heavy load; nothing else depends on them.
            drop(spawned);
            tx
        });
        // A send fails only if the thread could not start; the task is dropped then.
        let _ = tx.send(Box::new(task));
    }
}

impl fmt::Debug for SerialExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialExecutor")
            .field("name", &self.name)
            .field("started", &self.sender.lock().is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    #[test]
    fn tasks_run_in_posting_order_off_the_callers_thread() {
        let executor = SerialExecutor::new("test-executor");
        let (tx, rx) = mpsc::channel();
        let me = std::thread::current().id();
        for i in 0..100 {
            let tx = tx.clone();
            executor.post(move || tx.send((i, std::thread::current().id() != me)).unwrap());
        }
        let got: Vec<_> =
            (0..100).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
        assert!(got.iter().enumerate().all(|(i, &(n, off_thread))| n == i && off_thread));
    }

    #[test]
    fn a_panicking_task_does_not_stop_later_ones() {
        let executor = SerialExecutor::new("test-executor");
        let (tx, rx) = mpsc::channel();
        executor.post(|| panic!("a broken callback"));
        executor.post(move || tx.send(()).unwrap());
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn the_thread_ends_after_the_executor_is_dropped_and_the_queue_is_drained() {
        let executor = SerialExecutor::new("test-executor");
        let ran = Arc::new(Mutex::new(0));
        let (tx, rx) = mpsc::channel::<()>();
        for _ in 0..10 {
            let ran = Arc::clone(&ran);
            let tx = tx.clone();
            executor.post(move || {
                *ran.lock() += 1;
                drop(tx);
            });
        }
        drop(tx);
        drop(executor);
        // Every sender is dropped once every task ran: the receiver then reports disconnection.
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_err());
        assert_eq!(*ran.lock(), 10);
    }
}
