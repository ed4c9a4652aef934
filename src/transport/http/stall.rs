//! Waits that a stop interrupts (DESIGN 6.2: the maximum download time, a suspend or a cancel
//! interrupts a read that is blocked; it does not wait for the read to time out; DESIGN 6.1:
//! nothing stuck).
//!
//! Every connection's transport is wrapped in [`Sliceable`] (by the [`Interruptible`]
//! connector, last in the agent's chain), which waits for input in slices of at most [`SLICE`]
//! and looks at the job's stop flag between them. The job's read timeout keeps its meaning: the
//! wrapper counts the time without input across the slices and reports ureq's own timeout once
//! it reaches the whole read timeout, which the transport maps to `ERROR_TIMEOUT` as before.
//!
//! - **A body** is read through [`read`]: a slice that ends with nothing received returns to the
//!   read loop, which looks at the stop flag and reads again. A body read left after a slice
//!   keeps its connection and its buffered bytes (ureq keeps both on an error of the transport),
//!   so the next read goes on where it stopped.
//! - **A request and its response head** are made by [`call`]. ureq cannot go on with a request
//!   after any error of the transport while it connects, sends the request or reads the head
//!   (the call is consumed), so there a slice must not return to ureq: the wrapper loops over
//!   the slices itself and returns only with input, the real timeout, or a stop. The stop flag
//!   of the job is a method of the transfer's sink, which only the worker's thread may call, and
//!   a wait inside ureq cannot reach it: so [`call`] runs ureq's call on a companion thread
//!   (`bgcopy-http-call`, one per calling thread, kept for its next call) and the worker waits
//!   for the answer in slices, looking at the stop flag between them. On a stop the worker returns [`TransferError::Stopped`] at once and lets
//!   the call go by dropping the channel the call's thread watches: that thread's wrapper ends
//!   its wait within a slice (and refuses to send or to connect), ureq drops the connection, and
//!   the server sees it closed; the worker forgets that companion (it ends after the call), and
//!   its next call starts another. A proxy's `CONNECT` answer is awaited the same way (ureq makes
//!   the proxy connection through the agent's chain, so it is wrapped too; so is a SOCKS
//!   proxy's connection, which carries the request once the proxy has connected). The TCP
//!   connect, a SOCKS proxy's handshake and a TLS handshake are not sliced (they run below the
//!   wrapper): a stop frees the worker at once there too, and the call's thread ends on its own
//!   within the connect timeout.
//! - **A panic** on a call's thread (a bug, in ureq or in the connector chain) is caught there
//!   and answered as an error, which the transport reports as a fatal `E_UNEXPECTED` quoting
//!   the panic ([`lost_call`]); it does not reach the worker's thread.

use super::TransferError;
use super::failure::body_error;
use crate::{BgErrorContext, hresult};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::fmt;
use std::io::{self, Read};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};
use ureq::Body;
use ureq::http::{Request, Response};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, Transport, time,
};

/// The longest wait for input between two looks at the stop flag.
pub(super) const SLICE: Duration = Duration::from_millis(250);

thread_local! {
    /// Whether this thread reads a body through [`read`]: its waits for input are sliced.
    static SLICED: Cell<bool> = const { Cell::new(false) };
    /// On a call's own thread ([`call`]): the channel whose sender the worker drops to stop the
    /// call (nothing is ever sent on it).
    static CALL_STOP: RefCell<Option<Receiver<Infallible>>> = const { RefCell::new(None) };
}

/// What a call's answer is.
type Answer = Result<Response<Body>, ureq::Error>;

/// One call handed to a companion thread ([`call`]).
struct Job {
    agent: ureq::Agent,
    request: Request<()>,
    /// Dropped by the caller to stop the call (nothing is ever sent on it).
    stop: Receiver<Infallible>,
    answer: Sender<Answer>,
}

thread_local! {
    /// The thread the calls of this thread run on, kept for its next call (a thread per call
    /// costs tens of microseconds, a hand-over a few). A call given up on a stop keeps its
    /// companion busy: the caller forgets it then (the companion ends after that call, its
    /// channel closed), and its next call starts another.
    static COMPANION: RefCell<Option<Sender<Job>>> = const { RefCell::new(None) };
}

