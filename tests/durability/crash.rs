//! Crash safety of the durable store, tested by killing real processes (issue 9): the test
//! binary runs itself as a child that opens a store and works jobs against a loopback HTTP
//! server, printing an acknowledgement after every call that returned `Ok`. The parent kills it
//! with SIGKILL at random instants (or the child aborts itself at a named fault point of a
//! durability step), reopens the store and checks: every acknowledged change is there, nothing
//! is `Transferring`, progress never exceeds its totals, and every job then finishes with files
//! byte-identical to the server's. `BGCOPY_KILL_TRIALS` sets the number of random kills (50).

use crate::http_support;

use bgcopy::transport::HttpTransport;
use bgcopy::*;
use http_support::{Reply, Request, Resource, Rng, Server};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The environment variable that makes `crash_child` the child's body.
const CHILD: &str = "BGCOPY_CRASH_CHILD";
/// Files the server serves, `/f0` .. `/f3`.
const FILES: usize = 4;
const FILE_SIZE: usize = 384 * 1024;
/// The file fetched in segments, `/big`.
const BIG_SIZE: usize = 6 * 1024 * 1024;
const PATIENCE: Duration = Duration::from_secs(60);

fn content(index: usize) -> Vec<u8> {
    let mut rng = Rng::new(0xC0FFEE + index as u64);
    rng.bytes(if index == BIG { BIG_SIZE } else { FILE_SIZE })
}

/// The index of `/big` among the resources.
const BIG: usize = FILES;

/// The server: `/f<i>` with Range and If-Range, slowly (16 KiB every 3 ms per response), so that
/// kills land in the middle of transfers.
fn server() -> Server {
    let resources: Vec<Resource> =
        (0..=FILES).map(|i| Resource::new(content(i), &format!("etag-{i}"))).collect();
    Server::start(move |request: &Request| {
        let index = match request.target.as_str() {
            "/big" => Some(BIG),
            other => other.strip_prefix("/f").and_then(|n| n.parse::<usize>().ok()),
        };
        match index.and_then(|i| resources.get(i)) {
            Some(resource) => resource.respond(request).pace(16 * 1024, Duration::from_millis(3)),
            None => Reply::new(404),
        }
    })
}

/// The manager both processes use on the store: the engine with the HTTP transport, and quick
/// checkpoints.
fn open(store: &Path) -> Result<Manager> {
    let http = HttpTransport::new().with_timeouts(Duration::from_secs(5), Duration::from_secs(5));
    Manager::builder()
        .store(store)
        .transport(Arc::new(http))
        .checkpoint_interval(Duration::from_millis(20))
        .try_build()
}

// ---- the child ------------------------------------------------------------------------------

/// The child's body when `BGCOPY_CRASH_CHILD` is set (a no-op in a normal test run).
#[test]
fn crash_child() {
    let Ok(scenario) = std::env::var(CHILD) else { return };
    // The test harness has written "test crash_child ... " without a line end: every line the
    // parent reads starts after this one (else the first acknowledgement is lost in it).
    println!();
    let store = PathBuf::from(std::env::var("BGCOPY_STORE").unwrap());
    let downloads = PathBuf::from(std::env::var("BGCOPY_DOWNLOADS").unwrap());
    let url = std::env::var("BGCOPY_URL").unwrap();
    let seed: u64 = std::env::var("BGCOPY_SEED").unwrap().parse().unwrap();
    let manager = open(&store).unwrap();
    match scenario.as_str() {
        "random" => random_work(&manager, &downloads, &url, seed),
        "complete" => complete_two(&manager, &downloads, &url),
        "cancel" => cancel_after_progress(&manager, &downloads, &url),
        "segments" => segments(&manager, &downloads, &url),
        "ranged" => ranged_in_segments(&manager, &downloads, &url),
        "on-demand" => on_demand_in_segments(&manager, &downloads, &url),
        other => panic!("unknown scenario {other}"),
    }
    // Wait to be killed (or to reach the fault point), so nothing is closed cleanly.
    std::thread::sleep(PATIENCE);
}

