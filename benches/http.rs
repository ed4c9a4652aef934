//! HTTP throughput against nginx on loopback (`.ci/nginx.sh`), side by side in one run: a bgcopy
//! job on the built-in engine versus `curl` (and `aria2c` when installed), for one large file
//! (64 MiB) and for many small files (200 × 16 KiB, one job / one curl process, connections
//! reused). Each tool writes to the same directory; bgcopy is timed from `resume()` to the
//! `job_transferred` callback (every byte in its temporary file, as curl's exit means every byte
//! written), the tools from spawn to exit. bgcopy with and without a durable store is also timed
//! to the end of `complete()` (the files in place and synced on both sides: the download done, as
//! `benches/copy.rs` times a local copy). At the end the medians and the ratios are printed.
//!
//! ```text
//! export BGCOPY_NGINX_URL="$(bash .ci/nginx.sh)"
//! cargo bench --features http --bench http
//! ```
//!
//! Without `BGCOPY_NGINX_URL` the bench prints a skip line and exits.

#[path = "support/tools.rs"]
mod tools;

use bgcopy::transport::HttpTransport;
use bgcopy::*;
use criterion::{Criterion, Throughput};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tools::installed;

const LARGE: &str = "large.bin";
const LARGE_BYTES: u64 = 64 * 1024 * 1024;
const SMALL_FILES: usize = 200;
const SMALL_BYTES: u64 = 16 * 1024;

/// Per-iteration times of every benchmark, for the ratio table.
type Samples = Arc<Mutex<BTreeMap<String, Vec<Duration>>>>;

struct Transferred(mpsc::Sender<()>);

impl BackgroundCopyCallback for Transferred {
    fn job_transferred(&self, _job: &Job) {
        let _ = self.0.send(());
    }
}

/// Where a bgcopy timing ends.
#[derive(Clone, Copy)]
enum Until {
    /// The `job_transferred` callback: every byte in the temporary files.
    Transferred,
    /// `complete()` returned: the files under their names, synced.
    Complete,
}

/// Runs one job of `urls` into `dir` and returns the time from `resume()` to `until`.
fn bgcopy_once(manager: &Manager, urls: &[String], dir: &Path, until: Until) -> Duration {
    let job = manager.create_job("bench", BgJobType::Download).expect("job");
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).expect("proxy");
    let files: Vec<BgFileInfo> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| BgFileInfo::new(url.clone(), dir.join(format!("bgcopy-{i}.bin"))))
        .collect();
    job.add_file_set(&files).expect("files");
    let (tx, rx) = mpsc::channel();
    job.set_notify_interface(Some(Arc::new(Transferred(tx)))).expect("callback");
    let start = Instant::now();
    job.resume().expect("resume");
    rx.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| {
        panic!(
            "not transferred: {:?} {:?}",
            job.get_state(),
            job.get_error().map(|e| e.get_error())
        )
    });
    match until {
        Until::Transferred => {
            let elapsed = start.elapsed();
            job.cancel().expect("cancel"); // deletes the temporary files, outside the timing
            elapsed
        }
        Until::Complete => {
            assert_eq!(job.complete().expect("complete"), BgSuccess::Ok);
            let elapsed = start.elapsed();
            for file in &files {
                std::fs::remove_file(&file.local_name).expect("a completed file");
            }
            elapsed
        }
    }
}

fn tool_once(program: &str, args: &[String], dir: &Path) -> Duration {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success(), "{program} failed: {status}");
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    elapsed
}

/// The contenders for one workload: name → one timed run.
type Runner<'a> = Box<dyn Fn() -> Duration + 'a>;