/// This thread's companion, started if it has none.
fn companion() -> io::Result<Sender<Job>> {
    COMPANION.with_borrow_mut(|kept| {
        if let Some(companion) = kept {
            return Ok(companion.clone());
        }
        let (jobs, next) = mpsc::channel::<Job>();
        thread::Builder::new().name("bgcopy-http-call".to_owned()).spawn(move || {
            for job in next {
                CALL_STOP.set(Some(job.stop));
                // A panic (a bug, in ureq or in the connector chain) ends the call, not the
                // thread: the caller gets it as an answer and reports it.
                let answer = panic::catch_unwind(AssertUnwindSafe(|| job.agent.run(job.request)))
                    .unwrap_or_else(|payload| Err(panicked(payload.as_ref())));
                CALL_STOP.set(None);
                // After a stop nobody waits: the answer is dropped, and its connection closed.
                let _ = job.answer.send(answer);
            }
        })?;
        *kept = Some(jobs.clone());
        Ok(jobs)
    })
}

/// Forgets this thread's companion (it is busy with a call given up, or gone).
fn forget_companion() {
    COMPANION.set(None);
}

/// Makes `request` on `agent` (connects, sends the request, reads the response head) and
/// returns the response, its body not read yet, or ureq's error (or, for a call whose thread
/// panicked or gave no answer, the error [`lost_call`] maps); gives up within about
/// [`SLICE`] of `stop` turning true with the error [`is_stop`] tells (the caller's
/// [`TransferError::Stopped`]). The call runs on a companion thread (see the module doc and
/// [`COMPANION`]), so that its waits can end on a stop without the job's sink; the caller's
/// thread waits for it.
pub(super) fn call(
    agent: &ureq::Agent,
    request: Request<()>,
    stop: &dyn Fn() -> bool,
) -> Result<Response<Body>, ureq::Error> {
    if stop() {
        return Err(stopped());
    }
    let (answer_tx, answer) = mpsc::channel();
    // Dropping `stop_tx` stops the call: its thread sees the channel disconnected.
    let (stop_tx, stop_rx) = mpsc::channel::<Infallible>();
    let no_thread = |e: io::Error| {
        lost(TransferError::transient(
            TransferError::from_io(&e, BgErrorContext::GeneralTransport).hresult(),
            BgErrorContext::GeneralTransport,
            format!("no thread for the request: {e}"),
        ))
    };
    let mut job = Some(Job { agent: agent.clone(), request, stop: stop_rx, answer: answer_tx });
    // A companion that ended (it cannot, but a closed channel says so) is replaced once.
    for _ in 0..2 {
        let Some(next) = job.take() else { break };
        if let Err(mpsc::SendError(back)) = companion().map_err(no_thread)?.send(next) {
            forget_companion();
            job = Some(back);
        }
    }
    if job.is_some() {
        return Err(lost(TransferError::transient(
            hresult::E_UNEXPECTED,
            BgErrorContext::GeneralTransport,
            "no thread took the request",
        )));
    }
    loop {
        match answer.recv_timeout(SLICE) {
            Ok(answer) => return answer,
            Err(RecvTimeoutError::Timeout) => {
                if stop() {
                    drop(stop_tx);
                    forget_companion();
                    return Err(stopped());
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                forget_companion();
                return Err(lost(TransferError::transient(
                    hresult::E_UNEXPECTED,
                    BgErrorContext::GeneralTransport,
                    "the request's thread ended without an answer",
                )));
            }
        }
    }
}

/// The failure of a call ([`call`]) that ended without ureq's answer: its thread panicked
/// (fatal `E_UNEXPECTED`, the panic's message in the reason), could not start, or ended
/// without an answer (transient). `None` for ureq's own errors.
pub(super) fn lost_call(error: &ureq::Error) -> Option<TransferError> {
    let ureq::Error::Io(e) = error else { return None };
    e.get_ref()?.downcast_ref::<CallLost>().map(|lost| lost.0.clone())
}

/// The error a call ends with when it has no answer from ureq.
fn lost(error: TransferError) -> ureq::Error {
    ureq::Error::Io(io::Error::other(CallLost(error)))
}

/// The answer of a call whose thread panicked with `payload`: a bug, so fatal, and the reason
/// says what the panic said.
fn panicked(payload: &(dyn Any + Send)) -> ureq::Error {
    let said = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    lost(TransferError::fatal(
        hresult::E_UNEXPECTED,
        BgErrorContext::GeneralTransport,
        format!("the request failed on an internal error (a panic: {})", said.trim()),
    ))
}

/// Whether `error` is a call's end on a stop ([`call`]).
pub(super) fn is_stop(error: &ureq::Error) -> bool {
    matches!(error, ureq::Error::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<StopAsked>()))
}

