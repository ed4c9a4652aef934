//! The durable store (see BENCHMARKS.md):
//!
//! - `store_calls`: one changing call (`set_description`) on a job of a manager with a store (one
//!   durable commit) beside the same call without a store.
//! - `store_open`: opening a store of 10 000 jobs of 10 files each (`Manager::builder().store()`
//!   without an engine, restoring every job), made once under `target/bench-store/` and kept; its
//!   size on disk per job is printed as a `bgcopy-bench store:` line for `scripts/bench.sh`.
//!
//! `store --count-calls N` (the bench binary, run by `scripts/bench.sh` under `strace -c`) makes
//! N changing calls on a store and exits, so that the syscalls per call can be counted.

use bgcopy::*;
use criterion::{Criterion, criterion_group};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const JOBS: usize = 10_000;
const FILES_PER_JOB: usize = 10;

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-store")
}

/// A manager without an engine on `store`, with limits high enough for the big store.
fn driven(store: &Path) -> Manager {
    Manager::builder()
        .without_engine()
        .max_jobs(JOBS as u32 + 10)
        .max_jobs_per_owner(JOBS as u32 + 10)
        .retention(None)
        .store(store)
        .try_build()
        .expect("open the bench store")
}

/// The store of 10 000 jobs of 10 files, made once (about two durable commits per job).
fn big_store() -> PathBuf {
    let dir = bench_dir().join(format!("jobs-{JOBS}"));
    if dir.exists() && driven(&dir).enum_all_jobs().len() == JOBS {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let start = Instant::now();
    let manager = driven(&dir);
    for j in 0..JOBS {
        let job = manager.create_job(&format!("job {j}"), BgJobType::Download).expect("create");
        let files: Vec<BgFileInfo> = (0..FILES_PER_JOB)
            .map(|f| {
                BgFileInfo::new(
                    format!("https://downloads.example.com/set-{j}/file-{f}.bin"),
                    format!("/var/tmp/bgcopy-bench/set-{j}/file-{f}.bin"),
                )
            })
            .collect();
        job.add_file_set(&files).expect("add files");
    }
    eprintln!("bgcopy-bench store: made {JOBS} jobs in {:?}", start.elapsed());
    dir
}

fn store_calls(c: &mut Criterion) {
    let dir = bench_dir().join("calls");
    let _ = std::fs::remove_dir_all(&dir);
    let stored = driven(&dir);
    let memory = Manager::builder().without_engine().build();
    let mut g = c.benchmark_group("store_calls");
    g.sample_size(20);
    for (name, manager) in [("set_description_store", &stored), ("set_description_memory", &memory)]
    {
        let job = manager.create_job("calls", BgJobType::Download).expect("create");
        let mut n = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                job.set_description(&format!("description {n}")).expect("set");
            })
        });
    }
    g.finish();
}

fn store_open(c: &mut Criterion) {
    let dir = big_store();
    let db = dir.join("bgcopy.redb");
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "bgcopy-bench store: jobs={JOBS} files_per_job={FILES_PER_JOB} db_bytes={size} size_per_job_bytes={}",
        size / JOBS as u64
    );
    let mut g = c.benchmark_group("store_open");
    g.sample_size(10);
    // The manager is dropped outside the timing (freeing 100 000 file records is not opening).
    g.bench_function("open_10000_jobs_of_10_files", |b| b.iter_with_large_drop(|| driven(&dir)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = store_calls, store_open
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--count-calls") {
        let calls: u64 = args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(100);
        let dir = bench_dir().join("count");
        let _ = std::fs::remove_dir_all(&dir);
        let manager = driven(&dir);
        let job = manager.create_job("counted", BgJobType::Download).expect("create");
        // Everything before this line (opening, creating) is set-up; the marker lets the script
        // count only the calls.
        eprintln!("bgcopy-bench store: counting {calls} calls");
        for n in 0..calls {
            job.set_description(&format!("description {n}")).expect("set");
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
