//! The progress hot paths, bgcopy beside its baselines in one run (see BENCHMARKS.md).
//!
//! - `update_1_writer` / `update_2_writers`: one per-chunk update through the driver API
//!   ([`FileTransfer::add_bytes`]) against one and two relaxed `fetch_add`s, a parking_lot
//!   `Mutex<BgJobProgress>` and indicatif's `ProgressBar::inc` (hidden draw target). With two
//!   writers, each thread writes a different file of one job (files 0 and 2; and, the worst case,
//!   two of three open transfers, which then share a stripe of the job's byte count); the
//!   baselines share their counter (the job total) the same way, and the time is per operation of
//!   one thread.
//! - `writer_polled`: one writer alone, and with a reader calling `get_progress()` every
//!   millisecond.
//! - `read_idle` / `read_with_writer`: `get_progress()` on jobs of 1, 10 and 200 files against
//!   four atomic loads, a mutex copy-out and indicatif's `position()`, with nobody writing and with
//!   a writer thread updating the same structure the whole time.
//! - `read_whole_struct`: `get_progress()` used as a whole struct (passed by value to
//!   `black_box`), against four atomic loads built into the same struct, one word per field and
//!   and three loads with the file counts packed in one word (the floor).
//!
//! Run with `cargo bench --bench progress`; `scripts/bench.sh` prints the ratios.

use bgcopy::transport::TransferSink;
use bgcopy::*;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use indicatif::{ProgressBar, ProgressDrawTarget};
use parking_lot::Mutex;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes counted per update: a typical chunk. The cost does not depend on it.
const CHUNK: u64 = 16 * 1024;

/// A value on a cache line (pair) of its own, like bgcopy's hot counters.
#[repr(align(128))]
#[derive(Default)]
struct Line(AtomicU64);

/// A job with `files` files (sizes known and huge, so no update is refused), claimed, with the
/// files `open` open for writing, in that order.
struct Fixture {
    job: Job,
    transfers: Vec<FileTransfer>,
    // Dropped after the transfers: the claim must outlive them.
    _driver: JobDriver,
    _manager: Manager,
    _dir: tempfile::TempDir,
}

fn fixture(files: usize, open: &[usize]) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("bench", BgJobType::Download).expect("create");
    let set: Vec<_> = (0..files)
        .map(|i| {
            BgFileInfo::new(
                format!("https://example.com/{i}.bin"),
                dir.path().join(format!("{i}.bin")),
            )
        })
        .collect();
    job.add_file_set(&set).expect("add files");
    job.resume().expect("resume");
    let driver = job.claim().expect("claim");
    driver.connected().expect("connected");
    let transfers = open
        .iter()
        .map(|&i| {
            let mut t = driver.open_file(i).expect("open");
            t.set_size(Some(1 << 62)).expect("size");
            t
        })
        .collect();
    Fixture { job, transfers, _driver: driver, _manager: manager, _dir: dir }
}

fn hidden_bar() -> ProgressBar {
    ProgressBar::with_draw_target(Some(u64::MAX), ProgressDrawTarget::hidden())
}

/// Consumes a snapshot: every field goes into one value handed to `black_box`. (A `black_box` of
/// the whole struct copies it through the stack, and the two `u32` fields written separately and
/// read back as one word stall store-to-load forwarding, about 10 ns here; one `black_box` per
/// field costs four stores, and this core retires one store a cycle, so the harness alone would
/// take as long as the reads it measures.)
#[inline(always)]
fn consume(p: BgJobProgress) {
    black_box(
        p.bytes_total
            ^ p.bytes_transferred.rotate_left(16)
            ^ u64::from(p.files_total)
            ^ u64::from(p.files_transferred) << 32,
    );
}

#[inline(always)]
fn bgcopy_update(t: &mut FileTransfer) {
    black_box(t.add_bytes(black_box(CHUNK)).is_ok());
}

#[inline(always)]
fn fetch_add(c: &Line) {
    // Relaxed: the baseline, a bare counter.
    c.0.fetch_add(black_box(CHUNK), Ordering::Relaxed);
}

#[inline(always)]
fn mutex_update(m: &Mutex<BgJobProgress>) {
    m.lock().bytes_transferred += black_box(CHUNK);
}

// ---- update path -------------------------------------------------------------------------------

