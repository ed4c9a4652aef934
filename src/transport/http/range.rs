//! `Content-Range` parsing and the checks that decide whether a partial response may be appended
//! to what a file already holds, and the validators (`ETag`, `Last-Modified`) that `If-Range`
//! sends back.
//!
//! The rule: bytes of a `206` are appended only if its `Content-Range` is one well-formed
//! `bytes first-last/complete` range whose `first` is exactly the bytes already held, whose
//! length agrees with `Content-Length` (when sent), whose `complete` length agrees with the size
//! known from earlier attempts, and whose validators pass [`check`] against the one the request
//! named. Anything else is [`Verdict::StartOver`]: the file is restarted from zero, never
//! appended to; a coded body ([`Verdict::Refuse`]) is an error.

use super::date;
use std::time::SystemTime;

/// A parsed `Content-Range` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentRange {
    /// `bytes first-last/complete` (`complete` is `None` for `*`).
    Bytes { first: u64, last: u64, complete: Option<u64> },
    /// `bytes */complete`: the answer to an unsatisfiable range (`416`).
    Unsatisfied { complete: u64 },
}

impl ContentRange {
    /// Parses one `Content-Range` value (RFC 9110 section 14.4). Returns `None` for anything
    /// malformed: another unit, missing parts, signs, spaces inside numbers, overflow,
    /// `last < first`, or `complete <= last`.
    pub(crate) fn parse(value: &str) -> Option<ContentRange> {
        let value = value.trim();
        let (unit, rest) = value.split_once(' ')?;
        if !unit.eq_ignore_ascii_case("bytes") {
            return None;
        }
        let (range, complete) = rest.trim_start().split_once('/')?;
        let complete = match complete {
            "*" => None,
            digits => Some(number(digits)?),
        };
        if range == "*" {
            return complete.map(|complete| ContentRange::Unsatisfied { complete });
        }
        let (first, last) = range.split_once('-')?;
        let (first, last) = (number(first)?, number(last)?);
        if last < first || complete.is_some_and(|c| c <= last) {
            return None;
        }
        Some(ContentRange::Bytes { first, last, complete })
    }
}

/// Digits only (no sign, no spaces), without overflow.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What the headers of a `206` answer to `Range: bytes=offset-` allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Append `len` bytes at `offset`; the file's full size is `complete` if known.
    Append { len: u64, complete: Option<u64> },
    /// Do not append: restart the file from zero.
    StartOver,
    /// The body is coded (`Content-Encoding` other than `identity`): not the file's bytes.
    Refuse(String),
}

/// The headers of a partial response, as far as the checks need them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PartialHeaders<'a> {
    pub(crate) content_range: Option<&'a str>,
    pub(crate) content_length: Option<u64>,
    pub(crate) validators: Validators<'a>,
}

/// Judges a `206` against the request (`offset`, the validator `sent` in `If-Range`, if any) and
/// the size known from earlier attempts.
pub(crate) fn judge_partial(
    headers: &PartialHeaders<'_>,
    offset: u64,
    sent: Option<&str>,
    known_size: Option<u64>,
) -> Verdict {
    match check(sent, &headers.validators) {
        Check::Same(_) => {}
        Check::Changed => return Verdict::StartOver,
        Check::Coded(why) => return Verdict::Refuse(why),
    }
    let Some(ContentRange::Bytes { first, last, complete }) =
        headers.content_range.and_then(ContentRange::parse)
    else {
        return Verdict::StartOver;
    };
    let len = last - first + 1;
    let consistent = first == offset
        && headers.content_length.is_none_or(|cl| cl == len)
        && match (known_size, complete) {
            (Some(known), Some(complete)) => known == complete,
            // A total the server does not state cannot contradict the known one, but the range
            // must stay inside it.
            (Some(known), None) => last < known,
            (None, _) => true,
        };
    if consistent { Verdict::Append { len, complete } } else { Verdict::StartOver }
}

