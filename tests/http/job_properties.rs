//! The Job5 properties (DESIGN 6.3, `BackgroundCopyJob5`): defaults, state rules, `E_NOTIMPL`,
//! `MaxDownloadSize` refused before a byte is written, `DynamicContent` restarting the file
//! without ranges, and their record in the store.

use crate::http_support::{Framing, Resource, Rng, Server};
use bgcopy::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn job_of(manager: &Manager) -> Job {
    let job = manager.create_job("properties", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job
}

#[test]
fn every_property_has_its_bits_default_and_reads_back_what_was_set() {
    let manager = Manager::builder().without_engine().build();
    let job = job_of(&manager);
    let get = |id| job.get_property(id).unwrap();
    assert_eq!(
        get(BgJobPropertyId::MinimumNotificationIntervalMs),
        BgJobProperty::MinimumNotificationIntervalMs(500)
    );
    assert_eq!(get(BgJobPropertyId::OnDemandMode), BgJobProperty::OnDemandMode(false));
    assert_eq!(get(BgJobPropertyId::DynamicContent), BgJobProperty::DynamicContent(false));
    assert_eq!(get(BgJobPropertyId::HighPerformance), BgJobProperty::HighPerformance(false));
    assert_eq!(get(BgJobPropertyId::MaxDownloadSize), BgJobProperty::MaxDownloadSize(0));
    assert_eq!(get(BgJobPropertyId::CostFlags), BgJobProperty::CostFlags(0x8000_007F));
    for value in [
        BgJobProperty::MinimumNotificationIntervalMs(20),
        BgJobProperty::HighPerformance(true),
        BgJobProperty::MaxDownloadSize(1234),
        BgJobProperty::CostFlags(1),
        BgJobProperty::DynamicContent(true),
    ] {
        job.set_property(value.clone()).unwrap();
        assert_eq!(job.get_property(value.id()).unwrap(), value);
    }
}

#[test]
fn notification_clsid_and_stored_credentials_are_not_implemented() {
    let manager = Manager::builder().without_engine().build();
    let job = job_of(&manager);
    for (value, id) in [
        (BgJobProperty::NotificationClsid("{0}".into()), BgJobPropertyId::NotificationClsid),
        (BgJobProperty::UseStoredCredentials(1), BgJobPropertyId::UseStoredCredentials),
    ] {
        assert_eq!(job.set_property(value).unwrap_err().hresult(), hresult::E_NOTIMPL);
        assert_eq!(job.get_property(id).unwrap_err().hresult(), hresult::E_NOTIMPL);
    }
}

#[test]
fn the_state_rules_of_bits_hold() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().without_engine().build();
    let job = job_of(&manager);
    job.add_file("https://example.com/a", &dir.path().join("a")).unwrap();
    // OnDemandMode only before files are added.
    let late = job.set_property(BgJobProperty::OnDemandMode(true)).unwrap_err();
    assert_eq!(late.hresult(), hresult::BG_E_INVALID_STATE);
    // DynamicContent only before the first resume.
    job.resume().unwrap();
    job.suspend().unwrap();
    let late = job.set_property(BgJobProperty::DynamicContent(true)).unwrap_err();
    assert_eq!(late.hresult(), hresult::BG_E_INVALID_STATE);
    job.set_property(BgJobProperty::MaxDownloadSize(10)).unwrap();
    // Not with each other, nor with ranged files.
    let both = job_of(&manager);
    both.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    let refused = both.set_property(BgJobProperty::DynamicContent(true)).unwrap_err();
    assert_eq!(refused.hresult(), hresult::E_INVALIDARG);
    let dynamic = job_of(&manager);
    dynamic.set_property(BgJobProperty::DynamicContent(true)).unwrap();
    let range = [BgFileRange { initial_offset: 0, length: 10 }];
    let refused =
        dynamic.add_file_with_ranges("https://example.com/b", &dir.path().join("b"), &range);
    assert_eq!(refused.unwrap_err().hresult(), hresult::E_INVALIDARG);
    // A final job refuses every change.
    job.cancel().unwrap();
    let final_job = job.set_property(BgJobProperty::HighPerformance(true)).unwrap_err();
    assert_eq!(final_job.hresult(), hresult::BG_E_INVALID_STATE);
}

