//! The `bgcopy` command (issue 11, DESIGN 5.4): every verb, every exit code but 4 and 130
//! (`cli_holder.rs`, `cli_interrupt.rs`), the JSON schema of `list` and `info`, against a store in
//! a temporary directory and a loopback HTTP server.

use crate::cli_support;

use bgcopy::hresult;
use cli_support::{Cli, content, is_job_id, read, server};
use serde_json::Value;

/// A GUID no store has.
const NO_SUCH_JOB: &str = "{00000000-0000-4000-8000-000000000001}";

#[test]
fn transfer_prints_only_the_job_id_and_leaves_the_file_complete() {
    let cli = Cli::new();
    let data = content(200_000, 1);
    let server = server(data.clone(), None);
    let done = cli.run(&["transfer", &server.url("/file"), "out.bin"]).expect(0);
    assert!(is_job_id(done.stdout.trim()), "stdout: {:?}", done.stdout);
    assert_eq!(done.stdout.lines().count(), 1, "only the id on stdout: {:?}", done.stdout);
    assert_eq!(read(&cli.path("out.bin")), data);
    assert!(done.stderr.contains("state=Transferred"), "{}", done.stderr);
    // Completed: the job is final and no longer listed.
    assert_eq!(cli.run(&["list", "--json"]).expect(0).json(), Value::Array(vec![]));
    cli.run(&["info", done.stdout.trim()]).expect(3);
}

#[test]
fn transfer_takes_several_pairs_and_a_name() {
    let cli = Cli::new();
    let (a, b) = (content(10_000, 2), content(30_000, 3));
    let (server_a, server_b) = (server(a.clone(), None), server(b.clone(), None));
    let (url_a, url_b) = (server_a.url("/file"), server_b.url("/file"));
    let done = cli.run(&["transfer", &url_a, "a.bin", &url_b, "./b.bin", "--name", "two"]);
    done.expect(0);
    assert_eq!(read(&cli.path("a.bin")), a);
    assert_eq!(read(&cli.path("b.bin")), b);
}

#[test]
fn create_prints_the_new_id_alone_and_the_job_waits_suspended() {
    let cli = Cli::new();
    let done = cli.run(&["create", "nightly"]).expect(0);
    let id = done.stdout.trim();
    assert!(is_job_id(id) && done.stdout == format!("{id}\n"), "{:?}", done.stdout);
    let list = cli.run(&["list", "--json"]).expect(0).json();
    let expected = serde_json::json!([{
        "id": id,
        "display_name": "nightly",
        "state": "Suspended",
        "bytes_total": 0,
        "bytes_transferred": 0,
        "files_total": 0,
        "files_transferred": 0,
    }]);
    assert_eq!(list, expected);
}

#[test]
fn addfile_makes_a_relative_destination_absolute() {
    let cli = Cli::new();
    let id = cli.create("with a file");
    // The destination's directory must exist (add_file checks it, and on Unix `downloads/..`
    // is only a path once `downloads` exists).
    std::fs::create_dir(cli.dir.path().join("downloads")).unwrap();
    cli.run(&["addfile", &id, "https://example.com/a.bin", "downloads/../a.bin"]).expect(0);
    let info = cli.info(&id);
    let file = &info["files"][0];
    assert_eq!(file["remote"], "https://example.com/a.bin");
    let local = std::path::PathBuf::from(file["local"].as_str().unwrap());
    assert!(local.is_absolute(), "{local:?}");
    assert!(local.starts_with(cli.dir.path()), "{local:?}");
    assert_eq!(file["bytes_total"], Value::Null, "unknown until the transfer starts");
    assert_eq!(file["bytes_transferred"], 0);
    assert_eq!(file["completed"], false);
    assert_eq!(info["bytes_total"], Value::Null);
    assert_eq!(info["files_total"], 1);
    assert_eq!(info["error"], Value::Null);
}

#[test]
fn resume_wait_transfers_and_complete_puts_the_file_in_place() {
    let cli = Cli::new();
    let data = content(150_000, 4);
    let server = server(data.clone(), None);
    let id = cli.create("waited for");
    cli.run(&["addfile", &id, &server.url("/file"), "out.bin"]).expect(0);
    let done = cli.run(&["resume", &id, "--wait"]).expect(0);
    assert_eq!(done.stdout, "", "resume --wait prints no data");
    let info = cli.info(&id);
    assert_eq!(info["state"], "Transferred");
    assert_eq!(info["bytes_total"], 150_000);
    assert_eq!(info["bytes_transferred"], 150_000);
    assert_eq!(info["files_transferred"], 1);
    assert!(!cli.path("out.bin").exists(), "visible only after complete");
    cli.run(&["complete", &id]).expect(0);
    assert_eq!(read(&cli.path("out.bin")), data);
    cli.run(&["info", &id, "--json"]).expect(3);
}

