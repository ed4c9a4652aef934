//! `Job::add` and `Job::add_with_sha256` (issue 16, item 5): `add_file` that hands back the
//! file's handle, and a file added together with its expected SHA-256 digest in one change.
//! The same rules as `add_file` (spec sections 1.1, 1.2): a refused call leaves the job as it
//! was. Durability (one store record, crashes, reopening) is in the `durability` binary.

use crate::support;

use bgcopy::transport::TransferSink;
use bgcopy::*;
use support::*;

/// The SHA-256 of the empty content.
const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

#[test]
fn add_returns_the_handle_of_the_file_it_added() {
    let fx = Fixture::new();
    let job = fx.job_with_files(2);
    let file = job.add(&remote(2), &fx.local(2)).unwrap();
    assert_eq!(file.get_remote_name(), remote(2));
    assert_eq!(file.get_local_name(), fx.local(2));
    assert_eq!(file.get_expected_sha256(), None);
    let files = job.enum_files();
    assert_eq!(files.len(), 3);
    assert_eq!(files[2].get_local_name(), file.get_local_name(), "added last, as add_file does");
    assert_eq!(job.get_progress().files_total, 3);
    // The handle is live: a change through it is seen through enum_files.
    file.set_expected_sha256(Some(EMPTY_SHA256)).unwrap();
    assert_eq!(job.enum_files()[2].get_expected_sha256(), Some(EMPTY_SHA256));
}

#[test]
fn add_with_sha256_adds_the_file_with_its_digest() {
    let fx = Fixture::new();
    let job = fx.job();
    let events = job.subscribe().with_progress_interval(None);
    let file = job.add_with_sha256(&remote(0), &fx.local(0), EMPTY_SHA256).unwrap();
    assert_eq!(file.get_expected_sha256(), Some(EMPTY_SHA256));
    assert_eq!(job.enum_files()[0].get_expected_sha256(), Some(EMPTY_SHA256));
    assert_eq!(job.get_progress().files_total, 1);
    let id = job.get_id();
    assert_eq!(
        std::iter::from_fn(|| events.try_recv().ok()).collect::<Vec<_>>(),
        [
            Notification::StateChanged { job: id, state: BgJobState::Suspended },
            Notification::Modified { job: id },
        ],
        "one change, announced once"
    );
}

#[test]
fn add_and_add_with_sha256_refuse_what_add_file_refuses_and_leave_the_job_as_it_was() {
    let fx = Fixture::new();
    let job = fx.job_with_files(1);
    let before = (job.get_progress(), job.enum_files().len());
    let duplicate = job.add(&remote(5), &fx.local(0)).unwrap_err();
    assert_eq!(duplicate.hresult(), hresult::E_INVALIDARG, "{duplicate}");
    let duplicate = job.add_with_sha256(&remote(5), &fx.local(0), EMPTY_SHA256).unwrap_err();
    assert_eq!(duplicate.hresult(), hresult::E_INVALIDARG, "{duplicate}");
    let relative = job.add("https://example.com/x", "relative.bin".as_ref()).unwrap_err();
    assert_eq!(relative.hresult(), hresult::E_INVALIDARG, "{relative}");
    let scheme = job.add_with_sha256("gopher://example.com/x", &fx.local(1), EMPTY_SHA256);
    assert!(scheme.is_err(), "an unknown scheme is refused");
    let missing = fx.path("missing-dir").join("x.bin");
    let refused = job.add_with_sha256(&remote(1), &missing, EMPTY_SHA256).unwrap_err();
    let by_add_file = job.add_file(&remote(1), &missing).unwrap_err();
    assert_eq!(refused.hresult(), by_add_file.hresult(), "{refused}");
    assert_eq!(job.add(&remote(1), &missing).unwrap_err().hresult(), by_add_file.hresult());
    assert_eq!((job.get_progress(), job.enum_files().len()), before);
    assert_eq!(job.enum_files()[0].get_expected_sha256(), None);

    job.cancel().unwrap();
    let final_state = job.add_with_sha256(&remote(1), &fx.local(1), EMPTY_SHA256).unwrap_err();
    assert_eq!(final_state.hresult(), hresult::BG_E_INVALID_STATE, "{final_state}");
    assert_eq!(
        job.add(&remote(1), &fx.local(1)).unwrap_err().hresult(),
        hresult::BG_E_INVALID_STATE
    );
}

#[test]
fn a_file_added_with_a_digest_is_checked_before_it_counts_as_transferred() {
    let fx = Fixture::new();
    let job = fx.job();
    job.add_with_sha256(&remote(0), &fx.local(0), [0u8; 32]).unwrap();
    job.add_with_sha256(&remote(1), &fx.local(1), EMPTY_SHA256).unwrap();
    job.resume().unwrap();
    let driver = claim_connected(&job);
    let mut transfer = driver.open_file(0).unwrap();
    transfer.set_size(Some(0)).unwrap();
    let mismatch = transfer.finish().unwrap_err();
    assert_eq!(mismatch.hresult(), hresult::BG_E_VALIDATION_FAILED);
    assert_eq!(job.get_progress().files_transferred, 0);
    let mut transfer = driver.open_file(1).unwrap();
    transfer.set_size(Some(0)).unwrap();
    transfer.finish().unwrap();
    assert_eq!(job.get_progress().files_transferred, 1, "the right digest passes");
}
