//! Helpers for the tests of the `bgcopy` command (`tests/cli*.rs`): a temporary working
//! directory with its own store (never the user's), the built binary run to completion or
//! spawned and signalled, and a loopback HTTP server (`tests/http_support`) serving content with
//! Range and ETag, slowly when a test needs time to interrupt a transfer.
#![allow(dead_code, unreachable_pub)]

use crate::http_support::{Reply, Request, Resource, Rng, Server};
use parking_lot::Mutex;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long a test waits for something a child process does. Generous: it only matters when
/// the test is about to fail.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// What a finished run of `bgcopy` gave.
#[derive(Debug)]
pub struct Done {
    /// The exit code (`None`: ended by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Done {
    /// Panics unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Done {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A working directory with a store of its own in `store/`.
pub struct Cli {
    pub dir: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Cli {
        Cli { dir: tempfile::tempdir().expect("temporary directory") }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bgcopy --store <store> ARGS` in the working directory, with no proxy from the
    /// environment and no `BGCOPY_STORE`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bgcopy"));
        command.arg("--store").arg(self.store()).args(args);
        self.clean(&mut command);
        command
    }

    /// `bgcopy ARGS` without `--store`.
    pub fn bare_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bgcopy"));
        command.args(args);
        self.clean(&mut command);
        command
    }

    fn clean(&self, command: &mut Command) {
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        for var in [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
            "BGCOPY_STORE",
        ] {
            command.env_remove(var);
        }
    }

    /// Runs `bgcopy ARGS` to the end.
    pub fn run(&self, args: &[&str]) -> Done {
        finish(self.command(args))
    }

    /// `info ID --json`, which must succeed.
    pub fn info(&self, id: &str) -> Value {
        self.run(&["info", id, "--json"]).expect(0).json()
    }

    /// Starts `bgcopy ARGS` with piped output.
    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::start(self.command(args))
    }

    /// Runs `bgcopy ARGS` to the end with stdout a pipe whose read end is closed before the
    /// command writes: the reader left (as `bgcopy list | head -1` does once `head` has its
    /// line). `Done::stdout` is empty.
    pub fn run_with_closed_stdout(&self, args: &[&str]) -> Done {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut command = self.command(args);
        command.stdout(writer);
        finish(command)
    }

    /// `create NAME`; returns the id.
    pub fn create(&self, name: &str) -> String {
        self.run(&["create", name]).expect(0).stdout.trim().to_owned()
    }
}

/// Runs `command` to the end and collects what it printed.
pub fn finish(mut command: Command) -> Done {
    let output = command.output().expect("run bgcopy");
    Done {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A `bgcopy` process that is still running; killed when dropped.
pub struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread that collects stderr: it ends when the child's stderr closes.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn start(mut command: Command) -> Running {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn bgcopy");
        let (lines, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = BufReader::new(child.stderr.take().expect("stderr"));
        let collected = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let mut all = collected.lock();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Running { child, stdout, stderr, stderr_reader: Some(stderr_reader) }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's stdin (if it was piped).
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// The next stdout line, waiting at most `PATIENCE`.
    pub fn line(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no stdout line in time; stderr so far:\n{}", self.stderr()))
    }

    /// Stdout lines until one satisfies `wanted` (which is returned).
    pub fn line_where(&self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self.line();
            if wanted(&line) {
                return line;
            }
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().clone()
    }

    /// Waits until stderr contains `text`.
    pub fn wait_stderr(&self, text: &str) {
        wait_until(&format!("{text:?} on stderr"), || self.stderr().contains(text));
    }

    /// Sends SIGINT (what Ctrl-C sends), with the `kill` command.
    pub fn interrupt(&self) {
        signal(self.pid(), "-INT");
    }

    /// Sends `signal` (`-TERM`, `-HUP`), with the `kill` command.
    pub fn signal(&self, signal_name: &str) {
        signal(self.pid(), signal_name);
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
    }

    /// Waits for the exit, at most `PATIENCE`; returns the exit code (`None`: a signal).
    pub fn wait(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The last lines: stderr closed with the process, so its reader ends.
                if let Some(reader) = self.stderr_reader.take() {
                    let _ = reader.join();
                }
                return status.code();
            }
            assert!(Instant::now() < deadline, "bgcopy did not exit; stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `signal` (`-INT`, `-TERM`, `-HUP`, `-KILL`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").arg(signal).arg(pid.to_string()).status().expect("kill");
    assert!(status.success(), "kill {signal} {pid}");
}

/// Polls `condition` every 50 ms until it holds, at most `PATIENCE`.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deterministic content of `len` bytes.
pub fn content(len: usize, seed: u64) -> Vec<u8> {
    Rng::new(seed).bytes(len)
}

/// A server of `content` at `/file` (Range, If-Range with an ETag), in pieces of `piece` bytes
/// with `pause` after each when `pace` is set (so that a transfer takes a while), 404 elsewhere.
pub fn server(content: Vec<u8>, pace: Option<(usize, Duration)>) -> Server {
    let resource = Resource::new(content, "v1");
    Server::start(move |request: &Request| {
        if request.target != "/file" {
            return Reply::new(404);
        }
        let reply = resource.respond(request);
        match pace {
            Some((piece, pause)) => reply.pace(piece, pause),
            None => reply,
        }
    })
}

/// The bytes at `path`.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Whether the server was asked for a range from a non-zero offset.
pub fn saw_resumed_range(server: &Server) -> bool {
    server.requests().iter().any(|r| r.method == "GET" && r.range_start().is_some_and(|s| s > 0))
}

/// Whether `id` looks like a job id as bgcopy prints it: a GUID in braces, upper case.
pub fn is_job_id(id: &str) -> bool {
    id.len() == 38
        && id.starts_with('{')
        && id.ends_with('}')
        && id[1..37].chars().all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
}
