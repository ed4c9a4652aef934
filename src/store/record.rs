//! The job record: how a [`JobSnapshot`] is laid out in bytes, format versions 1 and 2.
//!
//! The layout is bgcopy's own (built on [`codec`](super::codec)), so neither the database nor a
//! serialization crate can change stored data. A record is:
//!
//! | Field | Encoding |
//! |---|---|
//! | magic | the 4 bytes `BGJR` |
//! | format version | `u32` ([`FORMAT_VERSION`]) |
//! | id | 16 bytes, the GUID's bytes (big-endian `u128`), equal to the record's key |
//! | seq | `u64` |
//! | job type, display name, description, owner, priority, notify flags | `u32` discriminant, 3 strings, `u32` discriminant, `u32` bits |
//! | min retry delay, no-progress timeout | durations |
//! | proxy | `u32` usage discriminant, optional string proxy list, optional string bypass list |
//! | headers | sequence of (string name, string value) |
//! | connect timeout, read timeout | optional durations |
//! | max connections, max bytes per second | `u32`, optional `u64` |
//! | state, error count | `u32` discriminant, `u32` |
//! | error | optional: `u32` context discriminant, `u32` HRESULT, optional `u32` file index, optional string protocol, string message |
//! | creation, modification, transfer completion time | time, time, optional time |
//! | retry | optional: time retry at, time quiet since |
//! | intent | optional `u8`: 0 complete, 1 cancel |
//! | files | sequence of: string remote name, path local name, optional path temp path, optional `u64` size, sequence of (`u64`, `u64`) ranges, optional string validator, bool transferred, bool completed, optional 32 bytes SHA-256 |
//!
//! Format version 2 (DESIGN 6.2) is version 1 followed by the job's HTTP options
//! ([`http_options`]):
//!
//! | Field | Encoding |
//! |---|---|
//! | HTTP options | bool headers write-only, `u32` security flag bits, optional string method, bool resumed once, sequence of credentials: `u32` target, `u32` scheme, string user name, string password |
//!
//! then by where the bytes come from ([`sources`]):
//!
//! | Field | Encoding |
//! |---|---|
//! | peer caching flags | `u32` bits |
//! | maximum download time | duration |
//! | notify command line | optional: path program, string parameters |
//! | file sources | sequence, one per file in the order of `files`: optional string remote name now, sequence of string mirrors, `u32` source index, bool valid, bool from a peer, bool origin only, `u64` bytes from the origin, `u64` bytes from peers, optional string name whose origin gets the secrets (after a reported redirect) |
//!
//! then by only the bytes needed (DESIGN 6.3, [`bytes_needed`]):
//!
//! | Field | Encoding |
//! |---|---|
//! | only the bytes needed | `u32` cost flags, bool dynamic content, bool high performance, `u64` max download size, `u32` notification interval, bool on demand, sequence per file of (sequence of (`u64` offset, `u64` length) ranges as given, sequence of (`u64`, `u64`) ranges asked for) |
//!
//! A job whose version-2 fields all have their defaults is written as version 1, so that a
//! store that does not use them stays readable by the bgcopy before.
//!
//! A *duration* is `u64` seconds and `u32` nanoseconds (below 10⁹). A *time* is `i64` seconds and
//! `u32` nanoseconds (below 10⁹) after `UNIX_EPOCH`, the seconds rounded down, so 0.5 s before
//! 1970 is `(-1, 500_000_000)`. A *path* is its bytes on Unix (`OsStrExt`) and UTF-8 elsewhere.
//! Ranges are non-empty, sorted and disjoint. Anything else is refused with a [`DecodeError`];
//! so are bytes after the last field.

mod http_options;

use super::codec::{DecodeError, EncodeError, Problem, Reader, Writer};
use crate::job::record::bytes_needed::{BytesNeeded, FileBytesNeeded};
use crate::job::record::snapshot::{
    ErrorSnapshot, FileSnapshot, FileSourcesSnapshot, Intent, JobSnapshot, JobSourcesSnapshot,
    RetrySnapshot,
};
use crate::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobState, BgJobType};
use crate::{BgProxySettings, JobId};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The store format this bgcopy writes and the newest it reads: of every record, and of the
/// store as a whole (its meta table).
pub(crate) const FORMAT_VERSION: u32 = 2;

