//! The record format: round trips, every rejection, and a decoder that never panics.

use super::*;
use crate::store::arbitrary::{job, sample};
use proptest::prelude::*;

/// Encodes a snapshot the store accepts.
fn bytes_of(job: &JobSnapshot) -> Vec<u8> {
    encode(job).expect("the snapshot is encodable")
}

/// The offset of the first byte where two records differ: where a field sits in a record.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).expect("the records differ")
}

/// `sample(1)` with the given ranges on its file.
fn with_ranges(ranges: Vec<(u64, u64)>) -> JobSnapshot {
    let mut job = sample(1);
    job.files[0].ranges = ranges;
    job
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_snapshot_round_trips_exactly(job in job()) {
        let bytes = bytes_of(&job);
        prop_assert_eq!(decode(&bytes), Ok(job));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        // The same bytes behind a valid header reach the field decoders.
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(&bytes);
        let _ = decode(&framed);
    }

    #[test]
    fn mutated_records_never_panic_the_decoder(
        job in job(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = bytes_of(&job);
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] = value;
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn every_truncation_is_refused(job in job(), cut in any::<prop::sample::Index>()) {
        let bytes = bytes_of(&job);
        let len = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..len]).is_err(), "a record cut to {} bytes decoded", len);
    }
}

#[test]
fn a_record_starts_with_the_magic_and_version_then_the_id() {
    let job = sample(7);
    let bytes = bytes_of(&job);
    assert_eq!(&bytes[..4], b"BGJR");
    assert_eq!(&bytes[4..8], &1u32.to_le_bytes());
    assert_eq!(&bytes[8..24], &key(job.id));
    assert_eq!(key(job.id), job.id.as_u128().to_be_bytes());
}

#[test]
fn bad_magic_is_refused() {
    let mut bytes = bytes_of(&sample(1));
    bytes[0] = b'X';
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.offset, error.problem), ("magic", 0, Problem::BadMagic));
    assert_eq!(decode(b"BG").unwrap_err().problem, Problem::BadMagic);
}

#[test]
fn a_newer_version_is_refused_as_too_new() {
    let mut bytes = bytes_of(&sample(1));
    bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!(error.problem, Problem::TooNew { found: 3, supported: 2 });
    assert_eq!(error.offset, 4);
    assert_eq!(
        error.to_string(),
        "format version at byte 4: format version 3 is newer than the supported 2"
    );
    bytes[4..8].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(decode(&bytes).unwrap_err().problem, Problem::UnknownVersion(0));
}

#[test]
fn a_bad_enum_discriminant_is_refused_with_its_field() {
    // The job type follows magic (4), version (4), id (16) and seq (8).
    let mut bytes = bytes_of(&sample(1));
    bytes[32..36].copy_from_slice(&3u32.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.offset, error.problem), ("job type", 32, Problem::OutOfRange(3)));

    let mut job = sample(1);
    job.state = BgJobState::Cancelled;
    let mut bytes = bytes_of(&job);
    let at = first_difference(&bytes, &bytes_of(&sample(1)));
    bytes[at..at + 4].copy_from_slice(&9u32.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.problem), ("state", Problem::OutOfRange(9)));
}

#[test]
fn an_over_long_length_is_refused() {
    // The display name's length follows the job type.
    let mut bytes = bytes_of(&sample(1));
    bytes[36..40].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.offset), ("display name", 36));
    assert!(matches!(error.problem, Problem::TooLong { len, .. } if len == u64::from(u32::MAX)));
}

#[test]
fn an_over_long_count_is_refused_before_allocating() {
    // A file count of u32::MAX: the files' minimum size times the count is far beyond the input.
    let mut job = sample(1);
    job.files.clear();
    let mut bytes = bytes_of(&job);
    let at = bytes.len() - 4;
    bytes[at..].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!(error.what, "files");
    assert!(matches!(error.problem, Problem::TooLong { .. }), "{error}");
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = bytes_of(&sample(1));
    let end = bytes.len();
    bytes.push(0);
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.offset, error.problem), (end, Problem::TrailingBytes(1)));
}

