//! The sink the engine hands a transport: the driver's [`FileTransfer`] plus two engine duties.
//! It reports the job connected (`Connecting → Transferring`) the first time the transport
//! touches the sink (the server answered), and it stops the transfer when the scheduler wants the
//! worker back (a time slice ended, a foreground job needs it, or the engine shuts down).
//!
//! A preemption (time slice, foreground job) stops a file mid-way only if the file can be resumed
//! without loss: a file transport, or a transport that stored a content validator (an HTTP ETag or
//! Last-Modified). Content without one would restart from zero after every preemption and might
//! never finish under contention, so it is preempted at the end of the file instead. Shutdown
//! stops at once.

use super::stop::{Stop, StopFlag};
use crate::transport::{SegmentedSink, TransferError, TransferSink};
use crate::{BackgroundCopyFile, FileTransfer, JobDriver};
use std::fs::File;

/// One file of a claimed job, as a transport on an engine worker sees it.
pub(super) struct EngineSink<'a> {
    transfer: FileTransfer,
    driver: &'a JobDriver,
    connected: &'a mut bool,
    stop: &'a StopFlag,
    /// The transport resumes this file without a validator (file transports).
    resumable: bool,
    /// Dynamic content: no segments, no range (see [`EngineSink::dynamic`]).
    dynamic: bool,
    /// The bytes written from now on come from a peer (the cache host), as the transport says.
    from_peer: bool,
    /// The file's bytes when its sources were last told where bytes came from.
    mark: u64,
}

impl<'a> EngineSink<'a> {
    /// Wraps `transfer`; `connected` says whether the job already left `Connecting` (shared by
    /// the files of one claim).
    pub(super) fn new(
        transfer: FileTransfer,
        driver: &'a JobDriver,
        connected: &'a mut bool,
        stop: &'a StopFlag,
        resumable: bool,
    ) -> Self {
        let mark = transfer.file().get_progress().bytes_transferred;
        EngineSink {
            transfer,
            driver,
            connected,
            stop,
            resumable,
            from_peer: false,
            mark,
            dynamic: false,
        }
    }

    /// Dynamic content (DESIGN 6.3, `DynamicContent`): the file starts over from zero on every
    /// attempt, on one connection, with no range asked for.
    pub(super) fn dynamic(&mut self) -> Result<(), TransferError> {
        self.dynamic = true;
        if self.transfer.offset() > 0 || self.transfer.validator().is_some() {
            self.transfer.restart()?;
        }
        Ok(())
    }

    fn index(&self) -> usize {
        self.transfer.file().index()
    }

    /// Tells the file's sources where the bytes since the last report came from (DESIGN 6.2,
    /// `get_peer_download_stats`). Called when the transport switches between the cache host and
    /// the origin, and once the transfer returned.
    pub(super) fn flush_sources(&mut self) {
        let file = self.transfer.file();
        let now = file.get_progress().bytes_transferred;
        let new = now.saturating_sub(self.mark);
        self.mark = now;
        self.driver.job().note_source_bytes(file.index(), self.from_peer, new);
    }

    /// Whether the scheduler's stop applies now (see the module docs).
    fn must_stop(&self) -> bool {
        must_stop(self.stop, self.resumable || self.transfer.validator().is_some())
    }

    fn connect(&mut self) -> Result<(), TransferError> {
        if !*self.connected {
            self.driver.connected()?;
            *self.connected = true;
        }
        Ok(())
    }

    /// Checked before every step that moves data: the scheduler's stop first, then connected.
    fn step(&mut self) -> Result<(), TransferError> {
        if self.must_stop() {
            return Err(TransferError::Stopped);
        }
        self.connect()
    }

    /// The transport returned: the file counts as transferred if all its bytes are there. Not
    /// subject to the scheduler's stop (finishing is cheap and keeps the work done).
    pub(super) fn finish(mut self) -> Result<(), TransferError> {
        self.connect()?;
        // With a store, the group commit makes it durable while the next file transfers.
        self.transfer.finish_deferred()
    }
}

impl TransferSink for EngineSink<'_> {
    fn offset(&self) -> u64 {
        self.transfer.offset()
    }

    fn size(&self) -> Option<u64> {
        self.transfer.size()
    }

    fn validator(&self) -> Option<&str> {
        self.transfer.validator()
    }

    fn set_validator(&mut self, validator: Option<String>) {
        self.transfer.set_validator(validator);
    }

    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError> {
        self.step()?;
        self.transfer.set_size(size)
    }

    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.step()?;
        let (stop, resumable) = (self.stop, self.resumable || self.transfer.validator().is_some());
        self.transfer.write_until(data, &mut || must_stop(stop, resumable))
    }

    fn copy_from_file(&mut self, source: &mut File) -> Result<u64, TransferError> {
        self.step()?;
        let (stop, resumable) = (self.stop, self.resumable || self.transfer.validator().is_some());
        self.transfer.copy_from_file_until(source, &mut || must_stop(stop, resumable))
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.step()?;
        self.transfer.restart()?;
        self.mark = 0;
        self.driver.job().forget_source_bytes(self.index());
        Ok(())
    }

    fn should_stop(&self) -> bool {
        self.must_stop() || self.transfer.should_stop()
    }

    fn max_connections(&self) -> u32 {
        if self.dynamic { 1 } else { self.transfer.max_connections() }
    }

    fn set_response_headers(&mut self, headers: &str) {
        self.driver.job().set_response_headers(self.index(), headers);
    }

    fn set_from_peer(&mut self, from_peer: bool) {
        if from_peer != self.from_peer {
            self.flush_sources();
            self.from_peer = from_peer;
        }
    }

    fn report_final_url(&mut self, url: &str) {
        self.driver.job().report_final_url(self.index(), url);
    }

    fn segmented(&mut self) -> Option<Box<dyn SegmentedSink + '_>> {
        if self.dynamic {
            return None;
        }
        // A segmented file has a validator: it can always be preempted.
        let stop = self.stop;
        let segmented = self.transfer.segmented_until(Box::new(move || must_stop(stop, true)))?;
        Some(Box::new(segmented))
    }
}

fn must_stop(stop: &StopFlag, resumable: bool) -> bool {
    match stop.get() {
        Stop::No => false,
        Stop::Preempt => resumable,
        Stop::Shutdown => true,
    }
}
