//! Several processes on one store (DESIGN 5.4): while a `serve` or a `transfer` holds it,
//! `list`, `info` and `monitor` answer from the holder's published view (exit 0), and verbs that
//! change jobs exit with 4, naming the holder's process id. A view left by a holder that died is
//! never used: the lock went with it, so the store opens directly. Also `serve` itself, and
//! `monitor`'s plain lines.
#![cfg(unix)]

use crate::cli_support;

use cli_support::{Cli, Running, content, read, server, wait_until};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

/// 8 KiB every 10 ms: about 800 KiB/s.
const PACE: Option<(usize, Duration)> = Some((8 * 1024, Duration::from_millis(10)));

/// Starts `serve` and waits until it holds the store and published its view.
fn serve(cli: &Cli) -> Running {
    let serve = cli.spawn(&["serve"]);
    serve.wait_stderr("serving store");
    wait_until("the snapshot", || cli.store().join("snapshot.json").exists());
    serve
}

#[test]
fn while_serve_holds_the_store_readers_answer_and_changes_exit_4_naming_it() {
    let cli = Cli::new();
    let data = content(300_000, 21);
    let server = server(data.clone(), PACE);
    let id = cli.create("served");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    cli.run(&["resume", &id]).expect(0);
    let mut serve = serve(&cli);
    let pid = serve.pid().to_string();

    // serve transfers the queued job; list and info follow it through its view.
    wait_until("the job transferred, in serve's view", || {
        let list = cli.run(&["list", "--json"]).expect(0);
        assert!(list.stderr.contains(&format!("held by process {pid}")), "{}", list.stderr);
        list.json()[0]["state"] == "Transferred"
    });
    let info = cli.run(&["info", &id, "--json"]).expect(0);
    assert!(info.stderr.contains(&pid), "{}", info.stderr);
    assert_eq!(info.json()["bytes_transferred"], 300_000);
    assert_eq!(info.json()["files"][0]["bytes_total"], 300_000);
    let text = cli.run(&["list"]).expect(0);
    assert!(text.stdout.contains(&id), "{}", text.stdout);
    // An unknown job in the view is still exit 3.
    cli.run(&["info", "{00000000-0000-4000-8000-000000000001}"]).expect(3);

    for args in [
        vec!["create", "x"],
        vec!["complete", &id],
        vec!["cancel", &id],
        vec!["resume", &id, "--wait"],
    ] {
        let done = cli.run(&args).expect(4);
        assert!(done.stderr.contains(&format!("process {pid}")), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains("0x80070020"), "{}", done.stderr);
    }
    let transfer = cli.run(&["transfer", &server.url("/file"), "other.bin"]).expect(4);
    assert!(transfer.stderr.contains(&pid), "{}", transfer.stderr);

    serve.interrupt();
    assert_eq!(serve.wait(), Some(130), "{}", serve.stderr());
    assert!(!cli.store().join("snapshot.json").exists(), "removed at a clean exit");
    // Not held any more: changes go through, and the transferred job completes.
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
}

