//! loom models of the counter protocol in `state/counters.rs`: every interleaving of two or three
//! threads is explored and the snapshot invariants are asserted in each.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --lib loom`.

use crate::job::state::counters::{FileCounters, JobCounters};
use crate::{BG_SIZE_UNKNOWN, BgJobProgress, BgJobState};
use loom::sync::Arc;
use loom::thread;

fn check(p: BgJobProgress) {
    assert!(p.is_consistent(), "impossible snapshot: {p:?}");
}

fn job_with_files(n: usize) -> (Arc<JobCounters>, Arc<Vec<FileCounters>>) {
    let job = Arc::new(JobCounters::new(BgJobState::Transferring));
    let files: Vec<_> = (0..n).map(FileCounters::new).collect();
    for _ in 0..n {
        job.add_file();
    }
    (job, Arc::new(files))
}

/// A file counted as transferred has all its bytes counted, and bytes never pass the total.
#[test]
fn finished_file_has_all_its_bytes() {
    loom::model(|| {
        let (job, files) = job_with_files(1);
        let writer = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                assert!(job.set_file_size(&files[0], Some(4)));
                assert!(job.add_file_bytes(&files[0], 2));
                assert!(job.add_file_bytes(&files[0], 2));
                assert!(job.finish_file(&files[0]));
            })
        };
        let p = job.snapshot();
        check(p);
        if p.files_transferred == 1 {
            assert_eq!(p.bytes_transferred, 4);
            assert_eq!(p.bytes_total, 4);
        }
        let f = job.file_snapshot(&files[0]);
        if f.bytes_total != BG_SIZE_UNKNOWN {
            assert!(f.bytes_transferred <= f.bytes_total);
        }
        writer.join().unwrap();
        assert_eq!(job.snapshot().files_transferred, 1);
    });
}

/// Two writers on files `first` and `second` of a job of `count` files (the others sized 0 and
/// finished up front): the aggregate stays consistent for a reader.
fn two_writers(count: usize, first: usize, second: usize) {
    loom::model(move || {
        let (job, files) = job_with_files(count);
        for other in (0..count).filter(|&i| i != first && i != second) {
            assert!(job.set_file_size(&files[other], Some(0)));
            assert!(job.finish_file(&files[other]));
        }
        let done_before = count as u32 - 2;
        let spawn_writer = |i: usize| {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                assert!(job.set_file_size(&files[i], Some(3)));
                assert!(job.add_file_bytes(&files[i], 3));
                assert!(job.finish_file(&files[i]));
            })
        };
        let a = spawn_writer(first);
        let b = spawn_writer(second);
        let p = job.snapshot();
        check(p);
        assert!(p.bytes_transferred >= 3 * u64::from(p.files_transferred - done_before));
        a.join().unwrap();
        b.join().unwrap();
        let end = job.snapshot();
        assert_eq!(
            end,
            BgJobProgress {
                bytes_total: 6,
                bytes_transferred: 6,
                files_total: count as u32,
                files_transferred: count as u32
            }
        );
    });
}

/// Two writers on neighbouring files, which add to different stripes of the byte count.
#[test]
fn two_writers_keep_the_aggregate_consistent() {
    two_writers(2, 0, 1);
}

/// Two writers on files whose bytes go to the same stripe (the read-modify-writes meet).
#[test]
fn two_writers_on_one_stripe_keep_the_aggregate_consistent() {
    assert_eq!(crate::job::state::counters::BYTE_STRIPES, 2, "files 0 and 2 share a stripe");
    two_writers(3, 0, 2);
}

/// A file of unknown size gets its size from the bytes received when it finishes: a reader that
/// sees a known total never sees more bytes than it.
#[test]
fn unknown_size_becomes_known_at_the_end() {
    loom::model(|| {
        let (job, files) = job_with_files(1);
        let writer = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                assert!(job.add_file_bytes(&files[0], 5));
                assert!(job.finish_file(&files[0]));
            })
        };
        let p = job.snapshot();
        check(p);
        if p.files_transferred == 1 {
            assert_eq!((p.bytes_total, p.bytes_transferred), (5, 5));
        }
        writer.join().unwrap();
    });
}

/// A file is added and written (size still unknown) while a reader takes a snapshot: the reader
/// never sees its bytes against a total that is known but lacks them.
#[test]
fn a_file_added_meanwhile_never_shows_bytes_above_a_known_total() {
    loom::model(|| {
        let (job, files) = job_with_files(1);
        assert!(job.set_file_size(&files[0], Some(2)));
        let late = Arc::new(FileCounters::new(1));
        let writer = {
            let (job, late) = (job.clone(), late.clone());
            thread::spawn(move || {
                job.add_file();
                assert!(job.add_file_bytes(&late, 5));
            })
        };
        check(job.snapshot());
        writer.join().unwrap();
        assert_eq!(job.snapshot().bytes_total, BG_SIZE_UNKNOWN);
    });
}