/// The format without the fields of DESIGN 6.2.
pub(crate) const FORMAT_VERSION_1: u32 = 1;

/// The first bytes of every job record.
pub(crate) const MAGIC: [u8; 4] = *b"BGJR";

/// Nanoseconds in a second: the exclusive bound of every nanosecond field.
const NANOS_PER_SEC: u32 = 1_000_000_000;

/// The key of a job's record: the GUID's 16 bytes.
pub(crate) fn key(id: JobId) -> [u8; 16] {
    id.as_u128().to_be_bytes()
}

/// Encodes a job. Fails only for values the format cannot hold: a string or list longer than
/// `u32::MAX`, ranges that are empty, unsorted or overlapping, a time more than `i64::MAX`
/// seconds from 1970, and (off Unix) a path that is not Unicode.
pub(crate) fn encode(job: &JobSnapshot) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new();
    w.raw(&MAGIC);
    let version = if needs_version_2(job) { FORMAT_VERSION } else { FORMAT_VERSION_1 };
    w.u32(version);
    w.raw(&key(job.id));
    w.u64(job.seq);
    w.u32(job.job_type.into());
    w.str(&job.display_name, "display name");
    w.str(&job.description, "description");
    w.str(&job.owner, "owner");
    w.u32(job.priority.into());
    w.u32(job.notify_flags);
    duration(&mut w, job.min_retry_delay);
    duration(&mut w, job.no_progress_timeout);
    w.u32(job.proxy.usage.into());
    w.option(job.proxy.proxy_list.as_deref(), |w, list| w.str(list, "proxy list"));
    w.option(job.proxy.bypass_list.as_deref(), |w, list| w.str(list, "bypass list"));
    w.seq(&job.headers, "headers", |w, (name, value)| {
        w.str(name, "header name");
        w.str(value, "header value");
    });
    w.option(job.connect_timeout, duration);
    w.option(job.read_timeout, duration);
    w.u32(job.max_connections);
    w.option(job.max_bytes_per_second, Writer::u64);
    w.u32(job.state.into());
    w.u32(job.error_count);
    w.option(job.error.as_ref(), |w, error| {
        w.u32(error.context.into());
        w.u32(error.hresult);
        w.option(error.file_index, Writer::u32);
        w.option(error.protocol.as_deref(), |w, protocol| w.str(protocol, "protocol"));
        w.str(&error.message, "error message");
    });
    time(&mut w, job.creation_time);
    time(&mut w, job.modification_time);
    w.option(job.transfer_completion_time, time);
    w.option(job.retry.as_ref(), |w, retry| {
        time(w, retry.retry_at);
        time(w, retry.quiet_since);
    });
    w.option(job.intent, |w, intent| {
        w.u8(match intent {
            Intent::Complete => 0,
            Intent::Cancel => 1,
        })
    });
    w.seq(&job.files, "files", file);
    if version >= 2 {
        http_options::write(&mut w, &job.http);
        sources(&mut w, job);
        bytes_needed(&mut w, &job.bytes_needed);
    }
    w.finish()
}

/// The DESIGN 6.3 block of format 2: Job5 properties, then per file its ranges as given and
/// the ranges an on-demand reader asked for.
fn bytes_needed(w: &mut Writer, needed: &BytesNeeded) {
    w.u32(needed.cost_flags);
    w.bool(needed.dynamic_content);
    w.bool(needed.high_performance);
    w.u64(needed.max_download_size);
    w.u32(needed.notification_interval_ms);
    w.bool(needed.on_demand);
    w.seq(&needed.files, "bytes needed of files", |w, file| {
        w.seq(&file.given, "ranges as given", |w, range| {
            w.u64(range.initial_offset);
            w.u64(range.length);
        });
        w.seq(&file.wanted, "ranges asked for", |w, &(start, end)| {
            w.u64(start);
            w.u64(end);
        });
    });
}

fn read_bytes_needed(r: &mut Reader<'_>) -> Result<BytesNeeded, DecodeError> {
    Ok(BytesNeeded {
        cost_flags: r.u32("cost flags")?,
        dynamic_content: r.bool("dynamic content")?,
        high_performance: r.bool("high performance")?,
        max_download_size: r.u64("max download size")?,
        notification_interval_ms: r.u32("notification interval")?,
        on_demand: r.bool("on demand")?,
        files: r.seq("bytes needed of files", 8, |r| {
            Ok(FileBytesNeeded {
                given: r.seq("ranges as given", 16, |r| {
                    Ok(crate::BgFileRange {
                        initial_offset: r.u64("range offset")?,
                        length: r.u64("range length")?,
                    })
                })?,
                wanted: r.seq("ranges asked for", 16, |r| {
                    Ok((r.u64("asked start")?, r.u64("asked end")?))
                })?,
            })
        })?,
    })
}