#[test]
fn while_a_transfer_holds_the_store_list_shows_its_view() {
    let cli = Cli::new();
    // Long enough (about 20 s) to be still running when the test is done with it.
    let server = server(content(16 << 20, 22), PACE);
    let mut transfer = cli.spawn(&["transfer", &server.url("/file"), "out.bin"]);
    let id = transfer.line();
    let pid = transfer.pid().to_string();
    wait_until("the job moving in the view", || {
        let list = cli.run(&["list", "--json"]).expect(0);
        assert!(list.stderr.contains(&pid), "{}", list.stderr);
        // The view is at most a quarter second old: the job may not be in the first one.
        let job = &list.json()[0];
        job["id"] == id.as_str() && job["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    let done = cli.run(&["suspend", &id]).expect(4);
    assert!(done.stderr.contains(&pid), "{}", done.stderr);
    transfer.interrupt();
    assert_eq!(transfer.wait(), Some(130));
}

#[test]
fn a_view_left_by_a_killed_holder_is_ignored() {
    let cli = Cli::new();
    let id = cli.create("real");
    let mut serve = serve(&cli);
    let pid = serve.pid();
    serve.kill();
    assert_eq!(serve.wait(), None);
    // What the dead holder left, and a fake job in it: neither is shown.
    let snapshot = cli.store().join("snapshot.json");
    let mut view: Value = serde_json::from_slice(&read(&snapshot)).unwrap();
    assert_eq!(view["pid"], pid);
    view["jobs"][0]["display_name"] = "fake".into();
    std::fs::write(&snapshot, view.to_string()).unwrap();

    let list = cli.run(&["list", "--json"]).expect(0);
    assert!(!list.stderr.contains("held by"), "{}", list.stderr);
    assert_eq!(list.json()[0]["display_name"], "real");
    assert_eq!(list.json()[0]["id"], id.as_str());
    // And the store is free to change.
    cli.run(&["suspend", &id]).expect(0);
}

#[test]
fn serve_exits_130_after_a_durable_shutdown_and_the_next_serve_continues() {
    let cli = Cli::new();
    let data = content(3 << 20, 23);
    let server = server(data.clone(), PACE);
    let id = cli.create("long");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    cli.run(&["resume", &id]).expect(0);
    let mut first = serve(&cli);
    wait_until("bytes in the job", || {
        cli.info(&id)["bytes_transferred"].as_u64().is_some_and(|b| b > 0)
    });
    first.interrupt();
    assert_eq!(first.wait(), Some(130), "{}", first.stderr());
    let info = cli.info(&id);
    assert_eq!(info["state"], "Queued", "still queued for the next serve: {info}");
    assert!(info["bytes_transferred"].as_u64().unwrap() > 0, "checkpointed: {info}");

    let mut second = serve(&cli);
    wait_until("the job transferred", || cli.info(&id)["state"] == "Transferred");
    second.interrupt();
    assert_eq!(second.wait(), Some(130));
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(cli_support::saw_resumed_range(&server));
}

#[test]
fn monitor_prints_plain_lines_and_ends_when_stdin_closes() {
    let cli = Cli::new();
    let id = cli.create("watched");
    let mut command = cli.command(&["monitor"]);
    command.stdin(Stdio::piped());
    let mut monitor = Running::start(command);
    assert_eq!(monitor.line(), "view=store jobs=1");
    let line = monitor.line();
    assert!(line.starts_with(&format!("job={id} state=Suspended bytes=0/0 files=0/0 ")), "{line}");
    assert!(line.contains("rate=0 eta=") && line.ends_with("name=\"watched\""), "{line}");
    monitor.close_stdin();
    assert_eq!(monitor.wait(), Some(0), "{}", monitor.stderr());
}

#[test]
fn monitor_shows_a_transfer_with_its_rate_and_ends_on_ctrl_c() {
    let cli = Cli::new();
    // Long enough (about 20 s) to be still running when the test is done with it.
    let server = server(content(16 << 20, 24), PACE);
    let mut transfer = cli.spawn(&["transfer", &server.url("/file"), "out.bin"]);
    let id = transfer.line();
    // Stdin stays open (a pipe): a monitor whose stdin is at its end stops after one view.
    let mut command = cli.command(&["monitor"]);
    command.stdin(Stdio::piped());
    let mut monitor = Running::start(command);
    let pid = transfer.pid();
    monitor.line_where(|line| line.starts_with(&format!("view=holder pid={pid} ")));
    // A line of the transfer with a rate measured from the holder's views.
    let moving = monitor.line_where(|line| {
        line.starts_with(&format!("job={id} state=Transferring")) && !line.contains(" rate=0 ")
    });
    assert!(moving.contains(" eta="), "{moving}");
    monitor.interrupt();
    assert_eq!(monitor.wait(), Some(130));
    transfer.interrupt();
    assert_eq!(transfer.wait(), Some(130));
}

#[test]
fn monitor_ends_when_its_stdout_closes() {
    let cli = Cli::new();
    cli.create("watched");
    let mut command = cli.command(&["monitor"]);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = command.spawn().expect("spawn monitor");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("view=store"), "{first}");
    drop(stdout); // the next view cannot be written
    wait_until("monitor to exit", || child.try_wait().unwrap().is_some());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// When the holder wrote `snapshot.json` (`written_at_ms`), if it is there and whole.
fn written_at(cli: &Cli) -> Option<u64> {
    let text = std::fs::read(cli.store().join("snapshot.json")).ok()?;
    serde_json::from_slice::<Value>(&text).ok()?["written_at_ms"].as_u64()
}

#[test]
fn a_symlink_planted_at_the_snapshots_temporary_name_is_never_written_through() {
    let cli = Cli::new();
    cli.create("a job to publish");
    let victim = cli.path("victim");
    std::fs::write(&victim, b"not yours").unwrap();
    let mut serve = serve(&cli);
    // The name the holder writes its view to before renaming it: snapshot.json.<pid>.tmp. The
    // link can be made only while no write is under way (the name is free between writes).
    let link = cli.store().join(format!("snapshot.json.{}.tmp", serve.pid()));
    wait_until("the link planted", || std::os::unix::fs::symlink(&victim, &link).is_ok());
    let planted = written_at(&cli);
    // The holder rewrites its view at least once a second: wait for a write after the link.
    wait_until("a view written after the link", || written_at(&cli) > planted);
    // Published all the same, as a file of its own, private to the user.
    let view = std::fs::symlink_metadata(cli.store().join("snapshot.json")).unwrap();
    assert!(view.file_type().is_file());
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&view.permissions()) & 0o777, 0o600);
    serve.interrupt();
    assert_eq!(serve.wait(), Some(130), "{}", serve.stderr());
    let kept = String::from_utf8_lossy(&read(&victim)).into_owned();
    assert_eq!(kept, "not yours", "written through the planted link");
    assert!(serve.stderr().contains("left alone"), "{}", serve.stderr());
    let meta = std::fs::symlink_metadata(&link).expect("the link is left alone");
    assert!(meta.file_type().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), victim);
}