#[test]
fn the_same_transfer_completes_a_job_already_transferred_without_fetching_it_again() {
    let cli = Cli::new();
    let data = content(50_000, 6);
    let server = server(data.clone(), None);
    let url = server.url("/file");
    let id = cli.create("transferred first");
    cli.run(&["addfile", &id, &url, "out.bin"]).expect(0);
    cli.run(&["resume", &id, "--wait"]).expect(0);
    let requests = server.requests().len();
    let done = cli.run(&["transfer", &url, "out.bin"]).expect(0);
    assert_eq!(done.stdout.trim(), id);
    assert_eq!(server.requests().len(), requests, "nothing fetched again");
    assert_eq!(read(&cli.path("out.bin")), data);
    // Another destination is another transfer.
    let other = cli.run(&["transfer", &url, "other.bin"]).expect(0);
    assert_ne!(other.stdout.trim(), id);
}

#[test]
fn resume_without_wait_queues_suspend_and_cancel_change_the_state() {
    let cli = Cli::new();
    let id = cli.create("changed");
    cli.run(&["addfile", &id, "https://example.com/a.bin", "a.bin"]).expect(0);
    let queued = cli.run(&["resume", &id]).expect(0);
    assert!(queued.stderr.contains("serve"), "says who transfers it: {}", queued.stderr);
    assert_eq!(cli.info(&id)["state"], "Queued");
    cli.run(&["suspend", &id]).expect(0);
    assert_eq!(cli.info(&id)["state"], "Suspended");
    cli.run(&["cancel", &id]).expect(0);
    // Cancelled is final: the job is gone.
    cli.run(&["info", &id]).expect(3);
    cli.run(&["cancel", &id]).expect(3);
}

#[test]
fn a_refused_operation_exits_1_with_its_hresult_and_description() {
    let cli = Cli::new();
    let id = cli.create("empty");
    let done = cli.run(&["resume", &id]).expect(1);
    let description = hresult::description(hresult::BG_E_EMPTY).unwrap();
    assert!(done.stderr.contains("0x80200003"), "{}", done.stderr);
    assert!(done.stderr.contains(&description), "{}", done.stderr);
    // Unchanged.
    assert_eq!(cli.info(&id)["state"], "Suspended");
    // A bad remote name: E_INVALIDARG.
    let done = cli.run(&["addfile", &id, "gopher://example.com/x", "x.bin"]).expect(1);
    assert!(done.stderr.contains("0x80070057"), "{}", done.stderr);
}

#[test]
fn a_job_that_ends_in_error_exits_1_and_info_reports_the_error() {
    let cli = Cli::new();
    let server = server(content(1000, 5), None);
    let done = cli.run(&["transfer", &server.url("/missing"), "missing.bin"]).expect(1);
    let id = done.stdout.trim();
    assert!(is_job_id(id), "the id is printed before the failure: {:?}", done.stdout);
    assert!(done.stderr.contains("0x80190194"), "HTTP 404's HRESULT: {}", done.stderr);
    let description = hresult::description(0x8019_0194).unwrap();
    assert!(done.stderr.contains(&description), "{}", done.stderr);
    let info = cli.info(id);
    assert_eq!(info["state"], "Error");
    let error = &info["error"];
    assert_eq!(error["context"], "RemoteFile");
    assert_eq!(error["hresult"], 0x8019_0194u32);
    assert_eq!(error["hresult_hex"], "0x80190194");
    assert_eq!(error["description"], description.as_str());
    assert!(error["message"].is_string());
    // list shows it too, with the summary fields only.
    let list = cli.run(&["list", "--json"]).expect(0).json();
    let job = &list[0];
    assert_eq!(job["state"], "Error");
    assert!(job.get("error").is_none() && job.get("files").is_none(), "{job}");
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    cli.run(&[]).expect(2);
    cli.run(&["frobnicate"]).expect(2);
    cli.run(&["info", "not-a-guid"]).expect(2);
    cli.run(&["transfer", "https://example.com/a"]).expect(2);
    let odd = cli.run(&["transfer", "https://example.com/a", "a", "https://example.com/b"]);
    assert!(odd.expect(2).stderr.contains("pairs"));
    cli.run(&["create"]).expect(2);
    cli.run(&["list", "--xml"]).expect(2);
    // Help is not an error.
    cli.run(&["--help"]).expect(0);
}

