//! A ranged file over several connections (DESIGN 6.3 with 5.3): once the file's local size and
//! its content's validator are known, the bytes still missing are shared out as segments of the
//! local file ([`SegmentedSink`]), exactly as a whole file's are; each connection maps its
//! segment's local offsets back to the remote ranges and fetches them with
//! [`Transport::transfer_range`], one request per remote range the segment crosses.
//!
//! A segment split off by an idle connection ends its first connection's request early (the
//! segment's write takes fewer bytes); the content changing (`If-Range` failing) abandons every
//! segment, and the file restarts on one connection; any other failure abandons them too and is
//! the file's failure.

use crate::transport::{
    RangeSink, SegmentSink, SegmentedSink, TransferError, TransferRequest, Transport,
};
use crate::{BgErrorContext, hresult};
use parking_lot::Mutex;

/// Where the local file's bytes come from: `(local start, remote start, length)` per range, in
/// local order, every length known.
pub(super) struct Layout(pub(super) Vec<(u64, u64, u64)>);

impl Layout {
    /// The remote bytes behind local `at..end` up to the end of the range holding `at`:
    /// `(remote first byte, length)`.
    fn piece(&self, at: u64, end: u64) -> Option<(u64, u64)> {
        let &(local, remote, length) =
            self.0.iter().find(|&&(local, _, length)| at >= local && at < local + length)?;
        Some((remote + (at - local), end.min(local + length) - at))
    }

    /// Whether a remote file of `size` bytes holds every range.
    fn fits(&self, size: u64) -> bool {
        self.0.iter().all(|&(_, remote, length)| remote + length <= size)
    }
}

/// How the segments ended, when no connection failed.
pub(super) enum Outcome {
    /// Every byte is on disk, or what is left goes on one connection.
    Done,
    /// The remote content changed: the file restarts.
    Changed,
}

/// Fetches the missing bytes of a ranged file over the job's connections.
pub(super) fn fetch(
    transport: &dyn Transport,
    request: &TransferRequest<'_>,
    layout: &Layout,
    file: &dyn SegmentedSink,
    validator: &str,
) -> Result<Outcome, TransferError> {
    let crew = Crew { transport, request, layout, file, validator, ending: Mutex::new(None) };
    std::thread::scope(|scope| {
        let connections = file.max_connections().max(1);
        let crew = &crew;
        for _ in 1..connections {
            scope.spawn(move || crew.connection());
        }
        crew.connection();
    });
    match crew.ending.into_inner() {
        None => Ok(Outcome::Done),
        Some(Ending::Changed) => Ok(Outcome::Changed),
        Some(Ending::Failed(error)) => Err(error),
    }
}

enum Ending {
    Changed,
    Failed(TransferError),
}

impl Ending {
    /// Keeps the ending the segments report in `kept`: the content changing says most (the
    /// other connections then stop or fail because of it), then a failure, then a stop (which
    /// the abandon causes); the first of equals.
    fn keep_in(self, kept: &mut Option<Ending>) {
        if kept.as_ref().is_none_or(|first| self.rank() > first.rank()) {
            *kept = Some(self);
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Ending::Changed => 2,
            Ending::Failed(TransferError::Stopped) => 0,
            Ending::Failed(_) => 1,
        }
    }
}

/// What the connections share.
struct Crew<'a, 'r> {
    transport: &'a dyn Transport,
    request: &'a TransferRequest<'r>,
    layout: &'a Layout,
    file: &'a dyn SegmentedSink,
    validator: &'a str,
    /// The first failure, or the content changing; every segment is abandoned with it.
    ending: Mutex<Option<Ending>>,
}

impl Crew<'_, '_> {
    /// One connection: segments until none is left for it.
    fn connection(&self) {
        while let Some(mut segment) = self.file.next_segment() {
            if let Err(ending) = self.segment(segment.as_mut()) {
                ending.keep_in(&mut self.ending.lock());
                self.file.abandon();
                return;
            }
        }
    }