#[test]
fn nanoseconds_of_a_second_or_more_are_refused() {
    // The minimum retry delay's nanoseconds follow priority and notify flags after the 3 strings.
    let job = sample(1);
    let bytes = bytes_of(&job);
    let strings = 3 * 4 + job.display_name.len() + job.owner.len();
    let at = 36 + strings + 4 + 4 + 8;
    let mut bad = bytes.clone();
    bad[at..at + 4].copy_from_slice(&1_000_000_000u32.to_le_bytes());
    let error = decode(&bad).unwrap_err();
    assert_eq!((error.what, error.offset), ("min retry delay", at));
    assert_eq!(error.problem, Problem::OutOfRange(1_000_000_000));
}

#[test]
fn times_before_1970_and_at_the_extremes_round_trip() {
    let mut job = sample(1);
    let mut times = vec![
        UNIX_EPOCH - Duration::new(0, 1),
        UNIX_EPOCH - Duration::new(1, 0),
        UNIX_EPOCH - Duration::new(86_400 * 365 * 300, 999_999_999),
        UNIX_EPOCH + Duration::new(86_400 * 365 * 30_000, 999_999_999),
    ];
    // Unix holds every second of an i64, and so does the format.
    #[cfg(unix)]
    times.extend([
        UNIX_EPOCH + Duration::new(i64::MAX as u64, 999_999_999),
        UNIX_EPOCH - Duration::from_secs(1 << 63),
    ]);
    for time in times {
        job.creation_time = time;
        assert_eq!(decode(&bytes_of(&job)).unwrap().creation_time, time, "{time:?}");
    }
    // Half a second before 1970 is second -1 plus half a second.
    job.creation_time = UNIX_EPOCH - Duration::from_millis(500);
    let bytes = bytes_of(&job);
    let mut expected = (-1i64).to_le_bytes().to_vec();
    expected.extend_from_slice(&500_000_000u32.to_le_bytes());
    assert!(bytes.windows(12).any(|w| w == expected), "(-1, 0.5 s) is in the record");
}

#[test]
fn ranges_that_are_not_sorted_disjoint_and_non_empty_are_refused() {
    for ranges in [vec![(5, 5)], vec![(10, 20), (0, 5)], vec![(0, 10), (5, 15)], vec![(9, 3)]] {
        let error = encode(&with_ranges(ranges.clone())).unwrap_err();
        assert!(error.to_string().contains("ranges"), "{ranges:?}: {error}");
    }
    // Adjacent ranges are fine.
    let job = with_ranges(vec![(0, 10), (10, 20), (30, 31)]);
    assert_eq!(decode(&bytes_of(&job)).unwrap(), job);

    // A decoder meeting overlapping ranges refuses them (here planted by hand).
    let good = bytes_of(&with_ranges(vec![(0, 10), (20, 30)]));
    let start = first_difference(&good, &bytes_of(&with_ranges(vec![(0, 10), (21, 30)])));
    let mut bad = good.clone();
    bad[start..start + 8].copy_from_slice(&5u64.to_le_bytes());
    let error = decode(&bad).unwrap_err();
    assert_eq!(error.what, "ranges");
    assert!(matches!(error.problem, Problem::Invalid(_)), "{error}");
}

#[test]
fn bad_option_tags_and_bools_are_refused() {
    let job = sample(1);
    let mut bytes = bytes_of(&job);
    // The last byte is the file's absent digest tag; before it the two bools.
    let last = bytes.len() - 1;
    bytes[last] = 2;
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.problem), ("expected sha256", Problem::OutOfRange(2)));
    bytes[last] = 0;
    bytes[last - 1] = 7;
    let error = decode(&bytes).unwrap_err();
    assert_eq!((error.what, error.problem), ("completed", Problem::OutOfRange(7)));
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_round_trip_on_unix() {
    use std::os::unix::ffi::OsStringExt;
    let mut job = sample(1);
    job.files[0].local_name = PathBuf::from(std::ffi::OsString::from_vec(vec![b'/', 0xff, 0xfe]));
    assert_eq!(decode(&bytes_of(&job)).unwrap(), job);
}