#[test]
fn an_unknown_job_exits_3_for_every_verb_that_names_one() {
    let cli = Cli::new();
    for verb in ["info", "suspend", "cancel", "complete", "resume"] {
        let done = cli.run(&[verb, NO_SUCH_JOB]).expect(3);
        assert!(done.stderr.contains("0x80200001"), "{verb}: {}", done.stderr);
    }
    cli.run(&["resume", NO_SUCH_JOB, "--wait"]).expect(3);
    cli.run(&["info", NO_SUCH_JOB, "--json"]).expect(3);
    cli.run(&["addfile", NO_SUCH_JOB, "https://example.com/a", "a"]).expect(3);
}

#[test]
fn list_json_has_the_documented_fields_and_types() {
    let cli = Cli::new();
    let first = cli.create("first");
    let second = cli.create("second");
    cli.run(&["addfile", &second, "https://example.com/a.bin", "a.bin"]).expect(0);
    let list = cli.run(&["list", "--json"]).expect(0).json();
    let jobs = list.as_array().expect("an array");
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["id"], first.as_str(), "in creation order");
    assert_eq!(jobs[1]["id"], second.as_str());
    for job in jobs {
        assert!(job["id"].as_str().is_some_and(is_job_id));
        assert!(job["display_name"].is_string());
        assert_eq!(job["state"], "Suspended");
        assert!(job["bytes_total"].is_u64() || job["bytes_total"].is_null());
        for field in ["bytes_transferred", "files_total", "files_transferred"] {
            assert!(job[field].is_u64(), "{field}: {job}");
        }
    }
    assert_eq!(jobs[1]["bytes_total"], Value::Null, "a file of unknown size");
    // The human form lists the same jobs.
    let text = cli.run(&["list"]).expect(0).stdout;
    assert!(text.contains(&first) && text.contains(&second), "{text}");
}

#[test]
fn list_help_documents_the_json_schema() {
    let help = Cli::new().run(&["list", "--help"]).expect(0).stdout;
    for field in [
        "id",
        "display_name",
        "state",
        "bytes_total",
        "bytes_transferred",
        "files_total",
        "files_transferred",
        "TransientError",
        "null",
    ] {
        assert!(help.contains(field), "{field} in:\n{help}");
    }
    let help = Cli::new().run(&["info", "--help"]).expect(0).stdout;
    for field in ["files", "error", "hresult_hex", "description", "message", "completed"] {
        assert!(help.contains(field), "{field} in:\n{help}");
    }
}

#[test]
fn info_without_json_describes_the_job() {
    let cli = Cli::new();
    let id = cli.create("described");
    cli.run(&["addfile", &id, "https://example.com/a.bin", "a.bin"]).expect(0);
    let text = cli.run(&["info", &id]).expect(0).stdout;
    assert!(
        text.contains(&id) && text.contains("described") && text.contains("Suspended"),
        "{text}"
    );
    assert!(text.contains("https://example.com/a.bin"), "{text}");
}

#[test]
fn the_store_comes_from_bgcopy_store_without_the_option() {
    let cli = Cli::new();
    let mut command = cli.bare_command(&["create", "from the environment"]);
    command.env("BGCOPY_STORE", cli.store());
    let id = cli_support::finish(command).expect(0).stdout.trim().to_owned();
    // The same store through --store.
    assert_eq!(cli.info(&id)["display_name"], "from the environment");
    // --store wins over the variable.
    let other = cli.path("other-store");
    let mut command = cli.bare_command(&["--store", other.to_str().unwrap(), "list", "--json"]);
    command.env("BGCOPY_STORE", cli.store());
    assert_eq!(cli_support::finish(command).expect(0).json(), Value::Array(vec![]));
}