fn update_one_writer(c: &mut Criterion) {
    let mut g = c.benchmark_group("update_1_writer");
    let mut fx = fixture(1, &[0]);
    let t = &mut fx.transfers[0];
    g.bench_function("bgcopy_add_bytes", |b| b.iter(|| bgcopy_update(t)));
    let one = Line::default();
    g.bench_function("fetch_add_x1", |b| b.iter(|| fetch_add(&one)));
    let two = [Line::default(), Line::default()];
    g.bench_function("fetch_add_x2", |b| {
        b.iter(|| {
            fetch_add(&two[0]);
            fetch_add(&two[1]);
        })
    });
    let mutex = Mutex::new(BgJobProgress::default());
    g.bench_function("mutex", |b| b.iter(|| mutex_update(&mutex)));
    let bar = hidden_bar();
    g.bench_function("indicatif_inc", |b| b.iter(|| bar.inc(black_box(CHUNK))));
    g.finish();
}

/// Runs `op` `iters` times on each of two threads at once, one per state; the time is from the
/// common start until both are done.
fn pair<S: Send, F: Fn(&mut S) + Sync>(iters: u64, states: [&mut S; 2], op: F) -> Duration {
    let ready = AtomicBool::new(false);
    let go = AtomicBool::new(false);
    let [a, b] = states;
    thread::scope(|s| {
        let other = s.spawn(|| {
            // Release/Acquire: a start line; nothing is published through it.
            ready.store(true, Ordering::Release);
            // Acquire: as above.
            while !go.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            for _ in 0..iters {
                op(b);
            }
        });
        // Acquire: the other thread is spinning, ready to start.
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        // Release: start line.
        go.store(true, Ordering::Release);
        for _ in 0..iters {
            op(a);
        }
        other.join().expect("writer thread");
        start.elapsed()
    })
}

fn update_two_writers(c: &mut Criterion) {
    let mut g = c.benchmark_group("update_2_writers");
    // Files 0 and 2 of a job of 3 (they start on the same stripe; the second to open moves).
    let mut fx = fixture(3, &[0, 2]);
    let [t0, t2] = &mut fx.transfers[..] else { unreachable!() };
    g.bench_function("bgcopy_add_bytes", |b| {
        b.iter_custom(|iters| pair(iters, [&mut *t0, &mut *t2], bgcopy_update))
    });
    // The worst case: three transfers open on two stripes; the two that share one write.
    let mut worst = fixture(3, &[0, 1, 2]);
    let [w0, _, w2] = &mut worst.transfers[..] else { unreachable!() };
    g.bench_function("bgcopy_add_bytes_3_open", |b| {
        b.iter_custom(|iters| pair(iters, [&mut *w0, &mut *w2], bgcopy_update))
    });
    let shared = Line::default();
    g.bench_function("shared_fetch_add", |b| {
        b.iter_custom(|iters| pair(iters, [&mut &shared, &mut &shared], |c| fetch_add(c)))
    });
    let own = [Line::default(), Line::default()];
    g.bench_function("own_plus_shared_fetch_add", |b| {
        b.iter_custom(|iters| {
            let (mut s0, mut s1) = ((&own[0], &shared), (&own[1], &shared));
            pair(iters, [&mut s0, &mut s1], |(own, shared)| {
                fetch_add(own);
                fetch_add(shared);
            })
        })
    });
    let mutex = Mutex::new(BgJobProgress::default());
    g.bench_function("mutex", |b| {
        b.iter_custom(|iters| pair(iters, [&mut &mutex, &mut &mutex], |m| mutex_update(m)))
    });
    let bar = hidden_bar();
    g.bench_function("indicatif_inc", |b| {
        b.iter_custom(|iters| {
            let (mut b0, mut b1) = (bar.clone(), bar.clone());
            pair(iters, [&mut b0, &mut b1], |bar| bar.inc(black_box(CHUNK)))
        })
    });
    g.finish();
}

/// One writer, alone and with a reader calling `get_progress()` every millisecond.
fn writer_polled(c: &mut Criterion) {
    let mut g = c.benchmark_group("writer_polled");
    let mut fx = fixture(1, &[0]);
    let job = fx.job.clone();
    let t = &mut fx.transfers[0];
    g.bench_function("alone", |b| b.iter(|| bgcopy_update(t)));
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: a stop request; nothing is published through it.
            while !stop.load(Ordering::Relaxed) {
                black_box(job.get_progress());
                thread::sleep(Duration::from_millis(1));
            }
        });
        g.bench_function("polled_every_1ms", |b| b.iter(|| bgcopy_update(t)));
        // Relaxed: see above.
        stop.store(true, Ordering::Relaxed);
    });
    g.finish();
}

// ---- read path ---------------------------------------------------------------------------------

/// The four fields of `BgJobProgress` in four atomics.
#[derive(Default)]
struct FourAtomics {
    bytes_total: AtomicU64,
    bytes_transferred: Line,
    files_total: AtomicU64,
    files_transferred: AtomicU64,
}