#[test]
fn a_file_larger_than_max_download_size_is_too_large_before_a_byte_is_written() {
    let data = Rng::new(1).bytes(10_000);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = job_of(&manager);
    job.set_property(BgJobProperty::MaxDownloadSize(9_999)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("big")).unwrap();
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Error);
    assert_eq!(job.get_error().unwrap().get_error().1, hresult::BG_E_TOO_LARGE);
    assert_eq!(job.get_progress().bytes_transferred, 0);
    // At the limit exactly: transferred.
    let fits = job_of(&manager);
    fits.set_property(BgJobProperty::MaxDownloadSize(10_000)).unwrap();
    fits.add_file(&server.url("/f"), &dir.path().join("fits")).unwrap();
    fits.resume().unwrap();
    assert_eq!(fits.wait(LONG), BgJobState::Transferred);
}

#[test]
fn dynamic_content_restarts_an_interrupted_file_from_zero_without_a_range() {
    let data = Rng::new(2).bytes(100_000);
    let resource = Resource::new(data.clone(), "v1");
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = Server::start(move |request| {
        let reply = resource.respond(request).framing(Framing::Chunked);
        // The first answer is cut in the middle of its body.
        if seen.fetch_add(1, Ordering::SeqCst) == 0 { reply.cut_after(50_000) } else { reply }
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = job_of(&manager);
    job.set_property(BgJobProperty::DynamicContent(true)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("dyn")).unwrap();
    job.resume().unwrap();
    let state = job.wait_until(LONG, |s| s.is_settled() || s == BgJobState::TransientError);
    assert_eq!(state, BgJobState::TransientError);
    assert!(job.get_progress().bytes_transferred > 0);
    job.resume().unwrap();
    assert_eq!(job.wait(LONG), BgJobState::Transferred);
    job.complete().unwrap();
    assert!(std::fs::read(dir.path().join("dyn")).unwrap() == data);
    let ranges: Vec<_> =
        server.requests().iter().map(|q| q.header("range").map(str::to_owned)).collect();
    assert_eq!(ranges, [None, None], "no range asked for, the second attempt from zero");
}

#[test]
fn the_properties_are_kept_by_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let values = [
        BgJobProperty::MinimumNotificationIntervalMs(20),
        BgJobProperty::HighPerformance(true),
        BgJobProperty::MaxDownloadSize(1234),
        BgJobProperty::CostFlags(1),
        BgJobProperty::DynamicContent(true),
    ];
    let id = {
        let manager = Manager::builder().without_engine().store(&store).try_build().unwrap();
        let job = job_of(&manager);
        for value in &values {
            job.set_property(value.clone()).unwrap();
        }
        job.get_id()
    };
    let manager = Manager::builder().without_engine().store(&store).try_build().unwrap();
    let job = manager.get_job(id).unwrap();
    for value in values {
        assert_eq!(job.get_property(value.id()).unwrap(), value);
    }
}

#[test]
fn minimum_notification_interval_paces_the_progress_of_the_jobs_subscriptions() {
    // An interval longer than any test: a subscription of the job that asks for 1 ms gets one
    // paced progress (the first is due at once) while the job transfers, plus the exact figures
    // that come with each state change out of Connecting and Transferring (two).
    let data = Rng::new(3).bytes(2 << 20);
    let resource = Resource::new(data, "v1");
    let server = Server::start(move |request| {
        resource.respond(request).pace(64 * 1024, Duration::from_millis(5))
    });
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::new();
    let job = job_of(&manager);
    job.set_property(BgJobProperty::MinimumNotificationIntervalMs(u32::MAX)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("paced")).unwrap();
    let events = job.subscribe().with_progress_interval(Some(Duration::from_millis(1)));
    job.resume().unwrap();
    let mut progress = 0;
    loop {
        match events.recv_timeout(LONG).unwrap() {
            Notification::Progress { .. } => progress += 1,
            Notification::StateChanged { state: BgJobState::Transferred, .. } => break,
            _ => {}
        }
    }
    assert!(progress <= 3, "{progress} progress notifications inside one minimum interval");
}

/// A network-cost source a test turns by hand.
#[derive(Debug)]
struct FakeCost(std::sync::atomic::AtomicU32);

impl NetworkCost for FakeCost {
    fn cost_state(&self) -> u32 {
        // Relaxed: a test value read on its own.
        self.0.load(Ordering::Relaxed)
    }
}

impl FakeCost {
    fn set(&self, state: u32) {
        // Relaxed: as in `cost_state`; `network_changed` wakes the engine after the store.
        self.0.store(state, Ordering::Relaxed);
    }
}

fn costly_manager(state: u32) -> (Manager, Arc<FakeCost>) {
    let cost = Arc::new(FakeCost(std::sync::atomic::AtomicU32::new(state)));
    let manager = Manager::builder().network_cost(Arc::clone(&cost) as _).build();
    (manager, cost)
}

#[test]
fn the_default_network_cost_source_says_unrestricted() {
    assert_eq!(UnrestrictedNetwork.cost_state(), BITS_COST_STATE_UNRESTRICTED);
}

#[test]
fn a_job_whose_cost_flags_forbid_the_network_stays_queued_until_the_network_changes() {
    let data = Rng::new(5).bytes(10_000);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| resource.respond(request));
    let dir = tempfile::tempdir().unwrap();
    let (manager, cost) = costly_manager(BITS_COST_STATE_ROAMING);
    // The default policy (not roaming) forbids a roaming network.
    let job = job_of(&manager);
    job.add_file(&server.url("/f"), &dir.path().join("later")).unwrap();
    // BITS_JOB_TRANSFER_POLICY_ALWAYS allows it.
    let always = job_of(&manager);
    always.set_property(BgJobProperty::CostFlags(BITS_JOB_TRANSFER_POLICY_ALWAYS)).unwrap();
    always.add_file(&server.url("/f"), &dir.path().join("always")).unwrap();
    job.resume().unwrap();
    always.resume().unwrap();
    assert_eq!(always.wait(LONG), BgJobState::Transferred);
    let asked = server.requests().len();
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Queued);
    assert_eq!(job.get_progress().bytes_transferred, 0);
    assert_eq!(server.requests().len(), asked, "the forbidden job never went to the server");
    // A change noticed that keeps the network forbidden: still queued.
    manager.network_changed();
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Queued);
    // A queued job whose new flags allow the network runs.
    let allowed = job_of(&manager);
    allowed.add_file(&server.url("/f"), &dir.path().join("allowed")).unwrap();
    allowed.resume().unwrap();
    manager.wait_engine_pass();
    assert_eq!(allowed.get_state(), BgJobState::Queued);
    allowed.set_property(BgJobProperty::CostFlags(BITS_JOB_TRANSFER_POLICY_ALWAYS)).unwrap();
    assert_eq!(allowed.wait(LONG), BgJobState::Transferred);
    // The network becomes unrestricted: the job runs without a further resume().
    cost.set(BITS_COST_STATE_UNRESTRICTED);
    manager.network_changed();
    assert_eq!(job.wait(LONG), BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("later")).unwrap(), data);
}