/// A file opened beside a writer on its stripe moves to the other stripe, bytes and all, while a
/// reader takes a snapshot: the reader counts its bytes once, never twice or not at all.
#[test]
fn moving_a_file_to_another_stripe_counts_its_bytes_once() {
    loom::model(|| {
        let (job, files) = job_with_files(3);
        for (file, n) in files.iter().zip([1, 2, 4]) {
            assert!(job.add_file_bytes(file, n));
        }
        let mover = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || job.pick_stripe(&files[2], std::iter::once(&files[0])))
        };
        assert_eq!(job.snapshot().bytes_transferred, 7);
        mover.join().unwrap();
        assert_eq!(job.snapshot().bytes_transferred, 7);
        assert_eq!(job.restart_file(&files[2]), 4);
        assert_eq!(job.snapshot().bytes_transferred, 3);
    });
}

/// A file restarts from zero and its size shrinks (the remote changed) while a reader takes
/// snapshots: the resize bracket keeps every snapshot consistent.
#[test]
fn shrinking_a_size_never_shows_bytes_above_total() {
    loom::model(|| {
        let (job, files) = job_with_files(2);
        assert!(job.set_file_size(&files[0], Some(4)));
        assert!(job.add_file_bytes(&files[0], 4));
        assert!(job.set_file_size(&files[1], Some(1)));
        assert!(job.add_file_bytes(&files[1], 1));
        let resizer = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                job.restart_file(&files[0]);
                assert!(job.set_file_size(&files[0], Some(2)));
            })
        };
        check(job.snapshot());
        resizer.join().unwrap();
        assert_eq!(job.snapshot().bytes_total, 3);
    });
}

/// Two writers learn sizes whose sum does not fit below `BG_SIZE_UNKNOWN`, while a reader takes
/// a snapshot: the total never wraps into a number smaller than the bytes counted, and one of
/// the sizes stays out of it (the job's total is unknown).
#[test]
fn sizes_that_do_not_fit_leave_the_total_unknown() {
    loom::model(|| {
        let (job, files) = job_with_files(2);
        let writers: Vec<_> = (0..2)
            .map(|i| {
                let (job, files) = (job.clone(), files.clone());
                thread::spawn(move || {
                    assert!(job.set_file_size(&files[i], Some(u64::MAX - 1)));
                    assert!(job.add_file_bytes(&files[i], 2));
                })
            })
            .collect();
        check(job.snapshot());
        for writer in writers {
            writer.join().unwrap();
        }
        let p = job.snapshot();
        assert_eq!((p.bytes_total, p.bytes_transferred), (BG_SIZE_UNKNOWN, 4));
    });
}

/// A driver polling its claim sees a suspend (generation bump) and then the new state.
#[test]
fn revoked_claim_is_seen_with_its_state() {
    loom::model(|| {
        let job = Arc::new(JobCounters::new(BgJobState::Queued));
        let generation = job.set_state(BgJobState::Connecting, 1);
        let control = {
            let job = job.clone();
            thread::spawn(move || {
                job.set_state(BgJobState::Suspended, 1);
            })
        };
        if !job.claim_is_live(generation) {
            assert_eq!(job.state(), BgJobState::Suspended);
        }
        control.join().unwrap();
        assert!(!job.claim_is_live(generation));
    });
}

/// Two segment writers of one file (each its own half) and a reader: the file's count is the
/// sum, never above the size, and the job total never below what the reader saw before.
#[test]
fn two_segment_writers_of_one_file_never_pass_its_size() {
    loom::model(|| {
        let (job, files) = job_with_files(1);
        assert!(job.set_file_size(&files[0], Some(4)));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (job, files) = (job.clone(), files.clone());
                thread::spawn(move || job.add_segment_bytes(&files[0], 2))
            })
            .collect();
        let p = job.snapshot();
        check(p);
        assert!(p.bytes_transferred <= 4);
        for writer in writers {
            writer.join().unwrap();
        }
        assert!(job.finish_file(&files[0]));
        let p = job.snapshot();
        assert_eq!((p.bytes_transferred, p.files_transferred), (4, 1));
    });
}