fn ack(line: String) {
    println!("ack {line}");
}

/// Random calls on up to four jobs, with an acknowledgement after each that returned `Ok`.
fn random_work(manager: &Manager, downloads: &Path, url: &str, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut jobs: Vec<Job> = Vec::new();
    let mut made = 0;
    for step in 0..200u64 {
        let pick = rng.range(0, 100);
        if jobs.is_empty() || (pick < 15 && jobs.len() < 4) {
            let job = manager.create_job(&format!("job {made}"), BgJobType::Download).unwrap();
            ack(format!("create {}", job.get_id()));
            let count = rng.range(1, 3) as usize;
            let set: Vec<BgFileInfo> = (0..count)
                .map(|i| {
                    let f = rng.range(0, FILES as u64);
                    BgFileInfo::new(
                        format!("{url}/f{f}"),
                        downloads.join(format!("{made}-{i}-f{f}")),
                    )
                })
                .collect();
            job.add_file_set(&set).unwrap();
            ack(format!("files {} {}", job.get_id(), set.len()));
            made += 1;
            jobs.push(job);
            continue;
        }
        let job = &jobs[rng.range(0, jobs.len() as u64) as usize];
        let id = job.get_id();
        // Each call is said before it is made ("try") and acknowledged once it returned `Ok`: a
        // kill between the two may leave a change that landed without its acknowledgement.
        let call = |line: String, call: &dyn Fn() -> bool| {
            println!("try {line}");
            if call() {
                ack(line);
            }
        };
        match pick {
            15..=39 => call(format!("resume {id}"), &|| job.resume().is_ok()),
            40..=49 => call(format!("suspend {id}"), &|| job.suspend().is_ok()),
            50..=69 => {
                let text = format!("d{step}");
                call(format!("describe {id} {text}"), &|| job.set_description(&text).is_ok())
            }
            70..=74 => call(format!("cancel {id}"), &|| job.cancel().is_ok()),
            75..=84 if job.get_state() == BgJobState::Transferred => {
                call(format!("complete {id}"), &|| job.complete().is_ok())
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(rng.range(0, 25)));
    }
}

/// One job of two files, transferred and completed.
fn complete_two(manager: &Manager, downloads: &Path, url: &str) {
    let job = manager.create_job("two files", BgJobType::Download).unwrap();
    job.add_file(&format!("{url}/f0"), &downloads.join("a")).unwrap();
    job.add_file(&format!("{url}/f1"), &downloads.join("b")).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    job.complete().unwrap();
    ack(format!("complete {}", job.get_id()));
}

/// One job cancelled after some of its bytes arrived.
fn cancel_after_progress(manager: &Manager, downloads: &Path, url: &str) {
    let job = manager.create_job("cancelled", BgJobType::Download).unwrap();
    job.add_file(&format!("{url}/f2"), &downloads.join("c")).unwrap();
    job.add_file(&format!("{url}/f3"), &downloads.join("d")).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    job.cancel().unwrap();
    ack(format!("cancel {}", job.get_id()));
}

/// One job of one large file over four connections.
fn segments(manager: &Manager, downloads: &Path, url: &str) {
    let job = manager.create_job("segments", BgJobType::Download).unwrap();
    job.add_file(&format!("{url}/big"), &downloads.join("big-f4")).unwrap();
    job.set_max_connections(4).unwrap();
    job.resume().unwrap();
    ack(format!("resume {}", job.get_id()));
}

/// The ranges of `/big` the "ranged" scenario asks for, back to back: 5 MB, segmented after the
/// first request.
fn big_ranges() -> [BgFileRange; 2] {
    [
        BgFileRange { initial_offset: 1000, length: 3_000_000 },
        BgFileRange { initial_offset: 4_000_000, length: BG_LENGTH_TO_EOF },
    ]
}

/// What the ranges select of `/big`.
fn big_selected() -> Vec<u8> {
    let big = content(BIG);
    let mut out = Vec::new();
    for range in big_ranges() {
        let end = range.end().map_or(big.len(), |end| end as usize);
        out.extend_from_slice(&big[range.initial_offset as usize..end]);
    }
    out
}

fn ranged_in_segments(manager: &Manager, downloads: &Path, url: &str) {
    let job = manager.create_job("ranged", BgJobType::Download).unwrap();
    let local = downloads.join("ranged.bin");
    job.add_file_with_ranges(&format!("{url}/big"), &local, &big_ranges()).unwrap();
    job.set_max_connections(4).unwrap();
    job.resume().unwrap();
    ack(format!("resume {}", job.get_id()));
}

fn on_demand_in_segments(manager: &Manager, downloads: &Path, url: &str) {
    let job = manager.create_job("on demand", BgJobType::Download).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(&format!("{url}/big"), &downloads.join("on-demand.bin")).unwrap();
    job.set_max_connections(4).unwrap();
    let whole = BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF };
    job.enum_files()[0].request_file_ranges(&[whole]).unwrap();
    job.resume().unwrap();
    ack(format!("resume {}", job.get_id()));
}

