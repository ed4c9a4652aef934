//! HTTP-dates (RFC 9110 section 5.6.7), read by the `httpdate` crate: the preferred IMF-fixdate
//! and the two obsolete formats a recipient must still accept.
//!
//! ```text
//! IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
//! rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT
//! asctime-date  Sun Nov  6 08:49:37 1994
//! ```
//!
//! Hand-written here, because the crate cannot serve it: the two-digit year of an rfc850-date.
//! The crate reads it against a fixed pivot (`00`-`69` as 20xx, `70`-`99` as 19xx), while the RFC
//! requires the year with those last two digits nearest to the reference: more than 50 years in
//! the future means the century before. So an rfc850-date is rewritten as the IMF-fixdate of that
//! year, and the crate checks the rest.
//!
//! A date is returned as seconds since the Unix epoch, which is all that comparing two dates or a
//! date with the clock needs. Surrounding whitespace is ignored; anything else that departs from
//! the grammar is not a date: names in another case (HTTP-date is case-sensitive), a weekday that
//! is not the date's, a zone other than `GMT`, a missing field, a day the month does not have, an
//! hour past 23, a leap second (`:60`), a year before 1970 or after 9999.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LONG_DAYS: [&str; 7] =
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The last second an HTTP-date can name: 9999-12-31T23:59:59Z.
const LAST_SECOND: i64 = 253_402_300_799;

/// Seconds since the Unix epoch of `time`, saturating (negative before 1970).
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Parses an HTTP-date in any of the three formats. `reference` (seconds since the epoch) places
/// the two-digit year of an rfc850-date; the other formats ignore it.
pub(crate) fn parse(value: &str, reference: i64) -> Option<i64> {
    let value = value.trim();
    let time = match value.split_once(", ") {
        Some((day_name, rest)) if LONG_DAYS.contains(&day_name) => {
            httpdate::parse_http_date(&rfc850_as_imf_fixdate(day_name, rest, reference)?)
        }
        _ => httpdate::parse_http_date(value),
    };
    time.ok().map(unix_seconds)
}

/// `06-Nov-94 08:49:37 GMT` (after the long day name and comma) as
/// `Sun, 06 Nov 1994 08:49:37 GMT`, the year placed by [`full_year`]. Only the two-digit year is
/// checked here; the crate checks every other field of the result.
fn rfc850_as_imf_fixdate(day_name: &str, rest: &str, reference: i64) -> Option<String> {
    let (date, time) = rest.split_once(' ')?;
    let mut parts = date.split('-');
    let (day, month, short_year) = (parts.next()?, parts.next()?, parts.next()?);
    let two_digits = short_year.len() == 2 && short_year.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && two_digits).then_some(())?;
    let year = full_year(short_year.parse().ok()?, reference);
    Some(format!("{}, {day} {month} {year} {time}", day_name.get(..3)?))
}

/// The year with `short`'s last two digits nearest to the reference: at most 50 years ahead.
fn full_year(short: i64, reference: i64) -> i64 {
    let reference_year = year_of(reference);
    let century = reference_year - reference_year.rem_euclid(100);
    let year = century + short;
    if year > reference_year + 50 {
        year - 100
    } else if year <= reference_year - 50 {
        year + 100
    } else {
        year
    }
}

