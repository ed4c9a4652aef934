//! On-demand jobs over several connections (DESIGN 6.3 with 5.3): once a file's size is known,
//! up to the job's `max_connections` runs of it are fetched at once; the file's progress and
//! its filled ranges count a run while it is fetched.

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

#[test]
fn an_on_demand_file_is_fetched_over_several_connections_once_its_size_is_known() {
    let data = Rng::new(71).bytes(6 * MIB as usize);
    let resource = Resource::new(data.clone(), "v1");
    let gate = Arc::new(Gate::default());
    let held = Arc::clone(&gate);
    let server = Server::start(move |request| {
        // The first run (from byte 0) tells the size; the runs after it may overlap.
        let later = request.range_start().or(request.bounded_range().map(|r| r.0)).unwrap_or(0) > 0;
        if later {
            // A bound against a client that never sends two at once (the assertion below
            // fails then); not a timing of the client.
            held.enter(2, Duration::from_secs(10));
        }
        let reply = resource.respond(request);
        if later {
            held.leave();
        }
        reply
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = manager.create_job("connections", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.set_max_connections(4).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    file.request_file_ranges(&whole_file()).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred, "{:?}", job.get_error().ok());
    assert!(gate.most() >= 2, "at most {} ranged requests at once", gate.most());
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("out.bin")).unwrap(), data);
    // Every byte was fetched once: the runs never overlap.
    let asked: u64 = server
        .requests()
        .iter()
        .filter_map(|q| q.bounded_range())
        .map(|(first, last)| (last.min(data.len() as u64 - 1) + 1).saturating_sub(first))
        .sum();
    assert_eq!(asked, data.len() as u64);
}

#[test]
fn one_connection_fetches_the_runs_one_after_another() {
    let data = Rng::new(72).bytes(3 * MIB as usize);
    let resource = Resource::new(data.clone(), "v1");
    let gate = Arc::new(Gate::default());
    let held = Arc::clone(&gate);
    let server = Server::start(move |request| {
        // Counted, not held: with one connection nothing may overlap.
        held.enter(0, Duration::ZERO);
        let reply = resource.respond(request);
        held.leave();
        reply
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = manager.create_job("one connection", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
    job.enum_files()[0].request_file_ranges(&whole_file()).unwrap();
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
    let job = manager.create_job("a run", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
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