/// Whether the job has a field that only format version 2 holds.
fn needs_version_2(job: &JobSnapshot) -> bool {
    job.sources != JobSourcesSnapshot::default()
        || job.files.iter().any(|file| !file.sources.is_default())
        || job.http != crate::job::record::http_options::HttpOptions::default()
        || !job.bytes_needed.is_default()
}

/// The fields of format version 2.
fn sources(w: &mut Writer, job: &JobSnapshot) {
    w.u32(job.sources.peer_caching);
    duration(w, job.sources.max_download_time);
    w.option(job.sources.notify.as_ref(), |w, (program, parameters)| {
        path(w, program);
        w.str(parameters, "notify parameters");
    });
    w.seq(&job.files, "file sources", |w, file| {
        let sources = &file.sources;
        w.option(sources.remote.as_deref(), |w, remote| w.str(remote, "remote name now"));
        w.seq(&sources.mirrors, "mirrors", |w, mirror| w.str(mirror, "mirror"));
        w.u32(sources.source);
        w.bool(sources.valid);
        w.bool(sources.peer_used);
        w.bool(sources.origin_only);
        w.u64(sources.from_origin);
        w.u64(sources.from_peer);
        w.option(sources.secrets_for.as_deref(), |w, url| w.str(url, "secrets' name"));
    });
}

/// Reads the fields of format version 2 into `job`.
fn read_sources(r: &mut Reader<'_>, job: &mut JobSnapshot) -> Result<(), DecodeError> {
    job.sources = JobSourcesSnapshot {
        peer_caching: r.u32("peer caching flags")?,
        max_download_time: read_duration(r, "maximum download time")?,
        notify: r.option("notify command line", |r| {
            Ok((read_path(r, "notify program")?, r.string("notify parameters")?))
        })?,
    };
    let at = r.position();
    // The smallest: an absent remote name, no mirrors, the index, three bools, two counts, an
    // absent secrets' name.
    let files = r.seq("file sources", 1 + 4 + 4 + 3 + 16 + 1, |r| {
        Ok(FileSourcesSnapshot {
            remote: r.option("remote name now", |r| r.string("remote name now"))?,
            mirrors: r.seq("mirrors", 4, |r| r.string("mirror"))?,
            source: r.u32("source index")?,
            valid: r.bool("valid")?,
            peer_used: r.bool("from a peer")?,
            origin_only: r.bool("origin only")?,
            from_origin: r.u64("bytes from the origin")?,
            from_peer: r.u64("bytes from peers")?,
            secrets_for: r.option("secrets' name", |r| r.string("secrets' name"))?,
        })
    })?;
    if files.len() != job.files.len() {
        let rule = "file sources do not match the files one for one";
        return Err(r.error_at("file sources", at, Problem::Invalid(rule)));
    }
    for (file, sources) in job.files.iter_mut().zip(files) {
        file.sources = sources;
    }
    Ok(())
}

fn file(w: &mut Writer, file: &FileSnapshot) {
    w.str(&file.remote_name, "remote name");
    path(w, &file.local_name);
    w.option(file.temp_path.as_deref(), path);
    w.option(file.size, Writer::u64);
    if !ranges_are_valid(&file.ranges) {
        w.fail(format!(
            "the ranges of {:?} are not sorted, disjoint and non-empty",
            file.remote_name
        ));
    }
    w.seq(&file.ranges, "ranges", |w, &(start, end)| {
        w.u64(start);
        w.u64(end);
    });
    w.option(file.validator.as_deref(), |w, validator| w.str(validator, "validator"));
    w.bool(file.transferred);
    w.bool(file.completed);
    w.option(file.expected_sha256.as_ref(), |w, digest| w.raw(digest));
}

fn duration(w: &mut Writer, value: Duration) {
    w.u64(value.as_secs());
    w.u32(value.subsec_nanos());
}

