//! The golden store: a format-version-1 store checked into `tests/data/store-v1/`, so that every
//! later bgcopy is tested against a store this one really wrote.
//!
//! To regenerate it (only when the v1 jobs below change, never because a new format version came
//! along: then keep this store and add a `store-v2` beside it), run
//!
//! ```text
//! BGCOPY_REGENERATE_GOLDEN=1 cargo test --lib store::golden::regenerate -- --ignored
//! ```

use super::{DB_FILE, FORMAT_VERSION, META_FORMAT, Store, StoreOptions, record};
use crate::job::record::snapshot::{
    ErrorSnapshot, FileSnapshot, FileSourcesSnapshot, Intent, JobSnapshot, JobSourcesSnapshot,
    RetrySnapshot,
};
use crate::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobState, BgJobType};
use crate::{BgProxySettings, JobId};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the golden store lives in the repository.
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/store-v1");

/// The checked-in database may grow to this size before that is a decision (redb's minimum file
/// with three small jobs is 72 KiB: a header region and 4 KiB pages).
const GOLDEN_MAX_BYTES: u64 = 128 * 1024;

fn at(secs: i64, nanos: u32) -> SystemTime {
    let whole = Duration::from_secs(secs.unsigned_abs());
    let time = if secs >= 0 { UNIX_EPOCH + whole } else { UNIX_EPOCH - whole };
    time + Duration::from_nanos(nanos.into())
}

/// The jobs in the golden store: between them every field, and every optional field both set and
/// unset.
fn golden_jobs() -> Vec<JobSnapshot> {
    let segmented = FileSnapshot {
        remote_name: "https://example.com/dätä/große Datei.iso?v=2".to_owned(),
        local_name: PathBuf::from("/home/jürgen/Downloads/große Datei.iso"),
        temp_path: Some(PathBuf::from("/home/jürgen/Downloads/.bgcopy-7f3a9c.tmp")),
        size: Some(4 * 1024 * 1024 + 17),
        ranges: vec![(0, 1024 * 1024), (2 * 1024 * 1024, 3 * 1024 * 1024 + 5)],
        validator: Some("\"etag-ü-42\"".to_owned()),
        transferred: false,
        completed: false,
        expected_sha256: Some(core::array::from_fn(|i| (i as u8).wrapping_mul(37))),
        sources: FileSourcesSnapshot::default(),
    };
    let unstarted = FileSnapshot {
        remote_name: "file:///srv/ファイル.bin".to_owned(),
        local_name: PathBuf::from("/data/ファイル.bin"),
        temp_path: None,
        size: None,
        ranges: Vec::new(),
        validator: None,
        transferred: false,
        completed: false,
        expected_sha256: None,
        sources: FileSourcesSnapshot::default(),
    };
    let retrying = JobSnapshot {
        id: JobId::from_u128(0x5CE3_4C0D_0DC9_4C1F_897C_DAA1_B78C_EE7C),
        seq: 1,
        job_type: BgJobType::Download,
        display_name: "Nightly 🌙 ünïcödé 日本語".to_owned(),
        description: "line one\nline two: «quoted» — done".to_owned(),
        owner: "DOMAIN\\usér".to_owned(),
        priority: BgJobPriority::Foreground,
        notify_flags: 0x1F,
        min_retry_delay: Duration::from_secs(5),
        no_progress_timeout: Duration::new(1_209_600, 500),
        proxy: BgProxySettings {
            usage: BgJobProxyUsage::Override,
            proxy_list: Some("http://proxy.example:8080 https://pröxy.example".to_owned()),
            bypass_list: Some("<local>;*.intranet".to_owned()),
        },
        headers: vec![
            ("X-Tëst".to_owned(), "välue".to_owned()),
            ("Authorization".to_owned(), "Bearer abc.def".to_owned()),
        ],
        connect_timeout: Some(Duration::new(30, 250_000_000)),
        read_timeout: Some(Duration::from_secs(120)),
        max_connections: 4,
        max_bytes_per_second: Some(1_048_576),
        state: BgJobState::TransientError,
        error_count: 3,
        error: Some(ErrorSnapshot {
            context: BgErrorContext::RemoteFile,
            hresult: 0x8019_01F7,
            file_index: Some(0),
            protocol: Some("http".to_owned()),
            message: "the server answered HTTP 503 «busy»".to_owned(),
        }),
        // Before 1970, with nanoseconds.
        creation_time: at(-631_152_000, 987_654_321),
        modification_time: at(1_700_000_000, 1),
        transfer_completion_time: None,
        retry: Some(RetrySnapshot {
            retry_at: at(1_700_000_600, 500_000_000),
            quiet_since: at(1_699_999_000, 250_000_000),
        }),
        intent: None,
        http: crate::job::record::http_options::HttpOptions::default(),
        files: vec![segmented.clone(), unstarted],
        sources: JobSourcesSnapshot::default(),
        bytes_needed: Default::default(),
    };
    let completing = JobSnapshot {
        id: JobId::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001),
        seq: 2,
        display_name: "complete me".to_owned(),
        description: String::new(),
        owner: "alice".to_owned(),
        priority: BgJobPriority::Low,
        notify_flags: 0x3,
        min_retry_delay: Duration::from_secs(600),
        proxy: BgProxySettings { usage: BgJobProxyUsage::NoProxy, ..BgProxySettings::default() },
        headers: Vec::new(),
        connect_timeout: None,
        read_timeout: None,
        max_connections: 1,
        max_bytes_per_second: None,
        state: BgJobState::Transferred,
        error_count: 0,
        error: None,
        creation_time: at(0, 0),
        modification_time: at(1_700_000_100, 999_999_999),
        transfer_completion_time: Some(at(1_700_000_100, 999_999_999)),
        retry: None,
        intent: Some(Intent::Complete),
        http: crate::job::record::http_options::HttpOptions::default(),
        files: vec![
            FileSnapshot {
                ranges: vec![(0, 4 * 1024 * 1024 + 17)],
                transferred: true,
                ..segmented.clone()
            },
            FileSnapshot {
                local_name: PathBuf::from("/home/jürgen/Downloads/done.txt"),
                temp_path: None,
                size: Some(0),
                ranges: Vec::new(),
                validator: None,
                transferred: true,
                completed: true,
                expected_sha256: None,
                ..segmented
            },
        ],
        ..retrying.clone()
    };
    let failed = JobSnapshot {
        id: JobId::from_u128(u128::MAX),
        seq: u64::MAX,
        job_type: BgJobType::UploadReply,
        display_name: "x".to_owned(),
        owner: String::new(),
        priority: BgJobPriority::High,
        notify_flags: 0x4,
        no_progress_timeout: Duration::ZERO,
        proxy: BgProxySettings { usage: BgJobProxyUsage::Autodetect, ..BgProxySettings::default() },
        state: BgJobState::Error,
        error_count: u32::MAX,
        error: Some(ErrorSnapshot {
            context: BgErrorContext::LocalFile,
            hresult: 0x8007_0005,
            file_index: None,
            protocol: None,
            message: String::new(),
        }),
        // One nanosecond before 1970.
        creation_time: at(-1, 999_999_999),
        retry: None,
        intent: Some(Intent::Cancel),
        http: crate::job::record::http_options::HttpOptions::default(),
        files: Vec::new(),
        sources: JobSourcesSnapshot::default(),
        bytes_needed: Default::default(),
        ..completing.clone()
    };
    vec![retrying, completing, failed]
}

