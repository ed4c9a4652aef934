//! A cache host (DESIGN 6.2, issue 17): N = 8 downloaders (8 managers, standing for 8 machines
//! on one LAN) fetch the same 64 MiB file through the caching nginx of `.ci/nginx.sh`, against
//! the same 8 fetching it straight from the origin. Each iteration fetches a file name neither
//! server has seen (a new hard link to one 64 MiB file), so the cache starts cold every time.
//! The figure of each side is the slowest downloader's time (from the common start to its
//! `complete()`). For each cached iteration the bench prints the bytes the origin sent, from
//! its access log, as a ratio of the file's size (target ≤ 1.1x).
//!
//! ```text
//! export BGCOPY_NGINX_URL=$(bash .ci/nginx.sh)
//! export BGCOPY_NGINX_CACHE_URL=$(bash .ci/nginx.sh cache-url)
//! cargo bench --features http --bench cache_host -- --sample-size 10
//! ```
//!
//! Without either variable the bench prints a skip line. `BGCOPY_NGINX_DIR` is nginx's
//! directory (default `/tmp/bgcopy-nginx`, as `.ci/nginx.sh`).

use bgcopy::*;
use criterion::{Criterion, criterion_group, criterion_main};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::{Duration, Instant};

const DOWNLOADERS: usize = 8;
const SIZE: u64 = 64 << 20;

/// The two servers and nginx's directory.
struct Nginx {
    origin: String,
    cache: String,
    dir: PathBuf,
}

fn nginx() -> Option<Nginx> {
    let host = |var: &str| {
        let url = std::env::var(var).ok()?;
        let url = url.trim().trim_end_matches('/');
        Some(url.strip_prefix("http://")?.to_owned()).filter(|h| !h.is_empty())
    };
    let dir = std::env::var_os("BGCOPY_NGINX_DIR")
        .map_or_else(|| PathBuf::from("/tmp/bgcopy-nginx"), PathBuf::from);
    Some(Nginx { origin: host("BGCOPY_NGINX_URL")?, cache: host("BGCOPY_NGINX_CACHE_URL")?, dir })
}

impl Nginx {
    /// The 64 MiB file every fresh name links to (written once).
    fn source(&self) -> PathBuf {
        let path = self.dir.join("www").join("cache-bench-64m.bin");
        if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(SIZE) {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64;
            let content: Vec<u8> = (0..SIZE)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            std::fs::write(&path, content).expect("write the 64 MiB file under nginx's www/");
        }
        path
    }

    /// The body bytes the origin sent for `path` (fields 3 and 5 of its log).
    fn origin_bytes(&self, path: &str) -> u64 {
        let log = std::fs::read_to_string(self.dir.join("logs/origin.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let uri = fields.get(2)?.split('?').next()?;
                (uri == path).then(|| fields.get(4)?.parse::<u64>().ok()).flatten()
            })
            .sum()
    }
}

/// One iteration: a fresh name for the file, 8 downloaders at once (through `cache` when it
/// is given), the slowest one's time, and the origin's bytes for that name.
fn round(nginx: &Nginx, source: &Path, cache: Option<&str>, round: u64) -> (Duration, u64) {
    let name = format!("cache-bench-{}-{round}.bin", std::process::id());
    let link = nginx.dir.join("www").join(&name);
    let _ = std::fs::remove_file(&link);
    std::fs::hard_link(source, &link).expect("a hard link under nginx's www/");
    let url = format!("http://{}/{name}", nginx.origin);
    let dirs: Vec<_> = (0..DOWNLOADERS).map(|_| tempfile::tempdir().unwrap()).collect();
    let managers: Vec<Manager> = (0..DOWNLOADERS)
        .map(|_| match cache {
            Some(host) => Manager::builder().cache_host(host).build(),
            None => Manager::builder().build(),
        })
        .collect();
    let start = Barrier::new(DOWNLOADERS + 1);
    let slowest = std::thread::scope(|scope| {
        let runs: Vec<_> = managers
            .iter()
            .zip(&dirs)
            .map(|(manager, dir)| {
                let (url, start) = (&url, &start);
                scope.spawn(move || {
                    let job = manager.create_job("bench", BgJobType::Download).unwrap();
                    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
                    job.add_file(url, &dir.path().join("file.bin")).unwrap();
                    start.wait();
                    let began = Instant::now();
                    job.resume().unwrap();
                    let state = job.wait_until(Duration::from_secs(600), |s| {
                        matches!(s, BgJobState::Transferred | BgJobState::Error)
                    });
                    assert_eq!(state, BgJobState::Transferred, "{:?}", job.get_error());
                    job.complete().unwrap();
                    began.elapsed()
                })
            })
            .collect();
        start.wait();
        runs.into_iter().map(|run| run.join().unwrap()).max().unwrap()
    });
    let origin = nginx.origin_bytes(&format!("/{name}"));
    let _ = std::fs::remove_file(&link);
    (slowest, origin)
}

fn cache_host(c: &mut Criterion) {
    let Some(nginx) = nginx() else {
        println!("skipped cache_host: BGCOPY_NGINX_URL or BGCOPY_NGINX_CACHE_URL is not set");
        return;
    };
    let source = nginx.source();
    let rounds = Cell::new(0_u64);
    let mut g = c.benchmark_group(format!("cache_host_{DOWNLOADERS}x64MiB_slowest"));
    g.sampling_mode(criterion::SamplingMode::Flat);
    for (side, cache) in [("through_cache", Some(nginx.cache.as_str())), ("origin_only", None)] {
        g.bench_function(side, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let n = rounds.get();
                        rounds.set(n + 1);
                        let (slowest, origin) = round(&nginx, &source, cache, n);
                        let ratio = origin as f64 / SIZE as f64;
                        println!(
                            "bgcopy-bench cache_host: {side} slowest {:.3} s, origin sent {origin} bytes = {ratio:.3}x the file",
                            slowest.as_secs_f64()
                        );
                        slowest
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    targets = cache_host
}
criterion_main!(benches);
