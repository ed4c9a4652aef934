//! proptest strategies for [`JobSnapshot`] and its parts, and a small fixed snapshot for the
//! store tests.

use crate::job::record::http_options::HttpOptions;
use crate::job::record::snapshot::{
    ErrorSnapshot, FileSnapshot, FileSourcesSnapshot, Intent, JobSnapshot, JobSourcesSnapshot,
    RetrySnapshot,
};
use crate::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobState, BgJobType};
use crate::{BgProxySettings, JobId};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Any duration, including nanosecond parts and the extremes.
pub(crate) fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (0..10_000_000u64, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        Just(Duration::ZERO),
    ]
}

/// Times within ±2^33 seconds of 1970 (about ±270 years), with nanoseconds: representable on
/// every platform bgcopy runs on (Windows counts from 1601).
pub(crate) fn time() -> impl Strategy<Value = SystemTime> {
    (any::<bool>(), 0..(1u64 << 33), 0..1_000_000_000u32).prop_map(|(before, secs, nanos)| {
        let offset = Duration::new(secs, nanos);
        if before { UNIX_EPOCH - offset } else { UNIX_EPOCH + offset }
    })
}

/// Strings with every kind of character, including NUL and non-BMP code points.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zé日本😀\\x00]{0,12}"]
}

/// Paths: any bytes the platform can record (any bytes on Unix, UTF-8 text elsewhere), drawn
/// from both text and raw bytes.
fn path() -> impl Strategy<Value = PathBuf> {
    prop_oneof![any::<String>().prop_map(String::into_bytes), vec(any::<u8>(), 0..24)]
        .prop_filter_map("a path the platform records", |bytes| {
            crate::platform::names::path_from_bytes(&bytes)
        })
}

/// Non-empty, sorted, disjoint ranges (adjacent ranges allowed), possibly at the very top of u64.
fn ranges() -> impl Strategy<Value = Vec<(u64, u64)>> {
    vec((0..u64::MAX / 16, 1..u64::MAX / 16), 0..6).prop_map(|steps| {
        let mut ranges = Vec::new();
        let mut end = 0u64;
        for (gap, len) in steps {
            let start = end.saturating_add(gap / 8);
            let Some(next) = start.checked_add(len) else { break };
            ranges.push((start, next));
            end = next;
        }
        ranges
    })
}

fn file() -> impl Strategy<Value = FileSnapshot> {
    (
        (text(), path(), option::of(path()), option::of(any::<u64>()), ranges()),
        (option::of(text()), any::<bool>(), any::<bool>(), option::of(any::<[u8; 32]>())),
        prop_oneof![Just(FileSourcesSnapshot::default()), file_sources()],
    )
        .prop_map(
            |(
                (remote_name, local_name, temp_path, size, ranges),
                (validator, transferred, completed, expected_sha256),
                sources,
            )| FileSnapshot {
                remote_name,
                local_name,
                temp_path,
                size,
                ranges,
                validator,
                transferred,
                completed,
                expected_sha256,
                sources,
            },
        )
}

/// A file's sources (format version 2), every field over its range.
fn file_sources() -> impl Strategy<Value = FileSourcesSnapshot> {
    (
        (option::of(text()), vec(text(), 0..3), any::<u32>(), option::of(text())),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<u64>(), any::<u64>()),
    )
        .prop_map(
            |(
                (remote, mirrors, source, secrets_for),
                (valid, peer_used, origin_only, from_origin, from_peer),
            )| {
                FileSourcesSnapshot {
                    remote,
                    mirrors,
                    source,
                    valid,
                    peer_used,
                    origin_only,
                    from_origin,
                    from_peer,
                    secrets_for,
                }
            },
        )
}

/// A job's sources (format version 2), every field over its range.
fn job_sources() -> impl Strategy<Value = JobSourcesSnapshot> {
    (any::<u32>(), duration(), option::of((path(), text()))).prop_map(
        |(peer_caching, max_download_time, notify)| JobSourcesSnapshot {
            peer_caching,
            max_download_time,
            notify,
        },
    )
}

fn error() -> impl Strategy<Value = ErrorSnapshot> {
    (0..8u32, any::<u32>(), option::of(any::<u32>()), option::of(text()), text()).prop_map(
        |(context, hresult, file_index, protocol, message)| ErrorSnapshot {
            context: BgErrorContext::try_from(context).unwrap_or_default(),
            hresult,
            file_index,
            protocol,
            message,
        },
    )
}

fn proxy() -> impl Strategy<Value = BgProxySettings> {
    (0..4u32, option::of(text()), option::of(text())).prop_map(
        |(usage, proxy_list, bypass_list)| BgProxySettings {
            usage: BgJobProxyUsage::try_from(usage).unwrap_or_default(),
            proxy_list,
            bypass_list,
        },
    )
}

