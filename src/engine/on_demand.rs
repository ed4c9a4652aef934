//! An on-demand job on an engine worker (DESIGN 6.3, `job/state/on_demand.rs`): the missing
//! bytes asked for, a run of at most one chunk at a time, each fetched with
//! [`Transport::transfer_range`] and written at its own offsets. Up to the job's
//! [`max_connections`](crate::BackgroundCopyJob::set_max_connections) connections fetch runs at
//! once, of one file or of several (the worker's thread is one of them); a file whose every byte
//! is on disk is finished. When nothing asked for is missing, the job becomes `Transferred` if
//! every file is, else `Suspended` (a request resumes it).
//!
//! The work goes in passes. In a pass, each connection claims runs until none is left, or until
//! the pass winds down: a file became complete (it is finished between passes, when nobody
//! writes it), its content changed (it restarts between passes), or a connection failed or was
//! stopped (the pass ends with it). A write takes no lock (`FileTransfer::write_run`).

use super::Engine;
use super::stop::{Stop, StopFlag};
use crate::job::state::on_demand::{OnDemand, Run};
use crate::transport::{RangeSink, TransferError};
use crate::{
    BackgroundCopyJob, BgErrorContext, FileTransfer, Job, JobDriver, JobFile, hresult,
    transport::TransferSink,
};
use parking_lot::Mutex;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