/// The Gregorian year of a moment, clamped to the years an HTTP-date can have (1970 to 9999):
/// read from the crate's own IMF-fixdate of it (`Sun, 06 Nov 1994 ...`, the year at 12..16).
fn year_of(seconds: i64) -> i64 {
    let seconds = u64::try_from(seconds.clamp(0, LAST_SECOND)).unwrap_or(0);
    let text = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds));
    text.get(12..16).and_then(|year| year.parse().ok()).unwrap_or(1970)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn system_time(seconds: i64) -> SystemTime {
        let magnitude = Duration::from_secs(seconds.unsigned_abs());
        if seconds >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
    }

    /// 1994-11-06T08:49:37Z, the RFC's example.
    const EXAMPLE: i64 = 784_111_777;
    /// 2026-01-01T00:00:00Z, a reference "now" for the two-digit years.
    const NOW: i64 = 1_767_225_600;

    #[test]
    fn the_three_formats_of_the_rfc_example_agree() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW), Some(EXAMPLE));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT", NOW), Some(EXAMPLE));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994", NOW), Some(EXAMPLE));
        assert_eq!(parse("Wed Nov 16 08:49:37 1994", NOW), Some(EXAMPLE + 10 * 86_400));
    }

    #[test]
    fn whitespace_is_trimmed_but_case_and_weekday_are_checked() {
        assert_eq!(parse("  Sun, 06 Nov 1994 08:49:37 GMT\t", NOW), Some(EXAMPLE));
        assert_eq!(parse(" Sunday, 06-Nov-94 08:49:37 GMT ", NOW), Some(EXAMPLE));
        // HTTP-date is case-sensitive (RFC 9110 section 5.6.7).
        assert_eq!(parse("sun, 06 NOV 1994 08:49:37 GMT", NOW), None);
        assert_eq!(parse("SUNDAY, 06-nov-94 08:49:37 GMT", NOW), None);
        // A weekday that is not the date's makes the value malformed.
        assert_eq!(parse("Mon, 06 Nov 1994 08:49:37 GMT", NOW), None);
        assert_eq!(parse("Monday, 06-Nov-94 08:49:37 GMT", NOW), None);
        assert_eq!(parse("Mon Nov  6 08:49:37 1994", NOW), None);
    }

    #[test]
    fn epoch_and_leap_days_convert_exactly() {
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT", NOW), Some(0));
        assert_eq!(parse("Thu, 29 Feb 2024 12:00:00 GMT", NOW), Some(1_709_208_000));
        assert_eq!(parse("Tue, 29 Feb 2000 00:00:00 GMT", NOW), Some(951_782_400));
        assert_eq!(parse("Fri, 31 Dec 9999 23:59:59 GMT", NOW), Some(253_402_300_799));
        assert_eq!(parse("Thu, 01 Jan 2026 00:00:00 GMT", NOW), Some(NOW));
    }

    #[test]
    fn dates_outside_1970_to_9999_and_leap_seconds_are_not_dates() {
        assert_eq!(parse("Wed, 31 Dec 1969 23:59:59 GMT", NOW), None);
        assert_eq!(parse("Sun, 06 Nov 1904 08:49:37 GMT", NOW), None);
        assert_eq!(parse("Sat, 31 Dec 2016 23:59:60 GMT", NOW), None);
    }

    #[test]
    fn two_digit_years_are_placed_within_fifty_years_of_the_reference() {
        let same = |rfc850: &str, reference: i64, fixdate: &str| {
            let fixed = parse(fixdate, NOW);
            assert!(fixed.is_some(), "{fixdate:?}");
            assert_eq!(parse(rfc850, reference), fixed, "{rfc850:?} at {reference}");
        };
        same("Tuesday, 01-Jan-30 00:00:00 GMT", NOW, "Tue, 01 Jan 2030 00:00:00 GMT");
        // 2076 is 50 years ahead of 2026, not more: still this century (a fixed pivot at 1970
        // would say 1976).
        same("Wednesday, 01-Jan-76 00:00:00 GMT", NOW, "Wed, 01 Jan 2076 00:00:00 GMT");
        same("Saturday, 01-Jan-77 00:00:00 GMT", NOW, "Sat, 01 Jan 1977 00:00:00 GMT");
        same("Friday, 01-Jan-99 00:00:00 GMT", NOW, "Fri, 01 Jan 1999 00:00:00 GMT");
        same("Saturday, 01-Jan-00 00:00:00 GMT", NOW, "Sat, 01 Jan 2000 00:00:00 GMT");
        // A reference late in a century reaches into the next one.
        let in_2090 = parse("Sun, 01 Jan 2090 00:00:00 GMT", NOW).unwrap();
        same("Wednesday, 01-Jan-10 00:00:00 GMT", in_2090, "Wed, 01 Jan 2110 00:00:00 GMT");
        same("Tuesday, 01-Jan-41 00:00:00 GMT", in_2090, "Tue, 01 Jan 2041 00:00:00 GMT");
        // The weekday is checked against the year the RFC's rule gives.
        assert_eq!(parse("Thursday, 01-Jan-76 00:00:00 GMT", NOW), None);
    }

    #[test]
    fn anything_off_the_grammar_is_not_a_date() {
        for bad in [
            "",
            "7",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nob 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT extra",
            "Sunday, 06-Nov-94-01 08:49:37 GMT",
            "Sunday, 06-Nov-9x 08:49:37 GMT",
            "Funday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov 06 08:49:37 1994 GMT",
            "Sun Nov  x 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
        ] {
            assert_eq!(parse(bad, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn unix_seconds_round_trips_system_times() {
        for seconds in [0, 1, -1, EXAMPLE, NOW, -EXAMPLE] {
            assert_eq!(unix_seconds(system_time(seconds)), seconds);
        }
        let later = system_time(NOW) + Duration::from_millis(999);
        assert_eq!(unix_seconds(later), NOW, "sub-second parts are dropped");
    }

    #[test]
    fn the_reference_year_is_clamped_to_the_years_a_date_can_have() {
        // A clock before 1970 or past 9999 still places a two-digit year (at the nearest end).
        let before = parse("Thursday, 01-Jan-70 00:00:00 GMT", -EXAMPLE);
        assert_eq!(before, Some(0));
        let after = parse("Friday, 31-Dec-99 23:59:59 GMT", i64::MAX);
        assert_eq!(after, Some(253_402_300_799));
    }
}
