//! A ranged file on an engine worker (DESIGN 6.3): each range in the order given, fetched with
//! [`Transport::transfer_range`] and appended to the local file, so that the ranges lie back to
//! back. The file's count is the local file's length, so a transfer stopped midway resumes in
//! the range that holds that length, at the byte after it.
//!
//! The local size is the sum of the range lengths: known at once without a range to the end of
//! the file, else once the remote size is (and then recorded as the file's size, so a reopened
//! job knows it). A range past the end of the remote file fails the file with a fatal
//! `BG_E_INVALID_RANGE` as soon as the remote size is known, before its bytes are written.
//!
//! With several connections allowed (`set_max_connections`), the first request asks for at most
//! [`PROBE`] bytes; once the local size and the content's validator are known, the bytes still
//! missing go in segments of the local file, each connection fetching the remote ranges behind
//! its segment (`ranged_segments.rs`).

use super::ranged_segments;
use crate::transport::{RangeSink, TransferError, TransferRequest, TransferSink, Transport};
use crate::{BG_LENGTH_TO_EOF, BgErrorContext, BgFileRange, hresult};

/// Times the remote content may change under one transfer before it counts as a failure.
const MAX_START_OVERS: u32 = 2;

/// The most bytes of the first request when several connections may share the file: enough to
/// learn the size and the validator, after which the rest goes in segments.
const PROBE: u64 = 1 << 20;

/// The ranges of one file, seen by a transport as a [`RangeSink`] over the file's sink.
struct RangedFile<'s, 'r> {
    sink: &'s mut dyn TransferSink,
    ranges: &'r [BgFileRange],
    /// The length of the range to the end of the file, once known.
    eof_len: Option<u64>,
    /// Bytes the range being fetched may still take (`None`: to the end of the file).
    left: Option<u64>,
    /// The transport asked for a restart during this range.
    restarted: bool,
}

/// Fetches the ranges of a ranged file into `sink`.
pub(super) fn transfer(
    transport: &dyn Transport,
    request: &TransferRequest<'_>,
    ranges: &[BgFileRange],
    sink: &mut dyn TransferSink,
) -> Result<(), TransferError> {
    let mut file = RangedFile { sink, ranges, eof_len: None, left: None, restarted: false };
    if let (true, Some(total)) = (file.has_eof_range(), file.sink.size()) {
        // Known from an earlier attempt (the remote size was known then).
        file.eof_len = total.checked_sub(file.explicit_total());
    }
    let mut start_overs = 0;
    // Several connections (DESIGN 6.3 with 5.3): the first request is cut short so that the
    // validator and the size are known soon; the rest goes in segments, tried once per content.
    let mut probed = false;
    let mut segments_tried = false;
    loop {
        if file.sink.should_stop() {
            return Err(TransferError::Stopped);
        }
        let at = file.sink.offset();
        let Some((index, done, start)) = file.locate(at) else {
            file.ensure_size()?;
            return Ok(());
        };
        let connections = file.sink.max_connections() > 1;
        if connections
            && !segments_tried
            && let Some(outcome) = file.segments(transport, request)
        {
            segments_tried = true;
            match outcome? {
                ranged_segments::Outcome::Done => continue,
                ranged_segments::Outcome::Changed => {
                    file.sink.restart()?;
                    start_overs += 1;
                    if start_overs > MAX_START_OVERS {
                        return Err(changing());
                    }
                    segments_tried = false;
                    probed = false;
                    continue;
                }
            }
        }
        let range = ranges[index];
        let first = range.initial_offset + done;
        let mut last = range.end().map(|end| end - 1);
        let probe = connections && !probed && file.sink.validator().is_none();
        if probe {
            probed = true;
            let cap = first + PROBE - 1;
            last = Some(last.map_or(cap, |last| last.min(cap)));
        }
        file.left = match (file.length(index), probe) {
            (_, true) => last.map(|last| last - first + 1),
            (length, false) => length.map(|length| length - done),
        };
        file.restarted = false;
        transport.transfer_range(request, first, last, &mut file)?;
        if file.restarted {
            start_overs += 1;
            if start_overs > MAX_START_OVERS {
                return Err(changing());
            }
            continue;
        }
        let now = file.sink.offset();
        if range.length == BG_LENGTH_TO_EOF && file.eof_len.is_none() && !probe {
            // The remote size was never told: the range ended where the transport stopped.
            file.eof_len = Some(now - start);
            file.ensure_size()?;
        } else if now == at {
            return Err(TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                format!("no byte of the range at offset {first} arrived"),
            ));
        }
    }
}

