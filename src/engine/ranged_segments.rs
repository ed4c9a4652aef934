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
                let mut first = self.ending.lock();
                // A stop caused by the abandon of another connection is not an ending.
                let replace = match (&*first, &ending) {
                    (None, _) => true,
                    (Some(Ending::Failed(TransferError::Stopped)), Ending::Failed(e)) => {
                        !matches!(e, TransferError::Stopped)
                    }
                    _ => false,
                };
                if replace {
                    *first = Some(ending);
                }
                drop(first);
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
