//! Where the bytes come from, on the command line (DESIGN 6.2, issue 17 item 5): `--header`,
//! `--mirror`, the global `--cache-host`, and the verbs `setremotename`, `replaceremoteprefix`,
//! `setnotifycmdline` (run by `bgcopy serve`) and `getresponseheaders`, with the real binary
//! against loopback servers.

use crate::cli_support;
use crate::http_support::{Reply, Request, Resource, Server};

use cli_support::{Cli, Running, content, read, server, wait_until};

/// A server that answers 404 to everything.
fn gone() -> Server {
    Server::start(|_: &Request| Reply::new(404))
}

/// `serve` in the background, once it publishes its view.
fn serve(cli: &Cli) -> Running {
    let serve = cli.spawn(&["serve"]);
    serve.wait_stderr("serving store");
    wait_until("the snapshot", || cli.store().join("snapshot.json").exists());
    serve
}

#[test]
fn transfer_sends_each_header_to_the_files_server() {
    let cli = Cli::new();
    let data = content(50_000, 31);
    let server = server(data.clone(), None);
    let url = server.url("/file");
    let args = ["transfer", &url, "out.bin", "--header", "X-Token: s3cret", "--header", "X-Two:2"];
    cli.run(&args).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.header("x-token"), Some("s3cret"), "{request:?}");
        assert_eq!(request.header("x-two"), Some("2"), "{request:?}");
    }
}

#[test]
fn a_header_without_a_colon_is_a_usage_error() {
    let cli = Cli::new();
    let done = cli.run(&["transfer", "http://127.0.0.1:9/x", "out.bin", "--header", "NoColon"]);
    let done = done.expect(2);
    assert!(done.stderr.contains("Name: value"), "{}", done.stderr);
}

#[test]
fn transfer_falls_back_to_a_mirror_and_keeps_the_url_it_was_given() {
    let cli = Cli::new();
    let data = content(40_000, 32);
    let (origin, mirror) = (gone(), server(data.clone(), None));
    let url = origin.url("/file");
    let done = cli.run(&["transfer", &url, "out.bin", "--mirror", &mirror.url("/file")]);
    done.expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(!origin.requests().is_empty(), "the origin was asked first");
    assert!(!mirror.requests().is_empty(), "the mirror served");
}

#[test]
fn a_mirror_with_several_files_is_a_usage_error() {
    let cli = Cli::new();
    let done = cli.run(&[
        "transfer",
        "http://127.0.0.1:9/a",
        "a.bin",
        "http://127.0.0.1:9/b",
        "b.bin",
        "--mirror",
        "http://127.0.0.1:9/m",
    ]);
    assert!(done.expect(2).stderr.contains("--mirror"));
}

#[test]
fn addfile_takes_headers_and_mirrors_for_the_file_it_adds() {
    let cli = Cli::new();
    let data = content(30_000, 33);
    let (origin, mirror) = (gone(), server(data.clone(), None));
    let id = cli.create("mirrored");
    let url = origin.url("/file");
    let mirror_url = mirror.url("/file");
    let args = ["addfile", &id, &url, "out.bin", "--mirror", &mirror_url, "--header", "X-A: b"];
    cli.run(&args).expect(0);
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(origin.requests().iter().all(|r| r.header("x-a") == Some("b")));
    // Secrets go only to the file's own server, never to a mirror.
    assert!(mirror.requests().iter().all(|r| r.header("x-a").is_none()));
}

