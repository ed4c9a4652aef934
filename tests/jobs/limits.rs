//! Connections and bandwidth caps (DESIGN 5.3): the setters' rules, the caps measured on the
//! manager's injectable clock through the driver API (a driver of its own asks how long to wait
//! instead of being put to sleep), the manager's cap shared by priority, and a writer waiting
//! for tokens that stays prompt to a suspend and to a cap change.

use bgcopy::clock::{Clock, ManualClock};
use bgcopy::transport::{TransferError, TransferSink};
use bgcopy::*;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{kernel_thread_id, wait_for_wall_clock_past, wait_until_blocked};

fn manager_on(clock: &Arc<ManualClock>, manager_cap: Option<u64>) -> Manager {
    let mut builder = Manager::builder().without_engine().clock(clock.clone());
    if let Some(cap) = manager_cap {
        builder = builder.max_bytes_per_second(cap);
    }
    builder.build()
}

fn job_in(manager: &Manager, dir: &std::path::Path, name: &str) -> Job {
    let job = manager.create_job(name, BgJobType::Download).unwrap();
    job.add_file("https://example.com/a.bin", &dir.join(format!("{name}.bin"))).unwrap();
    job
}

#[test]
fn the_setters_follow_the_rules_of_every_setter() {
    let manager = Manager::builder().without_engine().build();
    let job = manager.create_job("limits", BgJobType::Download).unwrap();
    assert_eq!((job.get_max_connections(), job.get_max_bytes_per_second()), (1, None));
    for bad in [0, 17, u32::MAX] {
        let error = job.set_max_connections(bad).unwrap_err();
        assert_eq!(error.hresult(), hresult::E_INVALIDARG, "{bad}");
    }
    assert_eq!(job.set_max_bytes_per_second(Some(0)).unwrap_err().hresult(), hresult::E_INVALIDARG);
    assert_eq!((job.get_max_connections(), job.get_max_bytes_per_second()), (1, None));
    job.set_max_connections(16).unwrap();
    job.set_max_bytes_per_second(Some(1)).unwrap();
    let modified = job.get_times().modification_time;
    wait_for_wall_clock_past(modified);
    job.set_max_connections(2).unwrap();
    assert!(job.get_times().modification_time > modified, "a change of the job");
    job.cancel().unwrap();
    let refused = job.set_max_connections(3).unwrap_err();
    assert_eq!(refused.hresult(), hresult::BG_E_INVALID_STATE);
    let refused = job.set_max_bytes_per_second(None).unwrap_err();
    assert_eq!(refused.hresult(), hresult::BG_E_INVALID_STATE);
    assert_eq!((job.get_max_connections(), job.get_max_bytes_per_second()), (2, Some(1)));
}

#[cfg(feature = "store")]
#[test]
fn connections_and_caps_survive_a_reopened_store() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let manager = Manager::builder().without_engine().store(dir.path()).try_build().unwrap();
        let job = manager.create_job("kept", BgJobType::Download).unwrap();
        job.set_max_connections(6).unwrap();
        job.set_max_bytes_per_second(Some(123_456)).unwrap();
        job.get_id()
    };
    let manager = Manager::builder().without_engine().store(dir.path()).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    assert_eq!((job.get_max_connections(), job.get_max_bytes_per_second()), (6, Some(123_456)));
}

/// Asks for `want` bytes at a time until `total` were granted, advancing `clock` by each wait;
/// checks after every grant that the bytes stay within `cap` per second plus a quarter
/// second's burst. Returns the clock time it took.
fn drain_with_clock(
    transfer: &FileTransfer,
    clock: &ManualClock,
    cap: u64,
    want: u64,
    total: u64,
) -> Duration {
    let start = clock.now();
    let mut granted = 0;
    while granted < total {
        match transfer.reserve_bandwidth(want) {
            Ok(n) => {
                assert!(n >= 1 && n <= want);
                granted += n;
                let elapsed = (clock.now() - start).as_secs_f64();
                let bound = cap as f64 * elapsed + cap as f64 / 4.0;
                assert!(granted as f64 <= bound + 1.0, "{granted} bytes after {elapsed} s");
            }
            Err(wait) => {
                assert!(wait > Duration::ZERO);
                clock.advance(wait);
            }
        }
    }
    clock.now() - start
}

