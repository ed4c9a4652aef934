//! serde round trips (DESIGN section 2): every mirrored data type survives JSON unchanged, so job
//! state can be stored and read back.

use bgcopy::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Serializes `value` to JSON and back, and checks that nothing changed. Returns the JSON.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("serialize");
    let back: T = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(&back, value, "{json}");
    json
}

#[test]
fn job_progress_round_trips() {
    for progress in [
        BgJobProgress::default(),
        BgJobProgress {
            bytes_total: 100,
            bytes_transferred: 40,
            files_total: 3,
            files_transferred: 1,
        },
        BgJobProgress {
            bytes_total: BG_SIZE_UNKNOWN,
            bytes_transferred: u64::MAX - 1,
            files_total: u32::MAX,
            files_transferred: u32::MAX,
        },
    ] {
        round_trip(&progress);
    }
}

#[test]
fn file_progress_round_trips() {
    round_trip(&BgFileProgress::default());
    round_trip(&BgFileProgress { bytes_total: 10, bytes_transferred: 10, completed: true });
    round_trip(&BgFileProgress {
        bytes_total: BG_SIZE_UNKNOWN,
        bytes_transferred: 7,
        completed: false,
    });
}

#[test]
fn job_times_round_trip_with_and_without_a_completion_time() {
    let now = SystemTime::now();
    round_trip(&BgJobTimes {
        creation_time: now,
        modification_time: now + Duration::from_nanos(1),
        transfer_completion_time: None,
    });
    round_trip(&BgJobTimes {
        creation_time: SystemTime::UNIX_EPOCH,
        modification_time: now,
        transfer_completion_time: Some(now + Duration::from_secs(3600)),
    });
}

#[test]
fn file_info_round_trips() {
    round_trip(&BgFileInfo::new("https://example.com/a b.bin", "/tmp/a b.bin"));
    round_trip(&BgFileInfo::new("file:///x/%C3%A9", PathBuf::from("/données/é.bin")));
    round_trip(&BgFileInfo::new("", ""));
}

#[test]
fn every_job_state_round_trips() {
    for state in BgJobState::ALL {
        round_trip(&state);
    }
}

#[test]
fn every_priority_round_trips() {
    for priority in
        [BgJobPriority::Foreground, BgJobPriority::High, BgJobPriority::Normal, BgJobPriority::Low]
    {
        round_trip(&priority);
    }
}

#[test]
fn every_job_type_round_trips() {
    for job_type in [BgJobType::Download, BgJobType::Upload, BgJobType::UploadReply] {
        round_trip(&job_type);
    }
}

#[test]
fn every_error_context_round_trips() {
    for context in [
        BgErrorContext::None,
        BgErrorContext::Unknown,
        BgErrorContext::GeneralQueueManager,
        BgErrorContext::QueueManagerNotification,
        BgErrorContext::LocalFile,
        BgErrorContext::RemoteFile,
        BgErrorContext::GeneralTransport,
        BgErrorContext::RemoteApplication,
    ] {
        round_trip(&context);
    }
}

#[test]
fn every_proxy_usage_and_proxy_settings_round_trip() {
    for usage in [
        BgJobProxyUsage::Preconfig,
        BgJobProxyUsage::NoProxy,
        BgJobProxyUsage::Override,
        BgJobProxyUsage::Autodetect,
    ] {
        round_trip(&usage);
        round_trip(&BgProxySettings { usage, proxy_list: None, bypass_list: None });
    }
    round_trip(&BgProxySettings {
        usage: BgJobProxyUsage::Override,
        proxy_list: Some("http=proxy:8080 https=proxy:8443".into()),
        bypass_list: Some("<local> *.internal".into()),
    });
}

#[test]
fn every_notify_flag_combination_round_trips() {
    for bits in 0..=0x1F {
        round_trip(&BgNotify::from_bits(bits).unwrap());
    }
}

#[test]
fn job_id_round_trips_as_a_string() {
    for _ in 0..8 {
        let id = JobId::new_random();
        let json = round_trip(&id);
        assert!(json.starts_with('"') && json.ends_with('"'), "{json}");
        let parsed: JobId = json.trim_matches('"').parse().unwrap();
        assert_eq!(parsed, id);
    }
    round_trip(&JobId::from_u128(0));
    round_trip(&JobId::from_u128(u128::MAX));
}

#[test]
fn every_success_code_round_trips() {
    for success in [BgSuccess::Ok, BgSuccess::PartialComplete, BgSuccess::UnableToDeleteFiles] {
        round_trip(&success);
    }
}

#[test]
fn malformed_json_is_an_error_not_a_panic() {
    assert!(serde_json::from_str::<BgJobState>("\"Sleeping\"").is_err());
    assert!(serde_json::from_str::<BgJobProgress>("{\"bytes_total\": -1}").is_err());
    assert!(serde_json::from_str::<JobId>("\"not a guid\"").is_err());
    assert!(serde_json::from_str::<BgJobPriority>("17").is_err());
}
