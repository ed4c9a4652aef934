//! Helpers for the engine tests: waiting for conditions with a generous timeout, and scripted
//! transports for made-up schemes (gated, throttled, failing, recording).

#![allow(dead_code)]

use bgcopy::clock::ManualClock;
use bgcopy::transport::{TransferError, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use parking_lot::{Condvar, Mutex};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a test waits for something that should happen (generous: never a speed check).
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until `done` holds, panicking with `what` after [`PATIENCE`].
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until the job is in `state`, failing early with the job's error if it lands in `Error`.
/// Wakes on the job's own changes (`Job::wait_until`), never on a timer.
pub(crate) fn wait_state(job: &Job, state: BgJobState) {
    let now = job.wait_until(PATIENCE, |now| now == state || now == BgJobState::Error);
    if now == BgJobState::Error && state != BgJobState::Error {
        let error = job.get_error().map(|e| (e.get_error(), e.message().to_owned()));
        panic!("job failed while waiting for {state:?}: {error:?}");
    }
    assert_eq!(now, state, "timed out waiting for {state:?}");
}

/// A manager whose engine runs on a clock that only moves when the test says so.
pub(crate) fn manual_manager(transports: Vec<Arc<dyn Transport>>) -> (Manager, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let mut builder = Manager::builder().clock(clock.clone());
    for transport in transports {
        builder = builder.transport(transport);
    }
    (builder.build(), clock)
}

/// Writes `len` bytes of a recognisable pattern to `path`.
pub(crate) fn write_pattern(path: &Path, len: usize, seed: u8) -> Vec<u8> {
    let data: Vec<u8> =
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8).collect();
    std::fs::write(path, &data).expect("write a source file");
    data
}

/// The names in a directory, sorted.
pub(crate) fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the directory")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Stages a test can hold a [`GatedTransport`] at.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    /// The last stage the transport reached.
    reached: u32,
    /// The stage the test lets the transport pass.
    opened: u32,
}

impl Gate {
    /// Waits until the transport reached `stage`.
    pub(crate) fn wait_reached(&self, stage: u32) {
        let mut state = self.state.lock();
        let start = Instant::now();
        while state.reached < stage {
            assert!(start.elapsed() < PATIENCE, "the transport never reached stage {stage}");
            self.cv.wait_for(&mut state, Duration::from_millis(20));
        }
    }

    /// Lets the transport pass `stage`.
    pub(crate) fn open(&self, stage: u32) {
        self.state.lock().opened = stage;
        self.cv.notify_all();
    }

    /// Called by the transport: says it reached `stage`, waits until the test opens it (or the
    /// sink says stop).
    fn pass(&self, stage: u32, sink: &dyn TransferSink) -> Result<(), TransferError> {
        let mut state = self.state.lock();
        state.reached = stage;
        self.cv.notify_all();
        while state.opened < stage {
            if sink.should_stop() {
                return Err(TransferError::Stopped);
            }
            self.cv.wait_for(&mut state, Duration::from_millis(5));
        }
        Ok(())
    }
}

/// Scheme `gated`: holds at stage 1 before touching the sink (the job is `Connecting`), writes
/// half of the body and holds at stage 2 (`Transferring`), then writes the rest.
#[derive(Debug)]
pub(crate) struct GatedTransport {
    pub(crate) gate: Arc<Gate>,
    pub(crate) body: Vec<u8>,
}

impl Transport for GatedTransport {
    fn schemes(&self) -> &[&str] {
        &["gated"]
    }

    fn protocol(&self) -> &str {
        "gated"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        self.gate.pass(1, sink)?;
        sink.set_size(Some(self.body.len() as u64))?;
        let half = self.body.len() / 2;
        let offset = sink.offset() as usize;
        if offset < half {
            sink.write(&self.body[offset..half])?;
        }
        self.gate.pass(2, sink)?;
        let offset = sink.offset() as usize;
        sink.write(&self.body[offset..])
    }
}

/// Scheme `slow`: a body of `size` bytes of value 0x5A, written in 64 KiB pieces with a pause
/// after each; never checks for a stop itself (the sink does). Resumable: it stores a validator
/// and continues at the sink's offset, so the engine may preempt it mid-file.
#[derive(Debug)]
pub(crate) struct SlowTransport {
    pub(crate) size: u64,
    pub(crate) pause: Duration,
}

impl Transport for SlowTransport {
    fn schemes(&self) -> &[&str] {
        &["slow"]
    }

    fn protocol(&self) -> &str {
        "slow"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        sink.set_validator(Some("slow-v1".to_owned()));
        sink.set_size(Some(self.size))?;
        let piece = [0x5Au8; 64 * 1024];
        while sink.offset() < self.size {
            let n = (self.size - sink.offset()).min(piece.len() as u64) as usize;
            sink.write(&piece[..n])?;
            std::thread::sleep(self.pause);
        }
        Ok(())
    }
}

/// Scheme `flaky`: every attempt writes `bytes_per_attempt` bytes of a 1 MiB body, then fails
/// with a transient `BG_E_CONNECTION_CLOSED` (or succeeds once the body is complete).
#[derive(Debug, Default)]
pub(crate) struct FlakyTransport {
    pub(crate) bytes_per_attempt: u64,
    pub(crate) attempts: Mutex<u32>,
}

impl FlakyTransport {
    pub(crate) const SIZE: u64 = 1 << 20;

    pub(crate) fn attempts(&self) -> u32 {
        *self.attempts.lock()
    }
}

impl Transport for FlakyTransport {
    fn schemes(&self) -> &[&str] {
        &["flaky"]
    }

    fn protocol(&self) -> &str {
        "flaky"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        *self.attempts.lock() += 1;
        sink.set_size(Some(Self::SIZE))?;
        let n = self.bytes_per_attempt.min(Self::SIZE - sink.offset());
        sink.write(&vec![1u8; n as usize])?;
        if sink.offset() == Self::SIZE {
            return Ok(());
        }
        Err(TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            "the test server hung up",
        ))
    }
}

/// Scheme `rec`: writes the remote name as the body and records the order of the calls.
#[derive(Debug, Default)]
pub(crate) struct RecordingTransport {
    pub(crate) calls: Mutex<Vec<String>>,
}

impl Transport for RecordingTransport {
    fn schemes(&self) -> &[&str] {
        &["rec"]
    }

    fn protocol(&self) -> &str {
        "rec"
    }

    fn transfer(
        &self,
        request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        self.calls.lock().push(request.remote_name.to_owned());
        let body = request.remote_name.as_bytes();
        sink.set_size(Some(body.len() as u64))?;
        sink.write(body)
    }
}

/// Scheme `once`: like `slow` but not resumable: it stores no validator and starts over from zero
/// whenever an attempt finds bytes from an earlier one (counted in `restarts`).
#[derive(Debug, Default)]
pub(crate) struct NonResumableTransport {
    pub(crate) size: u64,
    pub(crate) pause: Duration,
    pub(crate) restarts: Mutex<u32>,
}

impl Transport for NonResumableTransport {
    fn schemes(&self) -> &[&str] {
        &["once"]
    }

    fn protocol(&self) -> &str {
        "once"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        if sink.offset() > 0 {
            *self.restarts.lock() += 1;
            sink.restart()?;
        }
        sink.set_size(Some(self.size))?;
        let piece = [0xA5u8; 64 * 1024];
        while sink.offset() < self.size {
            let n = (self.size - sink.offset()).min(piece.len() as u64) as usize;
            sink.write(&piece[..n])?;
            std::thread::sleep(self.pause);
        }
        Ok(())
    }
}