// ---- the parent -----------------------------------------------------------------------------

/// One run of the child: what it acknowledged before it died.
struct Run {
    acks: Vec<String>,
}

/// Runs the child on `store` with `scenario`; kills it after `kill_after` (SIGKILL), or lets it
/// run into the fault point of `crash_at`.
fn run_child(
    scenario: &str,
    store: &Path,
    downloads: &Path,
    url: &str,
    seed: u64,
    kill_after: Option<Duration>,
    crash_at: Option<&str>,
) -> Run {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            &http_support::test_name(module_path!(), "crash_child"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, scenario)
        .env("BGCOPY_STORE", store)
        .env("BGCOPY_DOWNLOADS", downloads)
        .env("BGCOPY_URL", url)
        .env("BGCOPY_SEED", seed.to_string())
        .env_remove("BGCOPY_CRASH_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(point) = crash_at {
        command.env("BGCOPY_CRASH_AT", point);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let acks = Arc::clone(&acks);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
                if line.starts_with("ack ") || line.starts_with("try ") {
                    acks.lock().push(line);
                }
            }
        })
    };
    match kill_after {
        Some(delay) => {
            std::thread::sleep(delay);
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
        None => {
            // The child aborts at its fault point (or, if the point is never reached, finishes
            // its scenario and is killed once it waits).
            let start = Instant::now();
            loop {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if start.elapsed() > Duration::from_secs(20) {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    reader.join().unwrap();
    let acks = acks.lock().clone();
    Run { acks }
}

/// What the acknowledgements promise about one job, and what calls were under way.
#[derive(Debug, Default)]
struct Promised {
    /// The acknowledged description, and those tried after it (any of them may be there).
    descriptions: Vec<String>,
    /// The last state call acknowledged was `suspend`, and no state call was tried after it.
    suspended: bool,
    /// A `cancel` or `complete` was tried (it may have landed without its acknowledgement).
    ending: bool,
    /// ... and acknowledged.
    ended: bool,
}

fn promises(lines: &[String]) -> HashMap<JobId, Promised> {
    let mut jobs: HashMap<JobId, Promised> = HashMap::new();
    for line in lines {
        let mut words = line.split(' ');
        let (kind, verb) = (words.next().unwrap(), words.next().unwrap());
        let id: JobId = words.next().unwrap().parse().unwrap();
        // A new job's description is empty, until a change to it is acknowledged.
        let job = jobs.entry(id).or_insert_with(|| Promised {
            descriptions: vec![String::new()],
            ..Promised::default()
        });
        let acked = kind == "ack";
        match verb {
            "describe" => {
                let text = words.next().unwrap().to_owned();
                if acked {
                    job.descriptions = vec![text];
                } else {
                    job.descriptions.push(text);
                }
            }
            "suspend" | "resume" => job.suspended = acked && verb == "suspend",
            "cancel" | "complete" => {
                job.ending = true;
                job.ended |= acked;
            }
            _ => {}
        }
    }
    jobs
}

/// Reopens the store, checks what the child's acknowledgements promise and the invariants,
/// then finishes every job and checks the files.
fn check_and_finish(store: &Path, downloads: &Path, run: &Run, trial: &str) {
    // First without an engine, to see the jobs exactly as they came back.
    let manager = Manager::builder().without_engine().store(store).try_build();
    let manager = manager.unwrap_or_else(|e| panic!("{trial}: reopen: {e}"));
    let promised = promises(&run.acks);
    for job in manager.enum_all_jobs() {
        let state = job.get_state();
        assert!(
            !matches!(state, BgJobState::Connecting | BgJobState::Transferring),
            "{trial}: {state:?} after a restart"
        );
        let progress = job.get_progress();
        assert!(progress.is_consistent(), "{trial}: {progress:?}");
    }
    for (id, promise) in &promised {
        match manager.get_job(*id) {
            Ok(job) => {
                assert!(!promise.ended, "{trial}: {id} came back after it ended");
                {
                    let text = job.get_description();
                    let log: Vec<&String> =
                        run.acks.iter().filter(|l| l.contains(&id.to_string())).collect();
                    assert!(
                        promise.descriptions.contains(&text),
                        "{trial}: {id}: {text:?} {log:#?}"
                    );
                }
                if promise.suspended {
                    assert_eq!(job.get_state(), BgJobState::Suspended, "{trial}: {id}");
                }
            }
            Err(e) => {
                assert_eq!(e.hresult(), hresult::BG_E_NOT_FOUND);
                assert!(promise.ending, "{trial}: {id} was lost");
            }
        }
    }
    drop(manager);
    // Then with the engine: everything left finishes, byte-identical.
    let manager = open(store).unwrap_or_else(|e| panic!("{trial}: reopen: {e}"));
    for job in manager.enum_all_jobs() {
        if job.get_progress().files_total == 0 {
            job.cancel().unwrap();
            continue;
        }
        if let Err(e) = job.resume() {
            assert_eq!(e.hresult(), hresult::BG_E_EMPTY, "{trial}: resume");
            job.complete().unwrap(); // every file is there already
            continue;
        }
        let state = job.wait(PATIENCE);
        assert_eq!(
            state,
            BgJobState::Transferred,
            "{trial}: {:?}",
            job.get_error().map(|e| e.message().to_owned())
        );
        job.complete().unwrap();
    }
    drop(manager);
    check_downloads(downloads, trial);
}

/// Every file in `downloads` is one of the server's files, whole; no temporary file is left.
fn check_downloads(downloads: &Path, trial: &str) {
    for entry in std::fs::read_dir(downloads).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".bgcopy.tmp"), "{trial}: a temporary file is left: {name}");
        let index: usize =
            name.rsplit("-f").next().and_then(|n| n.parse().ok()).unwrap_or_else(|| {
                ["a", "b", "c", "d"].iter().position(|n| *n == name).expect("a known name")
            });
        assert!(std::fs::read(entry.path()).unwrap() == content(index), "{trial}: {name} differs");
    }
}

fn trials() -> u64 {
    std::env::var("BGCOPY_KILL_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(50)
}

#[test]
fn killed_at_random_instants_every_acknowledged_change_survives_and_every_job_finishes() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(42);
    let mut killed_mid_transfer = 0;
    for trial in 0..trials() {
        let dir = tempfile::tempdir().unwrap();
        let (store, downloads) = (dir.path().join("store"), dir.path().join("downloads"));
        std::fs::create_dir_all(&downloads).unwrap();
        let delay = Duration::from_millis(rng.range(30, 500));
        let run = run_child("random", &store, &downloads, &url, trial, Some(delay), None);
        let name = format!("trial {trial} (killed after {delay:?}, {} acks)", run.acks.len());
        killed_mid_transfer += usize::from(run.acks.iter().any(|a| a.starts_with("ack resume")));
        check_and_finish(&store, &downloads, &run, &name);
    }
    println!("{} kill trials, {killed_mid_transfer} with a job resumed before the kill", trials());
    assert!(killed_mid_transfer > 0);
}

/// A file fetched over several connections, killed at random instants: the ranges its store
/// recorded come back (counted, never more than the file), and the file finishes
/// byte-identical, in segments again.
#[test]
fn a_segmented_download_killed_at_random_resumes_and_finishes_identical() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(7);
    let (mut resumed_with_bytes, mut segmented) = (0, 0);
    for trial in 0..trials().div_ceil(5) {
        let dir = tempfile::tempdir().unwrap();
        let (store, downloads) = (dir.path().join("store"), dir.path().join("downloads"));
        std::fs::create_dir_all(&downloads).unwrap();
        let before = server.requests().len();
        let delay = Duration::from_millis(rng.range(150, 700));
        let run = run_child("segments", &store, &downloads, &url, trial, Some(delay), None);
        let name = format!("segments trial {trial} (killed after {delay:?})");
        let ranged = server.requests()[before..]
            .iter()
            .filter(|r| r.target == "/big" && r.header("if-range").is_some())
            .count();
        segmented += usize::from(ranged > 0);
        {
            let manager = Manager::builder().without_engine().store(&store).try_build().unwrap();
            for job in manager.enum_all_jobs() {
                let progress = job.get_progress();
                assert!(progress.is_consistent(), "{name}: {progress:?}");
                assert!(progress.bytes_transferred <= BIG_SIZE as u64, "{name}: {progress:?}");
                resumed_with_bytes += usize::from(progress.bytes_transferred > 0);
            }
        }
        check_and_finish(&store, &downloads, &run, &name);
    }
    assert!(segmented > 0, "some trial used several connections before its kill");
    assert!(resumed_with_bytes > 0, "some trial came back with bytes");
}

