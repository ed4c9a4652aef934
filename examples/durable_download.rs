//! What bgcopy is for: a download that survives its process. A job in a durable store downloads a
//! file over HTTP from a small server this example starts on loopback, with a live progress bar;
//! half-way the example stops its manager (as an exit or a crash would), opens the store again,
//! and the job continues from the bytes already on disk to a byte-identical file.
//!
//! ```text
//! cargo run --features http --example durable_download
//! ```
//!
//! No arguments, no network: the server, the store and the download live in a temporary
//! directory that is removed at the end.

use bgcopy::meter::RateMeter;
use bgcopy::*;
use indicatif::{ProgressBar, ProgressStyle};
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The file the server serves, and how fast (a slow link, so that there is time to stop).
const SIZE: usize = 24 << 20;
const BYTES_PER_SECOND: usize = 12 << 20;
const ETAG: &str = "\"demo-v1\"";

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let content: Arc<Vec<u8>> = Arc::new(sample(SIZE));
    let server = Server::start(Arc::clone(&content))?;
    let url = format!("http://{}/demo.bin", server.addr);
    let store = dir.path().join("store");
    let destination = dir.path().join("demo.bin");

    // 1. A job in a store: every call that changes it is durable when it returns.
    let manager = Manager::open(&store)?;
    let job = manager.create_job("durable download", BgJobType::Download)?;
    job.add_file(&url, &destination)?;
    let id = job.get_id();
    println!("job {id} in the store at {}", store.display());
    job.resume()?;
    // A subscription starts with the job's state now (Queued, or already moving).
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(100)));
    show_progress(events, &job, Some(SIZE as u64 * 2 / 5));

    // 2. Stop half-way: the engine stops, the bytes so far are checkpointed, the store is
    //    released with the last handle. (A crash would lose at most the last second of bytes.)
    manager.shutdown(Duration::from_secs(10));
    let stopped_at = job.get_progress().bytes_transferred;
    drop((job, manager));
    println!("stopped with {stopped_at} of {SIZE} bytes on disk");

    // 3. Open the store again, as the next run of the program would: the job is back, Queued,
    //    with its bytes, and continues from them.
    let manager = Manager::open(&store)?;
    let job = manager.get_job(id)?;
    let back = job.get_progress();
    println!("reopened: {:?}, {} bytes already there", job.get_state(), back.bytes_transferred);
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(100)));
    show_progress(events, &job, None);
    match job.get_state() {
        BgJobState::Transferred => {}
        state => {
            let error = job.get_error().map(|e| e.message().to_owned()).unwrap_or_default();
            return Err(format!("the job is {state:?}: {error}").into());
        }
    }
    job.complete()?; // the file appears only now, complete and fsynced

    let downloaded = std::fs::read(&destination)?;
    if downloaded != *content {
        return Err("the downloaded file differs from the server's".into());
    }
    // Relaxed: a figure to print; the server thread stored it before answering.
    let resumed_from = server.range_starts.load(Ordering::Relaxed);
    println!(
        "complete: {SIZE} bytes, byte-identical; the second run asked the server for \
         bytes={resumed_from}- (validated with If-Range), not for the whole file again"
    );
    Ok(())
}

/// Draws the job's progress from its notifications (rate and ETA over a recent window of this
/// session's bytes) until it settles, or until it passes `stop_at` bytes.
fn show_progress(events: Subscription, job: &Job, stop_at: Option<u64>) {
    let bar = ProgressBar::new(SIZE as u64);
    bar.set_style(
        ProgressStyle::with_template("[{bar:40}] {bytes}/{total_bytes} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut meter = RateMeter::new();
    bar.set_position(job.get_progress().bytes_transferred);
    for event in events {
        match event {
            Notification::Progress { progress, .. } => {
                bar.set_position(progress.bytes_transferred);
                let rate = meter.record(Instant::now(), &progress);
                let eta =
                    rate.eta.map_or("-".to_owned(), |eta| format!("{:.1}s", eta.as_secs_f64()));
                bar.set_message(format!(
                    "{:.1} MiB/s, ETA {eta}",
                    rate.bytes_per_second / 1048576.0
                ));
                if stop_at.is_some_and(|at| progress.bytes_transferred >= at) {
                    break;
                }
            }
            Notification::StateChanged { state, .. }
                if state != BgJobState::Queued
                    && state != BgJobState::Connecting
                    && state != BgJobState::Transferring =>
            {
                break;
            }
            _ => {}
        }
    }
    bar.set_position(job.get_progress().bytes_transferred);
    bar.abandon();
}

/// Pseudo-random bytes (xorshift): not compressible, the same every run.
fn sample(size: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut data = Vec::with_capacity(size + 8);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(size);
    data
}

/// A small HTTP/1.1 server on loopback for one file: `Range: bytes=N-` with `If-Range` against
/// its strong ETag, paced to [`BYTES_PER_SECOND`] per connection.
struct Server {
    addr: std::net::SocketAddr,
    /// The start of the last range asked for.
    range_starts: Arc<AtomicU64>,
}

impl Server {
    fn start(content: Arc<Vec<u8>>) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let range_starts = Arc::new(AtomicU64::new(0));
        let starts = Arc::clone(&range_starts);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (content, starts) = (Arc::clone(&content), Arc::clone(&starts));
                std::thread::spawn(move || {
                    let _ = serve(stream, &content, &starts);
                });
            }
        });
        Ok(Server { addr, range_starts })
    }
}

fn serve(stream: TcpStream, content: &[u8], starts: &AtomicU64) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let (mut start, mut if_range) = (None, None);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "range" => {
                    start = value
                        .trim()
                        .strip_prefix("bytes=")
                        .and_then(|r| r.strip_suffix('-'))
                        .and_then(|n| n.parse::<usize>().ok());
                }
                "if-range" => if_range = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let start = start.filter(|_| if_range.as_deref().is_none_or(|v| v == ETAG));
        let head = match start {
            Some(from) if from < content.len() => {
                // Relaxed: a figure for the report, nothing is published through it.
                starts.store(from as u64, Ordering::Relaxed);
                format!(
                    "HTTP/1.1 206 Partial Content\r\nETag: {ETAG}\r\nContent-Range: bytes {from}-{}/{}\r\nContent-Length: {}\r\n\r\n",
                    content.len() - 1,
                    content.len(),
                    content.len() - from
                )
            }
            _ => format!(
                "HTTP/1.1 200 OK\r\nETag: {ETAG}\r\nContent-Length: {}\r\n\r\n",
                content.len()
            ),
        };
        writer.write_all(head.as_bytes())?;
        if request.starts_with("HEAD") {
            continue;
        }
        let body = &content[start.filter(|&s| s < content.len()).unwrap_or(0)..];
        // Paced: a piece every 10 ms.
        for piece in body.chunks(BYTES_PER_SECOND / 100) {
            writer.write_all(piece)?;
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
