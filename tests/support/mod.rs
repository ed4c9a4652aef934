//! Helpers shared by the job-model tests: managers without an engine, jobs with files in a
//! temporary directory, and jobs brought into each state through the driver API.
//!
//! Each test binary (`tests/<area>/main.rs`) includes this module once, as `crate::support`;
//! every module of the binary uses a different subset of it.
#![allow(dead_code)]

pub(crate) mod hooks;

use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, SystemTime};

/// How long a test waits for something that happens on another thread (a callback, a state).
/// Generous: it only matters when the test is about to fail.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A manager without an engine: jobs move only through the driver API.
pub(crate) fn manager() -> Manager {
    Manager::builder().without_engine().build()
}

/// A remote name for file `index` (never fetched: there is no engine).
pub(crate) fn remote(index: usize) -> String {
    format!("https://example.com/files/{index}.bin")
}

/// Deterministic content for file `index`, a few KiB, different for every index.
pub(crate) fn content(index: usize) -> Vec<u8> {
    (0..4096 + 61 * index).map(|i| (i * 7 + index * 13) as u8).collect()
}

/// A temporary directory and a manager without an engine.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) manager: Manager,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        Fixture::with_manager(manager())
    }

    pub(crate) fn with_manager(manager: Manager) -> Fixture {
        Fixture { dir: tempfile::tempdir().expect("temporary directory"), manager }
    }

    /// An absolute path inside the temporary directory.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The local name of file `index`.
    pub(crate) fn local(&self, index: usize) -> PathBuf {
        self.path(&format!("file-{index}.bin"))
    }

    /// A new job without files.
    pub(crate) fn job(&self) -> Job {
        self.manager.create_job("test job", BgJobType::Download).expect("create_job")
    }

    /// A new job with `count` files (remote `remote(i)`, local `local(i)`).
    pub(crate) fn job_with_files(&self, count: usize) -> Job {
        let job = self.job();
        for index in 0..count {
            self.add(&job, index);
        }
        job
    }

    /// Adds file `index` to `job`.
    pub(crate) fn add(&self, job: &Job, index: usize) {
        job.add_file(&remote(index), &self.local(index)).expect("add_file");
    }
}

/// Claims a queued job and reports it connected: the job is `Transferring`.
pub(crate) fn claim_connected(job: &Job) -> JobDriver {
    let driver = job.claim().expect("claim");
    driver.connected().expect("connected");
    driver
}

/// Writes `data` as the whole of file `index` (size announced first) and finishes the file.
pub(crate) fn transfer_file(driver: &JobDriver, index: usize, data: &[u8]) {
    let mut transfer = driver.open_file(index).expect("open_file");
    transfer.set_size(Some(data.len() as u64)).expect("set_size");
    transfer.write(data).expect("write");
    transfer.finish().expect("finish file");
}

/// Transfers every file not transferred yet with `content(index)`.
pub(crate) fn transfer_remaining(driver: &JobDriver) {
    while let Some(file) = driver.next_file() {
        transfer_file(driver, file.index(), &content(file.index()));
    }
}

/// Takes a job with files from `Suspended` (or any resumable state) to `Transferred`.
pub(crate) fn run_to_transferred(job: &Job) {
    job.resume().expect("resume");
    let driver = claim_connected(job);
    transfer_remaining(&driver);
    driver.finish().expect("finish job");
    assert_eq!(job.get_state(), BgJobState::Transferred);
}

/// A recoverable failure with `hresult`.
pub(crate) fn transient(hresult: u32) -> TransferError {
    TransferError::transient(hresult, BgErrorContext::RemoteFile, "test: transient failure")
}

/// A fatal failure with `hresult`.
pub(crate) fn fatal(hresult: u32) -> TransferError {
    TransferError::fatal(hresult, BgErrorContext::RemoteFile, "test: fatal failure")
}

/// A job brought into a state; `driver` holds the claim for `Connecting` and `Transferring`.
pub(crate) struct Staged {
    pub(crate) job: Job,
    pub(crate) driver: Option<JobDriver>,
}

/// The states a job can be brought into, in numeric order.
pub(crate) const STATES: [BgJobState; 9] = BgJobState::ALL;

/// A job of `fx` in `state`. With `work`, the job has a file that is not transferred yet;
/// without, it has no file left to transfer (no files at all for `Suspended`). Each state is
/// reached the way a real job gets there: resume, claim, connected, fail, finish, complete,
/// cancel.
pub(crate) fn staged(fx: &Fixture, state: BgJobState, work: bool) -> Staged {
    use BgJobState::*;
    let job = fx.job();
    let done = |driver: Option<JobDriver>| {
        assert_eq!(job.get_state(), state, "staging {state:?} (work: {work})");
        Staged { job: job.clone(), driver }
    };
    if state == Suspended {
        if work {
            fx.add(&job, 0);
        }
        return done(None);
    }
    fx.add(&job, 0);
    job.resume().expect("resume");
    if state == Queued && work {
        return done(None);
    }
    let driver = claim_connected(&job);
    if !work || matches!(state, Transferred | Acknowledged) {
        transfer_remaining(&driver);
    }
    match state {
        Queued => {
            driver.release().expect("release");
            done(None)
        }
        Connecting => {
            driver.release().expect("release");
            let driver = job.claim().expect("claim again");
            done(Some(driver))
        }
        Transferring => done(Some(driver)),
        TransientError => {
            driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(0)).expect("fail");
            done(None)
        }
        Error => {
            driver.fail(fatal(hresult::BG_E_HTTP_ERROR_404), Some(0)).expect("fail");
            done(None)
        }
        Transferred => {
            driver.finish().expect("finish");
            if work {
                fx.add(&job, 1);
            }
            done(None)
        }
        Acknowledged => {
            driver.finish().expect("finish");
            assert_eq!(job.complete().expect("complete"), BgSuccess::Ok);
            done(None)
        }
        Cancelled => {
            drop(driver);
            job.cancel().expect("cancel");
            done(None)
        }
        Suspended => unreachable!(),
    }
}

