//! Interrupting `bgcopy transfer` (DESIGN 5.4, 6.1): Ctrl-C (SIGINT) suspends the job durably,
//! checkpoints its bytes and exits with 130; SIGTERM and SIGHUP do the same and exit with 128
//! plus the signal's number (143, 129), for `transfer`, `resume --wait`, `serve` and `monitor`;
//! SIGKILL leaves it to the store's crash recovery.
//! Either way the same `transfer` again (or `resume ID --wait` and `complete ID`) finishes it
//! byte-identical, continuing with a `Range` request from where the bytes on disk end. The
//! loopback server sends slowly (8 KiB every 10 ms) so that a transfer takes a few seconds.
#![cfg(unix)]

use crate::cli_support;

use cli_support::{Cli, Running, content, read, saw_resumed_range, server, wait_until};
use serde_json::Value;
use std::process::Stdio;
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
        // A commit to the store after bytes are in the job: a checkpoint (a record of the bytes
        // on disk), unless it recorded something else, which the next try makes up for.
        let store = cli.store().join("bgcopy.redb");
        let before = std::fs::read(&store).expect("the store's file");
        wait_until("a commit to the store", || {
            std::fs::read(&store).is_ok_and(|now| now != before)
        });
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

#[test]
fn sigterm_suspends_the_transfer_exits_143_and_the_same_transfer_continues_it() {
    let cli = Cli::new();
    let data = content(3 << 20, 15);
    let server = server(data.clone(), PACE);
    let url = server.url("/file");
    let (mut transfer, id) = started(&cli, &url);
    transfer.signal("-TERM");
    assert_eq!(transfer.wait(), Some(143), "128 + SIGTERM; stderr:\n{}", transfer.stderr());
    assert!(transfer.stderr().contains("terminated"), "{}", transfer.stderr());

    // Recorded before the process exited: suspended, with the bytes on disk checkpointed.
    let info = cli.info(&id);
    assert_eq!(info["state"], "Suspended", "{info}");
    let kept = info["bytes_transferred"].as_u64().unwrap();
    assert!(kept > 0 && kept < data.len() as u64, "{info}");

    let again = cli.run(&["transfer", &url, "out.bin"]).expect(0);
    assert_eq!(again.stdout.trim(), id, "the same job, not a second one");
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(saw_resumed_range(&server), "continued with a Range request: {:?}", server.requests());
}

#[test]
fn sighup_of_resume_wait_suspends_the_job_and_exits_129() {
    let cli = Cli::new();
    let data = content(3 << 20, 16);
    let server = server(data.clone(), PACE);
    let id = cli.create("hung up");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    let mut waiting = cli.spawn(&["resume", &id, "--wait"]);
    wait_until("bytes in the transfer", || {
        let done = cli.run(&["info", &id, "--json"]);
        done.code == Some(0) && done.json()["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    waiting.signal("-HUP");
    assert_eq!(waiting.wait(), Some(129), "128 + SIGHUP; stderr:\n{}", waiting.stderr());
    let info = cli.info(&id);
    assert_eq!(info["state"], "Suspended", "{info}");
    assert!(info["bytes_transferred"].as_u64().unwrap() > 0, "{info}");
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(saw_resumed_range(&server), "{:?}", server.requests());
}

#[test]
fn serve_exits_143_on_sigterm_after_a_durable_shutdown() {
    let cli = Cli::new();
    let data = content(3 << 20, 17);
    let server = server(data.clone(), PACE);
    let id = cli.create("served");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    cli.run(&["resume", &id]).expect(0);
    let mut serve = cli.spawn(&["serve"]);
    serve.wait_stderr("serving store");
    wait_until("bytes in the job", || {
        let done = cli.run(&["info", &id, "--json"]);
        done.code == Some(0) && done.json()["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    serve.signal("-TERM");
    assert_eq!(serve.wait(), Some(143), "{}", serve.stderr());
    // Shut down durably: still queued for the next serve, with the bytes checkpointed.
    let info = cli.info(&id);
    assert_eq!(info["state"], "Queued", "{info}");
    assert!(info["bytes_transferred"].as_u64().unwrap() > 0, "checkpointed: {info}");
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
}

#[test]
fn monitor_exits_with_128_plus_the_signal() {
    let cli = Cli::new();
    cli.create("watched");
    for (signal, code) in [("-TERM", 143), ("-HUP", 129), ("-INT", 130)] {
        // Stdin stays open (a pipe): a monitor whose stdin is at its end stops after one view.
        let mut command = cli.command(&["monitor"]);
        command.stdin(Stdio::piped());
        let mut monitor = Running::start(command);
        assert_eq!(monitor.line(), "view=store jobs=1");
        monitor.signal(signal);
        assert_eq!(monitor.wait(), Some(code), "{signal}: {}", monitor.stderr());
    }
}

#[test]
fn sigterm_stops_durably_even_when_stderr_cannot_be_written() {
    // A terminal that hung up, or a pipe whose reader left: every message on stderr fails.
    let cli = Cli::new();
    let data = content(3 << 20, 18);
    let server = server(data.clone(), PACE);
    let url = server.url("/file");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut command = cli.command(&["transfer", &url, "out.bin"]);
    command.stdout(Stdio::piped()).stderr(writer);
    let mut child = command.spawn().expect("spawn bgcopy");
    let mut id = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut id).unwrap();
    let id = id.trim().to_owned();
    wait_until("bytes in the transfer", || {
        let done = cli.run(&["info", &id, "--json"]);
        done.code == Some(0) && done.json()["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    cli_support::signal(child.id(), "-TERM");
    wait_until("bgcopy to exit", || child.try_wait().unwrap().is_some());
    assert_eq!(child.wait().unwrap().code(), Some(143));
    let info = cli.info(&id);
    assert_eq!(info["state"], "Suspended", "{info}");
    assert!(info["bytes_transferred"].as_u64().unwrap() > 0, "{info}");
}
