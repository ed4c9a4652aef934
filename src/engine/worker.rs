//! A worker thread: waits for the scheduler to give it a job, then drives that job through the
//! public driver API (claim, files in order, finish or fail) with the transports of the engine.

use super::Engine;
use super::ranged;
use super::sink::EngineSink;
use super::sources::SourceStep;
use super::stop::StopFlag;
use crate::transport::TransferError;
use crate::{
    BackgroundCopyFile, BackgroundCopyJob, BgError, BgErrorContext, Job, JobDriver, hresult,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

/// The body of worker thread `index`: run what the scheduler assigns until shutdown.
pub(super) fn work(engine: &Engine, index: usize) {
    loop {
        let (job, stop) = {
            let mut workers = engine.workers.lock();
            loop {
                if workers.shutdown {
                    return;
                }
                let slot = &workers.slots[index];
                if let Some(assigned) = &slot.current {
                    break (assigned.job.clone(), Arc::clone(&slot.stop));
                }
                engine.work_cv.wait(&mut workers);
            }
        };
        // A panic here would be a bug in bgcopy; keep the worker (and its slot) alive anyway.
        let claim_refused =
            catch_unwind(AssertUnwindSafe(|| run_job(engine, &job, &stop))).unwrap_or(false);
        {
            let mut workers = engine.workers.lock();
            if claim_refused {
                workers.claim_blocked.insert(job.get_id(), Instant::now());
            }
            let shutdown = workers.shutdown;
            let slot = &mut workers.slots[index];
            slot.current = None;
            if !shutdown {
                slot.stop.clear();
            }
        }
        // The slot is free: let the scheduler look again (and `wait_idle` see it).
        engine.work_cv.notify_all();
        engine.registry.signal().wake();
    }
}

/// Moves one job as far as it goes: until it is transferred, fails, or must stop. Returns `true`
/// if the claim was refused because another driver still holds the job.
fn run_job(engine: &Engine, job: &Job, stop: &StopFlag) -> bool {
    if stop.is_set() {
        return false;
    }
    let driver = match job.claim() {
        Ok(driver) => driver,
        // Another driver (a caller's own) still holds the job; it wakes the scheduler when it
        // lets go.
        Err(BgError::InvalidState { reason: crate::InvalidStateReason::Claimed, .. }) => {
            return true;
        }
        // Not queued any more (suspended meanwhile): nothing to do.
        Err(_) => return false,
    };
    if let Some(on_demand) = job.on_demand() {
        match super::on_demand::run(engine, job, driver, stop, &on_demand) {
            Ok(()) => {}
            Err((driver, super::on_demand::Ending::Stopped(index))) => {
                stopped(engine, driver, stop, index);
            }
            Err((driver, super::on_demand::Ending::Failed(error, index))) => {
                fail(engine, driver, error, index);
            }
        }
        // A reader blocked on the job looks at its state again.
        on_demand.wake();
        return false;
    }
    let mut connected = false;
    loop {
        if stop.is_set() {
            let _ = driver.release();
            return false;
        }
        let Some(file) = driver.next_file() else { break };
        let index = file.index();
        // The scheme of the URL fetched now (a new remote name or a mirror may change it).
        let source = job.source_plan(index);
        let protocol = crate::job::validate::protocol_of(source.url());
        let scheme = protocol.scheme(source.url());
        let Some(transport) = engine.transport_for(scheme) else {
            let error = TransferError::fatal(
                hresult::E_INVALIDARG,
                BgErrorContext::GeneralTransport,
                format!("no transport serves the {scheme:?} scheme"),
            );
            fail(engine, driver, error, index);
            return false;
        };
        let transfer = match driver.open_file(index) {
            Ok(transfer) => transfer,
            Err(TransferError::Stopped) => return false,
            Err(error) => {
                fail(engine, driver, error, index);
                return false;
            }
        };
        let plan = job.source_plan(index);
        let outcome = {
            // A file transport can always continue where it stopped; others only once they
            // stored a validator (see EngineSink).
            let resumable = scheme == "file";
            let mut sink = EngineSink::new(transfer, &driver, &mut connected, stop, resumable);
            if job.lock().properties.dynamic_content
                && let Err(error) = sink.dynamic()
            {
                drop(sink);
                match error {
                    TransferError::Stopped => stopped(engine, driver, stop, index),
                    error => fail(engine, driver, error, index),
                }
                return false;
            }
            let request = engine.request(job, &file, &plan);
            let result = catch_unwind(AssertUnwindSafe(|| match file.file.ranges.as_deref() {
                Some(ranges) => ranged::transfer(transport.as_ref(), &request, ranges, &mut sink),
                None => transport.transfer(&request, &mut sink),
            }))
            .unwrap_or_else(|_| {
                Err(TransferError::fatal(
                    hresult::E_UNEXPECTED,
                    BgErrorContext::GeneralTransport,
                    format!("the {:?} transport panicked", transport.protocol()),
                ))
            });
            sink.flush_sources();
            result.and_then(|()| sink.finish())
        };
        match outcome {
            Ok(()) => job.source_done(index),
            Err(TransferError::Stopped) => {
                stopped(engine, driver, stop, index);
                return false;
            }
            Err(error) if driver.is_live() => {
                // A failed source gives way to the next one (DESIGN 6.2, mirrors).
                let bytes = file.get_progress().bytes_transferred;
                match job.source_failed(index, error, bytes) {
                    SourceStep::Again => {}
                    SourceStep::Fail(error) => {
                        fail(engine, driver, error, index);
                        return false;
                    }
                }
            }
            Err(error) => {
                fail(engine, driver, error, index);
                return false;
            }
        }
    }
    if !connected && driver.connected().is_err() {
        return false;
    }
    let _ = driver.finish();
    false
}

/// A transfer returned `Stopped`: the job was suspended, cancelled or completed (the claim is
/// gone; dropping the driver is all), the scheduler wants the worker back (release the job to
/// `Queued`), or the transport stopped on its own, which counts as a transient failure.
fn stopped(engine: &Engine, driver: JobDriver, stop: &StopFlag, index: usize) {
    if !driver.is_live() {
        return;
    }
    if stop.is_set() {
        let _ = driver.release();
    } else {
        let error = TransferError::transient(
            hresult::E_ABORT,
            BgErrorContext::GeneralTransport,
            "the transport stopped without being asked to",
        );
        fail(engine, driver, error, index);
    }
}

/// Fails the job of `driver` with `error` on file `index`. The engine's clock is read first, before
/// the job can be seen in `TransientError`, so that its retry delay counts from the failure itself
/// and not from whenever the scheduler next looks (a test advancing a manual clock as soon as it
/// sees the state cannot slip in between).
fn fail(engine: &Engine, driver: JobDriver, error: TransferError, index: usize) {
    engine.note_failure(driver.job().get_id());
    let _ = driver.fail(error, Some(index));
}