/// Waits until the wall clock has moved past `since`, so that a time stamp taken next is later.
/// (Busy-waits on the clock's own resolution; returns at once on any real system clock.)
pub(crate) fn clock_after(since: SystemTime) {
    while SystemTime::now() <= since {
        std::hint::spin_loop();
    }
}

/// The modification time of `job`, after making sure the clock has moved past it.
pub(crate) fn modification_time_settled(job: &Job) -> SystemTime {
    let time = job.get_times().modification_time;
    clock_after(time);
    time
}

/// A callback that reports each call on a channel, by the callback's name.
#[derive(Debug)]
pub(crate) struct Recorder {
    tx: Sender<&'static str>,
}

impl Recorder {
    /// The callback and the channel its calls arrive on.
    pub(crate) fn new() -> (Arc<Recorder>, Receiver<&'static str>) {
        let (tx, rx) = channel();
        (Arc::new(Recorder { tx }), rx)
    }
}

impl BackgroundCopyCallback for Recorder {
    fn job_transferred(&self, _job: &Job) {
        let _ = self.tx.send("job_transferred");
    }
    fn job_error(&self, _job: &Job, _error: &JobError) {
        let _ = self.tx.send("job_error");
    }
    fn job_modification(&self, _job: &Job) {
        let _ = self.tx.send("job_modification");
    }
    fn file_transferred(&self, _job: &Job, _file: &JobFile) {
        let _ = self.tx.send("file_transferred");
    }
}

/// A sink that takes the first `limit` bytes a transport gives it and then fails transiently,
/// like a dropped connection (`BG_E_CONNECTION_CLOSED`): an attempt interrupted part-way. A
/// copy from a local file goes through `write` too (the trait's default `copy_from_file`).
#[derive(Debug)]
pub(crate) struct CutShort<'a> {
    pub(crate) inner: &'a mut FileTransfer,
    pub(crate) limit: u64,
}

impl TransferSink for CutShort<'_> {
    fn offset(&self) -> u64 {
        self.inner.offset()
    }
    fn size(&self) -> Option<u64> {
        self.inner.size()
    }
    fn validator(&self) -> Option<&str> {
        self.inner.validator()
    }
    fn set_validator(&mut self, validator: Option<String>) {
        self.inner.set_validator(validator);
    }
    fn set_size(&mut self, size: Option<u64>) -> Result<(), TransferError> {
        self.inner.set_size(size)
    }
    fn write(&mut self, data: &[u8]) -> Result<(), TransferError> {
        let take = (data.len() as u64).min(self.limit) as usize;
        self.inner.write(&data[..take])?;
        self.limit -= take as u64;
        if take < data.len() {
            return Err(TransferError::transient(
                hresult::BG_E_CONNECTION_CLOSED,
                BgErrorContext::RemoteFile,
                "cut short by the test",
            ));
        }
        Ok(())
    }
    fn restart(&mut self) -> Result<(), TransferError> {
        self.inner.restart()
    }
    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }
}

/// Waits until the wall clock (`SystemTime`, which stamps a job's times) reads later than
/// `time`: what a test needs before a change whose time must be later than an earlier one.
/// Waits for the clock itself, not for a guessed duration.
pub(crate) fn wait_for_wall_clock_past(time: SystemTime) {
    while SystemTime::now() <= time {
        std::thread::yield_now();
    }
}

/// The calling thread's id in the kernel (Linux: `/proc/thread-self/stat`; 0 elsewhere), to
/// watch it from another thread with [`wait_until_blocked`].
pub(crate) fn kernel_thread_id() -> u32 {
    if cfg!(target_os = "linux") {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        stat.split_whitespace().next().unwrap().parse().unwrap()
    } else {
        0
    }
}

/// Waits until thread `tid` of this process (from [`kernel_thread_id`]) is blocked in the
/// kernel (state `S`: a wait on a futex, a condition variable or a poll) and `also` holds:
/// proof that the thread reached the blocking call it was started to make. Where the state of a
/// thread cannot be read (not Linux), waits for `also` only. Fails after [`WAIT`] (a hang,
/// never a speed check).
pub(crate) fn wait_until_blocked(tid: u32, also: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    loop {
        let state = if cfg!(target_os = "linux") {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
            // The state follows the command name, which is in parentheses.
            stat[stat.rfind(')').unwrap() + 2..].chars().next()
        } else {
            Some('S')
        };
        if state == Some('S') && also() {
            return;
        }
        assert!(start.elapsed() < WAIT, "thread {tid} never blocked (state {state:?})");
        std::thread::yield_now();
    }
}
