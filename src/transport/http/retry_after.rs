//! The `Retry-After` header (RFC 9110 section 10.2.3): how long a `429` or `503` asks the client
//! to wait before its next attempt.
//!
//! ```text
//! Retry-After = HTTP-date / delay-seconds
//! ```
//!
//! - **delay-seconds**: one or more ASCII digits, whole seconds from the response.
//! - **HTTP-date**: any of the three formats ([`date`](super::date)); the wait is the date minus
//!   the response's own `Date` header when that parses (the server's clock against the server's
//!   clock, so a skewed local clock does not matter), else minus the system clock.
//! - A date in the past (or now) asks for no wait: zero.
//! - A value that is neither (a sign, a fraction, a list, an unknown date form, empty) is
//!   ignored, as the RFC lets a recipient do: the job's own retry delay applies.
//! - Any wait is capped at [`MAX_RETRY_AFTER`], one day, so a wrong or hostile value (say
//!   `Retry-After: 99999999999`, or a date in the next century) parks a job for a day at most,
//!   not forever; the job's no-progress timeout and minimum retry delay still apply on top.

use super::date;
use std::time::{Duration, SystemTime};

/// The longest wait a `Retry-After` can impose: one day (86 400 s). Longer values are cut to it.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait a `Retry-After` `value` asks for, counted from the response; `date` is the
/// response's `Date` header and `now` the system clock, both used only for an HTTP-date value.
/// `None` when the value is not one of the two forms.
pub(crate) fn delay(value: &str, date: Option<&str>, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: too many to fit a u64 is still "very long", capped like any other.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let now = date::unix_seconds(now);
    let reference = date.and_then(|d| date::parse(d, now)).unwrap_or(now);
    let at = date::parse(value, reference)?;
    let seconds = u64::try_from(at.saturating_sub(reference)).unwrap_or(0);
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// 2025-07-02T10:00:00Z.
    const DATE: &str = "Wed, 02 Jul 2025 10:00:00 GMT";
    const DATE_SECONDS: u64 = 1_751_450_400;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn delay_seconds_are_taken_as_given() {
        let now = at(DATE_SECONDS);
        assert_eq!(delay("7", None, now), secs(7));
        assert_eq!(delay("0", None, now), secs(0));
        assert_eq!(delay(" 120 ", Some(DATE), now), secs(120));
        assert_eq!(delay("007", None, now), secs(7));
    }

    #[test]
    fn huge_delays_are_capped_at_a_day() {
        let now = at(DATE_SECONDS);
        assert_eq!(delay("86400", None, now), Some(MAX_RETRY_AFTER));
        assert_eq!(delay("86401", None, now), Some(MAX_RETRY_AFTER));
        assert_eq!(delay("99999999999999999999999999", None, now), Some(MAX_RETRY_AFTER));
        assert_eq!(delay("Fri, 31 Dec 9999 23:59:59 GMT", None, now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn each_date_format_counts_from_the_response_date() {
        // The local clock is far off; the response's Date header is the reference.
        let skewed = at(DATE_SECONDS - 3600);
        for value in [
            "Wed, 02 Jul 2025 10:00:30 GMT",
            "Wednesday, 02-Jul-25 10:00:30 GMT",
            "Wed Jul  2 10:00:30 2025",
        ] {
            assert_eq!(delay(value, Some(DATE), skewed), secs(30), "{value}");
        }
    }

    #[test]
    fn a_date_without_a_usable_date_header_counts_from_the_clock() {
        let now = at(DATE_SECONDS);
        let value = "Wed, 02 Jul 2025 10:01:00 GMT";
        assert_eq!(delay(value, None, now), secs(60));
        assert_eq!(delay(value, Some("yesterday"), now), secs(60));
        // Sub-second parts of the clock are dropped, not rounded up.
        assert_eq!(delay(value, None, now + Duration::from_millis(900)), secs(60));
    }

    #[test]
    fn past_dates_mean_no_wait() {
        let now = at(DATE_SECONDS);
        assert_eq!(delay(DATE, Some(DATE), now), secs(0));
        assert_eq!(delay("Tue, 01 Jul 2025 10:00:00 GMT", Some(DATE), now), secs(0));
        assert_eq!(delay("Thu, 01 Jan 1970 00:00:00 GMT", None, now), secs(0));
        // Before 1970 is no HTTP-date (the `date` module): ignored, not "no wait".
        assert_eq!(delay("Sun, 06 Nov 1904 08:49:37 GMT", None, now), None);
    }

    #[test]
    fn garbage_is_ignored() {
        let now = at(DATE_SECONDS);
        for bad in [
            "",
            "   ",
            "-5",
            "+5",
            "5.5",
            "1e3",
            "5, 10",
            "5 s",
            "soon",
            "Wed, 02 Jul 2025 10:00:30 UTC",
            "2025-07-02T10:00:30Z",
            "Wed, 32 Jul 2025 10:00:30 GMT",
        ] {
            assert_eq!(delay(bad, Some(DATE), now), None, "{bad:?}");
        }
    }
}