#[test]
fn a_running_job_gives_its_worker_back_when_the_network_turns_forbidden() {
    let data = Rng::new(6).bytes(4 << 20);
    let resource = Resource::new(data.clone(), "v1");
    let server = Server::start(move |request| {
        resource.respond(request).pace(16 * 1024, Duration::from_millis(5))
    });
    let dir = tempfile::tempdir().unwrap();
    let (manager, cost) = costly_manager(BITS_COST_STATE_UNRESTRICTED);
    let job = job_of(&manager);
    job.set_property(BgJobProperty::CostFlags(BITS_JOB_TRANSFER_POLICY_UNRESTRICTED)).unwrap();
    job.add_file(&server.url("/f"), &dir.path().join("paused")).unwrap();
    let events = job.subscribe();
    job.resume().unwrap();
    loop {
        if let Notification::StateChanged { state: BgJobState::Transferring, .. } =
            events.recv_timeout(LONG).unwrap()
        {
            break;
        }
    }
    cost.set(BITS_COST_STATE_BELOW_CAP);
    manager.network_changed();
    assert_eq!(job.wait_until(LONG, |state| state == BgJobState::Queued), BgJobState::Queued);
    manager.wait_engine_idle();
    manager.wait_engine_pass();
    assert_eq!(job.get_state(), BgJobState::Queued);
    cost.set(BITS_COST_STATE_UNRESTRICTED);
    manager.network_changed();
    assert_eq!(job.wait(LONG), BgJobState::Transferred);
    job.complete().unwrap();
    assert_eq!(std::fs::read(dir.path().join("paused")).unwrap(), data);
}

