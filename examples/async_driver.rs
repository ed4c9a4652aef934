//! Drives a job from async code (tokio here; bgcopy needs no runtime, any executor works): a
//! downloader task moves the bytes with its own async I/O and `select!`s on the claim's
//! revocation, so a `suspend()` stops it at once, without polling; the main task awaits the job's
//! notifications and `settled()`.
//!
//! ```text
//! cargo run --example async_driver
//! ```
//!
//! No network: the "remote" files are local files read with tokio's async file I/O, slowly, like
//! a slow link. The job is suspended half-way and resumed, and continues from the bytes already on
//! disk.

use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Bytes "received" per read, and the pause between reads (a slow link).
const PIECE: usize = 64 * 1024;
const PAUSE: Duration = Duration::from_millis(2);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let sources: Vec<(PathBuf, usize)> = [("a.bin", 3 << 20), ("b.bin", 1 << 20)]
        .iter()
        .map(|(n, s)| (dir.path().join(n), *s))
        .collect();
    for (path, size) in &sources {
        let data: Vec<u8> = (0..*size).map(|i| (i * 7 % 251) as u8).collect();
        tokio::fs::write(path, data).await?;
    }

    // No engine: this program is the downloader. It serves the `async` scheme itself.
    let manager = Manager::builder().without_engine().scheme("async").build();
    let job = manager.create_job("async", BgJobType::Download)?;
    for (path, _) in &sources {
        let name = path.file_name().and_then(|n| n.to_str()).ok_or("a UTF-8 name")?;
        job.add_file(
            &format!("async://{}", path.display()),
            &dir.path().join(format!("copy-{name}")),
        )?;
    }
    let mut events = job.subscribe().with_progress_interval(Some(Duration::from_millis(100)));
    job.resume()?;

    // The downloader runs as a task; the job is suspended after a moment, then resumed.
    let downloader = tokio::spawn(download(job.clone()));
    tokio::time::sleep(Duration::from_millis(40)).await;
    job.suspend()?;
    let stopped = downloader.await??;
    println!("suspended: the downloader stopped ({stopped}); {:?}", job.get_progress());
    job.resume()?;
    let downloader = tokio::spawn(download(job.clone()));

    // Notifications as a stream, awaited; `settled()` resolves once the job stops moving.
    let settled = job.settled();
    while let Some(event) = events.recv().await {
        match event {
            Notification::Progress { progress, .. } => match progress.bytes_total {
                BG_SIZE_UNKNOWN => println!("  {} bytes", progress.bytes_transferred),
                total => println!("  {} of {total} bytes", progress.bytes_transferred),
            },
            Notification::StateChanged { state, .. } => {
                println!("{state:?}");
                if state == BgJobState::Transferred {
                    break;
                }
            }
            _ => {}
        }
    }
    assert_eq!(settled.await, BgJobState::Transferred);
    downloader.await??;
    job.complete()?;
    for (path, _) in &sources {
        let name = path.file_name().and_then(|n| n.to_str()).ok_or("a UTF-8 name")?;
        let copy = tokio::fs::read(dir.path().join(format!("copy-{name}"))).await?;
        assert!(copy == tokio::fs::read(path).await?, "{name} arrived byte-identical");
    }
    println!("complete: both files byte-identical");
    Ok(())
}

/// One claim of the job: every file not transferred yet, each continued after the bytes its
/// temporary file already holds. Returns whether the claim was revoked (the job was suspended).
async fn download(job: Job) -> Result<bool, TransferError> {
    let driver = job.claim()?;
    driver.connected()?;
    let revoked = driver.revoked();
    tokio::pin!(revoked);
    while let Some(file) = driver.next_file() {
        let source = file.get_remote_name();
        let source = Path::new(source.strip_prefix("async://").unwrap_or(&source));
        let mut transfer = driver.open_file(file.index())?;
        let size = tokio::fs::metadata(source).await.map_err(io)?.len();
        transfer.set_size(Some(size))?;
        let mut input = tokio::fs::File::open(source).await.map_err(io)?;
        input.seek(std::io::SeekFrom::Start(transfer.offset())).await.map_err(io)?;
        // Our own async writes to the temporary file; `add_bytes` counts them (lock-free).
        let mut output = tokio::fs::OpenOptions::new()
            .append(true)
            .open(transfer.temp_path())
            .await
            .map_err(io)?;
        let mut buf = vec![0u8; PIECE];
        loop {
            tokio::select! {
                _ = &mut revoked => return Ok(true),
                read = async {
                    tokio::time::sleep(PAUSE).await;
                    input.read(&mut buf).await
                } => {
                    let n = read.map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    output.write_all(&buf[..n]).await.map_err(io)?;
                    match transfer.add_bytes(n as u64) {
                        // Suspended between the write and the count: those bytes are redone.
                        Err(TransferError::Stopped) => return Ok(true),
                        counted => counted?,
                    }
                }
            }
        }
        output.flush().await.map_err(io)?;
        transfer.finish()?;
    }
    driver.finish()?;
    Ok(false)
}

fn io(error: std::io::Error) -> TransferError {
    TransferError::from_io(&error, BgErrorContext::RemoteFile)
}