    /// Fetches one segment, a remote range at a time.
    fn segment(&self, segment: &mut dyn SegmentSink) -> Result<(), Ending> {
        loop {
            let (at, end) = (segment.position(), segment.end());
            if at >= end {
                return Ok(());
            }
            let Some((first, length)) = self.layout.piece(at, end) else {
                return Ok(());
            };
            let mut piece = Piece {
                crew: self,
                segment: &mut *segment,
                left: length,
                ended: false,
                changed: false,
            };
            let outcome = self.transport.transfer_range(
                self.request,
                first,
                Some(first + length - 1),
                &mut piece,
            );
            let (ended, changed) = (piece.ended, piece.changed);
            match outcome {
                _ if changed => return Err(Ending::Changed),
                // The segment was split: its upper part is another connection's.
                Err(TransferError::Stopped) if ended => return Ok(()),
                Err(error) => return Err(Ending::Failed(error)),
                Ok(()) if ended => return Ok(()),
                Ok(()) if segment.position() == at => {
                    return Err(Ending::Failed(TransferError::transient(
                        hresult::BG_E_INVALID_SERVER_RESPONSE,
                        BgErrorContext::RemoteFile,
                        format!("no byte of the range at offset {first} arrived"),
                    )));
                }
                Ok(()) => {}
            }
        }
    }
}

/// One request: the bytes of one remote range into a segment.
struct Piece<'p, 'a, 'r> {
    crew: &'p Crew<'a, 'r>,
    segment: &'p mut dyn SegmentSink,
    /// Bytes the request may still bring.
    left: u64,
    /// The segment ended before the request's bytes did (split off).
    ended: bool,
    changed: bool,
}

impl RangeSink for Piece<'_, '_, '_> {
    fn validator(&self) -> Option<&str> {
        Some(self.crew.validator)
    }

    fn set_validator(&mut self, _validator: Option<String>) {
        // Known before the segments began; a response naming other content restarts the file.
    }

    fn set_remote_size(&mut self, size: u64) -> Result<(), TransferError> {
        if self.crew.layout.fits(size) {
            Ok(())
        } else {
            Err(TransferError::fatal(
                hresult::BG_E_INVALID_RANGE,
                BgErrorContext::RemoteFile,
                format!("a range of the file is past the end of the remote file ({size} bytes)"),
            ))
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        if data.len() as u64 > self.left {
            return Err(TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                "the transport wrote past the end of the range",
            ));
        }
        let taken = self.segment.write(data)?;
        self.left -= taken as u64;
        if taken < data.len() {
            self.ended = true;
            return Err(TransferError::Stopped);
        }
        Ok(())
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.changed = true;
        self.crew.file.abandon();
        Ok(())
    }

    fn should_stop(&self) -> bool {
        self.crew.file.should_stop()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn kept(endings: Vec<Ending>) -> &'static str {
        let mut kept = None;
        for ending in endings {
            ending.keep_in(&mut kept);
        }
        match kept {
            None => "none",
            Some(Ending::Changed) => "changed",
            Some(Ending::Failed(TransferError::Stopped)) => "stopped",
            Some(Ending::Failed(_)) => "failed",
        }
    }

    fn failed() -> Ending {
        Ending::Failed(TransferError::transient(hresult::E_FAIL, BgErrorContext::RemoteFile, "x"))
    }

    #[test]
    fn a_change_outranks_a_failure_which_outranks_the_stops_the_abandon_causes() {
        let stopped = || Ending::Failed(TransferError::Stopped);
        assert_eq!(kept(vec![stopped(), Ending::Changed]), "changed");
        assert_eq!(kept(vec![stopped(), failed(), stopped()]), "failed");
        assert_eq!(kept(vec![failed(), Ending::Changed, stopped()]), "changed");
        assert_eq!(kept(vec![stopped()]), "stopped");
        assert_eq!(kept(vec![]), "none");
    }

    #[test]
    fn a_segment_maps_to_the_remote_range_it_starts_in_up_to_that_range_end() {
        let layout = Layout(vec![(0, 100, 10), (10, 500, 5), (15, 50, 20)]);
        assert_eq!(layout.piece(0, 35), Some((100, 10)));
        assert_eq!(layout.piece(4, 8), Some((104, 4)));
        assert_eq!(layout.piece(12, 35), Some((502, 3)));
        assert_eq!(layout.piece(15, 20), Some((50, 5)));
        assert_eq!(layout.piece(35, 40), None);
        assert!(layout.fits(505) && !layout.fits(504));
    }
}