/// Any snapshot the store accepts: every field over its whole range.
pub(crate) fn job() -> impl Strategy<Value = JobSnapshot> {
    let names =
        (any::<u128>(), any::<u64>(), 0..3u32, text(), text(), text(), 0..4u32, any::<u32>());
    let settings = (
        (duration(), duration(), proxy(), vec((text(), text()), 0..3)),
        (option::of(duration()), option::of(duration()), any::<u32>(), option::of(any::<u64>())),
    );
    let status = (0..9u32, any::<u32>(), option::of(error()));
    let times = (time(), time(), option::of(time()), option::of((time(), time())));
    let work = (
        option::of(prop_oneof![Just(Intent::Complete), Just(Intent::Cancel)]),
        vec(file(), 0..4),
        prop_oneof![Just(JobSourcesSnapshot::default()), job_sources()],
    );
    (names, settings, status, times, work, http_options()).prop_map(
        |(
            (id, seq, job_type, display_name, description, owner, priority, notify_flags),
            ((min_retry_delay, no_progress_timeout, proxy, headers), http),
            (state, error_count, error),
            (creation_time, modification_time, transfer_completion_time, retry),
            (intent, files, sources),
            http_options,
        )| {
            let (connect_timeout, read_timeout, max_connections, max_bytes_per_second) = http;
            JobSnapshot {
                id: JobId::from_u128(id),
                seq,
                job_type: BgJobType::try_from(job_type).unwrap_or_default(),
                display_name,
                description,
                owner,
                priority: BgJobPriority::try_from(priority).unwrap_or_default(),
                notify_flags,
                min_retry_delay,
                no_progress_timeout,
                proxy,
                headers,
                connect_timeout,
                read_timeout,
                max_connections,
                max_bytes_per_second,
                state: BgJobState::try_from(state).unwrap_or(BgJobState::Queued),
                error_count,
                error,
                creation_time,
                modification_time,
                transfer_completion_time,
                retry: retry.map(|(retry_at, quiet_since)| RetrySnapshot { retry_at, quiet_since }),
                intent,
                files,
                sources,
                bytes_needed: Default::default(),
                http: http_options,
            }
        },
    )
}

/// Any HTTP options of DESIGN 6.2 (format version 2): every flag bit, any method, any
/// credentials.
fn http_options() -> impl Strategy<Value = HttpOptions> {
    use crate::{BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgHttpSecurity};
    let credentials = (1..3u32, 1..6u32, text(), text()).prop_map(|(target, scheme, user, pw)| {
        BgAuthCredentials {
            target: BgAuthTarget::try_from(target).unwrap_or(BgAuthTarget::Server),
            scheme: BgAuthScheme::try_from(scheme).unwrap_or(BgAuthScheme::Basic),
            user_name: user,
            password: pw,
        }
    });
    (any::<bool>(), any::<u32>(), option::of(text()), any::<bool>(), vec(credentials, 0..3))
        .prop_map(|(write_only, security, method, resumed, credentials)| HttpOptions {
            write_only,
            security: BgHttpSecurity::from_bits_retain(security),
            method,
            resumed,
            credentials,
        })
}

/// A plain suspended job with one file, numbered `n` (its id and seq).
pub(crate) fn sample(n: u64) -> JobSnapshot {
    let now = UNIX_EPOCH + Duration::new(1_700_000_000 + n, 123_456_789);
    JobSnapshot {
        id: JobId::from_u128(0x5CE3_4C0D_0DC9_4C1F_897C_DAA1_B78C_EE00 + u128::from(n)),
        seq: n,
        job_type: BgJobType::Download,
        display_name: format!("job {n}"),
        description: String::new(),
        owner: "tester".to_owned(),
        priority: BgJobPriority::Normal,
        notify_flags: 0x3,
        min_retry_delay: Duration::from_secs(600),
        no_progress_timeout: Duration::from_secs(1_209_600),
        proxy: BgProxySettings::default(),
        headers: Vec::new(),
        connect_timeout: None,
        read_timeout: None,
        max_connections: 1,
        max_bytes_per_second: None,
        state: BgJobState::Suspended,
        error_count: 0,
        error: None,
        creation_time: now,
        modification_time: now,
        transfer_completion_time: None,
        retry: None,
        intent: None,
        http: HttpOptions::default(),
        files: vec![FileSnapshot {
            remote_name: format!("https://example.com/{n}.bin"),
            local_name: PathBuf::from(format!("/downloads/{n}.bin")),
            temp_path: None,
            size: None,
            ranges: Vec::new(),
            validator: None,
            transferred: false,
            completed: false,
            expected_sha256: None,
            sources: FileSourcesSnapshot::default(),
        }],
        sources: JobSourcesSnapshot::default(),
        bytes_needed: Default::default(),
    }
}
