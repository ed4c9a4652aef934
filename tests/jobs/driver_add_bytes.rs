//! `FileTransfer::add_bytes`: a driver that does its own I/O on the temporary file counts the
//! bytes with the same checks as `write` (claim, known size), without writing anything itself.

use crate::support;

use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::thread;
use support::*;

/// A job with `count` files, resumed, claimed and connected.
fn running(fx: &Fixture, count: usize) -> (Job, JobDriver) {
    let job = fx.job_with_files(count);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    (job, driver)
}

/// Appends `data` to the transfer's temporary file through a handle of the test's own.
fn write_own(transfer: &FileTransfer, data: &[u8]) {
    let mut own = OpenOptions::new().append(true).open(transfer.temp_path()).unwrap();
    own.write_all(data).unwrap();
}

#[test]
fn bytes_written_through_an_own_handle_are_counted_and_committed() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    let data = content(0);
    transfer.set_size(Some(data.len() as u64)).unwrap();
    let (head, tail) = data.split_at(1000);
    write_own(&transfer, head);
    transfer.add_bytes(head.len() as u64).unwrap();
    assert_eq!(job.get_progress().bytes_transferred, 1000);
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 1000);
    assert_eq!(transfer.offset(), 1000);
    write_own(&transfer, tail);
    transfer.add_bytes(tail.len() as u64).unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: data.len() as u64,
            bytes_transferred: data.len() as u64,
            files_total: 1,
            files_transferred: 1
        }
    );
    assert_eq!(job.complete().unwrap(), BgSuccess::Ok);
    assert_eq!(fs::read(fx.local(0)).unwrap(), data);
}

#[test]
fn bytes_past_the_known_size_are_refused_and_nothing_is_counted() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(10)).unwrap();
    transfer.add_bytes(8).unwrap();
    let err = transfer.add_bytes(3).unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_SERVER_RESPONSE);
    assert_eq!(err.context(), BgErrorContext::RemoteFile);
    assert_eq!(transfer.offset(), 8);
    assert_eq!(job.get_progress().bytes_transferred, 8);
    transfer.add_bytes(2).unwrap();
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 10);
}

#[test]
fn a_revoked_claim_stops_the_count() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.add_bytes(5).unwrap();
    job.suspend().unwrap();
    assert_eq!(transfer.add_bytes(5).unwrap_err(), TransferError::Stopped);
    assert_eq!(job.get_progress().bytes_transferred, 5);
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 5);
}

#[test]
fn an_unknown_size_becomes_the_bytes_counted_at_finish() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.add_bytes(4).unwrap();
    transfer.add_bytes(3).unwrap();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    transfer.finish().unwrap();
    assert_eq!(
        job.enum_files()[0].get_progress(),
        BgFileProgress { bytes_total: 7, bytes_transferred: 7, completed: false }
    );
    assert_eq!(job.get_progress().bytes_total, 7);
}

#[test]
fn two_threads_counting_different_files_sum_exactly() {
    const CHUNKS: u64 = 10_000;
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 2);
    let transfers: Vec<_> = (0..2)
        .map(|i| {
            let mut t = driver.open_file(i).unwrap();
            t.set_size(Some(CHUNKS * 3)).unwrap();
            t
        })
        .collect();
    let reader = job.clone();
    thread::scope(|s| {
        for mut transfer in transfers {
            s.spawn(move || {
                for _ in 0..CHUNKS {
                    transfer.add_bytes(3).unwrap();
                }
                transfer.finish().unwrap();
            });
        }
        // A reader meanwhile sees only possible snapshots.
        for _ in 0..1000 {
            let p = reader.get_progress();
            assert!(p.is_consistent(), "{p:?}");
            assert!(p.bytes_transferred >= CHUNKS * 3 * u64::from(p.files_transferred), "{p:?}");
        }
    });
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: CHUNKS * 6,
            bytes_transferred: CHUNKS * 6,
            files_total: 2,
            files_transferred: 2
        }
    );
}
