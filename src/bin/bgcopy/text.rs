//! How figures read: the plain `key=value` lines (for logs and scripts) and the short human forms
//! (for bars and tables).
//!
//! A plain line is `job={ID} state=STATE bytes=DONE/TOTAL files=DONE/TOTAL rate=B/S eta=SECONDS`,
//! with `-` for a total or an ETA that is not known; `rate` is whole bytes per second over the
//! recent window of this session, `eta` whole seconds, rounded up.

use bgcopy::meter::Rate;
use bgcopy::{BgJobProgress, BgJobState};
use indicatif::HumanBytes;
use std::fmt::Write;
use std::time::Duration;

/// The `key=value` fields of a job's figures.
pub(crate) fn plain(
    id: &dyn std::fmt::Display,
    state: BgJobState,
    p: &BgJobProgress,
    rate: &Rate,
) -> String {
    let total = p.total().map_or_else(|| "-".to_owned(), |t| t.to_string());
    let eta = rate.eta.map_or_else(|| "-".to_owned(), |eta| seconds_up(eta).to_string());
    format!(
        "job={id} state={state:?} bytes={}/{total} files={}/{} rate={:.0} eta={eta}",
        p.bytes_transferred, p.files_transferred, p.files_total, rate.bytes_per_second
    )
}

/// Whole seconds, rounded up (saturating).
fn seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// `1.2 MiB / 4.0 MiB 30%`, or `1.2 MiB / ?` while the total is unknown.
pub(crate) fn bytes(p: &BgJobProgress) -> String {
    match p.total() {
        Some(total) => {
            let percent = p.fraction().unwrap_or(1.0) * 100.0;
            format!("{} / {} {percent:.0}%", HumanBytes(p.bytes_transferred), HumanBytes(total))
        }
        None => format!("{} / ?", HumanBytes(p.bytes_transferred)),
    }
}

/// `512.0 KiB/s ETA 6s`, `0 B/s` while stalled, without an ETA while there is none.
pub(crate) fn rate(rate: &Rate) -> String {
    let per_second = HumanBytes(rate.bytes_per_second.round() as u64);
    let mut text = format!("{per_second}/s");
    if let Some(eta) = rate.eta {
        let _ = write!(text, " ETA {}", short_duration(eta));
    }
    text
}

/// `1h02m`, `3m05s`, `12s`.
pub(crate) fn short_duration(duration: Duration) -> String {
    let seconds = seconds_up(duration);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ if seconds >= 100 * 3600 => ">99h".to_owned(),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}