/// The on-demand wake-up protocol (`state/on_demand.rs`): a writer publishes a run's cursor and
/// counts the bytes; a reader registers, meets the writers, and reads the cursor. In every
/// interleaving, either the reader sees the bytes or the writer sees the reader and wakes it:
/// a reader never sleeps on a byte already written with nobody to wake it.
#[test]
fn on_demand_reader_is_never_left_asleep() {
    use crate::job::state::on_demand::{publish_write, register_reader};
    use crate::sync::{AtomicU32, AtomicU64, Ordering};
    loom::model(|| {
        let (job, files) = job_with_files(1);
        assert!(job.set_file_size(&files[0], Some(16)));
        let cursor = Arc::new(AtomicU64::new(0));
        let waiting = Arc::new(AtomicU32::new(0));
        let writer = {
            let (job, files, cursor, waiting) =
                (job.clone(), files.clone(), cursor.clone(), waiting.clone());
            thread::spawn(move || {
                publish_write(&cursor, 8, || job.add_run_bytes(&files[0], 8), &waiting)
            })
        };
        register_reader(&waiting, || job.meet_writers());
        // Acquire: as `Run::written` reads a cursor.
        let seen = cursor.load(Ordering::Acquire);
        let wakes = writer.join().unwrap();
        assert!(seen == 8 || wakes, "the reader sleeps on written bytes and nobody wakes it");
        check(job.snapshot());
    });
}

/// The async side of the on-demand wake-up protocol (`state/on_demand.rs`, `AsyncFileReader`): a
/// poll registers its waker in the table under the lock (counted in `waiting` and meeting the
/// writers), looks at the cursor, and returns `Pending` if the byte is missing; a writer that
/// sees `waiting` takes the lock and takes the wakers its write brought bytes to. In every
/// interleaving, either the poll sees the byte or the writer takes its waker; and once the
/// reader forgets its registration (it is dropped), `waiting` is back to zero.
#[test]
fn on_demand_async_reader_is_never_left_pending() {
    use crate::job::state::on_demand::{Wakers, publish_write, register_reader};
    use crate::sync::{AtomicU32, AtomicU64, Mutex, Ordering};
    loom::model(|| {
        let (job, files) = job_with_files(1);
        assert!(job.set_file_size(&files[0], Some(16)));
        let cursor = Arc::new(AtomicU64::new(0));
        let waiting = Arc::new(AtomicU32::new(0));
        let table = Arc::new(Mutex::new(Wakers::default()));
        let writer = {
            let (job, files, cursor, waiting, table) =
                (job.clone(), files.clone(), cursor.clone(), waiting.clone(), table.clone());
            thread::spawn(move || {
                if publish_write(&cursor, 8, || job.add_run_bytes(&files[0], 8), &waiting) {
                    table.lock().take_arrived(0, 0, 8, &waiting).len()
                } else {
                    0
                }
            })
        };
        // A poll for byte 4 (`OnDemand::poll_for` after its first look).
        let mut slot = None;
        let seen = {
            let mut wakers = table.lock();
            if wakers.register(&mut slot, 0, 4, std::task::Waker::noop()) {
                register_reader(&waiting, || job.meet_writers());
            }
            // Acquire: as `Run::written` reads a cursor.
            let seen = cursor.load(Ordering::Acquire) > 4;
            if seen {
                wakers.forget(&slot, &waiting);
            }
            seen
        };
        let woken = writer.join().unwrap();
        assert!(seen || woken == 1, "pending on written bytes and nobody wakes it");
        assert!(!(seen && woken == 1), "a registration taken twice");
        table.lock().forget(&slot, &waiting);
        // Relaxed: every thread is joined.
        assert_eq!(waiting.load(Ordering::Relaxed), 0, "`waiting` leaked");
    });
}

/// A pending async reader dropped (forgetting its registration) while a writer brings its byte
/// and takes the wakers: the registration is uncounted exactly once, whoever removes it.
#[test]
fn a_dropped_async_reader_never_leaks_waiting() {
    use crate::job::state::on_demand::{Wakers, publish_write, register_reader};
    use crate::sync::{AtomicU32, AtomicU64, Mutex, Ordering};
    loom::model(|| {
        let (job, files) = job_with_files(1);
        assert!(job.set_file_size(&files[0], Some(16)));
        let cursor = Arc::new(AtomicU64::new(0));
        let waiting = Arc::new(AtomicU32::new(0));
        let table = Arc::new(Mutex::new(Wakers::default()));
        // Pending on byte 4.
        let mut slot = None;
        {
            let mut wakers = table.lock();
            assert!(wakers.register(&mut slot, 0, 4, std::task::Waker::noop()));
            register_reader(&waiting, || job.meet_writers());
        }
        let writer = {
            let (job, files, cursor, waiting, table) =
                (job.clone(), files.clone(), cursor.clone(), waiting.clone(), table.clone());
            thread::spawn(move || {
                let sees = publish_write(&cursor, 8, || job.add_run_bytes(&files[0], 8), &waiting);
                if sees { table.lock().take_arrived(0, 0, 8, &waiting).len() } else { 0 }
            })
        };
        // The reader is dropped meanwhile.
        table.lock().forget(&slot, &waiting);
        writer.join().unwrap();
        // Relaxed: every thread is joined.
        assert_eq!(waiting.load(Ordering::Relaxed), 0, "`waiting` leaked or went below zero");
    });
}
