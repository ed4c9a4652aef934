//! loom models of the counter protocol in `counters.rs`: every interleaving of two or three
//! threads is explored and the snapshot invariants are asserted in each.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --lib loom`.

use super::counters::{FileCounters, JobCounters};
use crate::{BgJobProgress, BgJobState, BG_SIZE_UNKNOWN};
use loom::sync::Arc;
use loom::thread;

fn check(p: BgJobProgress) {
    assert!(p.is_consistent(), "impossible snapshot: {p:?}");
}

fn job_with_files(n: usize) -> (Arc<JobCounters>, Arc<Vec<FileCounters>>) {
    let job = Arc::new(JobCounters::new(BgJobState::Transferring));
    let files: Vec<_> = (0..n).map(|_| FileCounters::new()).collect();
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

/// Two writers on different files of one job: the aggregate stays consistent for a reader.
#[test]
fn two_writers_keep_the_aggregate_consistent() {
    loom::model(|| {
        let (job, files) = job_with_files(2);
        let spawn_writer = |i: usize| {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                assert!(job.set_file_size(&files[i], Some(3)));
                assert!(job.add_file_bytes(&files[i], 3));
                assert!(job.finish_file(&files[i]));
            })
        };
        let a = spawn_writer(0);
        let b = spawn_writer(1);
        let p = job.snapshot();
        check(p);
        assert!(p.bytes_transferred >= 3 * u64::from(p.files_transferred));
        a.join().unwrap();
        b.join().unwrap();
        let end = job.snapshot();
        assert_eq!(
            end,
            BgJobProgress {
                bytes_total: 6,
                bytes_transferred: 6,
                files_total: 2,
                files_transferred: 2
            }
        );
    });
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

/// A file restarts from zero and its size shrinks (the remote changed) while another file writes:
/// the resize bracket keeps every snapshot consistent.
#[test]
fn shrinking_a_size_never_shows_bytes_above_total() {
    loom::model(|| {
        let (job, files) = job_with_files(2);
        assert!(job.set_file_size(&files[0], Some(4)));
        assert!(job.add_file_bytes(&files[0], 4));
        assert!(job.set_file_size(&files[1], Some(1)));
        let resizer = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                job.restart_file(&files[0]);
                assert!(job.set_file_size(&files[0], Some(2)));
            })
        };
        let other = {
            let (job, files) = (job.clone(), files.clone());
            thread::spawn(move || {
                assert!(job.add_file_bytes(&files[1], 1));
            })
        };
        check(job.snapshot());
        resizer.join().unwrap();
        other.join().unwrap();
        assert_eq!(job.snapshot().bytes_total, 3);
    });
}

/// A driver polling its claim sees a suspend (generation bump) and then the new state.
#[test]
fn revoked_claim_is_seen_with_its_state() {
    loom::model(|| {
        let job = Arc::new(JobCounters::new(BgJobState::Queued));
        let generation = job.set_state(BgJobState::Connecting, true);
        let control = {
            let job = job.clone();
            thread::spawn(move || {
                job.set_state(BgJobState::Suspended, true);
            })
        };
        if !job.claim_is_live(generation) {
            assert_eq!(job.state(), BgJobState::Suspended);
        }
        control.join().unwrap();
        assert!(!job.claim_is_live(generation));
    });
}