impl FourAtomics {
    #[inline(always)]
    fn read(&self) -> BgJobProgress {
        // Acquire on each: what a reader of separately published values needs at least.
        BgJobProgress {
            bytes_total: self.bytes_total.load(Ordering::Acquire),
            bytes_transferred: self.bytes_transferred.0.load(Ordering::Acquire),
            files_total: self.files_total.load(Ordering::Acquire) as u32,
            files_transferred: self.files_transferred.load(Ordering::Acquire) as u32,
        }
    }
}

impl FourAtomics {
    /// The floor for building the whole struct: three loads, the two file counts held in one word
    /// in the struct's field order, so that the compiler writes them with one 8-byte store.
    /// (Combining two loaded words into one does not do it: the compiler sees through the
    /// combination and stores the halves one by one again.)
    #[inline(always)]
    fn read_packed(&self) -> BgJobProgress {
        // Acquire on each, as in `read`; `files_total` holds both counts here.
        let files = self.files_total.load(Ordering::Acquire);
        BgJobProgress {
            // Acquire: as above.
            bytes_total: self.bytes_total.load(Ordering::Acquire),
            // Acquire: as above.
            bytes_transferred: self.bytes_transferred.0.load(Ordering::Acquire),
            files_total: files as u32,
            files_transferred: (files >> 32) as u32,
        }
    }
}

/// Runs `bench` while (with `writer`) another thread updates the structure it reads.
fn with_writer<W: FnMut() + Send>(busy: bool, mut writer: W, bench: impl FnOnce()) {
    if !busy {
        bench();
        return;
    }
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: a stop request; nothing is published through it.
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..64 {
                    writer();
                }
            }
        });
        bench();
        // Relaxed: see above.
        stop.store(true, Ordering::Relaxed);
    });
}

fn read_bench(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, busy: bool) {
    for files in [1, 10, 200] {
        let mut fx = fixture(files, &[0]);
        let job = fx.job.clone();
        let t = &mut fx.transfers[0];
        with_writer(
            busy,
            || bgcopy_update(t),
            || {
                g.bench_function(format!("get_progress_{files}_files"), |b| {
                    b.iter(|| consume(black_box(&job).get_progress()))
                });
            },
        );
    }
    let four = FourAtomics::default();
    with_writer(
        busy,
        // Relaxed: the writer of the baseline.
        || {
            four.bytes_transferred.0.fetch_add(black_box(CHUNK), Ordering::Relaxed);
        },
        || {
            g.bench_function("four_atomic_loads", |b| b.iter(|| consume(black_box(&four).read())));
        },
    );
    let mutex = Mutex::new(BgJobProgress::default());
    with_writer(
        busy,
        || mutex_update(&mutex),
        || {
            g.bench_function("mutex_copy_out", |b| b.iter(|| consume(*black_box(&mutex).lock())));
        },
    );
    let bar = hidden_bar();
    let writer_bar = bar.clone();
    with_writer(
        busy,
        || writer_bar.inc(black_box(CHUNK)),
        || {
            g.bench_function("indicatif_position", |b| {
                b.iter(|| black_box(black_box(&bar).position()))
            });
        },
    );
}

/// `get_progress()` when the caller uses the whole returned struct (stores it, passes it on by
/// value): `black_box` receives the struct itself, so it is built in memory. Beside it, four
/// atomic loads built into the same struct: one load per field (the two `u32` fields then take
/// two 4-byte stores, which a copy of the struct reads back as one 8-byte word and stalls on),
/// and the floor, three loads with the file counts packed in one word.
fn read_whole_struct(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_whole_struct");
    let fx = fixture(10, &[0]);
    let job = fx.job.clone();
    g.bench_function("get_progress_10_files", |b| {
        b.iter(|| black_box(black_box(&job).get_progress()))
    });
    let four = FourAtomics::default();
    g.bench_function("four_atomic_loads", |b| b.iter(|| black_box(black_box(&four).read())));
    g.bench_function("three_atomic_loads_packed", |b| {
        b.iter(|| black_box(black_box(&four).read_packed()))
    });
    g.finish();
}

fn read_idle(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_idle");
    read_bench(&mut g, false);
    g.finish();
}

fn read_with_writer(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_with_writer");
    read_bench(&mut g, true);
    g.finish();
}

criterion_group! {
    name = progress;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = update_one_writer, update_two_writers, writer_polled, read_idle, read_with_writer,
        read_whole_struct
}
criterion_main!(progress);
