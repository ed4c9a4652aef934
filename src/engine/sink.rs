//! The sink the engine hands a transport: the driver's [`FileTransfer`] plus two engine duties.
//! It reports the job connected (`Connecting → Transferring`) the first time the transport
//! touches the sink (the server answered), and it stops the transfer when the scheduler wants the
//! worker back (a time slice ended, a foreground job needs it, or the engine shuts down).

use super::worker::StopFlag;
use crate::transport::{TransferError, TransferSink};
use crate::{FileTransfer, JobDriver};
use std::fs::File;

/// One file of a claimed job, as a transport on an engine worker sees it.
pub(super) struct EngineSink<'a> {
    transfer: FileTransfer,
    driver: &'a JobDriver,
    connected: &'a mut bool,
    stop: &'a StopFlag,
}

impl<'a> EngineSink<'a> {
    /// Wraps `transfer`; `connected` says whether the job already left `Connecting` (shared by
    /// the files of one claim).
    pub(super) fn new(
        transfer: FileTransfer,
        driver: &'a JobDriver,
        connected: &'a mut bool,
        stop: &'a StopFlag,
    ) -> Self {
        EngineSink { transfer, driver, connected, stop }
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
        if self.stop.is_set() {
            return Err(TransferError::Stopped);
        }
        self.connect()
    }

    /// The transport returned: the file counts as transferred if all its bytes are there. Not
    /// subject to the scheduler's stop (finishing is cheap and keeps the work done).
    pub(super) fn finish(mut self) -> Result<(), TransferError> {
        self.connect()?;
        self.transfer.finish()
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
        self.transfer.write(data)
    }

    fn copy_from_file(&mut self, source: &mut File) -> Result<u64, TransferError> {
        self.step()?;
        let stop = self.stop;
        self.transfer.copy_from_file_until(source, &mut || stop.is_set())
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.step()?;
        self.transfer.restart()
    }

    fn should_stop(&self) -> bool {
        self.stop.is_set() || self.transfer.should_stop()
    }
}