fn time(w: &mut Writer, value: SystemTime) {
    // Seconds rounded down and a non-negative nanosecond part, on both sides of 1970. i128 keeps
    // the arithmetic exact for every SystemTime a platform can hold.
    let (secs, nanos) = match value.duration_since(UNIX_EPOCH) {
        Ok(after) => (i128::from(after.as_secs()), after.subsec_nanos()),
        Err(before) => {
            let before = before.duration();
            match before.subsec_nanos() {
                0 => (-i128::from(before.as_secs()), 0),
                nanos => (-i128::from(before.as_secs()) - 1, NANOS_PER_SEC - nanos),
            }
        }
    };
    match i64::try_from(secs) {
        Ok(secs) => w.i64(secs),
        Err(_) => {
            w.fail(format!("time {value:?} is out of range"));
            w.i64(0);
        }
    }
    w.u32(nanos);
}

fn path(w: &mut Writer, value: &Path) {
    match crate::platform::names::path_bytes(value) {
        Some(bytes) => w.bytes(bytes, "path"),
        None => {
            w.fail(format!("path {value:?} is not Unicode"));
            w.bytes(b"", "path");
        }
    }
}

/// Each range non-empty, each starting at or after the end of the one before.
fn ranges_are_valid(ranges: &[(u64, u64)]) -> bool {
    ranges.iter().all(|(start, end)| start < end)
        && ranges.windows(2).all(|pair| matches!(pair, [(_, end), (next, _)] if end <= next))
}

/// Decodes a record; the whole input must be exactly one record.
pub(crate) fn decode(bytes: &[u8]) -> Result<JobSnapshot, DecodeError> {
    let mut r = Reader::new(bytes);
    if r.take(MAGIC.len(), "magic").ok() != Some(&MAGIC[..]) {
        return Err(r.error_at("magic", 0, Problem::BadMagic));
    }
    let at = r.position();
    let version = match r.u32("format version")? {
        0 => return Err(r.error_at("format version", at, Problem::UnknownVersion(0))),
        version @ (FORMAT_VERSION_1 | FORMAT_VERSION) => version,
        found => {
            let problem = Problem::TooNew { found, supported: FORMAT_VERSION };
            return Err(r.error_at("format version", at, problem));
        }
    };
    let mut job = JobSnapshot {
        id: JobId::from_u128(u128::from_be_bytes(r.array("id")?)),
        seq: r.u64("seq")?,
        job_type: discriminant(&mut r, "job type", BgJobType::try_from)?,
        display_name: r.string("display name")?,
        description: r.string("description")?,
        owner: r.string("owner")?,
        priority: discriminant(&mut r, "priority", BgJobPriority::try_from)?,
        notify_flags: r.u32("notify flags")?,
        min_retry_delay: read_duration(&mut r, "min retry delay")?,
        no_progress_timeout: read_duration(&mut r, "no-progress timeout")?,
        proxy: BgProxySettings {
            usage: discriminant(&mut r, "proxy usage", BgJobProxyUsage::try_from)?,
            proxy_list: r.option("proxy list", |r| r.string("proxy list"))?,
            bypass_list: r.option("bypass list", |r| r.string("bypass list"))?,
        },
        headers: r
            .seq("headers", 8, |r| Ok((r.string("header name")?, r.string("header value")?)))?,
        connect_timeout: r.option("connect timeout", |r| read_duration(r, "connect timeout"))?,
        read_timeout: r.option("read timeout", |r| read_duration(r, "read timeout"))?,
        max_connections: r.u32("max connections")?,
        max_bytes_per_second: r
            .option("max bytes per second", |r| r.u64("max bytes per second"))?,
        state: discriminant(&mut r, "state", BgJobState::try_from)?,
        error_count: r.u32("error count")?,
        error: r.option("error", read_error)?,
        creation_time: read_time(&mut r, "creation time")?,
        modification_time: read_time(&mut r, "modification time")?,
        transfer_completion_time: r
            .option("transfer completion time", |r| read_time(r, "transfer completion time"))?,
        retry: r.option("retry", |r| {
            Ok(RetrySnapshot {
                retry_at: read_time(r, "retry at")?,
                quiet_since: read_time(r, "quiet since")?,
            })
        })?,
        intent: r.option("intent", |r| {
            let at = r.position();
            match r.u8("intent")? {
                0 => Ok(Intent::Complete),
                1 => Ok(Intent::Cancel),
                other => Err(r.error_at("intent", at, Problem::OutOfRange(other.into()))),
            }
        })?,
        // The smallest file: two empty strings (4 + 4), three absent options, an empty range
        // list (4), an absent validator, two bools and an absent digest.
        files: r.seq("files", 4 + 4 + 2 + 4 + 1 + 2 + 1, read_file)?,
        http: crate::job::record::http_options::HttpOptions::default(),
        sources: JobSourcesSnapshot::default(),
        bytes_needed: BytesNeeded::default(),
    };
    if version >= 2 {
        job.http = http_options::read(&mut r)?;
        read_sources(&mut r, &mut job)?;
        job.bytes_needed = read_bytes_needed(&mut r)?;
    }
    r.finish()?;
    Ok(job)
}