#[test]
fn a_jobs_cap_holds_on_the_clock_and_a_driver_is_told_how_long_to_wait() {
    let clock = Arc::new(ManualClock::new());
    let manager = manager_on(&clock, None);
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "capped");
    job.set_max_bytes_per_second(Some(100_000)).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let transfer = driver.open_file(0).unwrap();
    let took = drain_with_clock(&transfer, &clock, 100_000, 16 * 1024, 1_000_000);
    // 1 MB at 100 kB/s, less the first burst: about ten seconds of clock, and no real time.
    assert!(
        took >= Duration::from_millis(9_700) && took <= Duration::from_millis(10_100),
        "{took:?}"
    );
}

#[test]
fn a_cap_changed_while_transferring_applies_at_the_next_grant() {
    let clock = Arc::new(ManualClock::new());
    let manager = manager_on(&clock, None);
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "changing");
    job.set_max_bytes_per_second(Some(10_000)).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let transfer = driver.open_file(0).unwrap();
    drain_with_clock(&transfer, &clock, 10_000, 1000, 20_000);
    job.set_max_bytes_per_second(Some(1_000_000)).unwrap();
    let took = drain_with_clock(&transfer, &clock, 1_000_000, 10_000, 2_000_000);
    assert!(took <= Duration::from_millis(2_100), "the higher cap at once: {took:?}");
    job.set_max_bytes_per_second(None).unwrap();
    assert_eq!(transfer.reserve_bandwidth(u64::MAX), Ok(u64::MAX), "no cap: all at once");
}

#[test]
fn the_managers_cap_bounds_all_jobs_together_and_gives_higher_priorities_more() {
    let clock = Arc::new(ManualClock::new());
    let cap = 200_000;
    let manager = manager_on(&clock, Some(cap));
    let dir = tempfile::tempdir().unwrap();
    let foreground = job_in(&manager, dir.path(), "foreground");
    foreground.set_priority(BgJobPriority::Foreground).unwrap();
    let normal = job_in(&manager, dir.path(), "normal");
    assert_eq!(normal.get_max_bytes_per_second(), None, "a job reports only its own cap");
    let transfers: Vec<_> = [&foreground, &normal]
        .iter()
        .map(|job| {
            job.resume().unwrap();
            let driver = job.claim().unwrap();
            let transfer = driver.open_file(0).unwrap();
            (driver, transfer)
        })
        .collect();
    let mut granted = [0u64; 2];
    let start = clock.now();
    // Both ask every millisecond for ten seconds of clock.
    for _ in 0..10_000 {
        for (i, (_, transfer)) in transfers.iter().enumerate() {
            if let Ok(n) = transfer.reserve_bandwidth(4096) {
                granted[i] += n;
            }
        }
        clock.advance(Duration::from_millis(1));
        let elapsed = (clock.now() - start).as_secs_f64();
        let total = (granted[0] + granted[1]) as f64;
        assert!(total <= cap as f64 * elapsed + cap as f64 / 4.0 + 1.0, "{granted:?} at {elapsed}");
    }
    let total = granted[0] + granted[1];
    assert!(total >= cap * 95 / 10, "the cap is used: {granted:?}");
    // Weights 8 (Foreground) and 2 (Normal): four to one.
    let ratio = granted[0] as f64 / granted[1] as f64;
    assert!((3.5..=4.5).contains(&ratio), "{granted:?}: {ratio}");
}

