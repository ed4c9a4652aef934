//! Progress (spec sections 2.1, 2.2, 2.11; DESIGN section 1): sizes and byte counting through the
//! driver API, and snapshots read concurrently with writers and restarts that never show an
//! impossible value.

use crate::support;

use bgcopy::transport::TransferSink;
use bgcopy::*;
use parking_lot::Mutex;
use std::fs;
use std::thread;
use support::*;

// ---- sizes and counting ---------------------------------------------------------------------

/// A job with `count` files, resumed, claimed and connected.
fn running(fx: &Fixture, count: usize) -> (Job, JobDriver) {
    let job = fx.job_with_files(count);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    (job, driver)
}

#[test]
fn writes_past_a_known_size_are_refused_and_nothing_is_counted() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(10)).unwrap();
    transfer.write(b"12345678").unwrap();
    let err = transfer.write(b"9AB").unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_INVALID_SERVER_RESPONSE);
    assert_eq!(err.context(), BgErrorContext::RemoteFile);
    assert_eq!(transfer.offset(), 8);
    assert_eq!(job.get_progress().bytes_transferred, 8);
    assert_eq!(job.enum_files()[0].get_progress().bytes_transferred, 8);
    assert_eq!(fs::metadata(transfer.temp_path()).unwrap().len(), 8, "nothing was written");
    transfer.write(b"9A").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(fs::read(fx.local(0)).unwrap(), b"123456789A");
}

#[test]
fn finish_short_of_the_known_size_is_a_transient_connection_closed() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(10)).unwrap();
    transfer.write(b"1234").unwrap();
    let err = transfer.finish().unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_CONNECTION_CLOSED);
    let progress = job.get_progress();
    assert_eq!((progress.files_transferred, progress.bytes_transferred), (0, 4));
    assert!(!job.enum_files()[0].get_progress().is_transferred());
    // The bytes stay: the file continues where it stopped.
    let mut transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.offset(), 4);
    transfer.write(b"567890").unwrap();
    transfer.finish().unwrap();
    assert_eq!(job.get_progress().files_transferred, 1);
}

#[test]
fn an_unknown_size_becomes_the_bytes_received_at_finish() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.write(b"abc").unwrap();
    transfer.write(b"defg").unwrap();
    let file = &job.enum_files()[0];
    assert_eq!(file.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    assert_eq!(job.get_progress().bytes_transferred, 7);
    transfer.finish().unwrap();
    assert_eq!(
        file.get_progress(),
        BgFileProgress { bytes_total: 7, bytes_transferred: 7, completed: false }
    );
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: 7,
            bytes_transferred: 7,
            files_total: 1,
            files_transferred: 1
        }
    );
}

#[test]
fn an_empty_file_of_unknown_size_finishes_with_size_zero() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    driver.open_file(0).unwrap().finish().unwrap();
    assert_eq!(
        job.get_progress(),
        BgJobProgress {
            bytes_total: 0,
            bytes_transferred: 0,
            files_total: 1,
            files_transferred: 1
        }
    );
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(fs::read(fx.local(0)).unwrap(), b"");
}

#[test]
fn restart_subtracts_the_files_bytes_from_the_job() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 2);
    transfer_file(&driver, 0, b"0123456789");
    let mut transfer = driver.open_file(1).unwrap();
    transfer.set_size(Some(8)).unwrap();
    transfer.write(b"stale").unwrap();
    assert_eq!(job.get_progress().bytes_transferred, 15);
    transfer.restart().unwrap();
    assert_eq!(transfer.offset(), 0);
    assert_eq!(job.get_progress().bytes_transferred, 10, "only file 1's bytes are removed");
    assert_eq!(job.enum_files()[1].get_progress().bytes_transferred, 0);
    assert_eq!(job.enum_files()[1].get_progress().bytes_total, 8, "the size stays known");
    assert_eq!(fs::metadata(transfer.temp_path()).unwrap().len(), 0);
    transfer.write(b"freshnew").unwrap();
    transfer.finish().unwrap();
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(fs::read(fx.local(1)).unwrap(), b"freshnew");
}

#[test]
fn set_size_below_the_bytes_already_written_is_refused() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.write(b"12345").unwrap();
    let err = transfer.set_size(Some(3)).unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert_eq!(transfer.size(), None);
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    transfer.set_size(Some(5)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 5);
}