/// The error of a content that changed too often.
fn changing() -> TransferError {
    TransferError::transient(
        hresult::BG_E_INVALID_SERVER_RESPONSE,
        BgErrorContext::RemoteFile,
        "the remote content keeps changing between the ranges of the file",
    )
}

impl RangedFile<'_, '_> {
    /// Fetches the missing bytes in segments over the job's connections, if the local size and
    /// the validator are known and the sink agrees to segments (`None` otherwise).
    fn segments(
        &mut self,
        transport: &dyn Transport,
        request: &TransferRequest<'_>,
    ) -> Option<Result<ranged_segments::Outcome, TransferError>> {
        let total = self.local_total()?;
        if self.sink.size() != Some(total) {
            return None;
        }
        let validator = self.sink.validator()?.to_owned();
        let mut local = 0;
        let mut layout = Vec::with_capacity(self.ranges.len());
        for (index, range) in self.ranges.iter().enumerate() {
            let length = self.length(index)?;
            layout.push((local, range.initial_offset, length));
            local += length;
        }
        let layout = ranged_segments::Layout(layout);
        let segmented = self.sink.segmented()?;
        Some(ranged_segments::fetch(transport, request, &layout, segmented.as_ref(), &validator))
    }

    fn has_eof_range(&self) -> bool {
        self.ranges.iter().any(|range| range.length == BG_LENGTH_TO_EOF)
    }

    /// The bytes of the ranges with a length.
    fn explicit_total(&self) -> u64 {
        self.ranges.iter().filter(|r| r.length != BG_LENGTH_TO_EOF).map(|r| r.length).sum()
    }

    /// The length of range `index`, if known.
    fn length(&self, index: usize) -> Option<u64> {
        match self.ranges[index].length {
            BG_LENGTH_TO_EOF => self.eof_len,
            length => Some(length),
        }
    }

    /// The local size, if every length is known.
    fn local_total(&self) -> Option<u64> {
        (0..self.ranges.len()).map(|index| self.length(index)).sum()
    }

    /// Tells the sink the local size once it is known.
    fn ensure_size(&mut self) -> Result<(), TransferError> {
        if let Some(total) = self.local_total()
            && self.sink.size() != Some(total)
        {
            self.sink.set_size(Some(total))?;
        }
        Ok(())
    }

    /// The range that holds local offset `at`: its index, the bytes of it already there, and
    /// where it starts in the local file; `None` once every range is there.
    fn locate(&self, at: u64) -> Option<(usize, u64, u64)> {
        let mut start = 0;
        for index in 0..self.ranges.len() {
            match self.length(index) {
                Some(length) if at >= start + length => start += length,
                _ => return Some((index, at - start, start)),
            }
        }
        None
    }
}

impl RangeSink for RangedFile<'_, '_> {
    fn validator(&self) -> Option<&str> {
        self.sink.validator()
    }

    fn set_validator(&mut self, validator: Option<String>) {
        self.sink.set_validator(validator);
    }

    fn set_remote_size(&mut self, size: u64) -> Result<(), TransferError> {
        for range in self.ranges {
            let past = range.initial_offset >= size || range.end().is_some_and(|end| end > size);
            if past {
                let length = match range.length {
                    BG_LENGTH_TO_EOF => "to the end".to_owned(),
                    length => format!("of {length} bytes"),
                };
                return Err(TransferError::fatal(
                    hresult::BG_E_INVALID_RANGE,
                    BgErrorContext::RemoteFile,
                    format!(
                        "the range {length} at offset {} is past the end of the remote file \
                         ({size} bytes)",
                        range.initial_offset
                    ),
                ));
            }
            if range.length == BG_LENGTH_TO_EOF {
                self.eof_len = Some(size - range.initial_offset);
            }
        }
        self.ensure_size()
    }

    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        if let Some(left) = self.left {
            if data.len() as u64 > left {
                return Err(TransferError::transient(
                    hresult::BG_E_INVALID_SERVER_RESPONSE,
                    BgErrorContext::RemoteFile,
                    "the transport wrote past the end of the range",
                ));
            }
            self.left = Some(left - data.len() as u64);
        }
        self.ensure_size()?;
        self.sink.write(data)
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.restarted = true;
        self.sink.restart()
    }

    fn should_stop(&self) -> bool {
        self.sink.should_stop()
    }
}
