//! Job properties (spec sections 1.2, 2.3, 5.1; DESIGN sections 3 and 4): every default, every
//! setter's round trip and errors, the modification time, and ownership.

use crate::support;

use bgcopy::transport::TransferSink;
use bgcopy::*;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use support::*;

fn owned_manager(owner: &str) -> Manager {
    Manager::builder().without_engine().owner(owner).build()
}

// ---- defaults -----------------------------------------------------------------------------

#[test]
fn a_new_job_has_the_bits_defaults() {
    let manager = owned_manager("alice");
    let before = SystemTime::now();
    let job = manager.create_job("defaults", BgJobType::Download).unwrap();
    let after = SystemTime::now();
    assert_eq!(job.get_display_name(), "defaults");
    assert_eq!(job.get_type(), BgJobType::Download);
    assert_eq!(job.get_state(), BgJobState::Suspended);
    assert_eq!(job.get_priority(), BgJobPriority::Normal);
    assert_eq!(job.get_notify_flags().bits(), 0x3);
    assert_eq!(job.get_notify_flags(), BgNotify::JOB_TRANSFERRED | BgNotify::JOB_ERROR);
    assert!(job.get_notify_interface().is_none());
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(600));
    assert_eq!(job.get_no_progress_timeout(), Duration::from_secs(1_209_600));
    assert_eq!(
        job.get_proxy_settings(),
        BgProxySettings { usage: BgJobProxyUsage::Preconfig, proxy_list: None, bypass_list: None }
    );
    assert_eq!(job.get_description(), "");
    assert_eq!(job.get_error_count(), 0);
    assert_eq!(job.get_owner(), "alice");
    let times = job.get_times();
    assert!(before <= times.creation_time && times.creation_time <= after, "{times:?}");
    assert!(times.modification_time >= times.creation_time);
    assert!(times.modification_time <= after);
    assert_eq!(times.transfer_completion_time, None);
}

#[test]
fn the_default_owner_is_the_builders_owner_or_the_current_user() {
    assert_eq!(
        owned_manager("svc").create_job("x", BgJobType::Download).unwrap().get_owner(),
        "svc"
    );
    let manager = support::manager();
    let job = manager.create_job("x", BgJobType::Download).unwrap();
    assert_eq!(job.get_owner(), manager.owner());
    assert!(!job.get_owner().is_empty());
}

#[test]
fn transfer_completion_time_is_none_until_the_job_is_transferred() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    transfer_file(&driver, 0, b"first");
    assert_eq!(job.get_times().transfer_completion_time, None, "one file is not a job");
    transfer_file(&driver, 1, b"second");
    assert_eq!(job.get_times().transfer_completion_time, None, "not before driver.finish()");
    let before = SystemTime::now();
    driver.finish().unwrap();
    let after = SystemTime::now();
    let done = job.get_times().transfer_completion_time.expect("set on entering Transferred");
    assert!(before <= done && done <= after);
    job.complete().unwrap();
    assert_eq!(job.get_times().transfer_completion_time, Some(done), "kept after complete()");
}

#[test]
fn transfer_completion_time_is_cleared_when_the_job_is_queued_again() {
    for suspend_first in [false, true] {
        let fx = Fixture::new();
        let job = fx.job_with_files(1);
        run_to_transferred(&job);
        let first = job.get_times().transfer_completion_time.expect("transferred");
        fx.add(&job, 1);
        if suspend_first {
            job.suspend().unwrap();
            assert_eq!(
                job.get_times().transfer_completion_time,
                Some(first),
                "kept while suspended"
            );
        }
        job.resume().unwrap();
        assert_eq!(
            job.get_times().transfer_completion_time,
            None,
            "suspend first: {suspend_first}"
        );
        clock_after(first);
        let driver = claim_connected(&job);
        transfer_remaining(&driver);
        driver.finish().unwrap();
        let second = job.get_times().transfer_completion_time.expect("transferred again");
        assert!(second > first);
    }
}

// ---- setters ------------------------------------------------------------------------------

#[test]
fn set_display_name_round_trips_up_to_256_characters() {
    let job = support::manager().create_job("old", BgJobType::Download).unwrap();
    for name in ["new", "", "名前", &"n".repeat(256)] {
        job.set_display_name(name).unwrap();
        assert_eq!(job.get_display_name(), name);
    }
}

