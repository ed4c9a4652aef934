//! Streams a file into a SHA-256 while it downloads (DESIGN 6.3): an on-demand job and a
//! `FileReader`, against a slow loopback HTTP server started here (no network, no arguments).
//!
//! The reader asks for the bytes it needs; the job fetches them first, and the read returns as
//! soon as they are on disk. The hash is printed next to the one of the content served, and the
//! time to the first byte next to the time of the whole file.
//!
//! ```text
//! cargo run --example stream_while_downloading --features http
//! ```

use bgcopy::*;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file served: 16 MiB.
const SIZE: usize = 16 << 20;
/// The server's pace: this many bytes, then a pause of [`PAUSE`] (about 32 MiB/s).
const PIECE: usize = 64 << 10;
const PAUSE: Duration = Duration::from_millis(2);

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let content: Arc<Vec<u8>> = Arc::new((0..SIZE).map(|i| (i * 31 % 251) as u8).collect());
    let url = serve(Arc::clone(&content))?;
    let dir = tempfile::tempdir()?;

    let manager = Manager::new();
    let job = manager.create_job("stream while downloading", BgJobType::Download)?;
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None)?;
    job.set_property(BgJobProperty::OnDemandMode(true))?;
    job.add_file(&url, &dir.path().join("stream.bin"))?;
    job.resume()?;

    let started = Instant::now();
    let mut reader = job.enum_files()[0].open_reader()?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut first_byte = None;
    let mut total = 0;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        first_byte.get_or_insert_with(|| started.elapsed());
        hash.update(&buf[..n]);
        total += n;
    }
    let streamed = hex(&hash.finalize());
    let served = hex(&Sha256::digest(content.as_slice()));
    println!("streamed {total} bytes, sha256 {streamed}");
    println!("served            sha256 {served}");
    println!(
        "first byte after {:?}, whole file after {:?}; job {:?}",
        first_byte.unwrap_or_default(),
        started.elapsed(),
        job.wait(Duration::from_secs(60)),
    );
    assert_eq!(streamed, served, "the stream is the content");
    job.complete()?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Starts a loopback HTTP/1.1 server of `content` that serves `Range: bytes=first-[last]` with
/// a strong ETag, slowly; returns its URL.
fn serve(content: Arc<Vec<u8>>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/file.bin", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let content = Arc::clone(&content);
            std::thread::spawn(move || {
                let _ = answer(stream, &content);
            });
        }
    });
    Ok(url)
}

/// Answers the requests of one connection.
fn answer(stream: TcpStream, content: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut range = None;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("range")
            {
                range = parse_range(value.trim(), content.len());
            }
        }
        let len = content.len();
        let (status, first, last) = match range {
            Some((first, last)) => ("206 Partial Content", first, last),
            None => ("200 OK", 0, len - 1),
        };
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"v1\"\r\nAccept-Ranges: bytes\r\n",
            last - first + 1
        );
        if range.is_some() {
            head.push_str(&format!("Content-Range: bytes {first}-{last}/{len}\r\n"));
        }
        head.push_str("\r\n");
        writer.write_all(head.as_bytes())?;
        for piece in content[first..=last].chunks(PIECE) {
            writer.write_all(piece)?;
            std::thread::sleep(PAUSE);
        }
    }
}

/// `bytes=first-[last]` within a file of `len` bytes.
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let (first, last) = value.strip_prefix("bytes=")?.split_once('-')?;
    let first: usize = first.parse().ok()?;
    let last = if last.is_empty() { len - 1 } else { last.parse::<usize>().ok()?.min(len - 1) };
    (first <= last).then_some((first, last))
}
