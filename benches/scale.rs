//! Scale: 10 000 jobs of 10 files each in one manager (see BENCHMARKS.md).
//!
//! - memory per job and per file, counted by a counting global allocator (live heap bytes as
//!   requested from the allocator, and allocations), with the process's resident-set growth as a
//!   cross-check that includes the allocator's own overhead; printed as `bgcopy-bench memory:`
//!   lines before the timings;
//! - the time to create the 10 000 jobs and add their 100 000 files, to enumerate the jobs
//!   (`enum_jobs`), and to read the progress of every job.
//!
//! Run with `cargo bench --bench scale`; `scripts/bench.sh` prints the figures.

use bgcopy::*;
use criterion::{Criterion, criterion_group};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Counts every allocation of this process (a safe wrapper around the system allocator: the crate
/// forbids `unsafe`, which a hand-written `GlobalAlloc` would need).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const JOBS: usize = 10_000;
const FILES: usize = 10;

fn manager() -> Manager {
    Manager::builder()
        .without_engine()
        .owner("bench")
        .max_jobs(JOBS as u32)
        .max_jobs_per_owner(JOBS as u32)
        .build()
}

fn create_jobs(manager: &Manager) -> Vec<Job> {
    (0..JOBS)
        .map(|j| manager.create_job(&format!("job {j}"), BgJobType::Download).expect("create"))
        .collect()
}

/// Adds the files one `add_file` call at a time, as most callers do.
fn add_files(jobs: &[Job]) {
    let root = Path::new("/srv/downloads");
    for (j, job) in jobs.iter().enumerate() {
        for f in 0..FILES {
            let remote = format!("https://downloads.example.com/pkg/{j}/{f}.bin");
            job.add_file(&remote, &root.join(format!("{j}/{f}.bin"))).expect("add file");
        }
    }
}

/// Live heap bytes (as requested) and live allocations.
fn live(region: &Region<'_, System>) -> (i64, i64) {
    let s = region.change();
    (
        s.bytes_allocated as i64 - s.bytes_deallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

/// Resident set size in bytes (Linux; 0 elsewhere).
fn rss() -> i64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|pages| pages.parse::<i64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn memory_report() {
    let region = Region::new(GLOBAL);
    let rss0 = rss();
    let manager = manager();
    let (manager_bytes, _) = live(&region);
    let jobs = create_jobs(&manager);
    let (jobs_bytes, jobs_allocs) = live(&region);
    let rss1 = rss();
    add_files(&jobs);
    let (all_bytes, all_allocs) = live(&region);
    let rss2 = rss();
    let per_job = (jobs_bytes - manager_bytes) as f64 / JOBS as f64;
    let per_file = (all_bytes - jobs_bytes) as f64 / (JOBS * FILES) as f64;
    println!(
        "bgcopy-bench memory: per_job_bytes={per_job:.0} per_job_allocations={:.1} \
         per_file_bytes={per_file:.0} per_file_allocations={:.1}",
        jobs_allocs as f64 / JOBS as f64,
        (all_allocs - jobs_allocs) as f64 / (JOBS * FILES) as f64,
    );
    println!(
        "bgcopy-bench memory: rss_per_job_bytes={:.0} rss_per_file_bytes={:.0} \
         (resident-set growth, allocator overhead included)",
        (rss1 - rss0) as f64 / JOBS as f64,
        (rss2 - rss1) as f64 / (JOBS * FILES) as f64,
    );
    drop(jobs);
    drop(manager);
}

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale_10000_jobs");
    g.sample_size(10);
    g.bench_function("create_with_10_files_each", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let manager = manager();
                let start = Instant::now();
                let jobs = create_jobs(&manager);
                add_files(&jobs);
                total += start.elapsed();
                drop(jobs);
            }
            total
        })
    });
    let manager = manager();
    let jobs = create_jobs(&manager);
    add_files(&jobs);
    g.bench_function("enum_jobs", |b| {
        b.iter(|| {
            let listed = manager.enum_jobs();
            assert_eq!(listed.len(), JOBS);
            listed
        })
    });
    g.bench_function("get_progress_all", |b| {
        b.iter(|| {
            for job in &jobs {
                black_box(job.get_progress());
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = scale
}

fn main() {
    memory_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
