//! Only the bytes needed, over several connections (DESIGN 6.3 with 5.3):
//! - on-demand jobs: once a file's size is known, up to the job's `max_connections` runs of it
//!   are fetched at once; the file's progress and its filled ranges count a run while it is
//!   fetched;
//! - ranged files: after a first request that tells the size and the validator, the missing
//!   bytes go in segments of the local file, each fetched from the remote ranges behind it.

use crate::http_support::{Resource, Rng, Server};
use bgcopy::*;
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(60);
const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

fn whole_file() -> [BgFileRange; 1] {
    [BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }]
}

/// Ranged requests in the server's handlers at once: each waits (up to a bound) until `want` of
/// them are in, so that they overlap if the client sends them at once.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, usize)>,
    changed: Condvar,
}

impl Gate {
    /// Enters, and waits until `want` are in or `bound` passed; returns the most seen at once.
    fn enter(&self, want: usize, bound: Duration) -> usize {
        let until = Instant::now() + bound;
        let mut state = self.state.lock();
        state.0 += 1;
        state.1 = state.1.max(state.0);
        self.changed.notify_all();
        while state.1 < want && !self.changed.wait_until(&mut state, until).timed_out() {}
        state.1
    }

    fn leave(&self) {
        self.state.lock().0 -= 1;
    }

    fn most(&self) -> usize {
        self.state.lock().1
    }
}

/// An on-demand job with `connections` connections and the file at `url`, direct (no proxy).
fn on_demand_job(
    manager: &Manager,
    url: &str,
    dir: &std::path::Path,
    connections: u32,
) -> (Job, JobFile) {
    let job = manager.create_job("on demand", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.set_max_connections(connections).unwrap();
    job.add_file(url, &dir.join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    (job, file)
}

#[test]
fn an_on_demand_file_is_fetched_over_several_connections_once_its_size_is_known() {
    let data = Rng::new(71).bytes(6 * MIB as usize);
    let (server, gate) = gated(&data, 2);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, &server.url("/f"), dir.path(), 4);
    file.request_file_ranges(&whole_file()).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred, "{:?}", job.get_error().ok());
    assert!(gate.most() >= 2, "at most {} ranged requests at once", gate.most());
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("out.bin")).unwrap(), data);
    // Every byte was fetched once: the runs never overlap.
    assert_eq!(asked_bytes(&server, data.len()), data.len() as u64);
}

#[test]
fn one_connection_fetches_the_runs_one_after_another() {
    let data = Rng::new(72).bytes(3 * MIB as usize);
    // Counted, not held: with one connection nothing may overlap.
    let (server, gate) = gated(&data, 0);
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, &server.url("/f"), dir.path(), 1);
    file.request_file_ranges(&whole_file()).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred);
    assert_eq!(gate.most(), 1);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("out.bin")).unwrap(), data);
}