#[test]
fn a_known_size_may_change_and_the_job_total_follows() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 2);
    let mut first = driver.open_file(0).unwrap();
    let mut second = driver.open_file(1).unwrap();
    first.set_size(Some(10)).unwrap();
    second.set_size(Some(5)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 15);
    first.set_size(Some(20)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 25);
    second.set_size(None).unwrap();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN, "unknown again");
    second.set_size(Some(1)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 21);
}

#[test]
fn sizes_whose_sum_does_not_fit_leave_the_job_total_unknown_and_progress_consistent() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 2);
    let mut first = driver.open_file(0).unwrap();
    let mut second = driver.open_file(1).unwrap();
    first.set_size(Some(u64::MAX - 1)).unwrap();
    second.set_size(Some(u64::MAX - 1)).unwrap();
    let p = job.get_progress();
    assert!(p.is_consistent(), "impossible snapshot: {p:?}");
    assert_eq!(p.bytes_total, BG_SIZE_UNKNOWN, "a sum past u64 is not a size");
    assert_eq!(job.enum_files()[1].get_progress().bytes_total, u64::MAX - 1, "the file's own size");
    // A sum that would be exactly BG_SIZE_UNKNOWN, or wrap to a small number, is not one either.
    second.set_size(Some(3)).unwrap();
    second.write(b"12").unwrap();
    let p = job.get_progress();
    assert!(p.is_consistent(), "impossible snapshot: {p:?}");
    assert_eq!(p.bytes_total, BG_SIZE_UNKNOWN);
    second.set_size(Some(2)).unwrap();
    second.set_size(Some(1_000)).unwrap();
    assert!(job.get_progress().is_consistent());
    // A size left out of the total comes back in when it is set again and the sum fits.
    first.set_size(Some(10)).unwrap();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    second.set_size(Some(999)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 1_009);
    second.set_size(Some(u64::MAX - 11)).unwrap();
    assert_eq!(job.get_progress().bytes_total, u64::MAX - 1, "the largest total there is");
    second.set_size(Some(u64::MAX - 10)).unwrap();
    assert_eq!(job.get_progress().bytes_total, BG_SIZE_UNKNOWN);
    second.set_size(Some(2)).unwrap();
    assert_eq!(job.get_progress().bytes_total, 12);
}

#[test]
fn a_transferred_file_is_counted_once_and_cannot_be_reopened() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 2);
    transfer_file(&driver, 0, b"once");
    let err = driver.open_file(0).unwrap_err();
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert_eq!(job.get_progress().files_transferred, 1);
    assert_eq!(driver.next_file().map(|f| f.index()), Some(1));
}

#[test]
fn a_file_can_be_open_only_once_at_a_time() {
    let fx = Fixture::new();
    let (_job, driver) = running(&fx, 1);
    let transfer = driver.open_file(0).unwrap();
    assert_eq!(driver.open_file(0).unwrap_err().hresult(), hresult::E_INVALIDARG);
    assert!(driver.open_file(5).is_err(), "no file 5");
    drop(transfer);
    let _reopened = driver.open_file(0).expect("open again once the first is dropped");
}

#[test]
fn progress_of_a_file_is_completed_only_after_complete() {
    let fx = Fixture::new();
    let (job, driver) = running(&fx, 1);
    transfer_file(&driver, 0, b"data");
    let file = &job.enum_files()[0];
    assert!(file.get_progress().is_transferred());
    assert!(!file.get_progress().completed);
    driver.finish().unwrap();
    job.complete().unwrap();
    assert_eq!(
        file.get_progress(),
        BgFileProgress { bytes_total: 4, bytes_transferred: 4, completed: true }
    );
}

// ---- concurrent snapshots -------------------------------------------------------------------

const FILES: usize = 4;
/// Every file ends with exactly this many bytes (the unknown sizes become it at finish).
const SIZE: u64 = 256 * 1024;
const CHUNK: usize = 1024;

/// Restarts per file: how many began and how many ended, bumped before and after the restart.
type Restarts = Mutex<[(u64, u64); FILES]>;

