//! Body reads that a stop interrupts (DESIGN 6.2: the maximum download time, a suspend or a
//! cancel interrupts a read that is blocked; it does not wait for the read to time out).
//!
//! Every connection's transport is wrapped in [`Sliceable`] (by the [`Interruptible`]
//! connector, last in the agent's chain). While a body is read through [`read`], the wrapper
//! waits for input in slices of at most [`SLICE`]: a slice that ends with nothing received
//! returns to the read loop, which looks at the job's stop flag and reads again. The job's read
//! timeout keeps its meaning: the wrapper counts the time without input across the slices and
//! reports ureq's own timeout once it reaches the whole read timeout, which the transport maps
//! to `ERROR_TIMEOUT` as before. A body read left after a slice keeps its connection and its
//! buffered bytes (ureq keeps both on an error of the transport), so the next read goes on
//! where it stopped. Response heads are read as before, in one wait of the read timeout.

use super::TransferError;
use super::client::body_error;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, NextTimeout, Transport, time,
};

/// The longest wait for input between two looks at the stop flag while a body is read.
pub(super) const SLICE: Duration = Duration::from_millis(250);

thread_local! {
    /// Whether this thread reads a body through [`read`]: its waits for input are sliced.
    static SLICED: Cell<bool> = const { Cell::new(false) };
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
        Ok(chained.map(|inner| Sliceable { inner, quiet_since: None }))
    }
}

/// A transport whose waits for input are cut in slices while [`read`] reads a body.
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
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if !SLICED.get() {
            self.quiet_since = None;
            return self.inner.await_input(timeout);
        }
        let whole = timeout.for_read();
        let since = *self.quiet_since.get_or_insert_with(Instant::now);
        let left = whole.after.saturating_sub(since.elapsed());
        if left <= SLICE {
            // The last slice is the rest of the whole wait: its timeout is the real one.
            self.quiet_since = None;
            let last = NextTimeout {
                after: time::Duration::Exact(left.max(Duration::from_millis(1))),
                reason: whole.reason,
                per_read: None,
                per_write: timeout.per_write,
            };
            return self.inner.await_input(last);
        }
        let slice = NextTimeout {
            after: time::Duration::Exact(SLICE),
            reason: whole.reason,
            per_read: None,
            per_write: timeout.per_write,
        };
        match self.inner.await_input(slice) {
            Err(ureq::Error::Timeout(_)) => {
                Err(ureq::Error::Io(io::Error::new(io::ErrorKind::WouldBlock, SliceElapsed)))
            }
            Err(ureq::Error::Io(e))
                if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) =>
            {
                Err(ureq::Error::Io(io::Error::new(io::ErrorKind::WouldBlock, SliceElapsed)))
            }
            other => {
                self.quiet_since = None;
                other
            }
        }
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
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
