//! [`Events`]: the one queue a waiting verb sleeps on, fed by a job's or a manager's
//! `Subscription`, by Ctrl-C (the `ctrlc` crate's handler thread) and by the end of stdin. The
//! verb blocks in [`Events::next`] until something happens or its display is due for a
//! refresh; nothing polls a job.

use bgcopy::{Notification, Subscription};
use std::io::Read;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

/// Something a waiting verb reacts to.
#[derive(Debug)]
pub(crate) enum Event {
    /// A notification of the subscription.
    Job(Notification),
    /// The subscription ended (the job is final, or the manager shut down).
    Ended,
    /// Ctrl-C.
    Interrupted,
    /// Stdin reached its end.
    InputClosed,
}

/// The queue of events.
#[derive(Debug)]
pub(crate) struct Events {
    sender: Sender<Event>,
    receiver: Receiver<Event>,
}

impl Events {
    /// A queue that receives Ctrl-C from now on: the first as [`Event::Interrupted`] (the verb
    /// then stops durably), a second one ends the process with 130 at once. One per process.
    pub(crate) fn with_interrupts() -> Events {
        let (sender, receiver) = mpsc::channel();
        let interrupts = sender.clone();
        let mut delivered = false; // the handler runs on one thread, ctrlc's own
        let installed = ctrlc::set_handler(move || {
            if std::mem::replace(&mut delivered, true) {
                eprintln!("bgcopy: interrupted again: exiting now");
                std::process::exit(130);
            }
            let _ = interrupts.send(Event::Interrupted);
        });
        if let Err(error) = installed {
            eprintln!("bgcopy: warning: Ctrl-C cannot be handled ({error}); it stops at once");
        }
        Events { sender, receiver }
    }

    /// Feeds `subscription`'s notifications into the queue, from a thread of its own, then
    /// [`Event::Ended`].
    pub(crate) fn forward(&self, subscription: Subscription) {
        let sender = self.sender.clone();
        let spawned = std::thread::Builder::new().name("bgcopy-events".into()).spawn(move || {
            for notification in subscription {
                if sender.send(Event::Job(notification)).is_err() {
                    return;
                }
            }
            let _ = sender.send(Event::Ended);
        });
        if let Err(error) = spawned {
            eprintln!("bgcopy: warning: cannot follow the job's events ({error})");
        }
    }

    /// Sends [`Event::InputClosed`] when stdin reaches its end (what it holds is discarded).
    pub(crate) fn watch_input(&self) {
        let sender = self.sender.clone();
        let _ = std::thread::Builder::new().name("bgcopy-stdin".into()).spawn(move || {
            let mut sink = [0u8; 512];
            let mut stdin = std::io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = sender.send(Event::InputClosed);
        });
    }

    /// The next event, waiting at most `timeout`; `None` when the time is up.
    pub(crate) fn next(&self, timeout: Duration) -> Option<Event> {
        // The queue holds a sender itself, so it is never disconnected: `None` is the timeout.
        self.receiver.recv_timeout(timeout).ok()
    }
}
