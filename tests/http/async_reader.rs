//! `AsyncFileReader` (feature `async`, DESIGN 6.3): `futures_io::AsyncRead + AsyncSeek` over a
//! file of an on-demand job, the async counterpart of the `FileReader` of `on_demand.rs`, whose
//! tests these mirror. A small executor below (a waker that unparks the test thread) drives
//! them: no runtime. A lost wake-up is a failure, not a hang: the executor gives up after
//! [`LONG`] without a wake.
#![cfg(feature = "async")]

use crate::http_support::{Framing, Reply, Resource, Rng, Server};
use bgcopy::*;
use futures_io::{AsyncRead, AsyncSeek};
use std::future::{Future, poll_fn};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(60);
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// Wakes the test thread, and says it did.
struct Unpark {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

fn unpark() -> Arc<Unpark> {
    Arc::new(Unpark { thread: thread::current(), woken: AtomicBool::new(false) })
}

/// Polls `future` on this thread until it is ready, parking between polls until its waker is
/// woken; panics if [`LONG`] passes without a wake (a lost wake-up).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let unpark = unpark();
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    loop {
        unpark.woken.store(false, Ordering::SeqCst);
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let deadline = Instant::now() + LONG;
        while !unpark.woken.load(Ordering::SeqCst) {
            let now = Instant::now();
            assert!(now < deadline, "pending and never woken: a lost wake-up");
            thread::park_timeout(deadline - now);
        }
    }
}

async fn read(reader: &mut AsyncFileReader, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf)).await
}

async fn read_exact(reader: &mut AsyncFileReader, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = read(reader, buf).await?;
        assert_ne!(n, 0, "the end of the file before the buffer was full");
        buf = &mut buf[n..];
    }
    Ok(())
}

async fn read_to_end(reader: &mut AsyncFileReader) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 64 * KIB as usize];
    loop {
        match read(reader, &mut buf).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

async fn seek(reader: &mut AsyncFileReader, to: SeekFrom) -> io::Result<u64> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_seek(cx, to)).await
}

fn content(len: u64) -> Vec<u8> {
    Rng::new(len).bytes(len as usize)
}