#[test]
fn cache_host_sends_http_requests_to_the_cache_with_the_origin_named() {
    let cli = Cli::new();
    let data = content(60_000, 34);
    let origin = server(data.clone(), None);
    let resource = Resource::new(data.clone(), "v1");
    let cache = Server::start(move |request: &Request| {
        if request.target.starts_with("/file?") {
            resource.respond(request)
        } else {
            Reply::new(404)
        }
    });
    let host = format!("127.0.0.1:{}", cache.port());
    cli.run(&["--cache-host", &host, "transfer", &origin.url("/file"), "out.bin"]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(origin.requests().is_empty(), "every byte came from the cache");
    let asked = format!("/file?cacheHostOrigin=127.0.0.1:{}", origin.port());
    assert!(cache.requests().iter().all(|r| r.target == asked), "{:?}", cache.requests());
}

#[test]
fn a_cache_host_that_is_not_host_port_is_refused_with_e_invalidarg() {
    let cli = Cli::new();
    let done = cli.run(&["--cache-host", "http://cache/", "list"]).expect(1);
    assert!(done.stderr.contains("0x80070057"), "{}", done.stderr);
}

#[test]
fn setremotename_gives_a_file_a_new_url_by_index_or_local_name() {
    let cli = Cli::new();
    let data = content(20_000, 35);
    let (old, new) = (gone(), server(data.clone(), None));
    let id = cli.create("renamed");
    cli.run(&["addfile", &id, &old.url("/file"), "out.bin"]).expect(0);
    cli.run(&["setremotename", &id, "0", &new.url("/file")]).expect(0);
    assert_eq!(cli.info(&id)["files"][0]["remote"], new.url("/file"));
    cli.run(&["setremotename", &id, "out.bin", &new.url("/file?again")]).expect(0);
    assert_eq!(cli.info(&id)["files"][0]["remote"], new.url("/file?again"));
    cli.run(&["setremotename", &id, "out.bin", &new.url("/file")]).expect(0);
    // No such file: usage (2); a bad URL: refused with E_INVALIDARG (1).
    cli.run(&["setremotename", &id, "7", &new.url("/file")]).expect(2);
    let bad = cli.run(&["setremotename", &id, "0", "not a url"]).expect(1);
    assert!(bad.stderr.contains("0x80070057"), "{}", bad.stderr);
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(old.requests().is_empty());
}

#[test]
fn replaceremoteprefix_moves_the_files_and_says_when_nothing_matched() {
    let cli = Cli::new();
    let data = content(10_000, 36);
    let server = server(data.clone(), None);
    let id = cli.create("moved");
    cli.run(&["addfile", &id, "http://stage.invalid/file", "out.bin"]).expect(0);
    let none = cli.run(&["replaceremoteprefix", &id, "http://other", "http://x"]).expect(0);
    assert!(none.stderr.contains("0x00000001"), "S_FALSE: {}", none.stderr);
    let prod = server.url("");
    cli.run(&["replaceremoteprefix", &id, "http://stage.invalid", &prod]).expect(0);
    assert_eq!(cli.info(&id)["files"][0]["remote"], server.url("/file"));
    cli.run(&["replaceremoteprefix", &id, "", &prod]).expect(1);
    cli.run(&["resume", &id, "--wait"]).expect(0);
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
}

#[cfg(unix)]
#[test]
fn serve_runs_the_program_setnotifycmdline_gave_the_job() {
    use std::io::Read as _;
    let cli = Cli::new();
    let data = content(10_000, 37);
    let server = server(data, None);
    let fifo = cli.path("runs.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let id = cli.create("notified");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    let script = format!("echo \\\"$0\\\" > '{}'", fifo.display());
    let parameters = format!("sh -c \"{script}\" transferred");
    cli.run(&["setnotifycmdline", &id, "/bin/sh", &parameters]).expect(0);
    cli.run(&["resume", &id]).expect(0);
    let mut serve = serve(&cli);
    // Opening the pipe waits for the program to open it for writing.
    let mut text = String::new();
    std::fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
    serve.interrupt();
    serve.wait();
    assert_eq!(text, "transferred\n");
}

#[test]
fn setnotifycmdline_takes_null_as_bitsadmin_and_refuses_parameters_alone() {
    let cli = Cli::new();
    let id = cli.create("null");
    cli.run(&["setnotifycmdline", &id, "/bin/true", "NULL"]).expect(0);
    cli.run(&["setnotifycmdline", &id, "NULL", "NULL"]).expect(0);
    cli.run(&["setnotifycmdline", &id, "NULL"]).expect(0);
    let refused = cli.run(&["setnotifycmdline", &id, "NULL", "true", "x"]).expect(1);
    assert!(refused.stderr.contains("0x80070057"), "{}", refused.stderr);
}

#[test]
fn getresponseheaders_shows_the_last_response_of_the_process_that_holds_the_store() {
    let cli = Cli::new();
    let data = content(10_000, 38);
    let server = server(data, None);
    let id = cli.create("headers");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    // Nothing fetched yet (and nothing is stored): not set.
    let none = cli.run(&["getresponseheaders", &id]).expect(0);
    assert!(none.stdout.contains("# not set (0x80070490"), "{}", none.stdout);
    cli.run(&["resume", &id]).expect(0);
    let mut serve = serve(&cli);
    wait_until("the job transferred, in serve's view", || cli.info(&id)["state"] == "Transferred");
    wait_until("the headers in serve's view", || {
        let shown = cli.run(&["getresponseheaders", &id, "0"]).expect(0).stdout;
        shown.to_ascii_lowercase().contains("etag: \"v1\"\r\n")
    });
    let json = cli.info(&id);
    assert!(json["files"][0]["response_headers"].as_str().is_some(), "{json}");
    serve.interrupt();
    serve.wait();
}