#[test]
#[ignore = "writes tests/data/store-v1; run with BGCOPY_REGENERATE_GOLDEN=1 (see the module docs)"]
fn regenerate() {
    if std::env::var_os("BGCOPY_REGENERATE_GOLDEN").is_none() {
        eprintln!("set BGCOPY_REGENERATE_GOLDEN=1 to rewrite {GOLDEN}");
        return;
    }
    let dir = Path::new(GOLDEN);
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    let store = Store::open(dir, &StoreOptions::default()).unwrap();
    store.put_many(&golden_jobs()).unwrap();
    store.close();
    std::fs::remove_file(dir.join(super::lock::LOCK_FILE)).unwrap();
}

/// A copy of the golden store in a fresh directory (never opened in place).
fn golden_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(GOLDEN).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    copy
}

#[test]
fn the_golden_store_is_one_small_database_file() {
    let names: Vec<_> = std::fs::read_dir(GOLDEN)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [DB_FILE], "only the database is checked in (no LOCK)");
    let size = std::fs::metadata(Path::new(GOLDEN).join(DB_FILE)).unwrap().len();
    assert!(size <= GOLDEN_MAX_BYTES, "the golden database grew to {size} bytes");
}

#[test]
fn the_golden_v1_store_opens_with_every_field() {
    let copy = golden_copy();
    let store = Store::open(copy.path(), &StoreOptions::default()).unwrap();
    let loaded = store.load().unwrap();
    assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
    let expected = golden_jobs();
    for (job, want) in loaded.jobs.iter().zip(&expected) {
        assert_eq!(job, want);
    }
    assert_eq!(loaded.jobs.len(), expected.len());

    // The points most easily lost, spelled out.
    let [retrying, completing, failed] = &loaded.jobs[..] else { panic!("three jobs") };
    assert_eq!(retrying.display_name, "Nightly 🌙 ünïcödé 日本語");
    assert_eq!(
        UNIX_EPOCH.duration_since(retrying.creation_time).unwrap(),
        Duration::new(631_151_999, 12_345_679)
    );
    assert_eq!(UNIX_EPOCH.duration_since(failed.creation_time).unwrap(), Duration::from_nanos(1));
    assert_eq!(retrying.files[0].ranges, [(0, 1 << 20), (2 << 20, (3 << 20) + 5)]);
    assert_eq!(completing.intent, Some(Intent::Complete));
    assert_eq!(failed.intent, Some(Intent::Cancel));
    assert_eq!((failed.seq, failed.error_count), (u64::MAX, u32::MAX));
    assert_eq!(retrying.retry.as_ref().unwrap().retry_at, at(1_700_000_600, 500_000_000));

    // Re-encoding gives the stored bytes: the v1 layout has not drifted. (When a format version 2
    // arrives, this part moves to its own golden store; this one stays to test reading v1.)
    let raw = store.with_backend(|backend| backend.load_all()).unwrap();
    for stored in &raw {
        let job = loaded.jobs.iter().find(|job| record::key(job.id)[..] == stored.key[..]).unwrap();
        assert!(record::encode(job).unwrap() == stored.value, "job {} encodes differently", job.id);
    }
    let format = store.with_backend(|backend| backend.meta(META_FORMAT)).unwrap();
    // A store made by the bgcopy of format version 1 keeps saying so: this bgcopy writes its
    // records in version 1 while they need nothing of version 2.
    assert_eq!(format, Some(record::FORMAT_VERSION_1.to_le_bytes().to_vec()));
    const { assert!(FORMAT_VERSION > record::FORMAT_VERSION_1) };
}
