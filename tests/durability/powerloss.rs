//! Power loss, not only `kill -9` (DESIGN 6.1): "every acknowledged change survives a crash that
//! drops everything not yet fsynced". A `kill -9` keeps the page cache, so `tests/durability/crash.rs`
//! cannot see a missing sync; here the store and the downloads live on a FUSE file system in
//! this process (`tests/powerloss_support`) that keeps what was not synced in memory and drops
//! it on [`PowerFs::cut`].
//!
//! The test binary runs itself as a child (as `tests/durability/crash.rs` does) that works jobs against a
//! loopback HTTP server, printing `try <call>` before and `ack <call>` after every call that
//! returned `Ok`. A power loss is: kill the child (SIGKILL), cut, then reopen the store in this
//! process and check that every acknowledged change is there, that every file `complete()`
//! acknowledged is at its name and byte-identical, that no job is lost, and then that every job
//! finishes byte-identical. The cuts land at random instants (`BGCOPY_POWERLOSS_TRIALS`, 20) and
//! just before every durability step (every `fsync` and `fsyncdir` the child asks for).
//!
//! Each failing test collects every problem it finds (one line per trial and problem) before it
//! fails, so one run lists every missing sync it reached. With `BGCOPY_POWERLOSS_JOURNALED=1` the
//! file system is forgiving instead (any fsync makes every directory's entries durable): a
//! failure that goes away then is a missing directory sync.
#![cfg(target_os = "linux")]

use crate::http_support;
use crate::powerloss_support;

use bgcopy::transport::HttpTransport;
use bgcopy::*;
use http_support::{Reply, Request, Resource, Rng, Server};
use parking_lot::Mutex;
use powerloss_support::{Freeze, PowerFs};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that makes `powerloss_child` the child's body.
const CHILD: &str = "BGCOPY_POWERLOSS_CHILD";
/// Files the server serves, `/f0` .. `/f3`.
const FILES: usize = 4;
const FILE_SIZE: usize = 256 * 1024;
/// `/f4`: a file large enough to be fetched in segments (at least 2 MiB).
const BIG: usize = FILES;
const BIG_SIZE: usize = 3 * 1024 * 1024;
/// Only to fail a hung test, never to judge speed.
const PATIENCE: Duration = Duration::from_secs(60);
/// The most durability steps one scenario is cut at (a bound on the loop; the scenario takes
/// far fewer).
const MAX_STEPS: u64 = 400;

fn content(index: usize) -> Vec<u8> {
    Rng::new(0x0B0B + index as u64).bytes(if index == BIG { BIG_SIZE } else { FILE_SIZE })
}