/// Whether a `416` to `Range: bytes=offset-` with `If-Range` says the file is complete: its
/// `Content-Range` is `bytes */offset` (the complete length is exactly the bytes held), the size
/// known before (if any) agrees, and it names no other validator. (A server answers a validator
/// that does not match with a `200`, not a `416`.)
pub(crate) fn unsatisfied_at_end(
    headers: &PartialHeaders<'_>,
    offset: u64,
    validator: &str,
    known_size: Option<u64>,
) -> bool {
    // A `416` repeats no ETag (it is not a `206`): only a validator it names can contradict.
    let named = headers.validators.etag.is_some() || !is_etag(validator);
    headers.content_range.and_then(ContentRange::parse)
        == Some(ContentRange::Unsatisfied { complete: offset })
        && known_size.is_none_or(|known| known == offset)
        && (!named || matches!(check(Some(validator), &headers.validators), Check::Same(_)))
}

/// The headers of a response that say which content, in which coding, its body is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Validators<'a> {
    pub(crate) etag: Option<&'a str>,
    pub(crate) last_modified: Option<&'a str>,
    pub(crate) date: Option<&'a str>,
    pub(crate) content_encoding: Option<&'a str>,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// The body is the content the request named (or, when it named none, some content); later
    /// requests for it send this validator in `If-Range` (`None`: there is none strong enough,
    /// the file cannot be resumed).
    Same(Option<String>),
    /// The response is of other content than the `If-Range` validator sent: never append it.
    Changed,
    /// The body is coded (`Content-Encoding` other than `identity`, asked for with
    /// `Accept-Encoding: identity`): it is not the file's bytes. Says which coding.
    Coded(String),
}

/// The validator rules, in one place, for every `200`, `206` and `416` the transport uses:
///
/// 1. A `Content-Encoding` other than `identity` (any case, any list) is [`Check::Coded`].
/// 2. Only a validator that was `sent` in `If-Range` is checked (nothing sent: nothing to
///    contradict, R3).
/// 3. An ETag sent must come back: a `206` must repeat it (RFC 9110 section 15.3.7), so a
///    missing, weak or different ETag is [`Check::Changed`].
/// 4. A date sent is contradicted only by a `Last-Modified` naming another moment (compared as
///    parsed times, or as text when one does not parse); a `206` need not repeat it.
/// 5. With nothing sent, the validator to resume with is [`validator_of`] the response: its
///    strong ETag, else its `Last-Modified` if the `Date` is at least one second later.
pub(crate) fn check(sent: Option<&str>, response: &Validators<'_>) -> Check {
    if let Some(coding) = response.content_encoding {
        let identity = coding
            .split(',')
            .map(str::trim)
            .all(|c| c.is_empty() || c.eq_ignore_ascii_case("identity"));
        if !identity {
            return Check::Coded(coding.trim().to_owned());
        }
    }
    let Some(sent) = sent else {
        return Check::Same(validator_of(response.etag, response.last_modified, response.date));
    };
    let same = if is_etag(sent) {
        response.etag.is_some_and(|etag| etag.trim() == sent)
    } else {
        response.last_modified.is_none_or(|date| same_moment(date, sent))
    };
    if same { Check::Same(Some(sent.to_owned())) } else { Check::Changed }
}

