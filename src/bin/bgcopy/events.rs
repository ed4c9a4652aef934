//! [`Events`]: the one queue a waiting verb sleeps on, fed by a job's or a manager's
//! `Subscription`, by the signals that ask the process to stop (a thread of its own) and by the
//! end of stdin. The verb blocks in [`Events::next`] until something happens or its display is
//! due for a refresh; nothing polls a job.
//!
//! Signals (DESIGN 6.1): SIGINT (Ctrl-C), SIGTERM (`kill`, systemd, a container runtime) and
//! SIGHUP (the terminal went away) all stop a waiting verb the same way, durably, and it exits
//! with 128 plus the signal's number (130, 143, 129). On Unix they come from `signal-hook`'s
//! iterator rather than from `ctrlc`: `ctrlc`'s `termination` feature adds SIGTERM and SIGHUP
//! but its handler is not told which signal arrived, and the exit code needs the number;
//! `signal-hook` (the signal crate tokio builds on) delivers each signal's number to a thread
//! of ours, without `unsafe` here. On Windows, `ctrlc` with its `termination` feature takes
//! Ctrl-C, Ctrl-Break and the console's close, logoff and shutdown events, all as SIGINT (130):
//! there are no signal numbers, and Windows ends the process soon after a close event, so the
//! durable stop there is a best effort.

use bgcopy::{Notification, Subscription};
use std::io::Read;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

/// A signal that asks the process to stop, by its Unix number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stop(pub(crate) i32);

impl Stop {
    /// SIGINT: Ctrl-C (and every console event on Windows).
    pub(crate) const INTERRUPT: Stop = Stop(2);
    /// SIGHUP's number on every Unix.
    const HANGUP: i32 = 1;
    /// SIGTERM's number on every Unix.
    const TERMINATE: i32 = 15;

    /// The exit code: 128 plus the signal's number, as a shell reports a process the signal
    /// ended.
    pub(crate) fn exit_code(self) -> u8 {
        u8::try_from(128 + self.0.clamp(0, 127)).unwrap_or(u8::MAX)
    }

    /// What happened, in a word, for the messages.
    pub(crate) fn word(self) -> &'static str {
        match self.0 {
            Stop::TERMINATE => "terminated",
            Stop::HANGUP => "hung up",
            _ => "interrupted",
        }
    }
}

/// Something a waiting verb reacts to.
#[derive(Debug)]
pub(crate) enum Event {
    /// A notification of the subscription.
    Job(Notification),
    /// The subscription ended (the job is final, or the manager shut down).
    Ended,
    /// Ctrl-C, SIGTERM or SIGHUP: stop durably.
    Interrupted(Stop),
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
    /// A queue that receives the stop signals from now on (SIGINT, SIGTERM, SIGHUP): the first
    /// as [`Event::Interrupted`] (the verb then stops durably), a second one ends the process at
    /// once with 128 plus its number. One per process.
    pub(crate) fn with_interrupts() -> Events {
        let (sender, receiver) = mpsc::channel();
        let interrupts = sender.clone();
        let mut delivered = false; // one thread delivers them all
        let deliver = move |stop: Stop| {
            if std::mem::replace(&mut delivered, true) {
                say!("bgcopy: {} again: exiting now", stop.word());
                std::process::exit(stop.exit_code().into());
            }
            let _ = interrupts.send(Event::Interrupted(stop));
        };
        if let Err(error) = on_stop_signals(deliver) {
            say!(
                "bgcopy: warning: Ctrl-C and SIGTERM cannot be handled ({error}); they stop at once"
            );
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
            say!("bgcopy: warning: cannot follow the job's events ({error})");
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

/// Calls `deliver` for each SIGINT, SIGTERM and SIGHUP, from a thread of its own.
#[cfg(unix)]
fn on_stop_signals(mut deliver: impl FnMut(Stop) + Send + 'static) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    debug_assert_eq!((SIGINT, SIGHUP, SIGTERM), (Stop::INTERRUPT.0, Stop::HANGUP, Stop::TERMINATE));
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| e.to_string())?;
    let spawned = std::thread::Builder::new().name("bgcopy-signals".into()).spawn(move || {
        for signal in signals.forever() {
            deliver(Stop(signal));
        }
    });
    spawned.map(drop).map_err(|e| e.to_string())
}

/// Calls `deliver` for each console event (Ctrl-C, Ctrl-Break, close, logoff, shutdown), as
/// SIGINT, from `ctrlc`'s thread.
#[cfg(windows)]
fn on_stop_signals(mut deliver: impl FnMut(Stop) + Send + 'static) -> Result<(), String> {
    ctrlc::set_handler(move || deliver(Stop::INTERRUPT)).map_err(|e| e.to_string())
}

/// No signals to handle elsewhere.
#[cfg(not(any(unix, windows)))]
fn on_stop_signals(_deliver: impl FnMut(Stop) + Send + 'static) -> Result<(), String> {
    Err("no signal handling on this platform".to_owned())
}
