//! Only the bytes needed (DESIGN 6.3), against a loopback HTTP server started here:
//!
//! - `first_byte`: one byte read with a `FileReader` from the middle of a large file, against
//!   the whole file downloaded by an ordinary job;
//! - `zip_directory`: the last 64 KiB of the file as a ranged file, against the whole file
//!   (the bytes each fetched are printed once);
//! - `bookkeeping`: a local file copied by an on-demand job (every chunk recorded as a filled
//!   range) against the same copy by an ordinary job, with a relaxed `fetch_add` per chunk as
//!   the floor.
//! - `bookkeeping_per_write`: the bookkeeping of one write alone, side by side: an on-demand
//!   run's (`OnDemand::record_write`, through the internal `__OnDemandWriteBench`), an ordinary
//!   transfer's (`JobCounters::add_file_bytes`), and one relaxed `fetch_add` (the floor).
//!
//! The file is 64 MiB unless `BGCOPY_BENCH_MIB` says otherwise (1024 for the 1 GiB).
//! Build only in CI: `cargo bench --bench on_demand --features http --no-run`; the integrator
//! runs it with `cargo bench --bench on_demand --features http`.

use bgcopy::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const LONG: Duration = Duration::from_secs(600);

fn size() -> u64 {
    std::env::var("BGCOPY_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(64) * MIB
}

/// A loopback server of `len` bytes at `/f` (ranges honoured, strong ETag); counts the body
/// bytes it sends.
struct Served {
    url: String,
    sent: Arc<AtomicU64>,
}

fn serve(len: u64) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/f", listener.local_addr().expect("addr"));
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                let _ = answer(stream, len, &counter);
            });
        }
    });
    Served { url, sent }
}

fn byte_at(i: u64) -> u8 {
    (i % 251) as u8
}

fn answer(stream: TcpStream, len: u64, sent: &AtomicU64) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let head_only = line.starts_with("HEAD");
        let mut range = None;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("range")
                && let Some((first, last)) =
                    value.trim().strip_prefix("bytes=").and_then(|v| v.split_once('-'))
                && let Ok(first) = first.parse::<u64>()
            {
                let last = last.parse::<u64>().map_or(len - 1, |last| last.min(len - 1));
                range = (first <= last).then_some((first, last));
            }
        }
        let (status, first, last) = match range {
            Some((first, last)) => ("206 Partial Content", first, last),
            None => ("200 OK", 0, len - 1),
        };
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"v1\"\r\n",
            last - first + 1
        );
        if range.is_some() {
            head.push_str(&format!("Content-Range: bytes {first}-{last}/{len}\r\n"));
        }
        head.push_str("\r\n");
        writer.write_all(head.as_bytes())?;
        if head_only {
            continue;
        }
        let mut buf = vec![0u8; 256 * KIB as usize];
        let mut at = first;
        while at <= last {
            let n = (last - at + 1).min(buf.len() as u64) as usize;
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = byte_at(at + i as u64);
            }
            writer.write_all(&buf[..n])?;
            // Relaxed: a statistic read once the transfer is over.
            sent.fetch_add(n as u64, Ordering::Relaxed);
            at += n as u64;
        }
    }
}

fn job(manager: &Manager, on_demand: bool) -> Job {
    let job = manager.create_job("bench", BgJobType::Download).expect("job");
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).expect("proxy");
    if on_demand {
        job.set_property(BgJobProperty::OnDemandMode(true)).expect("on demand");
    }
    job
}

fn whole(manager: &Manager, url: &str, dir: &Path) {
    let job = job(manager, false);
    job.add_file(url, &dir.join("whole")).expect("add");
    job.resume().expect("resume");
    assert_eq!(job.wait(LONG), BgJobState::Transferred);
    job.cancel().expect("cancel");
}

fn first_byte(c: &mut Criterion) {
    let len = size();
    let served = serve(len);
    let manager = Manager::new();
    let dir = tempfile::tempdir().expect("dir");
    let mut g = c.benchmark_group("first_byte");
    g.sample_size(10);
    g.bench_function("reader_middle_one_byte", |b| {
        b.iter(|| {
            let job = job(&manager, true);
            job.add_file(&served.url, &dir.path().join("middle")).expect("add");
            job.resume().expect("resume");
            let mut reader = job.enum_files()[0].open_reader().expect("reader");
            reader.seek(SeekFrom::Start(len / 2)).expect("seek");
            let mut one = [0u8; 1];
            reader.read_exact(&mut one).expect("read");
            assert_eq!(one[0], byte_at(len / 2));
            job.cancel().expect("cancel");
        });
    });
    g.bench_function("whole_file", |b| b.iter(|| whole(&manager, &served.url, dir.path())));
    g.finish();
}