fn read_error(r: &mut Reader<'_>) -> Result<ErrorSnapshot, DecodeError> {
    Ok(ErrorSnapshot {
        context: discriminant(r, "error context", BgErrorContext::try_from)?,
        hresult: r.u32("error hresult")?,
        file_index: r.option("error file index", |r| r.u32("error file index"))?,
        protocol: r.option("error protocol", |r| r.string("error protocol"))?,
        message: r.string("error message")?,
    })
}

fn read_file(r: &mut Reader<'_>) -> Result<FileSnapshot, DecodeError> {
    let remote_name = r.string("remote name")?;
    let local_name = read_path(r, "local name")?;
    let temp_path = r.option("temp path", |r| read_path(r, "temp path"))?;
    let size = r.option("size", |r| r.u64("size"))?;
    let at = r.position();
    let ranges = r.seq("ranges", 16, |r| Ok((r.u64("range start")?, r.u64("range end")?)))?;
    if !ranges_are_valid(&ranges) {
        let rule = "ranges are not sorted, disjoint and non-empty";
        return Err(r.error_at("ranges", at, Problem::Invalid(rule)));
    }
    Ok(FileSnapshot {
        remote_name,
        local_name,
        temp_path,
        size,
        ranges,
        validator: r.option("validator", |r| r.string("validator"))?,
        transferred: r.bool("transferred")?,
        completed: r.bool("completed")?,
        expected_sha256: r.option("expected sha256", |r| r.array("expected sha256"))?,
        sources: FileSourcesSnapshot::default(),
    })
}

/// A `u32` discriminant converted by `convert`, which refuses values outside the enum.
fn discriminant<T, E>(
    r: &mut Reader<'_>,
    what: &'static str,
    convert: impl FnOnce(u32) -> Result<T, E>,
) -> Result<T, DecodeError> {
    let at = r.position();
    let value = r.u32(what)?;
    convert(value).map_err(|_| r.error_at(what, at, Problem::OutOfRange(value.into())))
}

fn read_nanos(r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let at = r.position();
    match r.u32(what)? {
        nanos if nanos < NANOS_PER_SEC => Ok(nanos),
        nanos => Err(r.error_at(what, at, Problem::OutOfRange(nanos.into()))),
    }
}

fn read_duration(r: &mut Reader<'_>, what: &'static str) -> Result<Duration, DecodeError> {
    let secs = r.u64(what)?;
    Ok(Duration::new(secs, read_nanos(r, what)?))
}

fn read_time(r: &mut Reader<'_>, what: &'static str) -> Result<SystemTime, DecodeError> {
    let at = r.position();
    let secs = r.i64(what)?;
    let nanos = Duration::from_nanos(read_nanos(r, what)?.into());
    let whole = Duration::from_secs(secs.unsigned_abs());
    let time =
        if secs >= 0 { UNIX_EPOCH.checked_add(whole) } else { UNIX_EPOCH.checked_sub(whole) };
    time.and_then(|time| time.checked_add(nanos)).ok_or_else(|| {
        r.error_at(what, at, Problem::Invalid("time out of range for this platform"))
    })
}

fn read_path(r: &mut Reader<'_>, what: &'static str) -> Result<PathBuf, DecodeError> {
    let at = r.position();
    let bytes = r.bytes(what)?;
    crate::platform::names::path_from_bytes(bytes)
        .ok_or_else(|| r.error_at(what, at, Problem::NotUtf8))
}
#[cfg(test)]
mod tests;
