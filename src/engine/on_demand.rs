//! An on-demand job on an engine worker (DESIGN 6.3, `job/on_demand.rs`): each file's missing
//! bytes that were asked for, a chunk at a time, with [`Transport::transfer_range`], written at
//! their own offsets; a file whose every byte is on disk is finished. When nothing asked for is
//! missing, the job becomes `Transferred` if every file is, else `Suspended` (a request resumes
//! it).

use super::Engine;
use super::stop::StopFlag;
use crate::job::state::on_demand::OnDemand;
use crate::transport::{RangeSink, TransferError, TransferRequest, TransferSink, Transport};
use crate::{BackgroundCopyJob, BgErrorContext, FileTransfer, Job, JobDriver, hresult};
use std::sync::Arc;

/// How an on-demand run ended early: the worker fails the job, or stops, with its driver.
pub(super) enum Ending {
    /// The transfer of file `.0` returned `Stopped`.
    Stopped(usize),
    /// File `.1` failed.
    Failed(TransferError, usize),
}

/// Runs an on-demand job: returns once it is idle (`Ok`), or must fail or stop (the worker does
/// that with the driver given back).
pub(super) fn run(
    engine: &Engine,
    job: &Job,
    driver: JobDriver,
    stop: &StopFlag,
    on_demand: &Arc<OnDemand>,
) -> Result<(), (JobDriver, Ending)> {
    let mut connected = false;
    loop {
        for file in job.enum_files() {
            let index = file.index();
            if file.file.counters.is_transferred() || on_demand.next_chunk(index).is_none() {
                continue;
            }
            if stop.is_set() {
                let _ = driver.release();
                return Ok(());
            }
            let scheme = file.file.protocol.scheme(&file.file.remote_name);
            let Some(transport) = engine.transport_for(scheme) else {
                let error = TransferError::fatal(
                    hresult::E_INVALIDARG,
                    BgErrorContext::GeneralTransport,
                    format!("no transport serves the {scheme:?} scheme"),
                );
                return Err((driver, Ending::Failed(error, index)));
            };
            let transfer = match driver.open_file(index) {
                Ok(transfer) => transfer,
                Err(TransferError::Stopped) => return Ok(()),
                Err(error) => return Err((driver, Ending::Failed(error, index))),
            };
            let request = TransferRequest::new(job, &file);
            let mut sink = Sink {
                transfer,
                on_demand,
                index,
                driver: &driver,
                connected: &mut connected,
                stop,
                at: 0,
                restarted: false,
            };
            let outcome = fetch(transport.as_ref(), &request, &mut sink);
            let Sink { transfer, .. } = sink;
            let outcome = outcome
                .and_then(|()| if on_demand.complete(index) { transfer.finish() } else { Ok(()) });
            match outcome {
                Ok(()) => {}
                Err(TransferError::Stopped) => return Err((driver, Ending::Stopped(index))),
                Err(error) => {
                    let error = if error.hresult() == hresult::BG_E_INSUFFICIENT_RANGE_SUPPORT {
                        TransferError::fatal(
                            hresult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED,
                            BgErrorContext::RemoteFile,
                            format!("an on-demand file needs a server that serves ranges: {error}"),
                        )
                    } else {
                        error
                    };
                    return Err((driver, Ending::Failed(error, index)));
                }
            }
        }
        // Nothing asked for is missing? Then the job goes idle; a request that came while it
        // did moves it on again (see `job/on_demand.rs`).
        let files = job.enum_files();
        let generation = {
            let mut wants = on_demand.lock();
            if !wants.idle(files.len()) {
                continue;
            }
            wants.generation
        };
        if files.iter().all(|file| file.file.counters.is_transferred()) {
            if !connected && driver.connected().is_err() {
                return Ok(());
            }
            let _ = driver.finish();
        } else {
            // What is on disk is recorded before the job goes idle: a reopened job keeps it.
            #[cfg(feature = "store")]
            let _ = job.shared.checkpoint();
            let _ = job.suspend();
            drop(driver);
            if on_demand.lock().generation != generation {
                let _ = job.resume();
            }
        }
        return Ok(());
    }
}

/// The missing chunks of one file.
fn fetch(
    transport: &dyn Transport,
    request: &TransferRequest<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), TransferError> {
    let mut start_overs = 0;
    while let Some((first, end)) = sink.on_demand.next_chunk(sink.index) {
        if sink.should_stop() {
            return Err(TransferError::Stopped);
        }
        sink.at = first;
        sink.restarted = false;
        transport.transfer_range(request, first, Some(end - 1), sink)?;
        if sink.restarted {
            start_overs += 1;
            if start_overs > 2 {
                return Err(TransferError::transient(
                    hresult::BG_E_INVALID_SERVER_RESPONSE,
                    BgErrorContext::RemoteFile,
                    "the remote content keeps changing",
                ));
            }
        } else if sink.at == first && sink.transfer.size().is_none_or(|size| first < size) {
            return Err(TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                format!("no byte of the range at offset {first} arrived"),
            ));
        }
    }
    Ok(())
}

/// One file of an on-demand job, as a transport sees it.
struct Sink<'a> {
    transfer: FileTransfer,
    on_demand: &'a OnDemand,
    index: usize,
    driver: &'a JobDriver,
    connected: &'a mut bool,
    stop: &'a StopFlag,
    /// Where the next byte goes.
    at: u64,
    restarted: bool,
}

impl Sink<'_> {
    fn connect(&mut self) -> Result<(), TransferError> {
        if !*self.connected {
            self.driver.connected()?;
            *self.connected = true;
        }
        Ok(())
    }
}

impl RangeSink for Sink<'_> {
    fn validator(&self) -> Option<&str> {
        self.transfer.validator()
    }

    fn set_validator(&mut self, validator: Option<String>) {
        self.transfer.set_validator(validator);
    }

    fn set_remote_size(&mut self, size: u64) -> Result<(), TransferError> {
        self.connect()?;
        if self.transfer.size() != Some(size) {
            self.transfer.set_size(Some(size))?;
        }
        self.on_demand.set_size(self.index, size);
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.connect()?;
        let stop = self.stop;
        self.transfer.write_at(self.at, data, &mut || stop.is_set())?;
        let end = self.at + data.len() as u64;
        let new = self.on_demand.fill(self.index, self.at, end);
        self.at = end;
        self.transfer.count_filled(new, self.on_demand.filled(self.index))
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        self.restarted = true;
        self.on_demand.set_filled(self.index, Vec::new());
        self.transfer.restart()
    }

    fn should_stop(&self) -> bool {
        self.stop.is_set() || self.transfer.should_stop()
    }
}
