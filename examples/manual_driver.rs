//! Drives a job from your own code, without the engine: the way to plug bgcopy's job model into
//! a downloader you already have (a thread pool, or an async task). No call below is `async`,
//! but those that touch the disk block the thread (`open_file`, `write`, `finish`, and with a
//! store every change): from an async task, make them in `spawn_blocking` (see the crate docs,
//! "Blocking calls and async code").
//!
//! ```text
//! cargo run --example manual_driver
//! ```
//!
//! A separate thread plays the downloader: it claims the job, reports each file's size, writes
//! the bytes as they "arrive", and finishes. The main thread watches the job's notifications.
//! (`examples/async_driver.rs` does the same from async code.)

use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::error::Error;
use std::time::Duration;

/// Files of the job: remote name, local name, size.
const FILES: [(&str, &str, usize); 3] = [
    ("https://example.com/index.html", "index.html", 48 * 1024),
    ("https://example.com/logo.png", "logo.png", 160 * 1024),
    ("https://example.com/app.js", "app.js", 96 * 1024),
];

/// What the "network" delivers per read.
const PIECE: usize = 8 * 1024;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    // No engine: nothing moves a job unless a driver does. The downloader serves https itself
    // (a manager without an engine accepts http and https without the `http` feature).
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("manual", BgJobType::Download)?;
    for (remote, local, _) in FILES {
        job.add_file(remote, &dir.path().join(local))?;
    }
    job.resume()?;
    println!("resumed without an engine: {:?}", job.get_state());

    // State changes as they happen, and progress every 50 ms while the downloader writes.
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(50)));
    let downloader = {
        let job = job.clone();
        std::thread::spawn(move || download(&job))
    };
    for event in events {
        match event {
            Notification::Progress { progress, .. } => println!(
                "  {}/{} files, {} of {} bytes",
                progress.files_transferred,
                progress.files_total,
                progress.bytes_transferred,
                if progress.bytes_total == BG_SIZE_UNKNOWN {
                    "unknown".to_owned()
                } else {
                    progress.bytes_total.to_string()
                }
            ),
            Notification::StateChanged { state, .. } => {
                println!("{state:?}");
                if matches!(state, BgJobState::Transferred | BgJobState::Error) {
                    break;
                }
            }
            _ => {}
        }
    }
    downloader.join().map_err(|_| "the downloader panicked")??;

    job.complete()?;
    for (_, local, size) in FILES {
        let len = std::fs::metadata(dir.path().join(local))?.len();
        println!("{local}: {len} bytes");
        assert_eq!(len, size as u64);
    }
    Ok(())
}

/// The downloader: one claim, the files in order, then finish.
fn download(job: &Job) -> Result<(), TransferError> {
    let driver = job.claim()?; // Queued → Connecting; exclusive until finished or dropped
    driver.connected()?; // Connecting → Transferring
    while let Some(file) = driver.next_file() {
        let (_, _, size) = FILES[file.index()];
        let mut transfer = driver.open_file(file.index())?;
        transfer.set_size(Some(size as u64))?;
        // Continue after whatever an earlier attempt left in the temporary file.
        let mut offset = transfer.offset() as usize;
        while offset < size {
            let n = PIECE.min(size - offset);
            let bytes: Vec<u8> = (offset..offset + n).map(|i| (i % 251) as u8).collect();
            // Err(Stopped) here would mean the job was suspended or cancelled: stop at once.
            transfer.write(&bytes)?;
            offset += n;
            std::thread::sleep(Duration::from_millis(4)); // a slow network
        }
        transfer.finish()?; // the file counts as transferred; file_transferred fires
    }
    driver.finish() // → Transferred; job_transferred fires
}
