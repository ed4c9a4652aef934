//! DESIGN 6.2, the notify command line with no application running: `bgcopy serve` holds the
//! store, transfers the job and runs its notify program when the job enters `Transferred`. The
//! program writes into a named pipe the test reads, so the test waits on the run itself.

use bgcopy::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn bgcopy_serve_runs_the_notify_program_of_a_job_it_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let source = dir.path().join("source.bin");
    std::fs::write(&source, b"notify me").unwrap();
    let fifo = dir.path().join("runs.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    {
        let manager =
            Manager::builder().without_engine().store(&store).try_build().expect("the store");
        let job = manager.create_job("notified", BgJobType::Download).unwrap();
        job.add_file(source.to_str().unwrap(), &dir.path().join("out.bin")).unwrap();
        let parameters = format!("sh -c \"echo \\\"$0\\\" > '{}'\" transferred", fifo.display());
        job.set_notify_cmd_line(Some(Path::new("/bin/sh")), Some(&parameters)).unwrap();
        job.resume().unwrap();
    }
    let mut serve = Command::new(env!("CARGO_BIN_EXE_bgcopy"))
        .arg("--store")
        .arg(&store)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Opening the pipe waits for the program to open it for writing.
    let mut text = String::new();
    std::fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(text, "transferred\n");
}