#[test]
fn the_file_progress_and_its_filled_ranges_count_a_run_while_it_is_fetched() {
    let data = Rng::new(73).bytes(MIB as usize);
    let resource = Resource::new(data.clone(), "v1");
    // The response stops after about 300 KiB of body for longer than the test lasts.
    let server =
        Server::start(move |request| resource.respond(request).stall(300 * KIB as usize, LONG));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, &server.url("/f"), dir.path(), 1);
    file.request_file_ranges(&whole_file()).unwrap();
    job.resume().unwrap();
    // Polled with a deadline: the bytes before the stall arrive at the server's pace, then
    // nothing moves while the run stays open; by then the three views must agree.
    let deadline = Instant::now() + LONG;
    let agree = loop {
        let job_bytes = job.get_progress().bytes_transferred;
        let file_bytes = file.get_progress().bytes_transferred;
        let filled = file.get_filled_file_ranges();
        let seen = (job_bytes, file_bytes, filled);
        let whole = [BgFileRange { initial_offset: 0, length: job_bytes }];
        if (job_bytes >= 200 * KIB && file_bytes == job_bytes && seen.2 == whole)
            || Instant::now() > deadline
        {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(agree.0 >= 200 * KIB, "only {} bytes before the stall", agree.0);
    assert_eq!(agree.1, agree.0, "the file's progress lags the job's");
    assert_eq!(agree.2, [BgFileRange { initial_offset: 0, length: agree.0 }]);
    job.cancel().unwrap();
}

/// A server of `data` that counts the requests after the first in its handlers at once and
/// holds each until `together` are in (see [`Gate`]; 0: none is held), and the gate.
fn gated(data: &[u8], together: usize) -> (Server, Arc<Gate>) {
    let resource = Resource::new(data.to_vec(), "v1");
    let gate = Arc::new(Gate::default());
    let held = Arc::clone(&gate);
    let server = Server::start(move |request| {
        // The first request tells the size; the requests after it may overlap.
        let later = request.seq > 0;
        if later {
            // A bound against a client that never sends them at once (the test's assertion
            // fails then); not a timing of the client.
            held.enter(together, Duration::from_secs(30));
        }
        let reply = resource.respond(request);
        if later {
            held.leave();
        }
        reply
    });
    (server, gate)
}

fn ranged_job(
    manager: &Manager,
    url: &str,
    local: &std::path::Path,
    ranges: &[BgFileRange],
) -> Job {
    let job = manager.create_job("ranged connections", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_max_connections(4).unwrap();
    job.add_file_with_ranges(url, local, ranges).unwrap();
    job
}

/// What the ranges select of `data`, back to back.
fn selected(data: &[u8], ranges: &[BgFileRange]) -> Vec<u8> {
    ranges
        .iter()
        .flat_map(|range| {
            let end = range.end().map_or(data.len(), |end| end as usize);
            data[range.initial_offset as usize..end].iter().copied()
        })
        .collect()
}

/// The bytes the server was asked for, summed over the bounded ranged requests of a file of
/// `len` bytes (a request past the end is cut there, as the server cuts its answer).
fn asked_bytes(server: &Server, len: usize) -> u64 {
    let last = len as u64 - 1;
    server
        .requests()
        .iter()
        .filter_map(|q| q.bounded_range())
        .map(|(first, end)| end.min(last) + 1 - first)
        .sum()
}

#[test]
fn a_ranged_file_is_fetched_over_several_connections_back_to_back_and_each_byte_once() {
    let data = Rng::new(74).bytes(9 * MIB as usize);
    let (server, gate) = gated(&data, 2);
    let ranges = [
        BgFileRange { initial_offset: 100, length: 2 * MIB },
        BgFileRange { initial_offset: 5 * MIB, length: 3 * MIB + 7 },
        BgFileRange { initial_offset: 3 * MIB, length: MIB },
    ];
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let local = dir.path().join("out.bin");
    let job = ranged_job(&manager, &server.url("/f"), &local, &ranges);
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred, "{:?}", job.get_error().ok());
    assert!(gate.most() >= 2, "at most {} ranged requests at once", gate.most());
    job.complete().unwrap();
    let want = selected(&data, &ranges);
    assert_eq!(std::fs::read(&local).unwrap(), want);
    assert_eq!(asked_bytes(&server, data.len()), want.len() as u64, "a byte was asked twice");
}

#[test]
fn a_range_to_the_end_of_the_file_is_fetched_over_several_connections() {
    let data = Rng::new(75).bytes(7 * MIB as usize + 3);
    let (server, gate) = gated(&data, 2);
    let ranges = [BgFileRange { initial_offset: 512 * KIB, length: BG_LENGTH_TO_EOF }];
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let local = dir.path().join("out.bin");
    let job = ranged_job(&manager, &server.url("/f"), &local, &ranges);
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred, "{:?}", job.get_error().ok());
    assert!(gate.most() >= 2, "at most {} ranged requests at once", gate.most());
    job.complete().unwrap();
    assert_eq!(std::fs::read(&local).unwrap(), selected(&data, &ranges));
}

#[test]
fn a_ranged_file_whose_content_changes_under_its_segments_restarts_and_ends_with_the_new_content() {
    let old = Rng::new(76).bytes(6 * MIB as usize);
    let new = Rng::new(77).bytes(6 * MIB as usize);
    let (old_resource, new_resource) = (Resource::new(old, "v1"), Resource::new(new.clone(), "v2"));
    // The first request sees the old content; every later one the new (a 200 for a stale
    // If-Range).
    let seen = Arc::new(Mutex::new(0usize));
    let count = Arc::clone(&seen);
    let server = Server::start(move |request| {
        let mut seen = count.lock();
        *seen += 1;
        if *seen == 1 { old_resource.respond(request) } else { new_resource.respond(request) }
    });
    let ranges = [BgFileRange { initial_offset: 0, length: 5 * MIB }];
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let local = dir.path().join("out.bin");
    let job = ranged_job(&manager, &server.url("/f"), &local, &ranges);
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred, "{:?}", job.get_error().ok());
    job.complete().unwrap();
    assert_eq!(std::fs::read(&local).unwrap(), selected(&new, &ranges));
}

#[test]
fn an_on_demand_file_is_fetched_from_its_new_remote_name() {
    let data = Rng::new(78).bytes(2 * MIB as usize);
    let resource = Resource::new(data.clone(), "v1");
    let (old, new) = (resource.clone().serve(), resource.serve());
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let (job, file) = on_demand_job(&manager, &old.url("/f"), dir.path(), 1);
    file.set_remote_name(&new.url("/f")).unwrap();
    file.request_file_ranges(&[BgFileRange { initial_offset: MIB, length: 100 }]).unwrap();
    job.resume().unwrap();
    job.wait_until(LONG, |s| s == BgJobState::Suspended || s.is_settled());
    assert_eq!(job.get_state(), BgJobState::Suspended, "{:?}", job.get_error().ok());
    assert!(old.requests().is_empty(), "the old name was asked: {:?}", old.requests());
    assert!(!new.requests().is_empty());
    job.cancel().unwrap();
}