// ---- format version 2: the HTTP options (DESIGN 6.2) ----

/// `sample(1)` with every HTTP option of format version 2 set.
fn with_http_options() -> JobSnapshot {
    use crate::{BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgHttpSecurity};
    let mut job = sample(1);
    job.headers = vec![("X-Api-Key".to_owned(), "hdr-value-secret".to_owned())];
    job.http = crate::job::record::http_options::HttpOptions {
        write_only: true,
        security: BgHttpSecurity::REDIRECT_POLICY_DISALLOW,
        method: Some("POST".to_owned()),
        resumed: true,
        credentials: vec![BgAuthCredentials {
            target: BgAuthTarget::Proxy,
            scheme: BgAuthScheme::Basic,
            user_name: "ü".to_owned(),
            password: "pw-value-secret".to_owned(),
        }],
    };
    job
}

#[test]
fn a_snapshots_debug_shows_no_header_value_and_no_password() {
    let shown = format!("{:?} {:#?}", with_http_options(), with_http_options());
    assert!(shown.contains("X-Api-Key"), "{shown}");
    assert!(!shown.contains("hdr-value-secret") && !shown.contains("pw-value-secret"), "{shown}");
}

#[test]
fn a_job_with_http_options_is_written_as_version_2_and_round_trips() {
    let job = with_http_options();
    let bytes = bytes_of(&job);
    assert_eq!(&bytes[4..8], &2u32.to_le_bytes());
    assert_eq!(decode(&bytes), Ok(job));
}

#[test]
fn a_job_without_http_options_is_still_written_as_version_1() {
    let bytes = bytes_of(&sample(1));
    assert_eq!(&bytes[4..8], &FORMAT_VERSION_1.to_le_bytes());
    let job = decode(&bytes).unwrap();
    assert_eq!(job.http, crate::job::record::http_options::HttpOptions::default());
}

/// The length of the bytes-needed block (DESIGN 6.3) at its defaults, last in a format-2 record
/// of a job whose snapshot leaves it at its default (no file's part).
const DEFAULT_BYTES_NEEDED: usize = 4 + 1 + 1 + 8 + 4 + 1 + 4;

#[test]
fn an_unknown_credentials_target_is_refused() {
    let job = with_http_options();
    let mut bytes = bytes_of(&job);
    // The credentials are last: target, scheme, "ü" (4 + 2), the password (4 + 15).
    // Then the sources' part of version 2, at their defaults: flags, duration, no notify
    // command, and one file's sources (its count, then 28 bytes).
    let sources = 4 + 12 + 1 + 4 + 29;
    let target_at =
        bytes.len() - DEFAULT_BYTES_NEEDED - sources - (4 + 4 + 6 + 4 + "pw-value-secret".len());
    bytes[target_at..target_at + 4].copy_from_slice(&9u32.to_le_bytes());
    let error = decode(&bytes).unwrap_err();
    assert_eq!(error.what, "credentials target");
}

// ---- format version 2: where the bytes come from (DESIGN 6.2) ----

/// `sample(1)` with every field of format version 2 set.
fn with_sources() -> JobSnapshot {
    let mut job = sample(1);
    job.sources = JobSourcesSnapshot {
        peer_caching: 0x6,
        max_download_time: Duration::new(3600, 5),
        notify: Some((PathBuf::from("/usr/bin/notify-send"), "notify-send \"done\"".to_owned())),
    };
    job.files[0].sources = FileSourcesSnapshot {
        remote: Some("https://new.example/1.bin?sig=2".to_owned()),
        mirrors: vec!["https://m1.example/1.bin".to_owned(), "https://m2.example/1.bin".to_owned()],
        source: 2,
        valid: true,
        peer_used: true,
        origin_only: true,
        from_origin: 10,
        from_peer: 20,
        secrets_for: Some("https://old.example/1.bin".to_owned()),
    };
    job
}

