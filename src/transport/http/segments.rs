//! A file over several connections (DESIGN 5.3): the connections' threads, each asking the
//! file's [`SegmentedSink`] for a range, fetching it with `Range` and `If-Range`, and asking
//! again. The first connection goes on with the response that showed the file can be
//! segmented; the others start as it begins, up to the job's connection count (and more join
//! when the count is raised, at the next range handed out).
//!
//! Every request here carries `If-Range` with the validator of the bytes already written. An
//! answer that is not a `206` of exactly that content (a `200` naming another validator, a
//! `416`, a `206` that fails the checks of `range.rs`) abandons the segments at once: the
//! caller restarts the file once and starts over, never splicing two versions. A `200` naming
//! the same validator is a server that ignores bounded ranges: the segments stop, and the
//! caller goes on over one connection from the first missing byte. A connection cut or refused
//! retries its range (from its first byte not yet written) a few times; a fatal answer stops
//! every connection.

use super::client::{Client, Method, Ranged};
use super::range::{self, Verdict};
use super::{coded, fresh_validator, partial_headers, unexpected, validators};
use crate::BgErrorContext;
use crate::hresult;
use crate::transport::{SegmentSink, SegmentedSink, TransferError};
use parking_lot::Mutex;
use std::thread::Scope;
use std::time::Duration;
use ureq::Body;
use ureq::http::Response;

/// Bytes read from a body per write (per connection).
const BUFFER: usize = 256 * 1024;
/// Failures in a row, without a byte of progress, after which a connection gives up (the
/// others go on; the job's retry comes if none is left).
const MAX_FAILURES: u32 = 3;

/// How the segments ended.
pub(super) enum Fetched {
    /// Every byte is written.
    Complete,
    /// The content changed: restart the file.
    Changed,
    /// The content is the same, but the server answers bounded ranges with the whole body:
    /// go on with one connection.
    Unsupported,
    /// Bytes are still missing, without a failure to report (ask again).
    Incomplete,
}

/// What one range request achieved.
enum Failure {
    Changed,
    Unsupported,
    Error(TransferError),
}

impl From<TransferError> for Failure {
    fn from(error: TransferError) -> Self {
        Failure::Error(error)
    }
}

/// The connections of one file.
struct Crew<'c> {
    client: &'c Client<'c>,
    file: &'c dyn SegmentedSink,
    validator: &'c str,
    size: u64,
    state: Mutex<CrewState>,
}

#[derive(Default)]
struct CrewState {
    /// Connections running.
    running: u32,
    changed: bool,
    unsupported: bool,
    /// A fatal failure, else the last transient one of a connection that gave up.
    error: Option<TransferError>,
}

/// Fetches the rest of a segmented file: `first` is the `206` answering a request from
/// `offset` (`len` bytes), validated already.
pub(super) fn fetch(
    client: &Client<'_>,
    file: &dyn SegmentedSink,
    first: Response<Body>,
    offset: u64,
    len: u64,
    validator: &str,
    size: u64,
) -> Result<Fetched, TransferError> {
    let crew = Crew { client, file, validator, size, state: Mutex::new(CrewState::default()) };
    std::thread::scope(|scope| {
        let crew = &crew;
        crew.state().running = 1;
        if let Some(mut segment) = file.segment_at(offset) {
            crew.top_up(scope);
            let outcome = read_into(first, segment.as_mut(), len, file);
            drop(segment);
            crew.settle(outcome.map_err(Failure::Error));
        } else {
            drop(first);
        }
        crew.run(scope);
    });
    let state = crew.state.into_inner();
    if state.changed {
        return Ok(Fetched::Changed);
    }
    if file.complete() {
        return Ok(Fetched::Complete);
    }
    if state.unsupported {
        return Ok(Fetched::Unsupported);
    }
    match state.error {
        Some(error) if !error.is_transient() => Err(error),
        _ if file.should_stop() => Err(TransferError::Stopped),
        Some(error) => Err(error),
        None => Ok(Fetched::Incomplete),
    }
}