#[test]
fn a_small_high_performance_job_takes_no_progress_checkpoint_and_a_large_one_does() {
    // Both jobs transfer slowly while the checkpointer runs every 10 ms. The small one (under
    // the 4 MiB that makes a job small) is never checkpointed; the large one is, every round.
    let small_data = Rng::new(7).bytes(2 << 20);
    let large_data = Rng::new(8).bytes(8 << 20);
    let small = Resource::new(small_data, "s1");
    let large = Resource::new(large_data, "l1");
    let server = Server::start(move |request| {
        let resource = if request.target.ends_with("small") { &small } else { &large };
        resource.respond(request).pace(16 * 1024, Duration::from_millis(20))
    });
    let store = tempfile::tempdir().unwrap();
    let small_dir = tempfile::tempdir().unwrap();
    let large_dir = tempfile::tempdir().unwrap();
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let (tx, rx) = std::sync::mpsc::channel();
    let _hook = {
        let counts = Arc::clone(&counts);
        let dirs = [small_dir.path().to_owned(), large_dir.path().to_owned()];
        crate::support::hooks::add_fault_hook(move |point, path| {
            if point != "checkpoint:synced" {
                return;
            }
            for (index, dir) in dirs.iter().enumerate() {
                if path.starts_with(dir) {
                    // Relaxed: counters read after the channel says a checkpoint happened.
                    counts[index].fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(index);
                }
            }
        })
    };
    let manager = Manager::builder()
        .store(store.path())
        .checkpoint_interval(Duration::from_millis(10))
        .build();
    let jobs: Vec<Job> = [(&small_dir, "small"), (&large_dir, "large")]
        .into_iter()
        .map(|(dir, name)| {
            let job = job_of(&manager);
            job.set_property(BgJobProperty::HighPerformance(true)).unwrap();
            job.add_file(&server.url(&format!("/{name}")), &dir.path().join(name)).unwrap();
            job
        })
        .collect();
    let small_events = jobs[0].subscribe().with_progress_interval(Some(Duration::from_millis(1)));
    for job in &jobs {
        job.resume().unwrap();
    }
    // The small job has bytes (and a known size) ...
    loop {
        match small_events.recv_timeout(LONG).unwrap() {
            Notification::Progress { progress, .. } if progress.bytes_transferred > 0 => break,
            Notification::StateChanged { state: BgJobState::Transferred, .. } => break,
            _ => {}
        }
    }
    // ... then two rounds checkpoint the large one: the second looked at the small one after
    // its bytes moved.
    let mut large_rounds = 0;
    while large_rounds < 2 {
        if rx.recv_timeout(LONG).unwrap() == 1 {
            large_rounds += 1;
        }
    }
    // Relaxed: see the hook.
    assert_eq!(
        counts[0].load(Ordering::Relaxed),
        0,
        "a small high-performance job was checkpointed"
    );
    for job in &jobs {
        job.cancel().unwrap();
    }
}