/// The error a stopped call ends with.
fn stopped() -> ureq::Error {
    ureq::Error::Io(io::Error::new(io::ErrorKind::Interrupted, StopAsked))
}

/// Whether this thread runs a call ([`call`]), and if so whether the worker stopped it.
fn call_stopped() -> Option<bool> {
    CALL_STOP.with_borrow(|stop| {
        stop.as_ref().map(|stop| !matches!(stop.try_recv(), Err(TryRecvError::Empty)))
    })
}

/// Reads from a response body into `buf`, as [`Read::read`], but gives up with
/// [`TransferError::Stopped`] within about [`SLICE`] of `stop` turning true while the read
/// waits for input. Other failures are mapped as [`body_error`] maps them (a read that receives
/// nothing for the read timeout is `ERROR_TIMEOUT`).
pub(super) fn read(
    reader: &mut impl Read,
    buf: &mut [u8],
    stop: impl Fn() -> bool,
) -> Result<usize, TransferError> {
    let _sliced = SlicedScope::enter();
    loop {
        match reader.read(buf) {
            Err(error) if is_slice(&error) => {
                if stop() {
                    return Err(TransferError::Stopped);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            other => return other.map_err(body_error),
        }
    }
}

/// Slices this thread's waits for input until dropped (then restores what was before).
struct SlicedScope {
    before: bool,
}

impl SlicedScope {
    fn enter() -> SlicedScope {
        SlicedScope { before: SLICED.replace(true) }
    }
}

impl Drop for SlicedScope {
    fn drop(&mut self) {
        SLICED.set(self.before);
    }
}

/// A slice of a wait ended with nothing received; the whole wait has not.
#[derive(Debug)]
struct SliceElapsed;

impl fmt::Display for SliceElapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no input yet; the read goes on")
    }
}

impl std::error::Error for SliceElapsed {}

/// A call ([`call`]) ended without ureq's answer; the failure to report.
#[derive(Debug)]
struct CallLost(TransferError);

impl fmt::Display for CallLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for CallLost {}

/// The job stopped while a call ([`call`]) waited.
#[derive(Debug)]
struct StopAsked;

impl fmt::Display for StopAsked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the job stopped; the request is given up")
    }
}

impl std::error::Error for StopAsked {}

fn is_slice(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<SliceElapsed>())
}

/// The connector that wraps every connection's transport in a [`Sliceable`].
#[derive(Debug, Default)]
pub(super) struct Interruptible;

impl<In: Transport> Connector<In> for Interruptible {
    type Out = Sliceable<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if call_stopped() == Some(true) {
            return Err(stopped());
        }
        Ok(chained.map(|inner| Sliceable { inner, quiet_since: None }))
    }
}

/// A transport whose waits for input are cut in slices while [`read`] reads a body or [`call`]
/// makes a request.
#[derive(Debug)]
pub(super) struct Sliceable<T> {
    inner: T,
    /// When the current wait began receiving nothing (over the slices so far).
    quiet_since: Option<Instant>,
}