fn contenders<'a>(
    manager: &'a Manager,
    stored: &'a Manager,
    urls: &'a [String],
    dir: &'a Path,
) -> Vec<(&'static str, Runner<'a>)> {
    let mut list: Vec<(&'static str, Runner<'a>)> = vec![
        ("bgcopy_job", Box::new(move || bgcopy_once(manager, urls, dir, Until::Transferred))),
        // The same with a durable store: every call recorded, each file synced before it counts.
        ("bgcopy_job_store", Box::new(move || bgcopy_once(stored, urls, dir, Until::Transferred))),
        // Both to the end of `complete()`: every file synced and in place on both sides.
        ("bgcopy_job_complete", Box::new(move || bgcopy_once(manager, urls, dir, Until::Complete))),
        (
            "bgcopy_job_store_complete",
            Box::new(move || bgcopy_once(stored, urls, dir, Until::Complete)),
        ),
    ];
    if installed("curl") {
        // One process, the URLs in sequence on a reused connection, like the job.
        let mut args: Vec<String> =
            ["-s", "-f", "--remote-name-all"].iter().map(|s| (*s).to_owned()).collect();
        args.extend(urls.iter().cloned());
        list.push(("curl", Box::new(move || tool_once("curl", &args, dir))));
    }
    if installed("aria2c") {
        // Each URL its own download (-Z), one at a time on one connection, no preallocation:
        // the same work as the job.
        let mut args: Vec<String> = [
            "-q",
            "-Z",
            "-j1",
            "-x1",
            "-s1",
            "--file-allocation=none",
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(urls.iter().cloned());
        list.push(("aria2c", Box::new(move || tool_once("aria2c", &args, dir))));
    }
    list
}

fn workload(c: &mut Criterion, samples: &Samples, name: &str, urls: &[String], bytes: u64) {
    let manager = Manager::builder().transport(Arc::new(HttpTransport::new())).build();
    let dir = tempfile::tempdir().expect("tempdir");
    let stored = Manager::builder()
        .transport(Arc::new(HttpTransport::new()))
        .store(dir.path().join("store"))
        .try_build()
        .expect("a store");
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for (id, run) in contenders(&manager, &stored, urls, dir.path()) {
        let key = format!("{name}/{id}");
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let one = run();
                    samples.lock().entry(key.clone()).or_default().push(one);
                    total += one;
                }
                total
            })
        });
    }
    group.finish();
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let Some(base) = std::env::var("BGCOPY_NGINX_URL").ok().filter(|u| !u.trim().is_empty()) else {
        println!("skipped benches/http.rs: BGCOPY_NGINX_URL is not set (run .ci/nginx.sh)");
        return;
    };
    let base = base.trim().trim_end_matches('/').to_owned();
    let mut c = Criterion::default().configure_from_args();
    let samples: Samples = Arc::default();
    let large = vec![format!("{base}/{LARGE}")];
    workload(&mut c, &samples, "http_large_64MiB", &large, LARGE_BYTES);
    let small: Vec<String> = (0..SMALL_FILES).map(|i| format!("{base}/small/{i:03}.bin")).collect();
    workload(&mut c, &samples, "http_small_200x16KiB", &small, SMALL_FILES as u64 * SMALL_BYTES);
    c.final_summary();

    let mut samples = samples.lock();
    if samples.is_empty() {
        return; // a filter or `--list` ran nothing
    }
    println!("\nmedians and ratios (bgcopy time / tool time; below 1 means bgcopy is faster):");
    let medians: BTreeMap<String, Duration> =
        samples.iter_mut().map(|(k, v)| (k.clone(), median(v))).collect();
    for (key, time) in &medians {
        println!(
            "  {key:<32} {:>10.2} ms  ({} runs)",
            time.as_secs_f64() * 1e3,
            samples[key].len()
        );
    }
    for workload in ["http_large_64MiB", "http_small_200x16KiB"] {
        let Some(ours) = medians.get(&format!("{workload}/bgcopy_job")) else { continue };
        for (until, without, with) in [
            ("Transferred", "bgcopy_job", "bgcopy_job_store"),
            ("complete()", "bgcopy_job_complete", "bgcopy_job_store_complete"),
        ] {
            let without = medians.get(&format!("{workload}/{without}"));
            if let (Some(without), Some(with)) =
                (without, medians.get(&format!("{workload}/{with}")))
            {
                println!(
                    "  {workload}: speed with a store / without, to {until} = {:.3}",
                    without.as_secs_f64() / with.as_secs_f64()
                );
            }
        }
        for tool in ["curl", "aria2c"] {
            if let Some(theirs) = medians.get(&format!("{workload}/{tool}")) {
                println!(
                    "  {workload}: bgcopy/{tool} = {:.2}",
                    ours.as_secs_f64() / theirs.as_secs_f64()
                );
            }
        }
    }
}