/// A ranged file and an on-demand file fetched over several connections, killed at random
/// instants: what the store recorded comes back consistent (never more than the file), what was
/// asked for is still asked for, and each finishes byte-identical.
#[test]
fn ranged_and_on_demand_downloads_in_segments_killed_at_random_finish_identical() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(11);
    let mut came_back_with_bytes = 0;
    for trial in 0..trials().div_ceil(5) {
        for (scenario, name, want) in
            [("ranged", "ranged.bin", big_selected()), ("on-demand", "on-demand.bin", content(BIG))]
        {
            let dir = tempfile::tempdir().unwrap();
            let (store, downloads) = (dir.path().join("store"), dir.path().join("downloads"));
            std::fs::create_dir_all(&downloads).unwrap();
            let delay = Duration::from_millis(rng.range(100, 600));
            let run = run_child(scenario, &store, &downloads, &url, trial, Some(delay), None);
            let trial = format!("{scenario} trial {trial} (killed after {delay:?})");
            if !run.acks.iter().any(|a| a.starts_with("ack resume")) {
                continue;
            }
            let manager = open(&store).unwrap_or_else(|e| panic!("{trial}: reopen: {e}"));
            let job = manager.enum_all_jobs().remove(0);
            let progress = job.get_progress();
            assert!(progress.is_consistent(), "{trial}: {progress:?}");
            assert!(progress.bytes_transferred <= want.len() as u64, "{trial}: {progress:?}");
            came_back_with_bytes += usize::from(progress.bytes_transferred > 0);
            if job.get_state() != BgJobState::Transferred {
                job.resume().unwrap();
            }
            let state = job.wait(PATIENCE);
            let error = job.get_error().map(|e| e.message().to_owned());
            assert_eq!(state, BgJobState::Transferred, "{trial}: {error:?}");
            job.complete().unwrap();
            assert!(std::fs::read(downloads.join(name)).unwrap() == want, "{trial}: differs");
        }
    }
    assert!(came_back_with_bytes > 0, "some trial came back with bytes");
}