fn zip_directory(c: &mut Criterion) {
    let len = size();
    let served = serve(len);
    let manager = Manager::new();
    let dir = tempfile::tempdir().expect("dir");
    let tail = [BgFileRange { initial_offset: len - 64 * KIB, length: BG_LENGTH_TO_EOF }];
    let last_64k = |manager: &Manager| {
        let job = job(manager, false);
        job.add_file_with_ranges(&served.url, &dir.path().join("tail"), &tail).expect("add");
        job.resume().expect("resume");
        assert_eq!(job.wait(LONG), BgJobState::Transferred);
        job.cancel().expect("cancel");
    };
    // The bytes each fetches, once (Relaxed: read after the transfers, which joined).
    let before = served.sent.load(Ordering::Relaxed);
    last_64k(&manager);
    let ranged = served.sent.load(Ordering::Relaxed) - before;
    whole(&manager, &served.url, dir.path());
    let all = served.sent.load(Ordering::Relaxed) - before - ranged;
    eprintln!("zip_directory: the last 64 KiB fetched {ranged} bytes; the whole file {all}");
    let mut g = c.benchmark_group("zip_directory");
    g.sample_size(10);
    g.bench_function("last_64k_ranged", |b| b.iter(|| last_64k(&manager)));
    g.bench_function("whole_file", |b| b.iter(|| whole(&manager, &served.url, dir.path())));
    g.finish();
}

fn bookkeeping(c: &mut Criterion) {
    let len = size();
    let dir = tempfile::tempdir().expect("dir");
    let source = dir.path().join("source.bin");
    std::fs::write(&source, (0..len).map(byte_at).collect::<Vec<u8>>()).expect("source");
    let manager = Manager::new();
    let copy = |on_demand: bool| {
        let job = job(&manager, on_demand);
        job.add_file(source.to_str().expect("utf-8"), &dir.path().join("copy")).expect("add");
        if on_demand {
            job.enum_files()[0]
                .request_file_ranges(&[BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }])
                .expect("ask");
        }
        job.resume().expect("resume");
        assert_eq!(job.wait(LONG), BgJobState::Transferred);
        job.cancel().expect("cancel");
    };
    let mut g = c.benchmark_group("bookkeeping");
    g.sample_size(10);
    g.bench_function("plain_job_local_copy", |b| b.iter(|| copy(false)));
    g.bench_function("on_demand_job_local_copy", |b| b.iter(|| copy(true)));
    let counter = AtomicU64::new(0);
    let chunks = len / MIB;
    g.bench_function("fetch_add_per_chunk_floor", |b| {
        b.iter(|| {
            for _ in 0..chunks {
                // Relaxed: the floor of a lock-free count, as the file counters use.
                counter.fetch_add(black_box(MIB), Ordering::Relaxed);
            }
        });
    });
    g.finish();
}

fn bookkeeping_per_write(c: &mut Criterion) {
    const WRITE: u64 = 16 * KIB;
    let mut g = c.benchmark_group("bookkeeping_per_write");
    let mut writes = __OnDemandWriteBench::default();
    g.bench_function("on_demand_record_write", |b| {
        b.iter(|| writes.on_demand_write(black_box(WRITE)))
    });
    g.bench_function("ordinary_add_file_bytes", |b| {
        b.iter(|| black_box(writes.ordinary_write(black_box(WRITE))));
    });
    let counter = AtomicU64::new(0);
    g.bench_function("fetch_add_floor", |b| {
        // Relaxed: the floor of a lock-free count.
        b.iter(|| counter.fetch_add(black_box(WRITE), Ordering::Relaxed));
    });
    g.finish();
    black_box(writes.bytes());
}

criterion_group!(benches, first_byte, zip_directory, bookkeeping, bookkeeping_per_write);
criterion_main!(benches);
