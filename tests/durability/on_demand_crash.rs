//! An on-demand job's requests survive a crash (DESIGN 6.1 and 6.3): `request_file_ranges`
//! returns once the request is recorded, so a process killed right after it (SIGKILL, before
//! the job ever ran) leaves a job that, reopened and resumed, fetches what was asked.

use crate::http_support::{self, Resource, Rng};
use bgcopy::*;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The environment variable that makes `on_demand_crash_child` the child's body.
const CHILD: &str = "BGCOPY_ON_DEMAND_CRASH_CHILD";
const PATIENCE: Duration = Duration::from_secs(60);

fn asked() -> [BgFileRange; 2] {
    [
        BgFileRange { initial_offset: 70_000, length: 1_000 },
        BgFileRange { initial_offset: 10, length: 90 },
    ]
}

#[test]
fn on_demand_crash_child() {
    let Ok(url) = std::env::var(CHILD) else { return };
    println!();
    let store = PathBuf::from(std::env::var("BGCOPY_STORE").unwrap());
    let downloads = PathBuf::from(std::env::var("BGCOPY_DOWNLOADS").unwrap());
    let manager = Manager::builder().store(&store).try_build().unwrap();
    let job = manager.create_job("asked", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(&url, &downloads.join("out.bin")).unwrap();
    job.enum_files()[0].request_file_ranges(&asked()).unwrap();
    println!("ack asked {}", job.get_id());
    // Wait to be killed, so nothing is closed cleanly.
    std::thread::sleep(PATIENCE);
}

#[test]
fn a_request_for_ranges_survives_a_kill_right_after_it_returns() {
    let data = Rng::new(91).bytes(100_000);
    let server = Resource::new(data.clone(), "v1").serve();
    let dir = tempfile::tempdir().unwrap();
    let (store, downloads) = (dir.path().join("store"), dir.path().join("downloads"));
    std::fs::create_dir_all(&downloads).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &http_support::test_name(module_path!(), "on_demand_crash_child"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, server.url("/f"))
        .env("BGCOPY_STORE", &store)
        .env("BGCOPY_DOWNLOADS", &downloads)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let id: JobId = stdout
        .lines()
        .map_while(std::io::Result::ok)
        .find_map(|line| line.strip_prefix("ack asked ").map(|id| id.parse().unwrap()))
        .expect("the child acknowledged its request");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let manager = Manager::builder().store(&store).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    job.resume().unwrap();
    let state = job.wait_until(PATIENCE, |s| s == BgJobState::Suspended || s.is_settled());
    assert_eq!(state, BgJobState::Suspended, "{:?}", job.get_error().ok());
    let file = job.enum_files().remove(0);
    let mut want = asked().to_vec();
    want.sort_by_key(|r| r.initial_offset);
    assert_eq!(file.get_filled_file_ranges(), want, "the acknowledged request was lost");
}