#[test]
fn set_display_name_over_256_characters_is_string_too_long_and_changes_nothing() {
    let job = support::manager().create_job("old", BgJobType::Download).unwrap();
    let time = modification_time_settled(&job);
    let err = job.set_display_name(&"n".repeat(257)).unwrap_err();
    assert!(matches!(err, BgError::StringTooLong { len: 257, max: 256, .. }), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_STRING_TOO_LONG);
    assert_eq!(job.get_display_name(), "old");
    assert_eq!(job.get_times().modification_time, time);
    let err = job.set_display_name("a\0b").unwrap_err();
    assert_eq!(err.hresult(), hresult::E_INVALIDARG);
    assert_eq!(job.get_display_name(), "old");
}

#[test]
fn set_description_round_trips_up_to_1024_characters() {
    let job = support::manager().create_job("d", BgJobType::Download).unwrap();
    for text in ["nightly backup", "", &"d".repeat(1024)] {
        job.set_description(text).unwrap();
        assert_eq!(job.get_description(), text);
    }
}

#[test]
fn set_description_over_1024_characters_is_string_too_long_and_changes_nothing() {
    let job = support::manager().create_job("d", BgJobType::Download).unwrap();
    job.set_description("kept").unwrap();
    let time = modification_time_settled(&job);
    let err = job.set_description(&"d".repeat(1025)).unwrap_err();
    assert!(matches!(err, BgError::StringTooLong { len: 1025, max: 1024, .. }), "{err:?}");
    assert_eq!(err.hresult(), hresult::BG_E_STRING_TOO_LONG);
    assert_eq!(job.get_description(), "kept");
    assert_eq!(job.get_times().modification_time, time);
    assert_eq!(job.set_description("a\0b").unwrap_err().hresult(), hresult::E_INVALIDARG);
    assert_eq!(job.get_description(), "kept");
}

#[test]
fn set_priority_round_trips_every_priority() {
    let job = support::manager().create_job("p", BgJobType::Download).unwrap();
    for priority in
        [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Low, BgJobPriority::Normal]
    {
        job.set_priority(priority).unwrap();
        assert_eq!(job.get_priority(), priority);
    }
}

#[test]
fn set_notify_flags_round_trips_every_defined_combination() {
    let job = support::manager().create_job("n", BgJobType::Download).unwrap();
    for bits in 0..=0x1F {
        let flags = BgNotify::from_bits(bits).expect("defined bits");
        job.set_notify_flags(flags).unwrap();
        assert_eq!(job.get_notify_flags().bits(), bits);
    }
}

#[test]
fn set_notify_flags_with_undefined_bits_is_not_implemented_and_changes_nothing() {
    let job = support::manager().create_job("n", BgJobType::Download).unwrap();
    job.set_notify_flags(BgNotify::JOB_MODIFICATION).unwrap();
    let time = modification_time_settled(&job);
    for bits in [0x20, 0x40, 0x8000_0000, 0x3F, 0xFFFF_FFFF] {
        let err = job.set_notify_flags(BgNotify::from_bits_retain(bits)).unwrap_err();
        assert!(matches!(err, BgError::NotImplemented(_)), "{bits:#x}: {err:?}");
        assert_eq!(err.hresult(), hresult::E_NOTIMPL);
        assert_eq!(job.get_notify_flags(), BgNotify::JOB_MODIFICATION);
    }
    assert_eq!(job.get_times().modification_time, time);
}

#[derive(Debug)]
struct Named;
impl BackgroundCopyCallback for Named {}

#[test]
fn set_notify_interface_round_trips_and_the_last_registration_wins() {
    let job = support::manager().create_job("cb", BgJobType::Download).unwrap();
    let first: Arc<dyn BackgroundCopyCallback> = Arc::new(Named);
    let second: Arc<dyn BackgroundCopyCallback> = Arc::new(Named);
    job.set_notify_interface(Some(Arc::clone(&first))).unwrap();
    assert!(Arc::ptr_eq(&job.get_notify_interface().unwrap(), &first));
    job.set_notify_interface(Some(Arc::clone(&second))).unwrap();
    assert!(Arc::ptr_eq(&job.get_notify_interface().unwrap(), &second));
    job.set_notify_interface(None).unwrap();
    assert!(job.get_notify_interface().is_none());
}

