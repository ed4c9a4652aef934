//! HTTP-date parsing (RFC 9110 section 5.6.7): the preferred IMF-fixdate and the two obsolete
//! formats a recipient must still accept.
//!
//! ```text
//! IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
//! rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT
//! asctime-date  Sun Nov  6 08:49:37 1994
//! ```
//!
//! A date is returned as seconds since the Unix epoch (negative before 1970), which is all that
//! comparing two dates or a date with the clock needs. Leniency: month and day names are matched
//! without regard to case, the day name is not checked against the date (a wrong weekday does
//! not make the moment ambiguous), and surrounding whitespace is ignored; anything else that
//! departs from the grammar (another zone than `GMT`, a missing field, a day the month does not
//! have, an hour past 23) is not a date. A leap second (`:60`) is accepted and counts as the
//! first second of the next minute. The two-digit year of an rfc850-date is read, as the RFC
//! requires, as the year with those last two digits nearest to the reference year: more than 50
//! years in the future means the century before.

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const SHORT_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const LONG_DAYS: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

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
    if let Some((day_name, rest)) = value.split_once(", ") {
        if is_one_of(day_name, &SHORT_DAYS) {
            return imf_fixdate(rest);
        }
        if is_one_of(day_name, &LONG_DAYS) {
            return rfc850(rest, reference);
        }
        return None;
    }
    asctime(value)
}

/// `06 Nov 1994 08:49:37 GMT` (after the day name and comma).
fn imf_fixdate(rest: &str) -> Option<i64> {
    let mut parts = rest.split(' ');
    let day = two_digits(parts.next()?)?;
    let month = month(parts.next()?)?;
    let year = digits(parts.next()?, 4)?;
    let time = time_of_day(parts.next()?)?;
    (parts.next()? == "GMT" && parts.next().is_none()).then_some(())?;
    moment(year, month, day, time)
}

/// `06-Nov-94 08:49:37 GMT` (after the day name and comma).
fn rfc850(rest: &str, reference: i64) -> Option<i64> {
    let mut parts = rest.split(' ');
    let mut date = parts.next()?.split('-');
    let day = two_digits(date.next()?)?;
    let month = month(date.next()?)?;
    let short_year = two_digits(date.next()?)?;
    date.next().is_none().then_some(())?;
    let time = time_of_day(parts.next()?)?;
    (parts.next()? == "GMT" && parts.next().is_none()).then_some(())?;
    moment(full_year(short_year, reference), month, day, time)
}

/// `Sun Nov  6 08:49:37 1994`: the day of the month is two digits or a space and one digit.
fn asctime(value: &str) -> Option<i64> {
    let (day_name, rest) = value.split_once(' ')?;
    is_one_of(day_name, &SHORT_DAYS).then_some(())?;
    let (month_name, rest) = rest.split_once(' ')?;
    let month = month(month_name)?;
    let (day, rest) = match rest.strip_prefix(' ') {
        Some(rest) => rest.split_at_checked(1)?,
        None => rest.split_at_checked(2)?,
    };
    let day = digits(day, day.len())?;
    let mut parts = rest.strip_prefix(' ')?.split(' ');
    let time = time_of_day(parts.next()?)?;
    let year = digits(parts.next()?, 4)?;
    parts.next().is_none().then_some(())?;
    moment(year, month, day, time)
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// A three-letter month name, as 1..=12.
fn month(name: &str) -> Option<u32> {
    let index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name))?;
    u32::try_from(index + 1).ok()
}

/// Exactly `count` ASCII digits.
fn digits(text: &str, count: usize) -> Option<u32> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
    text.parse().ok()
}

fn two_digits(text: &str) -> Option<u32> {
    digits(text, 2)
}

/// `hh:mm:ss` as seconds into the day (`23:59:60` is the 86 400th).
fn time_of_day(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let hour = two_digits(parts.next()?)?;
    let minute = two_digits(parts.next()?)?;
    let second = two_digits(parts.next()?)?;
    (parts.next().is_none() && hour < 24 && minute < 60 && second <= 60).then_some(())?;
    Some(hour * 3600 + minute * 60 + second)
}

