//! A [`FileTransfer`] in segments: the [`SegmentedSink`] its connections share and the
//! [`SegmentSink`] each one writes through (DESIGN 5.3). The bookkeeping (which blocks are
//! taken, written, counted; how a range is split) is the job's segment table
//! (`job/state/segments.rs`); this is the writing side: positional writes into the temporary file,
//! within the bandwidth caps, one count per finished block.

use super::transfer::FileTransfer;
use crate::job::state::segments::{MIN_SEGMENT, Segment, SegmentTable};
use crate::transport::{SegmentSink, SegmentedSink, TransferError};
use std::sync::Arc;

/// What asks a segmented transfer to stop besides the job (the engine's preemption).
pub(crate) type StopRequest<'a> = Box<dyn Fn() -> bool + Send + Sync + 'a>;

/// A file fetched over several connections; dropping it returns the file to one writer, which
/// continues at its first missing byte.
pub(crate) struct Segmented<'a> {
    transfer: &'a mut FileTransfer,
    table: Arc<SegmentTable>,
    stop: StopRequest<'a>,
}

impl FileTransfer {
    /// Switches to segments (see [`TransferSink::segmented`](crate::transport::TransferSink::segmented)),
    /// with `stop` asked along with the job's own stop.
    pub(crate) fn segmented_until<'a>(
        &'a mut self,
        stop: StopRequest<'a>,
    ) -> Option<Segmented<'a>> {
        let size = self.file.counters.size()?;
        if crate::transport::TransferSink::validator(self).is_none() || self.check_live().is_err() {
            return None;
        }
        let job = Arc::clone(&self.job);
        let table = {
            // Every writer of the cold state holds `serial` (see `JobShared::change`).
            let _serial = job.serial.lock();
            let mut inner = job.inner.lock();
            let pieces = inner.max_connections;
            let disk = &mut inner.file_disk[self.file.index];
            let on_disk = disk.on_disk(self.file.counters.transferred());
            // Worth it with several holes (each its own range: none is fetched again, even on
            // one connection), or with a hole that splits and connections to share it.
            let holes = holes(&on_disk, size);
            let splittable = pieces > 1 && holes.iter().any(|&hole| hole >= 2 * MIN_SEGMENT);
            if holes.len() < 2 && !splittable {
                return None;
            }
            let table = Arc::new(SegmentTable::new(size, &on_disk, pieces)?);
            disk.set_segments(Some(Arc::clone(&table)));
            table
        };
        Some(Segmented { transfer: self, table, stop })
    }
}

/// The sizes of the gaps between the ranges on disk, and after the last, up to `size`.
fn holes(on_disk: &[(u64, u64)], size: u64) -> Vec<u64> {
    let mut at = 0;
    let mut holes = Vec::new();
    for &(start, end) in on_disk.iter().chain(std::iter::once(&(size, size))) {
        if start > at {
            holes.push(start - at);
        }
        at = at.max(end);
    }
    holes
}

impl Segmented<'_> {
    fn stopped(&self) -> bool {
        self.table.abandoned() || self.transfer.check_live().is_err() || (self.stop)()
    }

    fn writer(&self, index: usize, segment: Arc<Segment>) -> Box<dyn SegmentSink + '_> {
        let pos = segment.resume_at();
        // The block at `done` was claimed by an earlier holder that let go before finishing it:
        // it is this writer's to write again.
        let block = (segment.done() < segment.span().0).then(|| segment.done());
        Box::new(Writer { owner: self, index, segment, pos, block })
    }
}

impl SegmentedSink for Segmented<'_> {
    fn segment_at(&self, offset: u64) -> Option<Box<dyn SegmentSink + '_>> {
        if self.stopped() {
            return None;
        }
        let (index, segment) = self.table.take_at(offset)?;
        Some(self.writer(index, segment))
    }

    fn next_segment(&self) -> Option<Box<dyn SegmentSink + '_>> {
        if self.stopped() || self.active() >= self.max_connections() {
            return None;
        }
        let (index, segment) = self.table.take_next()?;
        Some(self.writer(index, segment))
    }

    fn max_connections(&self) -> u32 {
        self.transfer.job.inner.lock().max_connections
    }

    fn active(&self) -> u32 {
        self.table.holders()
    }

    fn complete(&self) -> bool {
        self.table.complete()
    }

    fn abandon(&self) {
        self.table.abandon();
    }

    fn should_stop(&self) -> bool {
        self.stopped()
    }
}

impl Drop for Segmented<'_> {
    fn drop(&mut self) {
        let on_disk = self.table.on_disk();
        {
            let _serial = self.transfer.job.serial.lock();
            let mut inner = self.transfer.job.inner.lock();
            let disk = &mut inner.file_disk[self.transfer.file.index];
            disk.set_base(on_disk.clone());
            disk.set_segments(None);
        }
        // A failed seek shows at the next sequential write, which fails the same way.
        let _ = self.transfer.reposition(&on_disk);
    }
}

/// One connection's segment.
struct Writer<'s> {
    owner: &'s Segmented<'s>,
    index: usize,
    segment: Arc<Segment>,
    /// The next byte to write.
    pos: u64,
    /// The block being written (claimed, not finished).
    block: Option<u32>,
}

impl SegmentSink for Writer<'_> {
    fn position(&self) -> u64 {
        self.pos
    }

    fn end(&self) -> u64 {
        self.segment.end()
    }

    fn write(&mut self, data: &[u8]) -> Result<usize, TransferError> {
        let owner = self.owner;
        let transfer = &*owner.transfer;
        let mut written = 0;
        while written < data.len() {
            if owner.stopped() {
                return Err(TransferError::Stopped);
            }
            let block = match self.block {
                Some(block) => block,
                None => match self.segment.claim() {
                    Some(block) => block,
                    // The segment ends here (finished, or split off to another connection).
                    None => return Ok(written),
                },
            };
            self.block = Some(block);
            let start = self.segment.offset_of(block);
            let end = self.segment.offset_of(block + 1);
            let want = ((end - self.pos) as usize).min(data.len() - written);
            let n = transfer.take_bandwidth(want as u64, &mut || owner.stopped())? as usize;
            crate::platform::files::write_all_at(
                &transfer.temp,
                &data[written..written + n],
                self.pos,
            )
            .map_err(|e| FileTransfer::local_error(&e))?;
            self.pos += n as u64;
            written += n;
            if self.pos == end {
                // Counted once the whole block is on disk: a block cut half-way is written again
                // by whoever holds the segment next, and counted then.
                transfer.job.counters.add_segment_bytes(&transfer.file.counters, end - start);
                self.segment.finish_block(block);
                self.block = None;
            }
        }
        Ok(written)
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.owner.table.release(self.index);
    }
}
