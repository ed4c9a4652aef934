//! The job record: how a [`JobSnapshot`] is laid out in bytes, format version 1.
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
//! A *duration* is `u64` seconds and `u32` nanoseconds (below 10⁹). A *time* is `i64` seconds and
//! `u32` nanoseconds (below 10⁹) after `UNIX_EPOCH`, the seconds rounded down, so 0.5 s before
//! 1970 is `(-1, 500_000_000)`. A *path* is its bytes on Unix (`OsStrExt`) and UTF-8 elsewhere.
//! Ranges are non-empty, sorted and disjoint. Anything else is refused with a [`DecodeError`];
//! so are bytes after the last field.

use super::codec::{DecodeError, EncodeError, Problem, Reader, Writer};
use crate::job::record::snapshot::{
    ErrorSnapshot, FileSnapshot, Intent, JobSnapshot, RetrySnapshot,
};
use crate::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobState, BgJobType};
use crate::{BgProxySettings, JobId};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The store format this bgcopy writes and the newest it reads: of every record, and of the
/// store as a whole (its meta table).
pub(crate) const FORMAT_VERSION: u32 = 1;

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
    w.u32(FORMAT_VERSION);
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
    w.finish()
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
    match r.u32("format version")? {
        0 => return Err(r.error_at("format version", at, Problem::UnknownVersion(0))),
        FORMAT_VERSION => {}
        found => {
            let problem = Problem::TooNew { found, supported: FORMAT_VERSION };
            return Err(r.error_at("format version", at, problem));
        }
    }
    let job = JobSnapshot {
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
    };
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