/// Times the remote content of a file may change under one run of the job before it counts as
/// a failure.
const MAX_START_OVERS: u32 = 2;

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
    let connected = Mutex::new(false);
    let mut start_overs: Vec<u32> = Vec::new();
    loop {
        if stop.is_set() {
            let _ = driver.release();
            return Ok(());
        }
        let files = job.enum_files();
        start_overs.resize(files.len(), 0);
        let pass = Pass {
            engine,
            job,
            driver: &driver,
            stop,
            on_demand,
            files: &files,
            connected: &connected,
            transfers: files.iter().map(|_| OnceLock::new()).collect(),
            opening: Mutex::new(()),
            validators: Mutex::new(vec![None; files.len()]),
            winding_down: StopFlag::default(),
            aborting: StopFlag::default(),
            ending: Mutex::new(None),
            restarts: Mutex::new(Vec::new()),
        };
        let connections = job.lock().max_connections.max(1) as usize;
        std::thread::scope(|scope| {
            let helpers: Vec<_> =
                (1..connections).map(|_| scope.spawn(|| pass.connection())).collect();
            pass.connection();
            for helper in helpers {
                // A connection that panicked has ended its pass; the others stop with it.
                let _ = helper.join();
            }
        });
        let (transfers, ending, restarts) = pass.end();
        if let Some(ending) = ending {
            drop(transfers);
            return Err((driver, ending));
        }
        for index in restarts {
            start_overs[index] += 1;
            if start_overs[index] > MAX_START_OVERS {
                let error = TransferError::transient(
                    hresult::BG_E_INVALID_SERVER_RESPONSE,
                    BgErrorContext::RemoteFile,
                    "the remote content keeps changing",
                );
                return Err((driver, Ending::Failed(error, index)));
            }
        }
        for (index, transfer) in transfers {
            if !on_demand.complete(index) {
                continue;
            }
            match transfer.finish() {
                Ok(()) => {}
                Err(TransferError::Stopped) => return Err((driver, Ending::Stopped(index))),
                Err(error) => return Err((driver, Ending::Failed(error, index))),
            }
        }
        // Nothing asked for is missing? Then the job goes idle; a request that came while it
        // did moves it on again (see `job/state/on_demand.rs`).
        let files = job.enum_files();
        let generation = {
            let mut wants = on_demand.lock();
            if !wants.idle(files.len()) {
                continue;
            }
            wants.generation
        };
        if files.iter().all(|file| file.file.counters.is_transferred()) {
            if !*connected.lock() && driver.connected().is_err() {
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

/// One pass over an on-demand job (see the module docs), shared by its connections.
struct Pass<'a> {
    engine: &'a Engine,
    job: &'a Job,
    driver: &'a JobDriver,
    /// The worker's stop request.
    stop: &'a StopFlag,
    on_demand: &'a Arc<OnDemand>,
    files: &'a [JobFile],
    connected: &'a Mutex<bool>,
    /// Each file's transfer, opened by the first connection that needs it.
    transfers: Vec<OnceLock<FileTransfer>>,
    /// Held while a transfer is opened.
    opening: Mutex<()>,
    /// Each file's content validator, shared by its runs (the first response names it).
    validators: Mutex<Vec<Option<String>>>,
    /// Claim no further run.
    winding_down: StopFlag,
    /// Stop the runs being fetched too.
    aborting: StopFlag,
    /// The first failure or stop of a connection.
    ending: Mutex<Option<Ending>>,
    /// Files whose content changed: they restart between passes.
    restarts: Mutex<Vec<usize>>,
}

impl Pass<'_> {
    /// One connection: claims runs and fetches them until none is left or the pass winds down.
    fn connection(&self) {
        loop {
            if self.stop.is_set() || self.winding_down.is_set() {
                return;
            }
            let restarts = self.restarts.lock().clone();
            let skip = |index: usize| {
                self.files[index].file.counters.is_transferred() || restarts.contains(&index)
            };
            let give_up = || self.stop.is_set() || self.winding_down.is_set();
            let Some(run) = self.on_demand.claim_any(self.files.len(), skip, give_up) else {
                return;
            };
            let index = run.index;
            // A transport that panics fails the file; its run still ends (else the job would
            // never be idle again).
            let outcome =
                catch_unwind(AssertUnwindSafe(|| self.fetch(&run))).unwrap_or_else(|_| {
                    Err(TransferError::fatal(
                        hresult::E_UNEXPECTED,
                        BgErrorContext::GeneralTransport,
                        "the transport panicked",
                    ))
                });
            self.on_demand.settle(
                &run,
                &self.job.shared.counters,
                &self.files[index].file.counters,
            );
            match outcome {
                Ok(()) => {
                    if self.on_demand.complete(index) {
                        // Finished between passes, when no connection writes it.
                        self.winding_down.set(Stop::Preempt);
                    }
                }
                Err(error) => {
                    self.end_with(error, index);
                    return;
                }
            }
        }
    }

    /// Records how a connection ended, unless the pass asked it to stop.
    fn end_with(&self, error: TransferError, index: usize) {
        let asked = self.aborting.is_set() && !self.stop.is_set() && self.driver.is_live();
        if matches!(error, TransferError::Stopped) && asked {
            return;
        }
        let ending = match error {
            TransferError::Stopped => Ending::Stopped(index),
            error if error.hresult() == hresult::BG_E_INSUFFICIENT_RANGE_SUPPORT => Ending::Failed(
                TransferError::fatal(
                    hresult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED,
                    BgErrorContext::RemoteFile,
                    format!("an on-demand file needs a server that serves ranges: {error}"),
                ),
                index,
            ),
            error => Ending::Failed(error, index),
        };
        self.ending.lock().get_or_insert(ending);
        self.winding_down.set(Stop::Preempt);
        self.aborting.set(Stop::Preempt);
    }

    /// The transfer of file `index`, opened (and its ranges handed to the on-demand state) by
    /// the first connection that asks.
    fn transfer(&self, index: usize) -> Result<&FileTransfer, TransferError> {
        if let Some(transfer) = self.transfers[index].get() {
            return Ok(transfer);
        }
        let _opening = self.opening.lock();
        if let Some(transfer) = self.transfers[index].get() {
            return Ok(transfer);
        }
        let transfer = self.driver.open_file(index)?;
        transfer.hand_ranges_to(Some(self.on_demand));
        self.validators.lock()[index] = TransferSink::validator(&transfer).map(str::to_owned);
        Ok(self.transfers[index].get_or_init(|| transfer))
    }

    /// Fetches `run` (a run with no byte and a size that says bytes are there is an error).
    fn fetch(&self, run: &Arc<Run>) -> Result<(), TransferError> {
        let index = run.index;
        let file = &self.files[index];
        // The remote name now (`set_remote_name`), and the cache host (DESIGN 6.2).
        let plan = self.job.source_plan(index);
        let protocol = crate::job::validate::protocol_of(plan.url());
        let scheme = protocol.scheme(plan.url());
        let Some(transport) = self.engine.transport_for(scheme) else {
            return Err(TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::GeneralTransport,
                format!("no transport serves the {scheme:?} scheme"),
            ));
        };
        let transfer = self.transfer(index)?;
        let request = self.engine.request(self.job, file, &plan);
        let validator = self.validators.lock()[index].clone();
        let mut sink = RunSink {
            pass: self,
            transfer,
            run,
            at: run.start,
            validator,
            connected: *self.connected.lock(),
            restarted: false,
        };
        transport.transfer_range(&request, run.start, Some(run.end - 1), &mut sink)?;
        if !sink.restarted
            && sink.at == run.start
            && transfer.size().is_none_or(|size| run.start < size)
        {
            return Err(TransferError::transient(
                hresult::BG_E_INVALID_SERVER_RESPONSE,
                BgErrorContext::RemoteFile,
                format!("no byte of the range at offset {} arrived", run.start),
            ));
        }
        Ok(())
    }

    /// Ends the pass (every connection has returned): takes the files' ranges back from the
    /// on-demand state and restarts the files whose content changed. Returns the open transfers,
    /// the ending if a connection failed or stopped, and the files restarted.
    fn end(self) -> (Vec<(usize, FileTransfer)>, Option<Ending>, Vec<usize>) {
        let validators = self.validators.into_inner();
        let restarts = self.restarts.into_inner();
        let mut ending = self.ending.into_inner();
        let mut open = Vec::new();
        for (index, slot) in self.transfers.into_iter().enumerate() {
            let Some(mut transfer) = slot.into_inner() else { continue };
            transfer.hand_ranges_to(None);
            if restarts.contains(&index) {
                if let Err(error) = TransferSink::restart(&mut transfer) {
                    ending.get_or_insert(match error {
                        TransferError::Stopped => Ending::Stopped(index),
                        error => Ending::Failed(error, index),
                    });
                }
                self.on_demand.set_filled(index, Vec::new());
            } else if validators[index].as_deref() != TransferSink::validator(&transfer) {
                TransferSink::set_validator(&mut transfer, validators[index].clone());
            }
            open.push((index, transfer));
        }
        (open, ending, restarts)
    }
}