#[test]
fn set_minimum_retry_delay_round_trips_whole_seconds() {
    let job = support::manager().create_job("r", BgJobType::Download).unwrap();
    for (set, get) in [(5, 5), (6, 6), (60, 60), (86_400, 86_400)] {
        job.set_minimum_retry_delay(Duration::from_secs(set)).unwrap();
        assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(get));
    }
    job.set_minimum_retry_delay(Duration::from_millis(90_500)).unwrap();
    assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(90), "fractions are dropped");
}

#[test]
fn minimum_retry_delay_below_5_seconds_is_raised_to_5() {
    let job = support::manager().create_job("r", BgJobType::Download).unwrap();
    for millis in [0, 1, 1000, 4000, 4999] {
        job.set_minimum_retry_delay(Duration::from_millis(millis)).unwrap();
        assert_eq!(job.get_minimum_retry_delay(), Duration::from_secs(5), "{millis} ms");
    }
}

#[test]
fn set_no_progress_timeout_round_trips_including_zero() {
    let job = support::manager().create_job("t", BgJobType::Download).unwrap();
    for secs in [0, 1, 3600, 1_209_600, u64::from(u32::MAX)] {
        job.set_no_progress_timeout(Duration::from_secs(secs)).unwrap();
        assert_eq!(job.get_no_progress_timeout(), Duration::from_secs(secs));
    }
}

#[test]
fn set_proxy_settings_round_trips_every_usage() {
    let job = support::manager().create_job("px", BgJobType::Download).unwrap();
    for usage in [BgJobProxyUsage::NoProxy, BgJobProxyUsage::Autodetect, BgJobProxyUsage::Preconfig]
    {
        job.set_proxy_settings(usage, None, None).unwrap();
        assert_eq!(
            job.get_proxy_settings(),
            BgProxySettings { usage, proxy_list: None, bypass_list: None }
        );
    }
    job.set_proxy_settings(
        BgJobProxyUsage::Override,
        Some("http=proxy:8080 https=proxy:8443"),
        Some("<local> *.internal"),
    )
    .unwrap();
    assert_eq!(
        job.get_proxy_settings(),
        BgProxySettings {
            usage: BgJobProxyUsage::Override,
            proxy_list: Some("http=proxy:8080 https=proxy:8443".into()),
            bypass_list: Some("<local> *.internal".into()),
        }
    );
    job.set_proxy_settings(BgJobProxyUsage::Override, Some("proxy:3128"), None).unwrap();
    assert_eq!(job.get_proxy_settings().bypass_list, None, "a new call replaces both lists");
    assert_eq!(job.get_proxy_settings().proxy_list.as_deref(), Some("proxy:3128"));
}