/// A crash at every durability step, each reopened and finished.
#[test]
fn a_crash_at_each_durability_step_is_recovered_from() {
    let server = server();
    let url = server.url("");
    let points = [
        ("complete", "store:created@1"),
        ("complete", "checkpoint:synced@2"),
        ("complete", "finish:synced@1"),
        ("complete", "finish:synced@2"),
        ("complete", "store:before-commit@4"),
        ("complete", "store:after-commit@4"),
        ("complete", "store:before-commit@7"),
        ("complete", "store:after-commit@7"),
        ("complete", "commit:before-sync@1"),
        ("complete", "commit:before-rename@1"),
        ("complete", "commit:renamed@1"),
        ("complete", "commit:before-rename@2"),
        ("cancel", "remove:before@1"),
        ("cancel", "remove:before@2"),
    ];
    for (scenario, point) in points {
        let dir = tempfile::tempdir().unwrap();
        let (store, downloads) = (dir.path().join("store"), dir.path().join("downloads"));
        std::fs::create_dir_all(&downloads).unwrap();
        let run = run_child(scenario, &store, &downloads, &url, 0, None, Some(point));
        let trial = format!("{scenario} crashed at {point}");
        assert!(
            run.acks.iter().all(|a| !a.starts_with("complete") && !a.starts_with("cancel")),
            "{trial}: the point was never reached"
        );
        check_and_finish(&store, &downloads, &run, &trial);
        // (A crash while the store itself is being made comes before any job.)
        if scenario == "complete" && !point.starts_with("store:created") {
            for name in ["a", "b"] {
                assert!(downloads.join(name).exists(), "{trial}: {name} never appeared");
            }
        }
    }
}