impl<T: Transport> Transport for Sliceable<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if call_stopped() == Some(true) {
            return Err(stopped());
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if SLICED.get() {
            return self.await_body_input(timeout);
        }
        self.quiet_since = None;
        match call_stopped() {
            None => self.inner.await_input(timeout),
            Some(_) => self.await_call_input(timeout),
        }
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

impl<T: Transport> Sliceable<T> {
    /// A wait while [`read`] reads a body: one slice, ended by an error that [`read`] takes for
    /// "look at the stop flag and read again", or the rest of the whole wait.
    fn await_body_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let whole = timeout.for_read();
        let since = *self.quiet_since.get_or_insert_with(Instant::now);
        let left = whole.after.saturating_sub(since.elapsed());
        if left <= SLICE {
            // The last slice is the rest of the whole wait: its timeout is the real one.
            self.quiet_since = None;
            return self.inner.await_input(wait_of(left, &whole, &timeout));
        }
        match self.inner.await_input(wait_of(SLICE, &whole, &timeout)) {
            Err(error) if slice_ended(&error) => {
                Err(ureq::Error::Io(io::Error::new(io::ErrorKind::WouldBlock, SliceElapsed)))
            }
            other => {
                self.quiet_since = None;
                other
            }
        }
    }

    /// A wait in a call's thread ([`call`]): the whole wait, in slices, each followed by a look
    /// at the stop; ureq sees only input, the real timeout, or the stop.
    fn await_call_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let whole = timeout.for_read();
        let began = Instant::now();
        loop {
            if call_stopped() == Some(true) {
                return Err(stopped());
            }
            let left = whole.after.saturating_sub(began.elapsed());
            if left <= SLICE {
                return self.inner.await_input(wait_of(left, &whole, &timeout));
            }
            match self.inner.await_input(wait_of(SLICE, &whole, &timeout)) {
                Err(error) if slice_ended(&error) => {}
                other => return other,
            }
        }
    }
}

/// A wait of `after` (at least a millisecond) within the whole wait `whole` of `timeout`: the
/// inner transport applies no per-read timeout of its own.
fn wait_of(after: Duration, whole: &NextTimeout, timeout: &NextTimeout) -> NextTimeout {
    NextTimeout {
        after: time::Duration::Exact(after.max(Duration::from_millis(1))),
        reason: whole.reason,
        per_read: None,
        per_write: timeout.per_write,
    }
}