#[test]
fn transfer_takes_connections_and_a_cap_and_info_shows_them() {
    let cli = Cli::new();
    let data = content(3 * 1024 * 1024, 9);
    let server = server(data.clone(), None);
    let done = cli.run(&["transfer", &server.url("/file"), "big.bin", "-x", "4"]).expect(0);
    assert_eq!(read(&cli.path("big.bin")), data);
    let ranged = server.requests().iter().filter(|r| r.header("if-range").is_some()).count();
    assert!(ranged >= 2, "segments: {} requests", server.requests().len());
    assert!(is_job_id(done.stdout.trim()));

    let id = cli.run(&["create", "capped"]).expect(0).stdout.trim().to_owned();
    cli.run(&["addfile", &id, &server.url("/file"), "c.bin"]).expect(0);
    let info = cli.run(&["info", &id, "--json"]).expect(0).json();
    assert_eq!(
        (info["max_connections"].clone(), info["max_bytes_per_second"].clone()),
        (1.into(), Value::Null)
    );
    for bad in [
        vec!["-x", "0"],
        vec!["-x", "17"],
        vec!["--max-bytes-per-second", "0"],
        vec!["--max-bytes-per-second", "4T"],
    ] {
        let mut args = vec!["transfer", "http://127.0.0.1:1/file", "x.bin"];
        args.extend(bad.iter().copied());
        cli.run(&args).expect(2);
    }
}

/// What a command must not say when its reader left: Rust's panic message, or an error.
fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "a panic on stderr:\n{stderr}");
    assert!(!stderr.contains("Broken pipe"), "an error on stderr:\n{stderr}");
}

#[test]
fn list_exits_0_quietly_when_its_reader_left() {
    let cli = Cli::new();
    cli.create("one");
    cli.create("two");
    for args in [&["list"][..], &["list", "--json"]] {
        let done = cli.run_with_closed_stdout(args);
        assert_no_panic(&done.stderr);
        assert_eq!(done.stderr, "", "{args:?}: nothing on stderr, like `list | head -1`");
        done.expect(0);
    }
}

#[test]
fn info_exits_0_quietly_when_its_reader_left() {
    let cli = Cli::new();
    let id = cli.create("one");
    for args in [&["info", &id][..], &["info", &id, "--json"]] {
        let done = cli.run_with_closed_stdout(args);
        assert_no_panic(&done.stderr);
        assert_eq!(done.stderr, "", "{args:?}");
        done.expect(0);
    }
}

#[test]
fn create_with_its_reader_gone_says_the_id_on_stderr_and_the_job_exists() {
    let cli = Cli::new();
    let done = cli.run_with_closed_stdout(&["create", "unread"]);
    assert_no_panic(&done.stderr);
    assert!(!done.stderr.contains("cannot"), "the job was created:\n{}", done.stderr);
    let done = done.expect(0);
    let list = cli.run(&["list", "--json"]).expect(0).json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["display_name"], "unread");
    let id = list[0]["id"].as_str().unwrap();
    assert!(done.stderr.contains(id), "the id is not lost: {}", done.stderr);
}

#[test]
fn list_leaves_an_orphaned_temporary_file_alone() {
    // A reader that finds the store free opens it, and the library's recovery at open removes the
    // temporary files of its jobs that no record names: a reader should change nothing.
    let cli = Cli::new();
    let id = cli.create("with an orphan");
    cli.run(&["addfile", &id, "https://example.com/a.bin", "a.bin"]).expect(0);
    // The name bgcopy gives file 0 of this job, on a second attempt: `.a.bin.<tag>-0-1.bgcopy.tmp`,
    // the tag being the id's first 8 hex digits.
    let tag = id[1..9].to_ascii_lowercase();
    let orphan = cli.path(&format!(".a.bin.{tag}-0-1.bgcopy.tmp"));
    std::fs::write(&orphan, b"bytes of an earlier try").unwrap();
    cli.run(&["list"]).expect(0);
    cli.run(&["info", &id, "--json"]).expect(0);
    assert!(orphan.exists(), "a reader removed a temporary file");
}

#[test]
#[cfg(target_os = "linux")]
fn list_exits_1_when_stdout_cannot_be_written() {
    // Not a reader that left but a real failure: `/dev/full` refuses every write (ENOSPC).
    let cli = Cli::new();
    cli.create("one");
    let mut command = cli.command(&["list"]);
    command.stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
    let done = cli_support::finish(command);
    assert_no_panic(&done.stderr);
    assert!(done.stderr.contains("cannot write to stdout"), "{}", done.stderr);
    done.expect(1);
}