/// The year with `short`'s last two digits nearest to the reference: at most 50 years ahead.
fn full_year(short: u32, reference: i64) -> u32 {
    let reference_year = civil_year(reference);
    let century = reference_year - reference_year.rem_euclid(100);
    let mut year = century + i64::from(short);
    if year > reference_year + 50 {
        year -= 100;
    } else if year <= reference_year - 50 {
        year += 100;
    }
    u32::try_from(year).unwrap_or(0)
}

/// Seconds since the epoch of a day and a time in it, if the day exists.
fn moment(year: u32, month: u32, day: u32, seconds: u32) -> Option<i64> {
    (day >= 1 && day <= days_in_month(year, month)).then_some(())?;
    Some(days_from_civil(i64::from(year), month, day) * 86_400 + i64::from(seconds))
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The Gregorian year a moment falls in (the inverse of [`days_from_civil`], year only).
fn civil_year(seconds: i64) -> i64 {
    let days = seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400;
    if march_based_month >= 10 { year + 1 } else { year }
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
        assert_eq!(parse("Sun Nov 16 08:49:37 1994", NOW), Some(EXAMPLE + 10 * 86_400));
    }

    #[test]
    fn names_are_matched_without_case_and_whitespace_is_trimmed() {
        assert_eq!(parse("  sun, 06 NOV 1994 08:49:37 GMT\t", NOW), Some(EXAMPLE));
        assert_eq!(parse("SUNDAY, 06-nov-94 08:49:37 GMT", NOW), Some(EXAMPLE));
        // The weekday is not checked against the date.
        assert_eq!(parse("Mon, 06 Nov 1994 08:49:37 GMT", NOW), Some(EXAMPLE));
    }

    #[test]
    fn epoch_leap_days_and_pre_epoch_dates_convert_exactly() {
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT", NOW), Some(0));
        assert_eq!(parse("Wed, 31 Dec 1969 23:59:59 GMT", NOW), Some(-1));
        assert_eq!(parse("Thu, 29 Feb 2024 12:00:00 GMT", NOW), Some(1_709_208_000));
        assert_eq!(parse("Tue, 29 Feb 2000 00:00:00 GMT", NOW), Some(951_782_400));
        assert_eq!(parse("Fri, 31 Dec 9999 23:59:59 GMT", NOW), Some(253_402_300_799));
        assert_eq!(parse("Thu, 01 Jan 2026 00:00:00 GMT", NOW), Some(NOW));
    }

    #[test]
    fn a_leap_second_counts_as_the_next_minute() {
        assert_eq!(
            parse("Sat, 31 Dec 2016 23:59:60 GMT", NOW),
            parse("Sun, 01 Jan 2017 00:00:00 GMT", NOW)
        );
    }

    #[test]
    fn two_digit_years_are_placed_within_fifty_years_of_the_reference() {
        let year_of = |value: &str, reference: i64| civil_year(parse(value, reference).unwrap());
        assert_eq!(year_of("Monday, 01-Jan-30 00:00:00 GMT", NOW), 2030);
        assert_eq!(year_of("Monday, 01-Jan-76 00:00:00 GMT", NOW), 2076);
        assert_eq!(year_of("Monday, 01-Jan-77 00:00:00 GMT", NOW), 1977);
        assert_eq!(year_of("Monday, 01-Jan-99 00:00:00 GMT", NOW), 1999);
        assert_eq!(year_of("Monday, 01-Jan-00 00:00:00 GMT", NOW), 2000);
        // A reference late in a century reaches into the next one.
        let in_2090 = parse("Sun, 01 Jan 2090 00:00:00 GMT", NOW).unwrap();
        assert_eq!(year_of("Monday, 01-Jan-10 00:00:00 GMT", in_2090), 2110);
        assert_eq!(year_of("Monday, 01-Jan-41 00:00:00 GMT", in_2090), 2041);
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
            "Funday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov 06 08:49:37 1994 GMT",
            "Sun Nov  x 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
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
    fn civil_year_inverts_days_from_civil() {
        for year in [1, 1600, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2100, 9999] {
            for (month, day) in [(1, 1), (2, 28), (3, 1), (12, 31)] {
                let seconds = days_from_civil(i64::from(year), month, day) * 86_400;
                assert_eq!(civil_year(seconds), i64::from(year), "{year}-{month}-{day}");
                assert_eq!(civil_year(seconds + 86_399), i64::from(year));
            }
        }
    }
}