fn write_file(mut transfer: FileTransfer, index: usize, restarts: &Restarts) {
    // Files 0 and 2 announce their size; 1 and 3 learn it at finish. Files 1 and 2 restart.
    if index.is_multiple_of(2) {
        transfer.set_size(Some(SIZE)).unwrap();
    }
    let restart_at: &[u64] = match index {
        1 => &[SIZE / 2, SIZE / 4],
        2 => &[SIZE - CHUNK as u64],
        _ => &[],
    };
    let chunk = vec![index as u8; CHUNK];
    let mut pending = restart_at.iter();
    let mut next = pending.next();
    while transfer.offset() < SIZE {
        transfer.write(&chunk).unwrap();
        if next == Some(&transfer.offset()) {
            restarts.lock()[index].0 += 1;
            transfer.restart().unwrap();
            restarts.lock()[index].1 += 1;
            next = pending.next();
        }
    }
    transfer.finish().unwrap();
}

/// One reader's view: the restarts that had ended before a snapshot and those that had begun
/// after it.
struct Sample {
    ended_before: [u64; FILES],
    job: BgJobProgress,
    files: Vec<BgFileProgress>,
    begun_after: [u64; FILES],
}

fn sample(job: &Job, files: &[JobFile], restarts: &Restarts) -> Sample {
    let ended_before = restarts.lock().map(|(_, ended)| ended);
    let progress = job.get_progress();
    let file_progress = files.iter().map(BackgroundCopyFile::get_progress).collect();
    let begun_after = restarts.lock().map(|(begun, _)| begun);
    Sample { ended_before, job: progress, files: file_progress, begun_after }
}

/// Every rule one snapshot must satisfy on its own.
fn check_alone(s: &Sample) {
    let p = s.job;
    assert!(p.is_consistent(), "{p:?}");
    assert_eq!(p.files_total, FILES as u32);
    assert!(p.bytes_total == BG_SIZE_UNKNOWN || p.bytes_total == FILES as u64 * SIZE, "{p:?}");
    assert!(p.bytes_transferred <= FILES as u64 * SIZE, "{p:?}");
    // Every file counted as transferred has all its SIZE bytes counted.
    assert!(p.bytes_transferred >= u64::from(p.files_transferred) * SIZE, "{p:?}");
    for (index, f) in s.files.iter().enumerate() {
        assert!(f.bytes_total == BG_SIZE_UNKNOWN || f.bytes_total == SIZE, "file {index}: {f:?}");
        assert!(f.bytes_transferred <= SIZE, "file {index}: {f:?}");
        assert!(!f.completed);
    }
}

/// The rules between two snapshots of one reader: nothing goes backwards, except bytes across a
/// restart that overlapped the two snapshots.
fn check_pair(a: &Sample, b: &Sample) {
    let restarted = |i: usize| b.begun_after[i] > a.ended_before[i];
    let (p, q) = (a.job, b.job);
    assert!(q.files_transferred >= p.files_transferred, "{p:?} then {q:?}");
    assert_eq!(q.files_total, p.files_total);
    if p.bytes_total != BG_SIZE_UNKNOWN {
        assert_eq!(q.bytes_total, p.bytes_total, "a known total stays");
    }
    if !(0..FILES).any(restarted) {
        assert!(q.bytes_transferred >= p.bytes_transferred, "{p:?} then {q:?} without a restart");
    }
    for index in 0..FILES {
        let (f, g) = (a.files[index], b.files[index]);
        if f.bytes_total != BG_SIZE_UNKNOWN {
            assert_eq!(g.bytes_total, f.bytes_total, "file {index}");
        }
        if !restarted(index) {
            assert!(g.bytes_transferred >= f.bytes_transferred, "file {index}: {f:?} then {g:?}");
        }
    }
}