/// Whether two HTTP-dates name the same second (as text when either does not parse).
fn same_moment(a: &str, b: &str) -> bool {
    let now = date::unix_seconds(SystemTime::now());
    match (date::parse(a, now), date::parse(b, now)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

/// An entity tag as `If-Range` may carry it: quoted, not weak.
fn is_etag(value: &str) -> bool {
    value.len() >= 2 && value.starts_with('"') && value.ends_with('"')
}

/// The validator to resume against, from a response that answered no `If-Range`: its strong
/// ETag, else its `Last-Modified` date if that is strong enough for `If-Range` (RFC 9110 section
/// 8.8.2.2: the response's `Date` is at least one second later, so two changes within one second
/// cannot share it; both must parse as HTTP-dates), else none, and then the file cannot be
/// resumed safely and a retry starts over.
pub(crate) fn validator_of(
    etag: Option<&str>,
    last_modified: Option<&str>,
    date: Option<&str>,
) -> Option<String> {
    if let Some(etag) = etag.map(str::trim).filter(|e| is_etag(e)) {
        return Some(etag.to_owned());
    }
    let last_modified = last_modified.map(str::trim)?;
    let now = date::unix_seconds(SystemTime::now());
    let modified = date::parse(last_modified, now)?;
    let served = date::parse(date?, now)?;
    (served >= modified.saturating_add(1)).then(|| last_modified.to_owned())
}

/// Whether a `HEAD` answer shows the same content a finished-looking temporary file came from:
/// it names the stored validator itself (an ETag, or a `Last-Modified` date: leaving it out
/// confirms nothing), [`check`] finds it the same, and its length is the bytes held.
pub(crate) fn head_confirms(
    validator: &str,
    response: &Validators<'_>,
    content_length: Option<u64>,
    held: u64,
) -> bool {
    let named =
        if is_etag(validator) { response.etag.is_some() } else { response.last_modified.is_some() };
    named
        && check(Some(validator), response) == Check::Same(Some(validator.to_owned()))
        && content_length == Some(held)
}

/// A `Content-Range` on a `200` (some servers send one): it must describe the whole body, from
/// zero to the end; otherwise the body is not the full content, whatever the status says.
pub(crate) fn full_body_range_ok(content_range: Option<&str>, content_length: Option<u64>) -> bool {
    match content_range.map(ContentRange::parse) {
        None => true,
        Some(Some(ContentRange::Bytes { first: 0, last, complete })) => {
            complete.is_none_or(|c| c == last + 1) && content_length.is_none_or(|cl| cl == last + 1)
        }
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(first: u64, last: u64, complete: Option<u64>) -> Option<ContentRange> {
        Some(ContentRange::Bytes { first, last, complete })
    }

    #[test]
    fn content_range_parses_the_three_forms() {
        assert_eq!(ContentRange::parse("bytes 0-99/100"), bytes(0, 99, Some(100)));
        assert_eq!(ContentRange::parse("BYTES  10-19/*"), bytes(10, 19, None));
        assert_eq!(
            ContentRange::parse("bytes */1000"),
            Some(ContentRange::Unsatisfied { complete: 1000 })
        );
    }

    #[test]
    fn malformed_content_ranges_are_rejected() {
        for bad in [
            "",
            "bytes",
            "bytes 5-4/10",
            "bytes 0-9/9",
            "bytes 0-9",
            "bytes -1-9/10",
            "bytes +0-9/10",
            "bytes 0 -9/10",
            "items 0-9/10",
            "bytes */*",
            "bytes 0-99999999999999999999/*",
            "bytes 0-9/10, 20-29/30",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad:?}");
        }
    }

    /// A `206` of `range` repeating the ETag `"abc"`.
    fn partial<'a>(range: &'a str, length: Option<u64>) -> PartialHeaders<'a> {
        let validators = Validators { etag: Some("\"abc\""), ..Default::default() };
        PartialHeaders { content_range: Some(range), content_length: length, validators }
    }

    #[test]
    fn partial_is_appended_only_at_the_held_offset() {
        let v = "\"abc\"";
        assert_eq!(
            judge_partial(&partial("bytes 100-199/200", Some(100)), 100, Some(v), Some(200)),
            Verdict::Append { len: 100, complete: Some(200) }
        );
        assert_eq!(
            judge_partial(&partial("bytes 0-199/200", Some(200)), 100, Some(v), Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 101-199/200", None), 100, Some(v), Some(200)),
            Verdict::StartOver
        );
    }

    #[test]
    fn partial_must_agree_with_known_size_and_length() {
        let v = "\"abc\"";
        assert_eq!(
            judge_partial(&partial("bytes 100-199/300", None), 100, Some(v), Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-199/200", Some(99)), 100, Some(v), Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-249/*", None), 100, Some(v), Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-149/*", None), 100, Some(v), None),
            Verdict::Append { len: 50, complete: None }
        );
        let mut missing = partial("x", None);
        missing.content_range = None;
        assert_eq!(judge_partial(&missing, 100, Some(v), None), Verdict::StartOver);
    }

    #[test]
    fn partial_with_another_validator_is_not_appended() {
        let old = Some("\"old\"");
        let mut h = partial("bytes 10-19/20", Some(10));
        h.validators.etag = Some("\"new\"");
        assert_eq!(judge_partial(&h, 10, old, Some(20)), Verdict::StartOver);
        h.validators.etag = Some("W/\"old\"");
        assert_eq!(judge_partial(&h, 10, old, Some(20)), Verdict::StartOver);
        h.validators.etag = None;
        assert_eq!(judge_partial(&h, 10, old, Some(20)), Verdict::StartOver, "ETag left out");
        h.validators.etag = old;
        assert!(matches!(judge_partial(&h, 10, old, Some(20)), Verdict::Append { .. }));
        let date = Some("Tue, 01 Jul 2025 10:00:00 GMT");
        h.validators.last_modified = Some("Wed, 02 Jul 2025 10:00:00 GMT");
        assert_eq!(judge_partial(&h, 10, date, Some(20)), Verdict::StartOver);
        h.validators.content_encoding = Some("gzip");
        assert_eq!(judge_partial(&h, 10, old, Some(20)), Verdict::Refuse("gzip".into()));
    }

    #[test]
    fn a_206_to_a_request_without_if_range_is_judged_by_its_range_only() {
        // R3: nothing was sent, so a Last-Modified without a Date contradicts nothing.
        let mut h = partial("bytes 0-9/10", Some(10));
        h.validators = Validators {
            last_modified: Some("Tue, 01 Jul 2025 10:00:00 GMT"),
            ..Default::default()
        };
        assert_eq!(
            judge_partial(&h, 0, None, None),
            Verdict::Append { len: 10, complete: Some(10) }
        );
        h.validators.etag = Some("W/\"w\"");
        assert!(matches!(judge_partial(&h, 0, None, None), Verdict::Append { .. }));
    }

    const LM: &str = "Tue, 01 Jul 2025 10:00:00 GMT";

    fn response<'a>(etag: Option<&'a str>, lm: Option<&'a str>) -> Validators<'a> {
        Validators { etag, last_modified: lm, ..Default::default() }
    }

    #[test]
    fn check_compares_only_what_was_sent() {
        let same = |v: &str| Check::Same(Some(v.to_owned()));
        // Nothing sent: the response's own validator, whatever it carries.
        assert_eq!(check(None, &response(None, Some(LM))), Check::Same(None));
        assert_eq!(check(None, &response(Some("\"e\""), None)), same("\"e\""));
        // An ETag sent must be repeated, exactly and strong.
        assert_eq!(check(Some("\"e\""), &response(Some(" \"e\" "), None)), same("\"e\""));
        for other in [None, Some("\"f\""), Some("W/\"e\"")] {
            assert_eq!(check(Some("\"e\""), &response(other, Some(LM))), Check::Changed);
        }
        // A date sent: contradicted only by another moment; left out, it contradicts nothing.
        assert_eq!(check(Some(LM), &response(None, None)), same(LM));
        assert_eq!(check(Some(LM), &response(Some("\"e\""), Some(LM))), same(LM));
        let rfc850 = "Tuesday, 01-Jul-25 10:00:00 GMT";
        assert_eq!(check(Some(LM), &response(None, Some(rfc850))), same(LM), "same second");
        let later = "Tue, 01 Jul 2025 10:00:01 GMT";
        assert_eq!(check(Some(LM), &response(None, Some(later))), Check::Changed);
        assert_eq!(check(Some(LM), &response(None, Some("garbage"))), Check::Changed);
    }

    #[test]
    fn check_refuses_every_coding_but_identity() {
        let coded = |coding| Validators { content_encoding: Some(coding), ..Default::default() };
        for coding in ["gzip", "br", "deflate", "x-gzip", "identity, gzip", "GZIP"] {
            assert_eq!(check(None, &coded(coding)), Check::Coded(coding.to_owned()), "{coding}");
            assert_eq!(check(Some(LM), &coded(coding)), Check::Coded(coding.to_owned()));
        }
        for fine in ["identity", " Identity ", ""] {
            assert_eq!(check(None, &coded(fine)), Check::Same(None), "{fine:?}");
        }
    }

    #[test]
    fn unsatisfiable_range_at_the_end_means_complete() {
        let mut h = PartialHeaders { content_range: Some("bytes */100"), ..Default::default() };
        assert!(unsatisfied_at_end(&h, 100, "\"a\"", None));
        assert!(unsatisfied_at_end(&h, 100, "\"a\"", Some(100)));
        assert!(!unsatisfied_at_end(&h, 90, "\"a\"", None));
        assert!(!unsatisfied_at_end(&h, 100, "\"a\"", Some(120)));
        h.validators.etag = Some("\"b\"");
        assert!(!unsatisfied_at_end(&h, 100, "\"a\"", None));
        h.validators.etag = Some("\"a\"");
        assert!(unsatisfied_at_end(&h, 100, "\"a\"", None));
        h.validators.etag = None;
        h.validators.last_modified = Some("Wed, 02 Jul 2025 10:00:00 GMT");
        assert!(unsatisfied_at_end(&h, 100, "Wednesday, 02-Jul-25 10:00:00 GMT", None));
        assert!(!unsatisfied_at_end(&h, 100, LM, None));
        h.content_range = None;
        h.validators.last_modified = None;
        assert!(!unsatisfied_at_end(&h, 100, "\"a\"", None));
    }

    #[test]
    fn validator_prefers_strong_etag_then_a_strong_date() {
        let lm = Some("Tue, 01 Jul 2025 10:00:00 GMT");
        let later = Some("Tue, 01 Jul 2025 10:00:05 GMT");
        assert_eq!(validator_of(Some("\"x\""), lm, later).as_deref(), Some("\"x\""));
        assert_eq!(validator_of(Some("W/\"x\""), lm, later).as_deref(), lm);
        assert_eq!(validator_of(None, lm, lm), None, "modified in the second it was served");
        assert_eq!(validator_of(None, lm, None), None);
        assert_eq!(validator_of(Some("unquoted"), None, later), None);
    }

    #[test]
    fn last_modified_is_strong_only_with_a_date_at_least_a_second_later() {
        // RFC 9110 8.8.2.2, on parsed times: another spelling of the same second is not later.
        let lm = Some(LM);
        let one_later = Some("Tue, 01 Jul 2025 10:00:01 GMT");
        assert_eq!(validator_of(None, lm, one_later).as_deref(), lm);
        assert_eq!(validator_of(None, lm, Some("Tuesday, 01-Jul-25 10:00:00 GMT")), None);
        assert_eq!(validator_of(None, lm, Some("Tue Jul  1 10:00:00 2025")), None);
        // A Date before Last-Modified (a server clock behind) names no later second.
        assert_eq!(validator_of(None, lm, Some("Tue, 01 Jul 2025 09:59:59 GMT")), None);
        // A date that does not parse proves nothing, on either side.
        assert_eq!(validator_of(None, lm, Some("yesterday")), None);
        assert_eq!(validator_of(None, Some("soon"), one_later), None);
        assert_eq!(validator_of(None, Some("\"quoted\""), one_later), None);
        // The asctime form is accepted and sent back as it was received.
        let asctime = Some("Tue Jul  1 10:00:00 2025");
        assert_eq!(validator_of(None, asctime, one_later).as_deref(), asctime);
    }

    #[test]
    fn head_confirms_same_validator_and_length() {
        let x = Some("\"x\"");
        assert!(head_confirms("\"x\"", &response(x, None), Some(10), 10));
        assert!(!head_confirms("\"x\"", &response(Some("\"y\""), None), Some(10), 10));
        assert!(!head_confirms("\"x\"", &response(x, None), Some(11), 10));
        assert!(!head_confirms("\"x\"", &response(None, None), Some(10), 10));
        // A date: the same second, in any of the three formats; left out, nothing is confirmed.
        let rfc850 = Some("Tuesday, 01-Jul-25 10:00:00 GMT");
        assert!(head_confirms(LM, &response(None, rfc850), Some(10), 10));
        assert!(!head_confirms(LM, &response(x, None), Some(10), 10));
        let mut coded = response(x, None);
        coded.content_encoding = Some("gzip");
        assert!(!head_confirms("\"x\"", &coded, Some(10), 10));
    }

    #[test]
    fn full_response_range_must_cover_the_body() {
        assert!(full_body_range_ok(None, Some(10)));
        assert!(full_body_range_ok(Some("bytes 0-9/10"), Some(10)));
        assert!(!full_body_range_ok(Some("bytes 5-9/10"), Some(5)));
        assert!(!full_body_range_ok(Some("bytes 0-4/10"), Some(5)));
        assert!(!full_body_range_ok(Some("garbage"), Some(5)));
    }
}