/// Whether the inner transport's wait ended with nothing received (its timeout).
fn slice_ended(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(e) => {
            matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body that has nothing for `slices` waits, then `data`.
    struct Quiet {
        slices: usize,
        data: &'static [u8],
    }

    impl Read for Quiet {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.slices > 0 {
                self.slices -= 1;
                return Err(io::Error::new(io::ErrorKind::WouldBlock, SliceElapsed));
            }
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_goes_on_over_empty_slices_while_the_job_runs() {
        let mut body = Quiet { slices: 3, data: b"abc" };
        let mut buf = [0u8; 8];
        assert_eq!(read(&mut body, &mut buf, || false).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        assert!(!SLICED.get(), "the slicing ends with the read");
    }

    #[test]
    fn a_stop_ends_a_read_after_an_empty_slice() {
        let mut body = Quiet { slices: 1, data: b"abc" };
        let mut buf = [0u8; 8];
        assert!(matches!(read(&mut body, &mut buf, || true), Err(TransferError::Stopped)));
    }

    /// A transport that receives nothing for `quiet` waits, then input; it counts its waits.
    /// With `stop_after`, the worker stops the call after that many waits (the sender dropped).
    #[derive(Debug)]
    struct QuietTransport {
        buffers: ureq::unversioned::transport::LazyBuffers,
        quiet: usize,
        waits: usize,
        stop_after: Option<(usize, mpsc::Sender<Infallible>)>,
    }

    impl Transport for QuietTransport {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }
        fn transmit_output(&mut self, _: usize, _: NextTimeout) -> Result<(), ureq::Error> {
            Ok(())
        }
        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
            assert!(timeout.after <= time::Duration::Exact(SLICE), "a wait of one slice at most");
            self.waits += 1;
            if self.stop_after.as_ref().is_some_and(|(after, _)| self.waits >= *after) {
                self.stop_after = None;
            }
            if self.quiet == 0 {
                return Ok(true);
            }
            self.quiet -= 1;
            Err(ureq::Error::Timeout(timeout.reason))
        }
        fn is_open(&mut self) -> bool {
            true
        }
    }

    /// A wrapped [`QuietTransport`] on a call's thread (this test's), with the worker's end of
    /// the stop channel kept by the transport until `stop_after` waits (never for `None`).
    fn in_a_call(quiet: usize, stop_after: Option<usize>) -> Sliceable<QuietTransport> {
        let (worker, stop) = mpsc::channel::<Infallible>();
        CALL_STOP.set(Some(stop));
        let stop_after = Some((stop_after.unwrap_or(usize::MAX), worker));
        let buffers = ureq::unversioned::transport::LazyBuffers::new(64, 64);
        let inner = QuietTransport { buffers, quiet, waits: 0, stop_after };
        Sliceable { inner, quiet_since: None }
    }

    fn an_hour() -> NextTimeout {
        NextTimeout {
            after: time::Duration::Exact(Duration::from_secs(3600)),
            reason: ureq::Timeout::RecvResponse,
            per_read: None,
            per_write: None,
        }
    }

    #[test]
    fn in_a_call_a_wait_goes_on_over_quiet_slices_inside_the_transport() {
        let mut transport = in_a_call(3, None);
        let answer = transport.await_input(an_hour());
        CALL_STOP.set(None);
        assert!(answer.unwrap(), "ureq sees the input, never a slice");
        assert_eq!(transport.inner.waits, 4);
    }

    #[test]
    fn in_a_call_a_stop_ends_the_wait_after_a_quiet_slice_and_nothing_more_is_sent() {
        let mut transport = in_a_call(10, Some(2));
        let answer = transport.await_input(an_hour());
        let sent = transport.transmit_output(0, an_hour());
        CALL_STOP.set(None);
        assert!(is_stop(&answer.unwrap_err()));
        assert_eq!(transport.inner.waits, 2, "the stop is seen after the slice it came in");
        assert!(is_stop(&sent.unwrap_err()));
    }

    #[test]
    fn a_call_stopped_before_it_starts_sends_nothing() {
        let agent = ureq::Agent::new_with_defaults();
        let request = Request::get("http://127.0.0.1:9/").body(()).unwrap();
        assert!(is_stop(&call(&agent, request, &|| true).unwrap_err()));
    }

    /// A connector with a bug: it panics.
    #[derive(Debug)]
    struct Panics;

    impl Connector<()> for Panics {
        type Out = Box<dyn Transport>;

        fn connect(
            &self,
            _: &ConnectionDetails,
            _: Option<()>,
        ) -> Result<Option<Self::Out>, ureq::Error> {
            panic!("a connector's bug");
        }
    }

    #[test]
    fn a_panic_on_the_calls_thread_is_a_fatal_unexpected_failure_that_names_it() {
        let config = ureq::config::Config::default();
        let resolver = ureq::unversioned::resolver::DefaultResolver::default();
        let agent = ureq::Agent::with_parts(config, Panics, resolver);
        // An address: nothing is looked up before the connector is asked.
        let request = Request::get("http://127.0.0.1:9/").body(()).unwrap();
        let error = call(&agent, request, &|| false).unwrap_err();
        assert!(!is_stop(&error));
        let failure = lost_call(&error).expect("the lost call's failure");
        assert_eq!(failure.hresult(), crate::hresult::E_UNEXPECTED);
        assert!(!failure.is_transient());
        assert!(failure.to_string().contains("a connector's bug"), "{failure}");
        assert_eq!(super::super::client::request_error(error, false), failure);
    }

    #[test]
    fn ureqs_own_errors_are_not_a_lost_call() {
        assert!(lost_call(&ureq::Error::ConnectionFailed).is_none());
        assert!(lost_call(&stopped()).is_none());
        assert!(lost_call(&ureq::Error::Io(io::Error::other("other"))).is_none());
    }

    #[test]
    fn a_real_timeout_is_a_stall() {
        struct Stalled;
        impl Read for Stalled {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(ureq::Error::Timeout(ureq::Timeout::PerRead).into_io())
            }
        }
        let error = read(&mut Stalled, &mut [0u8; 8], || false).unwrap_err();
        assert_eq!(error.hresult(), crate::hresult::ERROR_TIMEOUT_HR);
    }
}