#[test]
fn a_job_alone_under_the_managers_cap_gets_all_of_it_and_zero_means_no_cap() {
    let clock = Arc::new(ManualClock::new());
    let manager = manager_on(&clock, Some(50_000));
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "alone");
    job.set_priority(BgJobPriority::Low).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let transfer = driver.open_file(0).unwrap();
    let took = drain_with_clock(&transfer, &clock, 50_000, 4096, 500_000);
    assert!(took <= Duration::from_millis(10_100), "{took:?}");

    let uncapped = Manager::builder().without_engine().max_bytes_per_second(0).build();
    let job = job_in(&uncapped, dir.path(), "free");
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let transfer = driver.open_file(0).unwrap();
    assert_eq!(transfer.reserve_bandwidth(1 << 40), Ok(1 << 40));
}

/// A writer blocked on tokens (a real clock, a cap of 1 byte per second) is released by `act`
/// within a second; returns what its write returned.
fn blocked_writer_released_by(act: impl FnOnce(&Job)) -> Result<(), TransferError> {
    let manager = Manager::builder().without_engine().build();
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "blocked");
    job.set_max_bytes_per_second(Some(1)).unwrap();
    job.resume().unwrap();
    let (started, writer_id) = std::sync::mpsc::channel();
    let writer = {
        let job = job.clone();
        thread::spawn(move || {
            started.send(kernel_thread_id()).unwrap();
            let driver = job.claim().unwrap();
            driver.connected().unwrap();
            let mut transfer = driver.open_file(0).unwrap();
            // The first grant is the burst (0.25 bytes rounds to 1); the rest waits.
            let result = transfer.write(&[7u8; 64]);
            if result.is_ok() {
                transfer.finish().unwrap();
                driver.finish().unwrap();
            }
            result
        })
    };
    // The writer has its first grant and is blocked, waiting for the next tokens.
    let writer_id = writer_id.recv().unwrap();
    wait_until_blocked(writer_id, || job.get_progress().bytes_transferred > 0);
    assert!(!writer.is_finished(), "the writer waits for tokens");
    let acted = Instant::now();
    act(&job);
    let result = writer.join().unwrap();
    // Far from what a busy machine can add, and far below the minute the writer would wait for
    // its tokens if nothing woke it (64 bytes at 1 byte per second).
    assert!(acted.elapsed() < Duration::from_secs(30), "released in {:?}", acted.elapsed());
    result
}

#[test]
fn a_suspend_is_prompt_while_a_transfer_waits_for_tokens() {
    let result = blocked_writer_released_by(|job| job.suspend().unwrap());
    assert!(matches!(result, Err(TransferError::Stopped)), "{result:?}");
}

#[test]
fn a_cancel_is_prompt_while_a_transfer_waits_for_tokens() {
    let result = blocked_writer_released_by(|job| {
        job.cancel().unwrap();
    });
    assert!(matches!(result, Err(TransferError::Stopped)), "{result:?}");
}

#[test]
fn removing_the_cap_releases_a_waiting_transfer() {
    let result = blocked_writer_released_by(|job| job.set_max_bytes_per_second(None).unwrap());
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_lowered_connection_count_holds_back_the_next_range() {
    let manager = Manager::builder().without_engine().build();
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "segments");
    job.set_max_connections(3).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(8 << 20)).unwrap();
    transfer.set_validator(Some("\"v1\"".to_owned()));
    let segmented = transfer.segmented().expect("size, validator and 3 connections");
    let first = segmented.segment_at(0).expect("the range from 0");
    let second = segmented.next_segment().expect("a second connection");
    let third = segmented.next_segment().expect("a third");
    assert!(segmented.next_segment().is_none(), "three at most");
    assert_eq!(segmented.active(), 3);
    job.set_max_connections(1).unwrap();
    drop(third);
    assert!(segmented.next_segment().is_none(), "two still run: none for a third");
    drop(second);
    assert!(segmented.next_segment().is_none(), "one still runs");
    drop(first);
    let next = segmented.next_segment().expect("alone now: the next range");
    assert_eq!(segmented.active(), 1);
    assert!(next.end() > next.position());
    // Ranges are disjoint and cover the file: nothing was written, so nothing is complete.
    assert!(!segmented.complete());
}

