//! Interrupting `bgcopy transfer` (DESIGN 5.4): Ctrl-C (SIGINT) suspends the job durably,
//! checkpoints its bytes and exits with 130; SIGKILL leaves it to the store's crash recovery.
//! Either way the same `transfer` again (or `resume ID --wait` and `complete ID`) finishes it
//! byte-identical, continuing with a `Range` request from where the bytes on disk end. The
//! loopback server sends slowly (8 KiB every 10 ms) so that a transfer takes a few seconds.
#![cfg(unix)]

mod cli_support;
mod http_support;

use cli_support::{content, read, saw_resumed_range, server, wait_until, Cli, Running};
use serde_json::Value;
use std::time::Duration;

/// 8 KiB every 10 ms: about 800 KiB/s.
const PACE: Option<(usize, Duration)> = Some((8 * 1024, Duration::from_millis(10)));

/// Starts `transfer URL out.bin`, returns it and the job id it printed, once some bytes are in
/// the job (as the holder's published view shows them).
fn started(cli: &Cli, url: &str) -> (Running, String) {
    let transfer = cli.spawn(&["transfer", url, "out.bin"]);
    let id = transfer.line();
    wait_until("bytes in the transfer", || {
        let done = cli.run(&["info", &id, "--json"]);
        done.code == Some(0) && done.json()["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    (transfer, id)
}

#[test]
fn ctrl_c_suspends_the_transfer_and_the_same_transfer_continues_it() {
    let cli = Cli::new();
    let data = content(3 << 20, 11);
    let server = server(data.clone(), PACE);
    let url = server.url("/file");
    let (mut transfer, id) = started(&cli, &url);
    transfer.interrupt();
    assert_eq!(transfer.wait(), Some(130), "stderr:\n{}", transfer.stderr());
    assert!(transfer.stderr().contains("interrupted"), "{}", transfer.stderr());

    // Recorded before the process exited: suspended, with the bytes on disk checkpointed.
    let info = cli.info(&id);
    assert_eq!(info["state"], "Suspended", "{info}");
    let kept = info["bytes_transferred"].as_u64().unwrap();
    assert!(kept > 0 && kept < data.len() as u64, "{info}");
    assert!(!saw_resumed_range(&server));

    let again = cli.run(&["transfer", &url, "out.bin"]).expect(0);
    assert_eq!(again.stdout.trim(), id, "the same job, not a second one");
    assert!(again.stderr.contains("continuing job"), "{}", again.stderr);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(saw_resumed_range(&server), "continued with a Range request: {:?}", server.requests());
    assert_eq!(cli.run(&["list", "--json"]).expect(0).json(), Value::Array(vec![]));
}

#[test]
fn sigkill_leaves_the_job_to_recovery_and_the_same_transfer_continues_it() {
    let cli = Cli::new();
    let data = content(4 << 20, 12);
    let server = server(data.clone(), PACE);
    let url = server.url("/file");
    let mut job = None;
    // A kill keeps the bytes of the last checkpoint (one a second). A kill before the first one
    // keeps none, and the next try starts from zero: try again until one kept some.
    for _ in 0..5 {
        let (mut transfer, id) = started(&cli, &url);
        assert!(job.as_ref().is_none_or(|job| job == &id), "the same job every time");
        std::thread::sleep(Duration::from_millis(1500));
        transfer.kill();
        assert_eq!(transfer.wait(), None, "killed by the signal");
        // The lock went with the process: the store opens; the view it left is not used.
        let info = cli.info(&id);
        assert_eq!(info["state"], "Queued", "Transferring comes back Queued: {info}");
        job = Some(id);
        if info["bytes_transferred"].as_u64().unwrap() > 0 {
            break;
        }
    }
    let id = job.unwrap();
    assert!(cli.info(&id)["bytes_transferred"].as_u64().unwrap() > 0, "no checkpoint in 5 tries");

    let again = cli.run(&["transfer", &url, "out.bin"]).expect(0);
    assert_eq!(again.stdout.trim(), id);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(saw_resumed_range(&server), "{:?}", server.requests());
}

#[test]
fn ctrl_c_then_resume_wait_and_complete_finish_the_job() {
    let cli = Cli::new();
    let data = content(3 << 20, 13);
    let server = server(data.clone(), PACE);
    let (mut transfer, id) = started(&cli, &server.url("/file"));
    transfer.interrupt();
    assert_eq!(transfer.wait(), Some(130), "stderr:\n{}", transfer.stderr());
    assert_eq!(cli.info(&id)["state"], "Suspended");

    cli.run(&["resume", &id, "--wait"]).expect(0);
    assert_eq!(cli.info(&id)["state"], "Transferred");
    assert!(!cli.path("out.bin").exists());
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(saw_resumed_range(&server), "{:?}", server.requests());
}

#[test]
fn ctrl_c_of_resume_wait_suspends_the_job_too() {
    let cli = Cli::new();
    let data = content(3 << 20, 14);
    let server = server(data.clone(), PACE);
    let id = cli.create("interrupted wait");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    let mut waiting = cli.spawn(&["resume", &id, "--wait"]);
    wait_until("bytes in the transfer", || {
        let done = cli.run(&["info", &id, "--json"]);
        done.code == Some(0) && done.json()["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    waiting.interrupt();
    assert_eq!(waiting.wait(), Some(130), "stderr:\n{}", waiting.stderr());
    assert_eq!(cli.info(&id)["state"], "Suspended");
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
}