/// One run of a file, as a transport sees it.
struct RunSink<'p, 'a> {
    pass: &'p Pass<'a>,
    transfer: &'p FileTransfer,
    run: &'p Run,
    /// Where the next byte goes.
    at: u64,
    validator: Option<String>,
    /// The driver was told the job is connected.
    connected: bool,
    restarted: bool,
}

impl RunSink<'_, '_> {
    fn connect(&mut self) -> Result<(), TransferError> {
        if !self.connected {
            let mut connected = self.pass.connected.lock();
            if !*connected {
                self.pass.driver.connected()?;
                *connected = true;
            }
            self.connected = true;
        }
        Ok(())
    }
}

impl RangeSink for RunSink<'_, '_> {
    fn validator(&self) -> Option<&str> {
        self.validator.as_deref()
    }

    fn set_validator(&mut self, validator: Option<String>) {
        let index = self.run.index;
        let mut shared = self.pass.validators.lock();
        if shared[index].is_none() {
            shared[index].clone_from(&validator);
            drop(shared);
            self.transfer.record_validator(validator.clone());
        }
        self.validator = validator;
    }

    fn set_remote_size(&mut self, size: u64) -> Result<(), TransferError> {
        self.connect()?;
        if self.transfer.size() != Some(size) {
            self.transfer.set_size_shared(Some(size))?;
        }
        self.pass.on_demand.set_size(self.run.index, size);
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        self.connect()?;
        let pass = self.pass;
        let mut stop = || pass.stop.is_set() || pass.aborting.is_set();
        self.transfer.write_run(pass.on_demand, self.run, self.at, data, &mut stop)?;
        self.at += data.len() as u64;
        Ok(())
    }

    fn restart(&mut self) -> Result<(), TransferError> {
        // The file restarts between passes, when none of its runs is fetched; the pass stops.
        self.restarted = true;
        let mut restarts = self.pass.restarts.lock();
        if !restarts.contains(&self.run.index) {
            restarts.push(self.run.index);
        }
        self.pass.winding_down.set(Stop::Preempt);
        self.pass.aborting.set(Stop::Preempt);
        Ok(())
    }

    fn should_stop(&self) -> bool {
        self.pass.stop.is_set() || self.pass.aborting.is_set() || self.transfer.should_stop()
    }
}