#[test]
fn a_job_with_sources_is_written_as_version_2_and_round_trips() {
    let job = with_sources();
    let bytes = bytes_of(&job);
    assert_eq!(&bytes[4..8], &2u32.to_le_bytes());
    assert_eq!(decode(&bytes), Ok(job));
}

#[test]
fn a_job_without_sources_is_still_written_as_version_1() {
    // So a store that uses nothing of DESIGN 6.2 stays readable by the bgcopy before.
    let bytes = bytes_of(&sample(1));
    assert_eq!(&bytes[4..8], &FORMAT_VERSION_1.to_le_bytes());
    assert_eq!(decode(&bytes), Ok(sample(1)));
}

#[test]
fn a_version_1_record_reads_with_the_default_sources() {
    let job = decode(&bytes_of(&sample(3))).unwrap();
    assert_eq!(job.sources, JobSourcesSnapshot::default());
    assert_eq!(job.sources.peer_caching, crate::BgPeerCaching::ENABLE_CLIENT.bits());
    assert_eq!(job.sources.max_download_time, Duration::from_secs(90 * 24 * 3600));
    assert!(job.files[0].sources.is_default());
}

#[test]
fn file_sources_that_do_not_match_the_files_are_refused() {
    let mut two = with_sources();
    two.files.push(two.files[0].clone());
    let mut bytes = bytes_of(&two);
    // The bytes-needed block (DESIGN 6.3) follows the sources: taken off, put back after.
    let needed = bytes.split_off(bytes.len() - DEFAULT_BYTES_NEEDED);
    // Patch the count of file sources (the `u32` before the first file's sources; they are last
    // before that block) down to 1.
    let count_at = bytes.len() - 2 * sources_len(&two.files[0].sources) - 4;
    bytes[count_at..count_at + 4].copy_from_slice(&1u32.to_le_bytes());
    bytes.truncate(bytes.len() - sources_len(&two.files[0].sources));
    bytes.extend_from_slice(&needed);
    let error = decode(&bytes).unwrap_err();
    assert_eq!(error.what, "file sources");
    assert!(matches!(error.problem, Problem::Invalid(_)), "{error}");
}

/// The encoded length of one file's sources.
fn sources_len(sources: &FileSourcesSnapshot) -> usize {
    let remote = sources.remote.as_ref().map_or(1, |r| 1 + 4 + r.len());
    let mirrors = 4 + sources.mirrors.iter().map(|m| 4 + m.len()).sum::<usize>();
    let secrets = sources.secrets_for.as_ref().map_or(1, |s| 1 + 4 + s.len());
    remote + mirrors + 4 + 3 + 16 + secrets
}

#[test]
fn the_bytes_needed_block_round_trips_in_format_2_and_a_job_without_it_stays_in_format_1() {
    use crate::job::record::bytes_needed::{BytesNeeded, FileBytesNeeded};
    let plain = bytes_of(&sample(1));
    assert_eq!(plain[4..8], 1u32.to_le_bytes());
    let mut job = sample(1);
    job.bytes_needed = BytesNeeded {
        cost_flags: 1,
        dynamic_content: false,
        high_performance: true,
        max_download_size: 1 << 40,
        notification_interval_ms: 0,
        on_demand: true,
        files: vec![FileBytesNeeded {
            given: vec![crate::BgFileRange { initial_offset: 7, length: crate::BG_LENGTH_TO_EOF }],
            wanted: vec![(0, 10), (20, u64::MAX)],
        }],
    };
    let bytes = bytes_of(&job);
    assert_eq!(bytes[4..8], 2u32.to_le_bytes());
    assert_eq!(decode(&bytes), Ok(job));
}
