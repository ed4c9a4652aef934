//! End to end against a real server: nginx on loopback, started by `.ci/nginx.sh`, which serves
//! `large.bin` (64 MiB), `small/NNN.bin` (16 KiB each) and their `SHA256SUMS`. Runs only when
//! `BGCOPY_NGINX_URL` is set (CI sets it); otherwise each test prints a skip line and passes.

use crate::http_support;
use crate::support::CutShort;

use bgcopy::transport::{HttpTransport, TransferRequest, Transport};
use bgcopy::*;
use http_support::{Rng, attempt};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn base_url(test: &str) -> Option<String> {
    match std::env::var("BGCOPY_NGINX_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            println!("skipped {test}: BGCOPY_NGINX_URL is not set (run .ci/nginx.sh)");
            None
        }
    }
}

fn new_job(manager: &Manager) -> Job {
    let job = manager.create_job("nginx", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job
}

fn wait_for(job: &Job, states: &[BgJobState]) -> BgJobState {
    let state = job.wait_until(Duration::from_secs(300), |state| states.contains(&state));
    assert!(states.contains(&state), "stuck in {state:?}");
    state
}

/// The served files' digests, fetched with bgcopy itself.
fn sums(base: &str, dir: &Path) -> HashMap<String, [u8; 32]> {
    let manager = Manager::builder().without_engine().build();
    let job = new_job(&manager);
    job.add_file(&format!("{base}/SHA256SUMS"), &dir.join("SHA256SUMS")).unwrap();
    job.resume().unwrap();
    attempt(&HttpTransport::new(), &job).unwrap();
    job.complete().unwrap();
    let text = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    text.lines()
        .filter_map(|line| {
            let (hex, name) = line.split_once("  ")?;
            let mut digest = [0u8; 32];
            for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
                *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
            }
            Some((name.to_owned(), digest))
        })
        .collect()
}

fn sha256_file(path: &Path) -> [u8; 32] {
    Sha256::digest(std::fs::read(path).unwrap()).into()
}

#[test]
fn nginx_serves_large_and_small_files_through_the_engine() {
    let Some(base) = base_url("nginx_serves_large_and_small_files_through_the_engine") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sums = sums(&base, dir.path());
    let manager = Manager::builder().transport(Arc::new(HttpTransport::new())).build();
    let job = new_job(&manager);
    let mut names = vec!["large.bin".to_owned()];
    names.extend((0..20).map(|i| format!("small/{i:03}.bin")));
    let files: Vec<BgFileInfo> = names
        .iter()
        .map(|name| {
            BgFileInfo::new(format!("{base}/{name}"), dir.path().join(name.replace('/', "-")))
        })
        .collect();
    job.add_file_set(&files).unwrap();
    for (file, name) in job.enum_files().iter().zip(&names) {
        file.set_expected_sha256(Some(sums[name])).unwrap();
    }
    job.resume().unwrap();
    let state = wait_for(&job, &[BgJobState::Transferred, BgJobState::Error]);
    assert_eq!(state, BgJobState::Transferred, "{:?}", job.get_error().map(|e| e.get_error()));
    let progress = job.get_progress();
    assert_eq!(progress.bytes_total, 64 * 1024 * 1024 + 20 * 16 * 1024);
    assert_eq!(progress.bytes_transferred, progress.bytes_total);
    job.complete().unwrap();
    for (info, name) in files.iter().zip(&names) {
        assert_eq!(sha256_file(&info.local_name), sums[name], "{name}");
    }
}

#[test]
fn nginx_resumes_an_interrupted_download_with_a_real_206() {
    let Some(base) = base_url("nginx_resumes_an_interrupted_download_with_a_real_206") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sums = sums(&base, dir.path());
    let transport = HttpTransport::new();
    let manager = Manager::builder().without_engine().build();
    let job = new_job(&manager);
    let remote = format!("{base}/large.bin");
    job.add_file(&remote, &dir.path().join("large.bin")).unwrap();
    job.enum_files()[0].set_expected_sha256(Some(sums["large.bin"])).unwrap();
    job.resume().unwrap();
    let mut rng = Rng::new(7);
    let mut cuts = 0;
    // Three interruptions at random points, each resumed.
    for _ in 0..3 {
        let driver = job.claim().unwrap();
        driver.connected().unwrap();
        let mut file = driver.open_file(0).unwrap();
        let handle = file.file();
        let budget = rng.range(1, 16 * 1024 * 1024);
        let mut sink = CutShort { inner: &mut file, limit: budget };
        let request = TransferRequest::new(&job, &handle);
        let error = HttpTransport::transfer(&transport, &request, &mut sink).unwrap_err();
        assert!(error.is_transient());
        drop(file);
        driver.fail(error, Some(0)).unwrap();
        job.retry_now().unwrap();
        cuts += 1;
    }
    let held = job.get_progress().bytes_transferred;
    assert!(held > 0);
    attempt(&transport, &job).unwrap();
    assert_eq!(job.get_progress().bytes_transferred, 64 * 1024 * 1024, "counted once");
    job.complete().unwrap();
    assert_eq!(sha256_file(&dir.path().join("large.bin")), sums["large.bin"]);
    println!("nginx: {cuts} interruptions resumed, {held} bytes held before the last attempt");
}
