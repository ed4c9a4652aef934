//! The copy path: a 1 GiB local file through a job on the engine of [`Manager::new`] (create,
//! add the file, resume, wait until `Transferred`, `complete()`, which fsyncs and renames), the
//! same through a manager with a durable store ([`Manager::open`]: every call recorded, progress
//! checkpointed, the file synced before it counts as transferred), and `std::fs::copy` plus
//! `File::sync_all` of the same file (see BENCHMARKS.md).
//!
//! The two alternate: every timed copy of one kind follows an untimed copy of the other kind, and
//! each copy is deleted (and the deletion committed) outside the timing, so both see the same
//! disk, page cache, writeback and journal conditions. The files live under
//! `target/bench-copy/` (a real disk, not a tmpfs `/tmp`); the source is made once and kept.
//! `BGCOPY_COPY_MIB` sets another size (default 1024).
//!
//! Run with `cargo bench --bench copy`; `scripts/bench.sh` prints the ratio.

use bgcopy::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one job may take before the bench gives up on it.
const JOB_LIMIT: Duration = Duration::from_secs(300);

struct Files {
    source: PathBuf,
    by_job: PathBuf,
    by_std: PathBuf,
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-copy")
}

fn size() -> u64 {
    let mib = std::env::var("BGCOPY_COPY_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    mib * 1024 * 1024
}

/// The source file: `size` bytes of pseudo-random data (incompressible, no holes), made once.
fn prepare() -> io::Result<Files> {
    let dir = bench_dir();
    fs::create_dir_all(&dir)?;
    let size = size();
    let source = dir.join(format!("source-{}.bin", size >> 20));
    if fs::metadata(&source).map(|m| m.len()).ok() != Some(size) {
        let mut out = io::BufWriter::with_capacity(1 << 20, File::create(&source)?);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..size >> 20 {
            for word in block.chunks_exact_mut(8) {
                // xorshift64: fast, and enough to defeat any compression or zero detection.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                word.copy_from_slice(&x.to_le_bytes());
            }
            out.write_all(&block)?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    let files = Files { source, by_job: dir.join("by-job.bin"), by_std: dir.join("by-std.bin") };
    let _ = fs::remove_file(&files.by_job);
    let _ = fs::remove_file(&files.by_std);
    Ok(files)
}

/// `std::fs::copy` and an fsync of the copy.
fn std_copy(files: &Files) -> Duration {
    let start = Instant::now();
    fs::copy(&files.source, &files.by_std).expect("std::fs::copy");
    File::open(&files.by_std).and_then(|f| f.sync_all()).expect("fsync");
    let elapsed = start.elapsed();
    remove(&files.by_std);
    elapsed
}

/// The same copy as a job: create, add, resume, poll until transferred, complete.
fn job_copy(manager: &Manager, files: &Files) -> Duration {
    let start = Instant::now();
    let job = manager.create_job("bench copy", BgJobType::Download).expect("create");
    let remote = files.source.to_str().expect("a UTF-8 target path");
    job.add_file(remote, &files.by_job).expect("add file");
    job.resume().expect("resume");
    match job.wait(JOB_LIMIT) {
        BgJobState::Transferred => {}
        BgJobState::Error => panic!("the job failed: {:?}", job.get_error().ok()),
        _ => panic!("the job took too long: {job:?}"),
    }
    assert_eq!(job.complete().expect("complete"), BgSuccess::Ok);
    let elapsed = start.elapsed();
    assert_eq!(fs::metadata(&files.by_job).expect("the copy").len(), size());
    remove(&files.by_job);
    elapsed
}

/// Deletes a copy, and commits the deletion (a directory fsync), so that freeing its blocks is
/// not left to the journal commit of the next timed copy.
fn remove(copy: &Path) {
    fs::remove_file(copy).expect("remove the copy");
    let dir = copy.parent().expect("a directory");
    File::open(dir).and_then(|d| d.sync_all()).expect("fsync the directory");
}

fn copy(c: &mut Criterion) {
    let files = prepare().expect("bench files under target/");
    let manager = Manager::new();
    let store_dir = bench_dir().join("store");
    let _ = fs::remove_dir_all(&store_dir);
    let stored = Manager::open(&store_dir).expect("a store under target/");
    let mut g = c.benchmark_group("copy");
    g.sampling_mode(criterion::SamplingMode::Flat);
    g.throughput(criterion::Throughput::Bytes(size()));
    g.bench_function("bgcopy_job", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    std_copy(&files);
                    job_copy(&manager, &files)
                })
                .sum()
        })
    });
    g.bench_function("bgcopy_job_store", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    std_copy(&files);
                    job_copy(&stored, &files)
                })
                .sum()
        })
    });
    g.bench_function("std_copy_fsync", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    job_copy(&manager, &files);
                    std_copy(&files)
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    targets = copy
}
criterion_main!(benches);
