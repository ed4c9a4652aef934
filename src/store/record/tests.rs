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

#[test]
fn the_bytes_needed_block_round_trips_in_format_2_and_a_job_without_it_stays_in_format_1() {
    use crate::job::properties::{BytesNeeded, FileBytesNeeded};
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