fn on_demand_job(manager: &Manager, dir: &Path, url: &str) -> (Job, JobFile) {
    let job = manager.create_job("on demand, async", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    (job, file)
}

fn suspended_or_transferred(job: &Job) -> BgJobState {
    job.wait_until(LONG, |s| {
        matches!(s, BgJobState::Suspended | BgJobState::Transferred | BgJobState::Error)
    })
}

/// A server that serves `data` with ranges, `per_tick` bytes every 10 ms.
fn paced(data: &[u8], per_tick: usize) -> Server {
    let resource = Resource::new(data.to_vec(), "v1");
    Server::start(move |request| {
        resource.respond(request).pace(per_tick, Duration::from_millis(10))
    })
}

#[test]
fn an_async_read_in_the_middle_gets_its_bytes_and_a_seek_from_the_end_reads_the_tail() {
    // As the blocking reader's test: when the read returned, most of the file was not there.
    let data = content(16 * MIB);
    let server = paced(&data, 256 * KIB as usize);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let (middle, tail) = block_on(async {
        assert_eq!(seek(&mut reader, SeekFrom::Start(9 * MIB + 5)).await.unwrap(), 9 * MIB + 5);
        let mut middle = vec![0u8; 1000];
        read_exact(&mut reader, &mut middle).await.unwrap();
        let filled: u64 = file.get_filled_file_ranges().iter().map(|range| range.length).sum();
        assert!(filled <= 2 * MIB, "only what the read asked for: {filled}");
        assert!(file.get_filled_file_ranges()[0].initial_offset >= 9 * MIB);
        // The tail through a seek from the end, as a zip reader does.
        let at = seek(&mut reader, SeekFrom::End(-64 * KIB as i64)).await.unwrap();
        assert_eq!(at, 16 * MIB - 64 * KIB);
        (middle, read_to_end(&mut reader).await.unwrap())
    });
    assert_eq!(middle, data[(9 * MIB + 5) as usize..][..1000]);
    assert_eq!(tail, data[data.len() - 64 * KIB as usize..]);
}

#[test]
fn a_seek_from_the_end_before_the_size_is_known_waits_for_it() {
    let data = content(300 * KIB + 7);
    let server = paced(&data, 32 * KIB as usize);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let tail = block_on(async {
        let at = seek(&mut reader, SeekFrom::End(-10)).await.unwrap();
        assert_eq!(at, 300 * KIB - 3);
        read_to_end(&mut reader).await.unwrap()
    });
    assert_eq!(tail, data[data.len() - 10..]);
    let before_start = block_on(seek(&mut reader, SeekFrom::End(-(300 * KIB as i64) - 8)));
    assert_eq!(before_start.unwrap_err().kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn an_async_reader_streams_the_whole_file_in_order_over_chunked_bodies() {
    let data = content(3 * MIB + 17);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| {
        resource.respond(request).framing(Framing::Chunked).pace(128 * KIB as usize, Duration::ZERO)
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let all = block_on(read_to_end(&mut reader)).unwrap();
    assert!(all == data, "the stream differs from the content");
    assert_eq!(suspended_or_transferred(&job), BgJobState::Transferred);
}

#[test]
fn a_pending_async_read_ends_with_an_error_when_the_job_is_cancelled_or_fails() {
    let data = content(MIB);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    // Never resumed: the read asks, and stays pending, until the job is cancelled. Nothing on
    // the engine's side runs for this job: the cancel alone must wake the task.
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    let mut reader = file.open_async_reader().unwrap();
    let mut buf = [0u8; 10];
    let waker = Waker::from(unpark());
    let pending = Pin::new(&mut reader).poll_read(&mut Context::from_waker(&waker), &mut buf);
    assert!(pending.is_pending(), "a job never resumed has no bytes");
    // Polled again with nothing changed: still pending (and asks nothing new).
    let pending = Pin::new(&mut reader).poll_read(&mut Context::from_waker(&waker), &mut buf);
    assert!(pending.is_pending());
    assert_eq!(job.get_state(), BgJobState::Suspended);
    let cancel = {
        let job = job.clone();
        thread::spawn(move || job.cancel().unwrap())
    };
    let error = block_on(read(&mut reader, &mut buf)).unwrap_err();
    cancel.join().unwrap();
    assert!(error.to_string().contains("cancel"), "{error}");
    // A final job: no new reader.
    assert_eq!(file.open_async_reader().unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);

    // A job that fails: the server answers 404, the read says so.
    let refusing = Server::start(|_| Reply::new(404));
    let (job, file) = on_demand_job(&manager, dir.path(), &refusing.url("/gone"));
    job.set_no_progress_timeout(Duration::ZERO).unwrap();
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let error = block_on(read(&mut reader, &mut buf)).unwrap_err();
    assert_eq!(job.wait(LONG), BgJobState::Error);
    assert!(error.to_string().contains("404"), "{error}");
}

#[test]
fn a_dropped_pending_reader_leaves_the_others_working() {
    // Two readers pending on the same job; one is dropped while pending. The other still gets
    // its bytes, and the job still finishes.
    let data = content(2 * MIB);
    let server = paced(&data, 64 * KIB as usize);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    let mut dropped = file.open_async_reader().unwrap();
    let mut buf = [0u8; 10];
    let waker = Waker::from(unpark());
    let pending = Pin::new(&mut dropped).poll_read(&mut Context::from_waker(&waker), &mut buf);
    assert!(pending.is_pending(), "not resumed yet");
    drop(dropped);
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let all = block_on(read_to_end(&mut reader)).unwrap();
    assert!(all == data, "the stream differs from the content");
    assert_eq!(suspended_or_transferred(&job), BgJobState::Transferred);
}

#[test]
fn an_async_read_past_the_end_before_the_size_is_known_is_the_end_of_the_file() {
    let data = content(100 * KIB);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, dir.path(), &server.url("/f"));
    job.resume().unwrap();
    let mut reader = file.open_async_reader().unwrap();
    let mut buf = [0u8; 10];
    let n = block_on(async {
        seek(&mut reader, SeekFrom::Start(5 * MIB)).await.unwrap();
        read(&mut reader, &mut buf).await.unwrap()
    });
    assert_eq!(n, 0, "the end of the file");
    assert_eq!(job.get_progress().bytes_total, 100 * KIB);
    assert_eq!(suspended_or_transferred(&job), BgJobState::Suspended, "not an error");
}

#[test]
fn an_async_file_reader_is_send_and_unpin_and_only_for_on_demand_jobs() {
    fn send<T: Send + Unpin + AsyncRead + AsyncSeek + std::fmt::Debug>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let (_job, file) = on_demand_job(&manager, dir.path(), "https://example.com/f");
    let reader = file.open_async_reader().unwrap();
    send(&reader);
    thread::spawn(move || drop(reader)).join().unwrap();
    let plain = manager.create_job("plain", BgJobType::Download).unwrap();
    plain.add_file("https://example.com/f", &dir.path().join("plain.bin")).unwrap();
    let plain_file = plain.enum_files().remove(0);
    assert_eq!(plain_file.open_async_reader().unwrap_err().hresult(), hresult::BG_E_INVALID_STATE);
}