/// Asserts that `set_proxy_settings(usage, proxy, bypass)` fails with `hresult` and leaves the
/// settings as they were.
fn assert_proxy_rejected(
    usage: BgJobProxyUsage,
    proxy: Option<&str>,
    bypass: Option<&str>,
    hresult: u32,
) {
    let job = support::manager().create_job("px", BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    let time = modification_time_settled(&job);
    let err = job.set_proxy_settings(usage, proxy, bypass).unwrap_err();
    assert_eq!(err.hresult(), hresult, "{usage:?} {proxy:?} {bypass:?}: {err:?}");
    assert_eq!(job.get_proxy_settings().usage, BgJobProxyUsage::NoProxy);
    assert_eq!(job.get_times().modification_time, time);
}

#[test]
fn proxy_lists_are_only_allowed_with_override() {
    for usage in [BgJobProxyUsage::Preconfig, BgJobProxyUsage::NoProxy, BgJobProxyUsage::Autodetect]
    {
        assert_proxy_rejected(usage, Some("proxy:8080"), None, hresult::E_INVALIDARG);
        assert_proxy_rejected(usage, None, Some("<local>"), hresult::E_INVALIDARG);
        assert_proxy_rejected(usage, Some("proxy:8080"), Some("<local>"), hresult::E_INVALIDARG);
    }
}

#[test]
fn override_needs_a_proxy_list() {
    assert_proxy_rejected(BgJobProxyUsage::Override, None, None, hresult::E_INVALIDARG);
    assert_proxy_rejected(BgJobProxyUsage::Override, None, Some("<local>"), hresult::E_INVALIDARG);
    assert_proxy_rejected(BgJobProxyUsage::Override, Some(""), None, hresult::E_INVALIDARG);
}

#[test]
fn a_proxy_list_over_4000_characters_is_proxy_list_too_large() {
    let long = "p".repeat(4001);
    assert_proxy_rejected(
        BgJobProxyUsage::Override,
        Some(&long),
        None,
        hresult::BG_E_PROXY_LIST_TOO_LARGE,
    );
    let job = support::manager().create_job("px", BgJobType::Download).unwrap();
    let err = job.set_proxy_settings(BgJobProxyUsage::Override, Some(&long), None).unwrap_err();
    assert!(matches!(err, BgError::ProxyListTooLarge { len: 4001, max: 4000 }), "{err:?}");
    job.set_proxy_settings(BgJobProxyUsage::Override, Some(&"p".repeat(4000)), None)
        .expect("4000 characters are allowed");
}

#[test]
fn a_bypass_list_over_4000_characters_is_proxy_bypass_list_too_large() {
    let long = "b".repeat(4001);
    assert_proxy_rejected(
        BgJobProxyUsage::Override,
        Some("proxy:8080"),
        Some(&long),
        hresult::BG_E_PROXY_BYPASS_LIST_TOO_LARGE,
    );
    let job = support::manager().create_job("px", BgJobType::Download).unwrap();
    let err =
        job.set_proxy_settings(BgJobProxyUsage::Override, Some("p:1"), Some(&long)).unwrap_err();
    assert!(matches!(err, BgError::ProxyBypassListTooLarge { len: 4001, max: 4000 }), "{err:?}");
    job.set_proxy_settings(BgJobProxyUsage::Override, Some("p:1"), Some(&"b".repeat(4000)))
        .expect("4000 characters are allowed");
}

// ---- modification time --------------------------------------------------------------------

/// Asserts that `change` moves the modification time forward.
fn assert_touches(job: &Job, what: &str, change: impl FnOnce()) {
    let before = modification_time_settled(job);
    change();
    let after = job.get_times().modification_time;
    assert!(after > before, "{what} must update the modification time");
}

#[test]
fn modification_time_changes_on_every_setter() {
    let job = support::manager().create_job("m", BgJobType::Download).unwrap();
    let created = job.get_times().creation_time;
    assert_touches(&job, "set_display_name", || job.set_display_name("x").unwrap());
    assert_touches(&job, "set_description", || job.set_description("x").unwrap());
    assert_touches(&job, "set_priority", || job.set_priority(BgJobPriority::Low).unwrap());
    assert_touches(&job, "set_notify_flags", || job.set_notify_flags(BgNotify::empty()).unwrap());
    assert_touches(&job, "set_notify_interface", || {
        job.set_notify_interface(Some(Arc::new(NoopCallback))).unwrap()
    });
    assert_touches(&job, "set_minimum_retry_delay", || {
        job.set_minimum_retry_delay(Duration::from_secs(30)).unwrap()
    });
    assert_touches(&job, "set_no_progress_timeout", || {
        job.set_no_progress_timeout(Duration::from_secs(30)).unwrap()
    });
    assert_touches(&job, "set_proxy_settings", || {
        job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap()
    });
    assert_touches(&job, "take_ownership", || job.take_ownership().unwrap());
    assert_eq!(job.get_times().creation_time, created, "the creation time never changes");
}

#[test]
fn modification_time_changes_on_add_file_state_changes_and_file_finish() {
    let fx = Fixture::new();
    let job = fx.job();
    assert_touches(&job, "add_file", || fx.add(&job, 0));
    assert_touches(&job, "add_file_set", || {
        job.add_file_set(&[BgFileInfo::new(remote(1), fx.local(1))]).unwrap()
    });
    assert_touches(&job, "resume", || job.resume().unwrap());
    assert_touches(&job, "suspend", || job.suspend().unwrap());
    job.resume().unwrap();
    let driver = job.claim().unwrap();
    let time = modification_time_settled(&job);
    driver.connected().unwrap();
    assert!(job.get_times().modification_time > time, "connected");
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(4)).unwrap();
    transfer.write(b"ab").unwrap();
    let time = modification_time_settled(&job);
    transfer.write(b"cd").unwrap();
    assert_eq!(job.get_times().modification_time, time, "a byte write is not a modification");
    transfer.finish().unwrap();
    assert!(job.get_times().modification_time > time, "a file finishing is a modification");
    let time = modification_time_settled(&job);
    driver.fail(transient(hresult::BG_E_CONNECTION_CLOSED), Some(1)).unwrap();
    assert!(job.get_times().modification_time > time, "entering TransientError");
    assert_touches(&job, "retry_now", || job.retry_now().unwrap());
    let driver = job.claim().unwrap();
    driver.connected().unwrap();
    transfer_remaining(&driver);
    let time = modification_time_settled(&job);
    driver.finish().unwrap();
    assert!(job.get_times().modification_time > time, "entering Transferred");
    assert_touches(&job, "complete", || assert_eq!(job.complete().unwrap(), BgSuccess::Ok));
}