/// R5: a clock at its end (`ManualClock::advance(Duration::MAX)`, or any `Clock` that says
/// `Duration::MAX`) never makes a capped writer panic: it is told to wait or given bytes.
#[test]
fn a_clock_at_duration_max_never_panics_a_capped_writer() {
    let clock = Arc::new(ManualClock::new());
    clock.advance(Duration::MAX);
    let manager = manager_on(&clock, Some(1000));
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(&manager, dir.path(), "at the end of time");
    job.set_max_bytes_per_second(Some(100)).unwrap();
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let transfer = driver.open_file(0).unwrap();
    for _ in 0..10 {
        match transfer.reserve_bandwidth(10_000) {
            Ok(n) => assert!((1..=10_000).contains(&n)),
            Err(wait) => assert!(wait > Duration::ZERO),
        }
        clock.advance(Duration::MAX);
    }
}

/// Runs `job` (resumed already) on an engine whose clock is `clock`, advancing the clock in
/// small steps until the job stops transferring, and checks after every step that its bytes
/// stay within `cap` per second of clock plus a quarter second's burst (an upper bound only: a
/// slow machine makes the job take more clock, never more bytes).
fn run_capped(job: &Job, clock: &ManualClock, cap: u64) -> BgJobState {
    let start = clock.now();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let bytes = job.get_progress().bytes_transferred;
        let elapsed = (clock.now() - start).as_secs_f64();
        let bound = cap as f64 * elapsed + cap as f64 / 4.0;
        assert!(bytes as f64 <= bound + 1.0, "{bytes} bytes after {elapsed} s of clock");
        let state = job.get_state();
        if matches!(state, BgJobState::Suspended | BgJobState::Transferred | BgJobState::Error) {
            return state;
        }
        assert!(Instant::now() < deadline, "the job never finished: {:?}", job.get_progress());
        clock.advance(Duration::from_millis(20));
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_jobs_cap_holds_for_on_demand_runs_and_for_ranged_files_in_segments() {
    const CAP: u64 = 2_000_000;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let data: Vec<u8> = (0..6_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &data).unwrap();
    let clock = Arc::new(ManualClock::new());
    let manager = Manager::builder().clock(clock.clone()).build();
    let range = |initial_offset, length| BgFileRange { initial_offset, length };

    let on_demand = manager.create_job("on demand", BgJobType::Download).unwrap();
    on_demand.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    on_demand.set_max_connections(4).unwrap();
    on_demand.set_max_bytes_per_second(Some(CAP)).unwrap();
    on_demand.add_file(source.to_str().unwrap(), &dir.path().join("a.bin")).unwrap();
    let file = on_demand.enum_files().remove(0);
    file.request_file_ranges(&[range(0, 2_500_000)]).unwrap();
    on_demand.resume().unwrap();
    assert_eq!(run_capped(&on_demand, &clock, CAP), BgJobState::Suspended);
    assert_eq!(file.get_filled_file_ranges(), [range(0, 2_500_000)]);
    on_demand.cancel().unwrap();

    let ranged = manager.create_job("ranged", BgJobType::Download).unwrap();
    ranged.set_max_connections(4).unwrap();
    ranged.set_max_bytes_per_second(Some(CAP)).unwrap();
    // 5 MB locally: after the first 1 MiB, the rest is enough for segments.
    let ranges = [range(100, 2_000_000), range(3_000_000, BG_LENGTH_TO_EOF)];
    let local = dir.path().join("b.bin");
    ranged.add_file_with_ranges(source.to_str().unwrap(), &local, &ranges).unwrap();
    ranged.resume().unwrap();
    assert_eq!(run_capped(&ranged, &clock, CAP), BgJobState::Transferred);
    ranged.complete().unwrap();
    let mut want = data[100..2_000_100].to_vec();
    want.extend_from_slice(&data[3_000_000..]);
    assert_eq!(std::fs::read(&local).unwrap(), want);
}