impl<'c> Crew<'c> {
    // `Mutex::lock(&m)` rather than `m.lock()`: the layers test matches member calls by name,
    // and the job layer has a crate-private `lock` of its own.
    fn state(&self) -> parking_lot::MutexGuard<'_, CrewState> {
        Mutex::lock(&self.state)
    }

    /// Starts connections until as many run as the job allows.
    fn top_up<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>) {
        let allowed = self.file.max_connections();
        let mut state = self.state();
        while state.running < allowed && !state.changed && !state.unsupported {
            state.running += 1;
            scope.spawn(move || self.run(scope));
        }
    }

    /// One connection: ranges until none is left for it.
    fn run<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>) {
        let mut failures = 0;
        while let Some(mut segment) = self.file.next_segment() {
            self.top_up(scope);
            let before = segment.position();
            let outcome = self.fetch_range(segment.as_mut());
            let progressed = segment.position() > before;
            drop(segment);
            match outcome {
                Ok(()) => failures = 0,
                Err(Failure::Error(error)) if error.is_transient() => {
                    failures = if progressed { 1 } else { failures + 1 };
                    if failures >= MAX_FAILURES {
                        self.state().error = Some(error);
                        break;
                    }
                    // A moment before asking again (the server may be restarting).
                    std::thread::sleep(Duration::from_millis(50) * failures);
                }
                Err(failure) => {
                    self.settle(Err(failure));
                    break;
                }
            }
        }
        self.state().running -= 1;
    }

    /// Records what ended a connection's range for good: a change or a fatal error stops the
    /// others too.
    fn settle(&self, outcome: Result<(), Failure>) {
        let mut state = self.state();
        match outcome {
            Ok(()) | Err(Failure::Error(TransferError::Stopped)) => {}
            Err(Failure::Changed) => {
                state.changed = true;
                self.file.abandon();
            }
            Err(Failure::Unsupported) => {
                state.unsupported = true;
                self.file.abandon();
            }
            Err(Failure::Error(error)) if error.is_transient() => state.error = Some(error),
            Err(Failure::Error(error)) => {
                state.error = Some(error);
                self.file.abandon();
            }
        }
    }

    /// One request for the segment's range, with `If-Range`.
    fn fetch_range(&self, segment: &mut dyn SegmentSink) -> Result<(), Failure> {
        let (first, end) = (segment.position(), segment.end());
        if first >= end {
            return Ok(());
        }
        let ranged = Ranged { first, last: Some(end - 1), if_range: Some(self.validator) };
        let response = self.client.send(Method::Get, Some(ranged), &|| self.file.should_stop())?;
        let headers = response.headers();
        match response.status().as_u16() {
            206 => {
                let partial = partial_headers(headers);
                match range::judge_partial(&partial, first, Some(self.validator), Some(self.size)) {
                    Verdict::Append { len, .. } => {
                        Ok(read_into(response, segment, len, self.file)?)
                    }
                    Verdict::StartOver => Err(Failure::Changed),
                    Verdict::Refuse(coding) => Err(Failure::Error(coded(&coding))),
                }
            }
            // `If-Range` did not match, or the server ignored the range: the whole body. With
            // the validator of the bytes written, it is the same content.
            200 => {
                let now = fresh_validator(&validators(headers)).map_err(Failure::Error)?;
                if now.as_deref() == Some(self.validator) {
                    Err(Failure::Unsupported)
                } else {
                    Err(Failure::Changed)
                }
            }
            416 => Err(Failure::Changed),
            status => Err(Failure::Error(unexpected(status, headers))),
        }
    }
}

/// Copies a `206` body of `len` bytes into the segment, until the segment ends (it may have
/// been split meanwhile: the rest of the body is not read) or the body does. A read blocked
/// when the file stops gives up with `Stopped` (`stall`).
fn read_into(
    mut response: Response<Body>,
    segment: &mut dyn SegmentSink,
    len: u64,
    file: &dyn SegmentedSink,
) -> Result<(), TransferError> {
    let mut reader = response.body_mut().as_reader();
    let capacity = usize::try_from(len).unwrap_or(BUFFER).clamp(1, BUFFER);
    let mut buf = vec![0u8; capacity];
    let mut received: u64 = 0;
    while received < len && segment.position() < segment.end() {
        let n = super::stall::read(&mut reader, &mut buf, || file.should_stop())?;
        if n == 0 {
            break;
        }
        // Never past what the headers announced.
        let n = n.min(usize::try_from(len - received).unwrap_or(n));
        let took = segment.write(&buf[..n])?;
        received += n as u64;
        if took < n {
            return Ok(());
        }
    }
    if received < len && segment.position() < segment.end() {
        return Err(TransferError::transient(
            hresult::BG_E_CONNECTION_CLOSED,
            BgErrorContext::RemoteFile,
            format!("a segment's body ended after {received} of {len} bytes"),
        ));
    }
    Ok(())
}
