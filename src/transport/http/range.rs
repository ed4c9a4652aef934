//! `Content-Range` parsing and the checks that decide whether a partial response may be appended
//! to what a file already holds, and the validators (`ETag`, `Last-Modified`) that `If-Range`
//! sends back.
//!
//! The rule: bytes of a `206` are appended only if its `Content-Range` is one well-formed
//! `bytes first-last/complete` range whose `first` is exactly the bytes already held, whose
//! length agrees with `Content-Length` (when sent), whose `complete` length agrees with the size
//! known from earlier attempts, and whose validator (when sent) is the one the request named.
//! Anything else is [`Verdict::StartOver`]: the file is restarted from zero, never appended to.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Append `len` bytes at `offset`; the file's full size is `complete` if known.
    Append { len: u64, complete: Option<u64> },
    /// Do not append: restart the file from zero.
    StartOver,
}

/// The headers of a partial response, as far as the checks need them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PartialHeaders<'a> {
    pub(crate) content_range: Option<&'a str>,
    pub(crate) content_length: Option<u64>,
    pub(crate) etag: Option<&'a str>,
    pub(crate) last_modified: Option<&'a str>,
}

/// Judges a `206` against the request (`offset`, the `validator` sent in `If-Range`) and the size
/// known from earlier attempts.
pub(crate) fn judge_partial(
    headers: &PartialHeaders<'_>,
    offset: u64,
    validator: &str,
    known_size: Option<u64>,
) -> Verdict {
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
        }
        && !validator_contradicts(validator, headers.etag, headers.last_modified);
    if consistent {
        Verdict::Append { len, complete }
    } else {
        Verdict::StartOver
    }
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
    headers.content_range.and_then(ContentRange::parse)
        == Some(ContentRange::Unsatisfied { complete: offset })
        && known_size.is_none_or(|known| known == offset)
        && !validator_contradicts(validator, headers.etag, headers.last_modified)
}

/// Whether a `206` names another version of the content than the `If-Range` validator sent:
/// a strong ETag that differs (or a weak one) when an ETag was sent, another date when a date
/// was sent. A validator the response leaves out contradicts nothing.
fn validator_contradicts(sent: &str, etag: Option<&str>, last_modified: Option<&str>) -> bool {
    if is_etag(sent) {
        etag.is_some_and(|etag| etag.trim() != sent)
    } else {
        last_modified.is_some_and(|date| date.trim() != sent)
    }
}

/// An entity tag as `If-Range` may carry it: quoted, not weak.
fn is_etag(value: &str) -> bool {
    value.len() >= 2 && value.starts_with('"') && value.ends_with('"')
}

/// The validator to resume against, from a full (`200`) response: its strong ETag, else its
/// `Last-Modified` date if that is strong enough for `If-Range` (the response's `Date` names
/// another second, so two changes within one second cannot share it), else none, and then the
/// file cannot be resumed safely and a retry starts over.
pub(crate) fn validator_of(
    etag: Option<&str>,
    last_modified: Option<&str>,
    date: Option<&str>,
) -> Option<String> {
    if let Some(etag) = etag.map(str::trim).filter(|e| is_etag(e)) {
        return Some(etag.to_owned());
    }
    let last_modified =
        last_modified.map(str::trim).filter(|d| !d.is_empty() && !d.starts_with('"'))?;
    let date = date.map(str::trim)?;
    (date != last_modified).then(|| last_modified.to_owned())
}

/// Whether a `HEAD` answer shows the same content a finished-looking temporary file came from:
/// its validator is the stored one and its length is the bytes held.
pub(crate) fn head_confirms(
    validator: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    content_length: Option<u64>,
    held: u64,
) -> bool {
    let same = if is_etag(validator) {
        etag.is_some_and(|e| e.trim() == validator)
    } else {
        last_modified.is_some_and(|d| d.trim() == validator)
    };
    same && content_length == Some(held)
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

    fn partial<'a>(range: &'a str, length: Option<u64>) -> PartialHeaders<'a> {
        PartialHeaders { content_range: Some(range), content_length: length, ..Default::default() }
    }

    #[test]
    fn partial_is_appended_only_at_the_held_offset() {
        let v = "\"abc\"";
        assert_eq!(
            judge_partial(&partial("bytes 100-199/200", Some(100)), 100, v, Some(200)),
            Verdict::Append { len: 100, complete: Some(200) }
        );
        assert_eq!(
            judge_partial(&partial("bytes 0-199/200", Some(200)), 100, v, Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 101-199/200", None), 100, v, Some(200)),
            Verdict::StartOver
        );
    }

    #[test]
    fn partial_must_agree_with_known_size_and_length() {
        let v = "\"abc\"";
        assert_eq!(
            judge_partial(&partial("bytes 100-199/300", None), 100, v, Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-199/200", Some(99)), 100, v, Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-249/*", None), 100, v, Some(200)),
            Verdict::StartOver
        );
        assert_eq!(
            judge_partial(&partial("bytes 100-149/*", None), 100, v, None),
            Verdict::Append { len: 50, complete: None }
        );
        let mut missing = partial("x", None);
        missing.content_range = None;
        assert_eq!(judge_partial(&missing, 100, v, None), Verdict::StartOver);
    }

    #[test]
    fn partial_with_another_validator_is_not_appended() {
        let mut h = partial("bytes 10-19/20", Some(10));
        h.etag = Some("\"new\"");
        assert_eq!(judge_partial(&h, 10, "\"old\"", Some(20)), Verdict::StartOver);
        h.etag = Some("W/\"old\"");
        assert_eq!(judge_partial(&h, 10, "\"old\"", Some(20)), Verdict::StartOver);
        h.etag = Some("\"old\"");
        assert!(matches!(judge_partial(&h, 10, "\"old\"", Some(20)), Verdict::Append { .. }));
        let date = "Tue, 01 Jul 2025 10:00:00 GMT";
        h.last_modified = Some("Wed, 02 Jul 2025 10:00:00 GMT");
        assert_eq!(judge_partial(&h, 10, date, Some(20)), Verdict::StartOver);
    }

    #[test]
    fn unsatisfiable_range_at_the_end_means_complete() {
        let mut h = PartialHeaders { content_range: Some("bytes */100"), ..Default::default() };
        assert!(unsatisfied_at_end(&h, 100, "\"a\"", None));
        assert!(unsatisfied_at_end(&h, 100, "\"a\"", Some(100)));
        assert!(!unsatisfied_at_end(&h, 90, "\"a\"", None));
        assert!(!unsatisfied_at_end(&h, 100, "\"a\"", Some(120)));
        h.etag = Some("\"b\"");
        assert!(!unsatisfied_at_end(&h, 100, "\"a\"", None));
        h.content_range = None;
        h.etag = None;
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
    fn head_confirms_same_validator_and_length() {
        assert!(head_confirms("\"x\"", Some("\"x\""), None, Some(10), 10));
        assert!(!head_confirms("\"x\"", Some("\"y\""), None, Some(10), 10));
        assert!(!head_confirms("\"x\"", Some("\"x\""), None, Some(11), 10));
        assert!(!head_confirms("\"x\"", None, None, Some(10), 10));
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