#[test]
fn concurrent_snapshots_are_consistent_and_never_go_backwards_except_across_a_restart() {
    for _round in 0..3 {
        let fx = Fixture::new();
        let (job, driver) = running(&fx, FILES);
        let restarts: Restarts = Mutex::new([(0, 0); FILES]);
        let done = Mutex::new(false);
        let files = job.enum_files();
        let samples_taken = thread::scope(|scope| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let mut previous = sample(&job, &files, &restarts);
                        check_alone(&previous);
                        let mut count = 1u64;
                        loop {
                            let finished = *done.lock();
                            let current = sample(&job, &files, &restarts);
                            check_alone(&current);
                            check_pair(&previous, &current);
                            previous = current;
                            count += 1;
                            if finished {
                                return (count, previous.job);
                            }
                        }
                    })
                })
                .collect();
            let writers: Vec<_> = (0..FILES)
                .map(|index| {
                    let transfer = driver.open_file(index).unwrap();
                    let restarts = &restarts;
                    scope.spawn(move || write_file(transfer, index, restarts))
                })
                .collect();
            for writer in writers {
                writer.join().expect("writer");
            }
            *done.lock() = true;
            readers.into_iter().map(|r| r.join().expect("reader")).collect::<Vec<_>>()
        });
        let end = BgJobProgress {
            bytes_total: FILES as u64 * SIZE,
            bytes_transferred: FILES as u64 * SIZE,
            files_total: FILES as u32,
            files_transferred: FILES as u32,
        };
        for (count, last) in samples_taken {
            assert!(count >= 2);
            assert_eq!(last, end, "the last snapshot, taken after the writers, is final");
        }
        assert_eq!(*restarts.lock(), [(0, 0), (2, 2), (1, 1), (0, 0)]);
        driver.finish().unwrap();
        job.complete().unwrap();
        for index in 0..FILES {
            let data = fs::read(fx.local(index)).unwrap();
            assert_eq!(data.len() as u64, SIZE);
            assert!(data.iter().all(|&b| b == index as u8), "file {index} content");
        }
    }
}

#[test]
fn snapshots_read_while_files_are_added_stay_consistent() {
    let fx = Fixture::new();
    let job = fx.job();
    let done = Mutex::new(false);
    thread::scope(|scope| {
        let reader = scope.spawn(|| {
            loop {
                let finished = *done.lock();
                let p = job.get_progress();
                assert!(p.is_consistent(), "{p:?}");
                assert!(p.bytes_total == 0 || p.bytes_total == BG_SIZE_UNKNOWN, "{p:?}");
                assert_eq!(p.bytes_total == 0, p.files_total == 0, "{p:?}");
                if finished {
                    return p;
                }
            }
        });
        for index in 0..50 {
            fx.add(&job, index);
        }
        *done.lock() = true;
        let last = reader.join().unwrap();
        assert_eq!(last.files_total, 50);
    });
}

/// R7: the temporary file at the recorded name is reopened only if it is the one this job
/// created. A hard link to another file, or another file put at the name, is never written to
/// nor deleted: the file restarts from zero in a new temporary file.
#[cfg(unix)]
#[test]
fn a_temporary_file_replaced_between_attempts_is_left_alone_and_the_file_restarts_from_zero() {
    for replacement in ["hard link", "another inode"] {
        let fx = Fixture::new();
        let (job, driver) = running(&fx, 1);
        let mut transfer = driver.open_file(0).unwrap();
        transfer.set_size(Some(10)).unwrap();
        transfer.write(b"1234").unwrap();
        let temp = transfer.temp_path().to_owned();
        assert!(transfer.finish().is_err(), "short of its size");
        assert_eq!(job.get_progress().bytes_transferred, 4);
        let theirs = fx.path("theirs.bin");
        fs::write(&theirs, b"their own bytes").unwrap();
        match replacement {
            "hard link" => {
                fs::remove_file(&temp).unwrap();
                fs::hard_link(&theirs, &temp).unwrap();
            }
            _ => {
                // Made before the old one goes, so it cannot reuse its inode number.
                let new = fx.path("new.bin");
                fs::write(&new, b"1234").unwrap();
                fs::rename(&new, &temp).unwrap();
            }
        }
        let before = fs::read(&temp).unwrap();
        let mut transfer = driver.open_file(0).unwrap();
        assert_eq!(transfer.offset(), 0, "{replacement}: restarts from zero");
        assert_ne!(transfer.temp_path(), temp.as_path(), "{replacement}: a new temporary file");
        assert_eq!(job.get_progress().bytes_transferred, 0);
        transfer.write(b"0123456789").unwrap();
        transfer.finish().unwrap();
        driver.finish().unwrap();
        job.complete().unwrap();
        assert_eq!(fs::read(fx.local(0)).unwrap(), b"0123456789", "{replacement}");
        assert_eq!(fs::read(&theirs).unwrap(), b"their own bytes", "{replacement}: untouched");
        assert_eq!(fs::read(&temp).unwrap(), before, "{replacement}: neither written nor deleted");
    }
}