#[test]
fn modification_time_changes_on_cancel_and_entering_error() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let time = modification_time_settled(&job);
    driver.fail(fatal(hresult::E_ACCESSDENIED), Some(0)).unwrap();
    assert!(job.get_times().modification_time > time, "entering Error");
    assert_touches(&job, "cancel", || assert_eq!(job.cancel().unwrap(), BgSuccess::Ok));
}

#[test]
fn a_refused_call_does_not_change_the_modification_time() {
    let fx = Fixture::new();
    let job = fx.job();
    let time = modification_time_settled(&job);
    assert!(job.resume().is_err());
    assert!(job.add_file("ftp://x/y", &fx.local(0)).is_err());
    assert!(job.set_display_name(&"n".repeat(300)).is_err());
    assert!(job.set_proxy_settings(BgJobProxyUsage::Override, None, None).is_err());
    assert_eq!(job.get_times().modification_time, time);
}

#[test]
fn an_accepted_call_that_changes_nothing_does_not_change_the_modification_time() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let time = modification_time_settled(&job);
    job.suspend().unwrap();
    assert_eq!(job.get_times().modification_time, time, "suspend while suspended");
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let time = modification_time_settled(&job);
    job.resume().unwrap();
    assert_eq!(job.get_times().modification_time, time, "resume while transferring");
    driver.connected().unwrap();
    assert_eq!(job.get_times().modification_time, time, "a second connected()");
    assert_eq!(job.get_state(), BgJobState::Transferring);
}

// ---- ownership ----------------------------------------------------------------------------

#[test]
fn take_ownership_makes_the_caller_the_owner() {
    let alice = owned_manager("alice");
    let job = alice.create_job("shared", BgJobType::Download).unwrap();
    assert_eq!(job.get_owner(), "alice");
    let bob = alice.as_owner("bob");
    assert!(bob.enum_jobs().is_empty(), "bob sees only his own jobs");
    let bobs_handle = bob.get_job(job.get_id()).expect("get_job finds every owner's job");
    bobs_handle.take_ownership().unwrap();
    assert_eq!(job.get_owner(), "bob", "every handle sees the new owner");
    assert_eq!(bobs_handle.get_owner(), "bob");
    assert!(alice.enum_jobs().is_empty());
    let listed: Vec<JobId> = bob.enum_jobs().iter().map(|j| j.get_id()).collect();
    assert_eq!(listed, vec![job.get_id()]);
    // Taking it back through alice's handle.
    job.take_ownership().unwrap();
    assert_eq!(bobs_handle.get_owner(), "alice");
}

#[test]
fn take_ownership_by_the_owner_keeps_the_owner() {
    let alice = owned_manager("alice");
    let job = alice.create_job("mine", BgJobType::Download).unwrap();
    job.take_ownership().unwrap();
    assert_eq!(job.get_owner(), "alice");
    assert_eq!(alice.enum_jobs().len(), 1);
}

#[test]
fn enum_all_jobs_lists_every_owners_jobs_in_creation_order() {
    let alice = owned_manager("alice");
    let a = alice.create_job("a", BgJobType::Download).unwrap();
    let b = alice.as_owner("bob").create_job("b", BgJobType::Download).unwrap();
    let c = alice.create_job("c", BgJobType::Download).unwrap();
    let all: Vec<JobId> = alice.enum_all_jobs().iter().map(|j| j.get_id()).collect();
    assert_eq!(all, vec![a.get_id(), b.get_id(), c.get_id()]);
    assert_eq!(b.get_owner(), "bob");
}