/// R6: a worker blocked in a read when the last handle goes must write nothing once the store is
/// opened again (which it may be at once): the new manager resumes from the bytes on disk and
/// finishes byte-identical, and the old worker's late read lands nowhere.
#[test]
fn a_store_reopened_while_an_old_transfer_is_blocked_gets_no_write_from_it() {
    let content = Rng::new(0xB10C).bytes(1 << 20);
    let resource = Resource::new(content.clone(), "\"v1\"");
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = {
        let stalled = Arc::clone(&stalled);
        Server::start(move |request: &Request| {
            let reply = resource.respond(request);
            // The first response stalls after 256 KiB for a while: its worker is blocked in a
            // read when the handles go.
            if !stalled.swap(true, std::sync::atomic::Ordering::SeqCst) {
                reply.stall(256 * 1024, Duration::from_secs(2))
            } else {
                reply
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let dest = dir.path().join("out.bin");
    let id = {
        let manager = Manager::builder()
            .store(&store)
            .checkpoint_interval(Duration::from_millis(10))
            .try_build()
            .unwrap();
        let job = manager.create_job("blocked", BgJobType::Download).unwrap();
        job.add_file(&server.url("/f"), &dest).unwrap();
        job.resume().unwrap();
        let start = Instant::now();
        while job.get_progress().bytes_transferred < 128 * 1024 {
            assert!(start.elapsed() < PATIENCE, "no bytes");
            std::thread::sleep(Duration::from_millis(5));
        }
        job.get_id()
    }; // every handle gone: the old worker is still blocked in the stalled read
    let manager = Manager::open(&store).expect("reopened at once");
    let job = manager.get_job(id).unwrap();
    assert_ne!(job.get_state(), BgJobState::Error);
    job.resume().ok();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "{:?}", job.get_error().ok());
    job.complete().unwrap();
    // Not a synchronisation: a window for a late write of the old worker to show (its read
    // returns after the 2 s stall); the file must still be the server's bytes after it.
    std::thread::sleep(Duration::from_secs(3));
    assert!(std::fs::read(&dest).unwrap() == content, "a write landed after the reopen");
}