/// The server: `/f<i>` with Range and If-Range, paced (16 KiB every 2 ms per response) so that
/// checkpoints land in the middle of transfers.
fn server() -> Server {
    let resources: Vec<Resource> =
        (0..=BIG).map(|i| Resource::new(content(i), &format!("etag-{i}"))).collect();
    Server::start(move |request: &Request| {
        let index = request.target.strip_prefix("/f").and_then(|n| n.parse::<usize>().ok());
        match index.and_then(|i| resources.get(i)) {
            Some(resource) => resource.respond(request).pace(16 * 1024, Duration::from_millis(2)),
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
        .checkpoint_interval(Duration::from_millis(40))
        .try_build()
}

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

// ---- the child ------------------------------------------------------------------------------

/// The child's body when `BGCOPY_POWERLOSS_CHILD` is set (a no-op in a normal test run).
#[test]
fn powerloss_child() {
    let Ok(scenario) = std::env::var(CHILD) else { return };
    // The test harness has written "test powerloss_child ... " without a line end: every line
    // the parent reads starts after this one.
    println!();
    let store = PathBuf::from(std::env::var("BGCOPY_STORE").unwrap());
    let downloads = PathBuf::from(std::env::var("BGCOPY_DOWNLOADS").unwrap());
    let url = std::env::var("BGCOPY_URL").unwrap();
    let seed: u64 = std::env::var("BGCOPY_SEED").unwrap().parse().unwrap();
    if scenario == "sync-one" {
        // For the file system's own test: one file written, synced, its directory synced.
        let mut file = File::create(downloads.join("x")).unwrap();
        file.write_all(b"synced").unwrap();
        file.sync_all().unwrap();
        println!("ack file-synced");
        sync_dir(&downloads);
        println!("ack dir-synced");
        println!("done");
        std::thread::sleep(PATIENCE);
        return;
    }
    // Which named durability step the library reached, for the failure messages.
    bgcopy::__set_fault_hook(|name, path| {
        let thread = std::thread::current().id();
        println!("point {name} {thread:?} {}", path.display());
    });
    let manager = if scenario == "recover" {
        // Recovery alone: no engine resumes anything.
        Manager::builder().without_engine().store(&store).try_build().unwrap()
    } else {
        open(&store).unwrap()
    };
    println!("opened");
    let child = Child_ { manager: &manager, downloads: &downloads, url: &url };
    match scenario.as_str() {
        "steps" => child.steps(),
        "random" => child.random(seed),
        // Only the store's open, which recovers, for cuts during recovery.
        "recover" => {}
        "segments" => {
            let job = child.create("segments");
            child.add(&job, "big", &[BIG]);
            child.call(format!("connections {}", job.get_id()), || job.set_max_connections(4));
            child.state_call("resume", &job);
            child.wait_transferred(&job);
            child.state_call("complete", &job);
        }
        "on-demand" => {
            let job = child.create("on-demand");
            let id = job.get_id();
            let on = BgJobProperty::OnDemandMode(true);
            child.call(format!("on-demand {id}"), || job.set_property(on));
            child.add(&job, "od", &[BIG]);
            child.call(format!("connections {id}"), || job.set_max_connections(4));
            let whole = [BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }];
            child.call(format!("asked {id}"), || job.enum_files()[0].request_file_ranges(&whole));
            child.state_call("resume", &job);
            child.wait_transferred(&job);
            child.state_call("complete", &job);
        }
        "one-job" => {
            let job = child.create("one");
            child.add(&job, "one", &[0]);
        }
        other => panic!("unknown scenario {other}"),
    }
    println!("done");
    // Wait to be killed, so nothing is closed cleanly.
    std::thread::sleep(PATIENCE);
}

/// What the child works with.
struct Child_<'a> {
    manager: &'a Manager,
    downloads: &'a Path,
    url: &'a str,
}

impl Child_<'_> {
    /// Says a call, makes it, and acknowledges it if it returned `Ok`.
    fn call(&self, line: String, call: impl FnOnce() -> Result<()>) -> bool {
        println!("try {line}");
        let ok = call().is_ok();
        if ok {
            println!("ack {line}");
        }
        ok
    }

    fn create(&self, name: &str) -> Job {
        let job = self.manager.create_job(name, BgJobType::Download).unwrap();
        println!("ack create {}", job.get_id());
        job
    }

    /// Adds `/f<i>` for each of `sources` as `<prefix>-f<i>`, in one call.
    fn add(&self, job: &Job, prefix: &str, sources: &[usize]) {
        let set: Vec<BgFileInfo> = sources
            .iter()
            .map(|f| {
                BgFileInfo::new(
                    format!("{}/f{f}", self.url),
                    self.downloads.join(format!("{prefix}-f{f}")),
                )
            })
            .collect();
        let names: Vec<String> = sources.iter().map(|f| format!("{prefix}-f{f}")).collect();
        self.call(format!("files {} {}", job.get_id(), names.join(" ")), || job.add_file_set(&set));
    }

    fn describe(&self, job: &Job, text: &str) {
        self.call(format!("describe {} {text}", job.get_id()), || job.set_description(text));
    }

    fn state_call(&self, verb: &str, job: &Job) -> bool {
        let id = job.get_id();
        self.call(format!("{verb} {id}"), || match verb {
            "resume" => job.resume(),
            "suspend" => job.suspend(),
            "cancel" => job.cancel().map(|_| ()),
            "complete" => job.complete().map(|_| ()),
            _ => unreachable!(),
        })
    }

    /// Waits for `job` to be `Transferred`, which the engine announces only once it is recorded
    /// (DESIGN 6.1): acknowledged as such.
    fn wait_transferred(&self, job: &Job) {
        assert_eq!(job.wait(PATIENCE), BgJobState::Transferred, "{:?}", job.get_error());
        println!("ack transferred {}", job.get_id());
    }

    /// Waits until `job` has bytes on disk (or all of them).
    fn wait_for_bytes(&self, job: &Job) {
        let deadline = Instant::now() + PATIENCE;
        while job.get_progress().bytes_transferred == 0
            && job.get_state() != BgJobState::Transferred
        {
            assert!(Instant::now() < deadline, "{} never started", job.get_display_name());
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Every kind of change, in a fixed order: create, add, set, resume, checkpoints and
    /// transfers, complete; suspend, set and resume with bytes on disk; cancel with bytes on
    /// disk, after another job's complete() synced the downloads directory.
    fn steps(&self) {
        let a = self.create("a");
        self.add(&a, "a", &[0, 1]);
        self.describe(&a, "da");
        self.state_call("resume", &a);
        let b = self.create("b");
        self.add(&b, "b", &[2]);
        self.state_call("resume", &b);
        self.wait_for_bytes(&b);
        self.state_call("suspend", &b);
        self.describe(&b, "db");
        self.wait_transferred(&a);
        let c = self.create("c");
        self.add(&c, "c", &[3]);
        self.state_call("resume", &c);
        self.wait_for_bytes(&c);
        self.state_call("complete", &a);
        self.state_call("cancel", &c);
        self.state_call("resume", &b);
        self.wait_transferred(&b);
        self.state_call("complete", &b);
    }

    /// Random calls on up to four jobs (as in `tests/durability/crash.rs`).
    fn random(&self, seed: u64) {
        let mut rng = Rng::new(seed);
        let mut jobs: Vec<Job> = Vec::new();
        for step in 0..200u64 {
            let pick = rng.range(0, 100);
            if jobs.is_empty() || (pick < 15 && jobs.len() < 4) {
                let prefix = format!("{}", jobs.len());
                let job = self.create(&format!("job {prefix}"));
                let count = rng.range(1, 3) as usize;
                let mut sources: Vec<usize> =
                    (0..count).map(|_| rng.range(0, FILES as u64) as usize).collect();
                sources.dedup();
                self.add(&job, &prefix, &sources);
                jobs.push(job);
                continue;
            }
            let job = &jobs[rng.range(0, jobs.len() as u64) as usize];
            match pick {
                15..=39 => _ = self.state_call("resume", job),
                40..=49 => _ = self.state_call("suspend", job),
                50..=69 => self.describe(job, &format!("d{step}")),
                70..=74 => _ = self.state_call("cancel", job),
                75..=84 if job.get_state() == BgJobState::Transferred => {
                    _ = self.state_call("complete", job);
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(rng.range(0, 25)));
        }
    }
}

// ---- the parent -----------------------------------------------------------------------------

/// Where one trial's child works, on a file system of its own.
struct Trial {
    fs: PowerFs,
    store: PathBuf,
    downloads: PathBuf,
    name: String,
}

impl Trial {
    /// A new file system with the store directory and the downloads directory made durable
    /// (unless `store_made_by_child`, where the child's open creates the store directory).
    fn new(name: String, store_made_by_child: bool) -> Trial {
        let fs = PowerFs::mount();
        let (store, downloads) = (fs.root().join("store"), fs.root().join("downloads"));
        std::fs::create_dir(&downloads).unwrap();
        if !store_made_by_child {
            std::fs::create_dir(&store).unwrap();
        }
        fs.sync_everything();
        fs.reset_steps();
        Trial { fs, store, downloads, name }
    }
}

/// How a trial's child is stopped.
#[derive(Debug, Clone)]
enum Cut {
    /// Killed once it finished its scenario (and nothing is cut): counts the steps.
    AfterScenario,
    /// Killed after this long.
    After(Duration),
    /// Killed when it asks for this durability step, which is never applied.
    AtStep(Freeze),
    /// Aborted by the library's fault point (`BGCOPY_CRASH_AT`, `name@n`).
    AtPoint(String),
}

/// What the child said before it died.
struct Run {
    /// `ack ...`, `try ...` and `point ...` lines, in order.
    lines: Vec<String>,
    /// The child finished its scenario.
    done: bool,
    /// The file system froze at the step asked for.
    frozen: bool,
}

impl Run {
    fn acks(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| l.strip_prefix("ack "))
    }

    /// The named fault points the child reached: `(name, thread, path)`.
    fn points(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.lines.iter().filter_map(|l| {
            let mut words = l.strip_prefix("point ")?.splitn(3, ' ');
            Some((words.next()?, words.next()?, words.next()?))
        })
    }

    /// The last named fault point the child reached, and its path.
    fn last_point(&self) -> String {
        self.points().last().map_or("(none)".to_owned(), |(name, _, path)| format!("{name} {path}"))
    }

    /// The temporary files whose bytes a checkpoint recorded: synced (`checkpoint:synced`),
    /// then the checkpoint's commit returned (`store:after-commit` on the same thread).
    fn checkpointed(&self) -> Vec<PathBuf> {
        let mut pending: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut recorded: Vec<PathBuf> = Vec::new();
        for (name, thread, path) in self.points() {
            match name {
                "checkpoint:synced" => pending.entry(thread).or_default().push(path),
                "store:after-commit" => {
                    for temp in pending.remove(thread).unwrap_or_default() {
                        if !recorded.iter().any(|r| r == Path::new(temp)) {
                            recorded.push(PathBuf::from(temp));
                        }
                    }
                }
                _ => {}
            }
        }
        recorded
    }
}

fn run_child(trial: &Trial, scenario: &str, url: &str, seed: u64, cut: Cut) -> Run {
    if let Cut::AtStep(at) = &cut {
        trial.fs.freeze_at(at.clone());
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &http_support::test_name(module_path!(), "powerloss_child"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, scenario)
        .env("BGCOPY_STORE", &trial.store)
        .env("BGCOPY_DOWNLOADS", &trial.downloads)
        .env("BGCOPY_URL", url)
        .env("BGCOPY_SEED", seed.to_string())
        .env_remove("BGCOPY_CRASH_AT")
        .envs(match &cut {
            Cut::AtPoint(point) => Some(("BGCOPY_CRASH_AT", point.as_str())),
            _ => None,
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (lines, done) = (Arc::clone(&lines), Arc::clone(&done));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
                if line == "done" {
                    done.store(true, Ordering::SeqCst);
                }
                if ["ack ", "try ", "point "].iter().any(|p| line.starts_with(p)) {
                    lines.lock().push(line);
                }
            }
        })
    };
    let start = Instant::now();
    let mut frozen = false;
    loop {
        assert!(start.elapsed() < PATIENCE, "{}: the child hung", trial.name);
        match &cut {
            Cut::After(delay) if start.elapsed() >= *delay => break,
            Cut::AtStep(_) if trial.fs.wait_frozen(Duration::from_millis(5)) => {
                frozen = true;
                break;
            }
            _ => {}
        }
        if done.load(Ordering::SeqCst) || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    kill(&mut child, &trial.fs);
    reader.join().unwrap();
    let lines = lines.lock().clone();
    Run { lines, done: done.load(Ordering::SeqCst), frozen }
}

/// SIGKILL, then answer the steps it is held in (it cannot exit before), until it is gone.
fn kill(child: &mut Child, fs: &PowerFs) {
    let _ = child.kill();
    let start = Instant::now();
    loop {
        fs.release_held();
        if child.try_wait().unwrap().is_some() {
            return;
        }
        assert!(start.elapsed() < PATIENCE, "the killed child never exited");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What the acknowledgements promise about one job, and what calls were under way.
#[derive(Debug, Default)]
struct Promised {
    /// The acknowledged description, and those tried after it (any of them may be there).
    descriptions: Vec<String>,
    /// The files acknowledged (local names in the downloads directory).
    files: Option<Vec<String>>,
    /// Files tried but not acknowledged: the job has none or these.
    files_tried: Option<Vec<String>>,
    /// The last state call acknowledged was `suspend`, and no state call was tried after it.
    suspended: bool,
    /// The same for `resume`.
    resumed: bool,
    /// The child saw the job `Transferred`.
    transferred: bool,
    /// A `cancel` or `complete` was tried (it may have landed without its acknowledgement).
    ending: bool,
    /// `cancel` acknowledged.
    cancelled: bool,
    /// `complete` tried.
    complete_tried: bool,
    /// `complete` acknowledged.
    completed: bool,
    /// `request_file_ranges` (the whole file) acknowledged on an on-demand job.
    asked: bool,
}

fn promises(lines: &[String]) -> Vec<(JobId, Promised)> {
    let mut order = Vec::new();
    let mut jobs: HashMap<JobId, Promised> = HashMap::new();
    for line in lines {
        let mut words = line.split(' ');
        let (kind, verb) = (words.next().unwrap(), words.next().unwrap());
        if kind == "point" {
            continue;
        }
        let id: JobId = words.next().unwrap().parse().unwrap();
        let job = jobs.entry(id).or_insert_with(|| {
            order.push(id);
            Promised { descriptions: vec![String::new()], ..Promised::default() }
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
            "files" => {
                let names: Vec<String> = words.map(str::to_owned).collect();
                if acked {
                    job.files = Some(names);
                } else {
                    job.files_tried = Some(names);
                }
            }
            "suspend" | "resume" => {
                job.suspended = acked && verb == "suspend";
                job.resumed = acked && verb == "resume";
            }
            "transferred" => job.transferred = true,
            "asked" => job.asked |= acked,
            "cancel" | "complete" => {
                job.ending = true;
                job.cancelled |= acked && verb == "cancel";
                job.completed |= acked && verb == "complete";
                job.complete_tried |= verb == "complete";
            }
            _ => {}
        }
    }
    order.into_iter().map(|id| (id, jobs.remove(&id).unwrap())).collect()
}

/// The server's file a local name holds (`<prefix>-f<i>`).
fn source_of(name: &str) -> Option<usize> {
    name.rsplit("-f").next().and_then(|n| n.parse().ok())
}

/// After the cut: checks what the acknowledgements promise, then finishes every job and checks
/// the files. Returns every problem found.
fn check_and_finish(trial: &Trial, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    for op in trial.fs.unsupported() {
        problems.push(format!("the file system was asked for what it does not support: {op}"));
    }
    let promised = promises(&run.lines);
    // 1. Every file `complete()` acknowledged is at its name, whole (before anything reopens).
    for (id, promise) in &promised {
        if !promise.completed {
            continue;
        }
        for name in promise.files.iter().flatten() {
            match std::fs::read(trial.downloads.join(name)) {
                Ok(bytes) if Some(bytes.as_slice()) == source_of(name).map(content).as_deref() => {}
                Ok(bytes) => problems.push(format!(
                    "job {id}: completed file {name} differs ({} bytes)",
                    bytes.len()
                )),
                Err(e) => problems.push(format!("job {id}: completed file {name} is gone: {e}")),
            }
        }
    }
    // 2. DESIGN 6.1: "a temporary file's directory entry [survives] once a checkpoint has
    //    recorded its bytes" (unless its job's complete() or cancel() was under way).
    for temp in run.checkpointed() {
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        let tag = name.rsplit_once(".bgcopy.tmp").and_then(|(stem, _)| stem.rsplit_once('.'));
        let tag = tag.and_then(|(_, tag)| tag.split_once('-')).map(|(tag, _)| tag.to_uppercase());
        let owner = promised.iter().find(|(id, _)| {
            tag.as_deref()
                .is_some_and(|tag| id.to_string().trim_start_matches('{').starts_with(tag))
        });
        if owner.is_some_and(|(_, promise)| promise.ending) {
            continue;
        }
        if !temp.exists() {
            problems.push(format!(
                "{name}: a checkpoint recorded its bytes, but its directory entry was lost"
            ));
        }
    }
    // 3. Every acknowledged change is there, seen without an engine.
    let manager = match Manager::builder().without_engine().store(&trial.store).try_build() {
        Ok(manager) => manager,
        Err(e) => {
            problems.push(format!("the store does not reopen: {e}"));
            return problems;
        }
    };
    for (id, promise) in &promised {
        let job = match manager.get_job(*id) {
            Ok(job) => job,
            Err(e) => {
                if e.hresult() != hresult::BG_E_NOT_FOUND {
                    problems.push(format!("job {id}: get_job: {e}"));
                } else if !promise.ending {
                    problems.push(format!("job {id} was lost (created and acknowledged)"));
                } else if promise.complete_tried && !promise.completed {
                    // Its complete() landed without its acknowledgement: then its files are
                    // all in place, or the job and its files are both lost.
                    for name in promise.files.iter().flatten() {
                        let path = trial.downloads.join(name);
                        if std::fs::read(&path).ok() != source_of(name).map(content) {
                            problems.push(format!(
                                "job {id}: gone after a complete() the cut interrupted, but \
                                 its file {name} is not in place"
                            ));
                        }
                    }
                }
                continue;
            }
        };
        if promise.cancelled || promise.completed {
            problems.push(format!("job {id} came back after its cancel/complete was acknowledged"));
            continue;
        }
        let text = job.get_description();
        if !promise.descriptions.contains(&text) {
            problems.push(format!(
                "job {id}: description {text:?}, acknowledged {:?}",
                promise.descriptions
            ));
        }
        let names: Vec<String> = job
            .enum_files()
            .iter()
            .map(|f| f.get_local_name().file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let allowed_files = match (&promise.files, &promise.files_tried) {
            (Some(files), _) => names == *files,
            (None, Some(tried)) => names.is_empty() || names == *tried,
            (None, None) => names.is_empty(),
        };
        if !allowed_files {
            problems.push(format!(
                "job {id}: files {names:?}, acknowledged {:?} (tried {:?})",
                promise.files, promise.files_tried
            ));
        }
        let state = job.get_state();
        if promise.suspended && state != BgJobState::Suspended {
            problems.push(format!("job {id}: {state:?}, but its suspend was acknowledged"));
        }
        if promise.resumed && state == BgJobState::Suspended {
            problems.push(format!("job {id}: Suspended, but its resume was acknowledged"));
        }
        if promise.transferred && state != BgJobState::Transferred {
            problems.push(format!(
                "job {id}: {state:?}, but it was Transferred before the cut (announced only once \
                 recorded)"
            ));
        }
        let progress = job.get_progress();
        if !progress.is_consistent() {
            problems.push(format!("job {id}: inconsistent progress {progress:?}"));
        }
    }
    drop(manager);
    // 4. Everything left finishes, byte-identical, and no temporary file is left.
    let manager = match open(&trial.store) {
        Ok(manager) => manager,
        Err(e) => {
            problems.push(format!("the store does not reopen with an engine: {e}"));
            return problems;
        }
    };
    let mut finished = Vec::new();
    for job in manager.enum_all_jobs() {
        let id = job.get_id();
        if job.get_progress().files_total == 0 {
            let _ = job.cancel();
            continue;
        }
        let names: Vec<PathBuf> = job.enum_files().iter().map(|f| f.get_local_name()).collect();
        let on_demand = job.get_property(BgJobPropertyId::OnDemandMode).ok()
            == Some(BgJobProperty::OnDemandMode(true));
        let asked = promised.iter().any(|(promised, p)| *promised == id && p.asked);
        if on_demand && !asked && !names.is_empty() {
            // Not acknowledged, so maybe not recorded: ask again. An acknowledged request must
            // come back without this (the job is Transferred below only if it did).
            let whole = [BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }];
            if let Err(e) = job.enum_files()[0].request_file_ranges(&whole) {
                problems.push(format!("job {id}: request after the cut: {e}"));
            }
        }
        if let Err(e) = job.resume() {
            if e.hresult() != hresult::BG_E_EMPTY {
                problems.push(format!("job {id}: resume after the cut: {e}"));
                continue;
            }
        } else {
            let state = job.wait(PATIENCE);
            if state != BgJobState::Transferred {
                let error = job.get_error().map(|e| e.message().to_owned());
                problems
                    .push(format!("job {id}: {state:?} after the cut, not Transferred: {error:?}"));
                let _ = job.cancel();
                continue;
            }
        }
        match job.complete() {
            Ok(_) => finished.extend(names),
            Err(e) => problems.push(format!("job {id}: complete after the cut: {e}")),
        }
    }
    drop(manager);
    for path in finished {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match std::fs::read(&path) {
            Ok(bytes) if Some(bytes.as_slice()) == source_of(&name).map(content).as_deref() => {}
            Ok(bytes) => problems.push(format!(
                "{name}: completed after the cut but differs ({} bytes, {} match)",
                bytes.len(),
                matching_prefix(&bytes, &name)
            )),
            Err(e) => problems.push(format!("{name}: completed after the cut but missing: {e}")),
        }
    }
    for entry in std::fs::read_dir(&trial.downloads).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".bgcopy.tmp") {
            problems.push(format!("a temporary file is left after every job ended: {name}"));
        } else if std::fs::read(trial.downloads.join(&name)).ok() != source_of(&name).map(content) {
            problems.push(format!("{name} differs from its source"));
        }
    }
    problems
}

/// How many leading bytes of `bytes` match the source of `name`.
fn matching_prefix(bytes: &[u8], name: &str) -> usize {
    let source = source_of(name).map(content).unwrap_or_default();
    bytes.iter().zip(&source).take_while(|(a, b)| a == b).count()
}

fn report(all: &[String]) {
    assert!(all.is_empty(), "{} problems after power losses:\n{}", all.len(), all.join("\n"));
}

fn trials() -> u64 {
    std::env::var("BGCOPY_POWERLOSS_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

/// The file system itself: unsynced data, unsynced names and unsynced renames are lost; synced
/// ones are kept.
#[test]
fn the_file_system_loses_exactly_what_was_not_synced() {
    let fs = PowerFs::mount();
    fs.journaled(false);
    let root = fs.root();
    // Data written, never synced: the name (synced) stays, the data goes.
    let mut file = File::create(root.join("a")).unwrap();
    file.write_all(b"hello").unwrap();
    sync_dir(root);
    drop(file);
    fs.cut();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"");
    // Data synced, the directory not: the name goes.
    let mut file = File::create(root.join("b")).unwrap();
    file.write_all(b"data").unwrap();
    file.sync_all().unwrap();
    drop(file);
    assert!(root.join("b").exists());
    fs.cut();
    assert!(!root.join("b").exists());
    // Both synced: kept, then a rename over it synced: the rename is kept.
    let mut file = File::create(root.join("c")).unwrap();
    file.write_all(b"first").unwrap();
    file.sync_all().unwrap();
    let mut file = File::create(root.join("d")).unwrap();
    file.write_all(b"second").unwrap();
    file.sync_all().unwrap();
    sync_dir(root);
    std::fs::rename(root.join("d"), root.join("c")).unwrap();
    sync_dir(root);
    fs.cut();
    assert_eq!(std::fs::read(root.join("c")).unwrap(), b"second");
    assert!(!root.join("d").exists());
    // A rename not synced: undone.
    std::fs::rename(root.join("c"), root.join("e")).unwrap();
    fs.cut();
    assert_eq!(std::fs::read(root.join("c")).unwrap(), b"second");
    assert!(!root.join("e").exists());
    // Overwrites at offsets, a truncation, and a directory of its own.
    std::fs::create_dir(root.join("sub")).unwrap();
    sync_dir(root);
    let mut file =
        OpenOptions::new().create_new(true).write(true).open(root.join("sub/f")).unwrap();
    file.write_all(b"0123456789").unwrap();
    file.sync_data().unwrap();
    sync_dir(&root.join("sub"));
    file.set_len(4).unwrap();
    fs.cut();
    assert_eq!(std::fs::read(root.join("sub/f")).unwrap(), b"0123456789");
    let names: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(fs.unsupported().is_empty(), "{:?}", fs.unsupported());
}

/// The store's lock (`flock` through `File::try_lock`, as redb's own lock) works on the file
/// system: the kernel keeps FUSE locks itself when the file system announces no lock support.
#[test]
fn file_locks_on_the_file_system_exclude_each_other() {
    let fs = PowerFs::mount();
    let path = fs.root().join("LOCK");
    let first = File::create(&path).unwrap();
    first.try_lock().unwrap();
    let second = File::open(&path).unwrap();
    assert!(matches!(second.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
    drop(first);
    second.try_lock().unwrap();
}

/// The file system's freeze: a process that asks for a held step is killed with the step
/// unapplied, and what it synced before is kept.
#[test]
fn a_process_stopped_at_a_durability_step_loses_that_step_and_keeps_the_earlier_ones() {
    let cases = [
        (Some(Freeze::Key("fsync /downloads/x".to_owned(), 1)), None, 0),
        (Some(Freeze::Key("fsyncdir /downloads".to_owned(), 1)), None, 1),
        (Some(Freeze::At(2)), None, 1),
        (None, Some(&b"synced"[..]), 2),
    ];
    for (freeze, kept, acks) in cases {
        let trial = Trial::new(format!("{freeze:?}"), false);
        trial.fs.journaled(false);
        let cut = match &freeze {
            Some(at) => Cut::AtStep(at.clone()),
            None => Cut::AfterScenario,
        };
        let run = run_child(&trial, "sync-one", "http://unused", 0, cut);
        assert_eq!(run.frozen, freeze.is_some(), "{freeze:?}");
        assert_eq!(
            run.acks().count(),
            acks,
            "{freeze:?}: {:?} {:?}",
            run.lines,
            trial.fs.step_log()
        );
        trial.fs.cut();
        assert_eq!(std::fs::read(trial.downloads.join("x")).ok().as_deref(), kept, "{freeze:?}");
    }
}

/// Every durability step of a scenario that makes every kind of change (create, add, set,
/// resume, suspend, checkpoints, transfers, complete, cancel): the power goes just before the
/// step, which is never applied. One run lists the steps (each by its label and occurrence, so
/// that the same step is found again in a run whose checkpoints fall differently); each step is
/// then cut at in a run of its own. The end of the scenario is cut at too.
#[test]
fn a_power_loss_before_each_durability_step_keeps_every_acknowledged_change() {
    let server = server();
    let url = server.url("");
    let mut all = Vec::new();
    let listing = Trial::new("listing".to_owned(), false);
    let run = run_child(&listing, "steps", &url, 0, Cut::AfterScenario);
    assert!(run.done, "the scenario failed: {:?}", run.lines);
    let mut occurrences: HashMap<String, u64> = HashMap::new();
    let steps: Vec<(String, u64)> = listing
        .fs
        .step_log()
        .into_iter()
        .map(|label| {
            let n = occurrences.entry(label.clone()).or_default();
            *n += 1;
            (label, *n)
        })
        .collect();
    listing.fs.cut();
    for problem in check_and_finish(&listing, &run) {
        all.push(format!("cut after the scenario: {problem}"));
    }
    drop(listing);
    let verbose = std::env::var_os("BGCOPY_POWERLOSS_VERBOSE").is_some();
    let only: Option<usize> =
        std::env::var("BGCOPY_POWERLOSS_STEP").ok().and_then(|v| v.parse().ok());
    let (mut cut, mut missed) = (0, 0);
    for (i, (label, n)) in steps.iter().enumerate().take(MAX_STEPS as usize) {
        if only.is_some_and(|only| only != i + 1) {
            continue;
        }
        let step = format!("step {} ({label} #{n})", i + 1);
        let trial = Trial::new(step.clone(), false);
        let run = run_child(&trial, "steps", &url, 0, Cut::AtStep(Freeze::Key(label.clone(), *n)));
        if !run.frozen {
            // This run had fewer steps of this label (checkpoints fall where they fall).
            missed += 1;
            if !run.done {
                all.push(format!("{step}: the child failed before the step: {:?}", run.lines));
            }
            continue;
        }
        cut += 1;
        trial.fs.cut();
        if verbose {
            let acks: Vec<&str> = run.acks().collect();
            let names: Vec<_> = std::fs::read_dir(&trial.downloads)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            println!("{step}: last point {}; acks {acks:?}; downloads {names:?}", run.last_point());
        }
        for problem in check_and_finish(&trial, &run) {
            all.push(format!("cut before {step}, last point {}: {problem}", run.last_point()));
        }
    }
    println!("{} durability steps: {cut} cut at, {missed} not reached in their run", steps.len());
    for (i, (label, n)) in steps.iter().enumerate() {
        println!("step {}: {label} #{n}", i + 1);
    }
    if only.is_none() {
        assert!(cut > 10, "the scenario has durability steps");
    }
    report(&all);
}

/// The library's named fault points (`open:before`, `checkpoint:synced`, `finish:synced`,
/// `commit:before-sync`, `commit:before-rename`, `commit:renamed`, `remove:before`, each time
/// the scenario reaches one): the child aborts right after the point, then the power goes. (The
/// store's own points fall between the durability steps that
/// `a_power_loss_before_each_durability_step_keeps_every_acknowledged_change` cuts at.)
#[test]
fn a_power_loss_right_after_each_named_fault_point_keeps_every_acknowledged_change() {
    let server = server();
    let url = server.url("");
    let listing = Trial::new("listing".to_owned(), false);
    let run = run_child(&listing, "steps", &url, 0, Cut::AfterScenario);
    assert!(run.done, "the scenario failed: {:?}", run.lines);
    let mut occurrences: HashMap<String, u64> = HashMap::new();
    let points: Vec<String> = run
        .points()
        .filter(|(name, _, _)| !name.starts_with("store:"))
        .map(|(name, _, _)| {
            let n = occurrences.entry(name.to_owned()).or_default();
            *n += 1;
            format!("{name}@{n}")
        })
        .collect();
    drop(listing);
    let (mut all, mut crashed) = (Vec::new(), 0);
    for point in &points {
        let trial = Trial::new(point.clone(), false);
        let run = run_child(&trial, "steps", &url, 0, Cut::AtPoint(point.clone()));
        if run.done {
            continue; // not reached in this run
        }
        crashed += 1;
        trial.fs.cut();
        for problem in check_and_finish(&trial, &run) {
            all.push(format!("crash at {point}, then the cut: {problem}"));
        }
    }
    println!("{crashed} crashes at {} named points: {points:?}", points.len());
    assert!(crashed > 5);
    report(&all);
}

/// A power loss during recovery: the `steps` scenario is cut before each of its
/// directory syncs and its temporary files' syncs (and after its end), then the store's open
/// (which recovers) is cut before each of its own durability steps, and only then is the store
/// reopened and checked against what the first run acknowledged. A problem that the same first
/// cut shows without a cut during recovery is the other tests'; this one reports what the cut
/// during recovery adds.
#[test]
fn a_power_loss_during_recovery_keeps_every_acknowledged_change() {
    let server = server();
    let url = server.url("");
    let mut all = Vec::new();
    let listing = Trial::new("listing".to_owned(), false);
    let run = run_child(&listing, "steps", &url, 0, Cut::AfterScenario);
    assert!(run.done, "the scenario failed: {:?}", run.lines);
    let mut occurrences: HashMap<String, u64> = HashMap::new();
    let mut first_cuts: Vec<Option<Freeze>> = listing
        .fs
        .step_log()
        .into_iter()
        .filter_map(|label| {
            let n = occurrences.entry(label.clone()).or_default();
            *n += 1;
            (!label.contains("bgcopy.redb")).then_some(Some(Freeze::Key(label, *n)))
        })
        .collect();
    first_cuts.push(None);
    drop(listing);
    let (mut recovery_cuts, mut recovery_steps) = (0, 0);
    for first in first_cuts {
        let name = match &first {
            Some(Freeze::Key(label, n)) => format!("cut before {label} #{n}"),
            _ => "cut after the scenario".to_owned(),
        };
        let trial = Trial::new(name.clone(), false);
        let cut = first.clone().map_or(Cut::AfterScenario, Cut::AtStep);
        let run = run_child(&trial, "steps", &url, 0, cut);
        if first.is_some() && !run.frozen {
            continue;
        }
        trial.fs.cut();
        let disk = trial.fs.snapshot();
        // What is lost without a second cut belongs to the other tests: only what a cut during
        // recovery loses on top of it is recovery's.
        let baseline = check_and_finish(&trial, &run);
        trial.fs.restore(&disk);
        // The recovery's steps, from a run to its end.
        trial.fs.reset_steps();
        let recovery = run_child(&trial, "recover", &url, 0, Cut::AfterScenario);
        assert!(recovery.done, "{name}: recovery failed: {:?}", recovery.lines);
        let mut occurrences: HashMap<String, u64> = HashMap::new();
        let steps: Vec<(String, u64)> = trial
            .fs
            .step_log()
            .into_iter()
            .map(|label| {
                let n = occurrences.entry(label.clone()).or_default();
                *n += 1;
                (label, *n)
            })
            .collect();
        recovery_steps += steps.len();
        for (label, n) in steps {
            trial.fs.restore(&disk);
            trial.fs.reset_steps();
            let at = Cut::AtStep(Freeze::Key(label.clone(), n));
            let recovery = run_child(&trial, "recover", &url, 0, at);
            if !recovery.frozen {
                continue;
            }
            recovery_cuts += 1;
            trial.fs.cut();
            for problem in check_and_finish(&trial, &run) {
                if !baseline.contains(&problem) {
                    all.push(format!("{name}, then recovery cut before {label} #{n}: {problem}"));
                }
            }
        }
    }
    println!("{recovery_cuts} cuts during recovery, of {recovery_steps} recovery steps");
    assert!(recovery_cuts > 0);
    report(&all);
}

/// Cuts at random instants of random work on up to four jobs.
#[test]
fn a_power_loss_at_random_instants_keeps_every_acknowledged_change() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(4242);
    let mut all = Vec::new();
    let mut resumed = 0;
    for n in 0..trials() {
        let trial = Trial::new(format!("random {n}"), false);
        let delay = Duration::from_millis(rng.range(50, 700));
        let run = run_child(&trial, "random", &url, n, Cut::After(delay));
        resumed += usize::from(run.acks().any(|a| a.starts_with("resume")));
        trial.fs.cut();
        for problem in check_and_finish(&trial, &run) {
            let point = run.last_point();
            all.push(format!("trial {n} (cut after {delay:?}; last point {point}): {problem}"));
        }
    }
    println!("{} random cuts, {resumed} with a job resumed before the cut", trials());
    assert!(resumed > 0);
    report(&all);
}

/// Cuts at random instants of a file fetched over four connections: the ranges a checkpoint
/// recorded are on disk after the cut, and the file finishes byte-identical.
#[test]
fn a_power_loss_during_a_segmented_download_keeps_every_acknowledged_change() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(77);
    let mut all = Vec::new();
    let mut checkpointed = 0;
    for n in 0..trials().div_ceil(4) {
        let trial = Trial::new(format!("segments {n}"), false);
        let delay = Duration::from_millis(rng.range(40, 400));
        let run = run_child(&trial, "segments", &url, n, Cut::After(delay));
        checkpointed += usize::from(!run.checkpointed().is_empty());
        trial.fs.cut();
        for problem in check_and_finish(&trial, &run) {
            let point = run.last_point();
            all.push(format!("segments {n} (cut after {delay:?}; last point {point}): {problem}"));
        }
    }
    let segments = server.requests().iter().filter(|r| r.bounded_range().is_some()).count();
    println!("{checkpointed} segmented cuts after a checkpoint, {segments} bounded range requests");
    assert!(segments > 0, "the file was fetched in segments");
    report(&all);
}

/// Cuts at random instants of an on-demand file fetched over four connections: the request
/// acknowledged comes back (the job finishes without being asked again), the ranges a
/// checkpoint recorded are on disk, and the file finishes byte-identical.
#[test]
fn a_power_loss_during_an_on_demand_download_keeps_the_request_and_the_bytes_recorded() {
    let server = server();
    let url = server.url("");
    let mut rng = Rng::new(78);
    let mut all = Vec::new();
    let (mut asked, mut checkpointed) = (0, 0);
    for n in 0..trials().div_ceil(4) {
        let trial = Trial::new(format!("on demand {n}"), false);
        let delay = Duration::from_millis(rng.range(20, 400));
        let run = run_child(&trial, "on-demand", &url, n, Cut::After(delay));
        asked += usize::from(run.lines.iter().any(|line| line.starts_with("ack asked")));
        checkpointed += usize::from(!run.checkpointed().is_empty());
        trial.fs.cut();
        for problem in check_and_finish(&trial, &run) {
            let point = run.last_point();
            all.push(format!("on demand {n} (cut after {delay:?}; last point {point}): {problem}"));
        }
    }
    println!("{asked} cuts after the request, {checkpointed} after a checkpoint");
    assert!(asked > 0, "some cut came after the request was acknowledged");
    report(&all);
}

/// A store whose directory its first open created: a job created there and acknowledged
/// survives a power loss.
#[test]
fn a_job_in_a_store_directory_that_open_created_survives_a_power_loss() {
    let server = server();
    let trial = Trial::new("new store".to_owned(), true);
    let run = run_child(&trial, "one-job", &server.url(""), 0, Cut::AfterScenario);
    assert!(run.done, "{:?}", run.lines);
    trial.fs.cut();
    let problems = check_and_finish(&trial, &run);
    report(&problems.iter().map(|p| format!("new store: {p}")).collect::<Vec<_>>());
}

/// DESIGN 6.1: "A failed directory sync is an error, not a silent success": `complete()`
/// whose directory sync fails does not return `Ok`.
#[test]
fn complete_fails_when_the_directory_sync_fails() {
    let server = server();
    let trial = Trial::new("failed sync".to_owned(), false);
    let manager = open(&trial.store).unwrap();
    let job = manager.create_job("sync fails", BgJobType::Download).unwrap();
    job.add_file(&server.url("/f0"), &trial.downloads.join("x-f0")).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(PATIENCE), BgJobState::Transferred);
    trial.fs.fail_dir_syncs(true);
    let result = job.complete();
    trial.fs.fail_dir_syncs(false);
    let failed: Vec<String> =
        trial.fs.step_log().into_iter().filter(|s| s.ends_with("failed (EIO)")).collect();
    assert!(!failed.is_empty(), "complete() synced no directory");
    assert!(result.is_err(), "complete() returned {result:?} although {failed:?}");
}

/// The same for a new store: its database is renamed into place and the store directory synced;
/// when that sync fails, the store is not durable, and opening it must not succeed.
#[test]
fn creating_a_store_fails_when_the_directory_sync_fails() {
    let trial = Trial::new("failed store sync".to_owned(), false);
    trial.fs.fail_dir_syncs(true);
    let result = open(&trial.store);
    trial.fs.fail_dir_syncs(false);
    let failed: Vec<String> =
        trial.fs.step_log().into_iter().filter(|s| s.ends_with("failed (EIO)")).collect();
    assert!(!failed.is_empty(), "creating the store synced no directory");
    assert!(result.is_err(), "opening a new store succeeded although {failed:?}");
}
