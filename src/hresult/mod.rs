//! HRESULT status codes of the Background Copy job model: named constants, helpers that take a
//! code apart, and a readable English description for every code bgcopy knows.
//!
//! # What an HRESULT is
//!
//! Every Windows Background Copy method reports its outcome as an HRESULT, a 32-bit status word.
//! bgcopy keeps it as a `u32` holding the same bit pattern Windows prints (so `0x8020_0002`, not a
//! negative `i32`). The word has three parts:
//!
//! | Bits | Part | Meaning |
//! |---|---|---|
//! | 31 | severity | set: the call failed; clear: the call succeeded ([`is_failure`]) |
//! | 16..=28 | facility | which subsystem defined the code ([`facility`]) |
//! | 0..=15 | code | the number inside that facility ([`code`]) |
//!
//! The facilities that appear in this module:
//!
//! | Facility | Value | Codes look like | Constants |
//! |---|---|---|---|
//! | Win32 ([`FACILITY_WIN32`]) | 7 | `0x8007_xxxx` | [`E_ACCESSDENIED`], [`E_INVALIDARG`], anything built by [`from_win32`] |
//! | HTTP ([`FACILITY_HTTP`]) | 25 (`0x19`) | `0x8019_xxxx` | `BG_E_HTTP_ERROR_*`, anything built by [`from_http_status`] |
//! | Background Copy ([`FACILITY_BACKGROUNDCOPY`]) | 32 (`0x20`) | `0x8020_xxxx`, `0x0020_xxxx` | `BG_E_*`, `BG_S_*` |
//! | Delivery Optimization ([`FACILITY_DELIVERY_OPTIMIZATION`]) | 208 (`0xD0`) | `0x80D0_xxxx` | `DO_E_*` |
//!
//! The general COM codes (`E_NOTIMPL`, `E_FAIL`, ...) use facility 0.
//!
//! # Success is not only zero
//!
//! Success codes keep bit 31 clear, and some of them are not zero: [`BG_S_PARTIAL_COMPLETE`]
//! (`0x0020_0017`) reports that a job completed with only part of its files. Test an HRESULT with
//! [`is_failure`], never by comparing it with [`S_OK`].
//!
//! # HTTP statuses
//!
//! An HTTP status that ends a transfer becomes `0x8019_0000 | status` ([`from_http_status`]); for
//! example 404 becomes `0x8019_0194`. The statuses Windows names have a `BG_E_HTTP_ERROR_<status>`
//! constant; every other status from 100 to 599 is still understood by [`http_status`] and
//! [`description`]. The Windows `HTTP_E_STATUS_*` names share these values; this module does not
//! repeat them.
//!
//! # Delivery Optimization zones
//!
//! Delivery Optimization groups its codes into zones selected by the top bits of the 16-bit code
//! ([`DO_ZONE_MASK`]). Codes in the transient zone ([`DO_TRANSIENT_ZONE`] under
//! [`DO_TRANSIENT_ZONE_MASK`]) describe a pause that clears on its own, such as a lost network;
//! [`is_do_transient`] tests for them.
//!
//! # Names and descriptions
//!
//! [`name`] gives the symbolic name of a catalogued code and [`description`] a one-sentence
//! explanation; [`catalogue`](fn@catalogue) lists every named code. Names and texts come from one
//! table, so the two cannot disagree.
//!
//! # Example
//!
//! ```
//! use bgcopy::hresult::{self, BG_E_HTTP_ERROR_404, BG_E_INVALID_STATE, BG_S_PARTIAL_COMPLETE};
//!
//! // A success code that is not S_OK.
//! assert!(!hresult::is_failure(BG_S_PARTIAL_COMPLETE));
//! assert!(hresult::is_failure(BG_E_INVALID_STATE));
//! assert_eq!(hresult::facility(BG_E_INVALID_STATE), hresult::FACILITY_BACKGROUNDCOPY);
//!
//! // HTTP statuses map to and from the 0x8019_xxxx family.
//! let not_found = hresult::from_http_status(404);
//! assert_eq!(not_found, BG_E_HTTP_ERROR_404);
//! assert_eq!(hresult::http_status(not_found), Some(404));
//! assert_eq!(hresult::name(not_found), Some("BG_E_HTTP_ERROR_404"));
//!
//! // Win32 error numbers map into facility 7 (ERROR_ACCESS_DENIED is 5).
//! assert_eq!(hresult::from_win32(5), hresult::E_ACCESSDENIED);
//!
//! // Every catalogued code, and every HTTP status, has a sentence.
//! assert_eq!(hresult::name(BG_E_INVALID_STATE), Some("BG_E_INVALID_STATE"));
//! assert!(hresult::description(BG_E_INVALID_STATE).is_some());
//! assert!(hresult::description(hresult::from_http_status(429)).is_some());
//! assert_eq!(hresult::description(0x8020_FFFF), None);
//! ```

mod catalogue;
mod codes;

pub use codes::*;

use catalogue::{CATALOGUE, HTTP_STATUSES, HttpStatus};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Severity bit: set in every failure code.
const SEVERITY_FAILURE: u32 = 0x8000_0000;
/// The upper half shared by every HTTP-family code (failure bit plus facility `0x19`).
const HTTP_FAMILY: u32 = 0x8019_0000;
/// The upper half of a code converted from a Win32 error number (failure bit plus facility 7).
const WIN32_FAMILY: u32 = 0x8007_0000;

/// Whether `hresult` reports a failure, that is, whether its bit 31 is set (`FAILED(hr)`).
///
/// Success codes other than [`S_OK`], such as [`BG_S_PARTIAL_COMPLETE`], are not failures.
///
/// ```
/// use bgcopy::hresult;
/// assert!(hresult::is_failure(hresult::BG_E_NOT_FOUND));
/// assert!(!hresult::is_failure(hresult::S_FALSE));
/// ```
#[must_use]
pub const fn is_failure(hresult: u32) -> bool {
    hresult & SEVERITY_FAILURE != 0
}

/// The facility of `hresult`: bits 16 to 28 (`HRESULT_FACILITY(hr)`).
///
/// Compare the result with [`FACILITY_WIN32`], [`FACILITY_HTTP`], [`FACILITY_BACKGROUNDCOPY`] or
/// [`FACILITY_DELIVERY_OPTIMIZATION`].
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::facility(hresult::DO_E_JOB_EMPTY), hresult::FACILITY_DELIVERY_OPTIMIZATION);
/// assert_eq!(hresult::facility(hresult::E_INVALIDARG), hresult::FACILITY_WIN32);
/// ```
#[must_use]
pub const fn facility(hresult: u32) -> u16 {
    let [high, low, _, _] = hresult.to_be_bytes();
    u16::from_be_bytes([high, low]) & 0x1FFF
}

/// The code part of `hresult`: its low 16 bits (`HRESULT_CODE(hr)`).
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::code(hresult::E_ACCESSDENIED), 5);
/// assert_eq!(hresult::code(hresult::BG_E_HTTP_ERROR_404), 404);
/// ```
#[must_use]
pub const fn code(hresult: u32) -> u16 {
    let [_, _, high, low] = hresult.to_be_bytes();
    u16::from_be_bytes([high, low])
}

/// The HRESULT for an HTTP status: `0x8019_0000 | status`.
///
/// Every status gets a value; [`http_status`] reads back only the ones from 100 to 599.
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::from_http_status(404), hresult::BG_E_HTTP_ERROR_404);
/// assert_eq!(hresult::from_http_status(429), 0x8019_01AD);
/// ```
#[must_use]
pub const fn from_http_status(status: u16) -> u32 {
    let [high, low] = status.to_be_bytes();
    HTTP_FAMILY | u32::from_be_bytes([0, 0, high, low])
}

/// The HTTP status carried by `hresult`, if it is an HTTP-family code.
///
/// Returns `Some` only when the upper half is exactly `0x8019` (failure bit, facility `0x19`, no
/// other flag) and the low 16 bits lie in `100..=599`. Other codes of facility `0x19`, such as the
/// BITS event-log message ids at `0x8019_4000`, give `None`.
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::http_status(0x8019_01F7), Some(503));
/// assert_eq!(hresult::http_status(hresult::BG_E_NOT_FOUND), None);
/// ```
#[must_use]
pub const fn http_status(hresult: u32) -> Option<u16> {
    if hresult & 0xFFFF_0000 != HTTP_FAMILY {
        return None;
    }
    match code(hresult) {
        status @ 100..=599 => Some(status),
        _ => None,
    }
}

/// The HRESULT for a Win32 error number (`HRESULT_FROM_WIN32`).
///
/// Zero and values that already have bit 31 set are returned unchanged; any other value becomes
/// `0x8007_0000 | (code & 0xFFFF)`.
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::from_win32(5), hresult::E_ACCESSDENIED); // ERROR_ACCESS_DENIED
/// assert_eq!(hresult::from_win32(1168), hresult::E_NOT_SET); // ERROR_NOT_FOUND
/// assert_eq!(hresult::from_win32(0), hresult::S_OK);
/// ```
#[must_use]
pub const fn from_win32(code: u32) -> u32 {
    if code == 0 || is_failure(code) { code } else { WIN32_FAMILY | (code & 0xFFFF) }
}

/// Whether `hresult` is a transient Delivery Optimization code: a failure of facility `0xD0`
/// whose code lies in the transient zone (`code & DO_TRANSIENT_ZONE_MASK == DO_TRANSIENT_ZONE`).
///
/// These codes describe a pause that ends by itself (network back, AC power back, ...). The test
/// matches `IS_DO_TRANSIENT_ERROR` in the Windows SDK, including its failure-bit check.
///
/// ```
/// use bgcopy::hresult;
/// assert!(hresult::is_do_transient(hresult::DO_E_BLOCKED_BY_NO_NETWORK));
/// assert!(!hresult::is_do_transient(hresult::DO_E_INVALID_STATE));
/// ```
#[must_use]
pub const fn is_do_transient(hresult: u32) -> bool {
    is_failure(hresult)
        && facility(hresult) == FACILITY_DELIVERY_OPTIMIZATION
        && hresult & DO_TRANSIENT_ZONE_MASK == DO_TRANSIENT_ZONE
}

/// The symbolic name of a catalogued code, such as `"BG_E_INVALID_STATE"`.
///
/// Every constant of this module that names a status code has its name here, including the
/// `BG_E_HTTP_ERROR_*` ones. HTTP-family codes without a constant (for example 429) and unknown
/// codes give `None`.
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(hresult::name(0x8020_0002), Some("BG_E_INVALID_STATE"));
/// assert_eq!(hresult::name(hresult::from_http_status(429)), None);
/// ```
#[must_use]
pub fn name(hresult: u32) -> Option<&'static str> {
    if let Some(status) = http_status(hresult) {
        return find_http(status).and_then(|entry| entry.name);
    }
    CATALOGUE.iter().find(|&&(code, _, _)| code == hresult).map(|&(_, name, _)| name)
}

/// A one-sentence English description of `hresult`, or `None` for a code bgcopy does not know.
///
/// Every catalogued code has one, and so does every HTTP-family code from status 100 to 599, named
/// or not: standard statuses are explained with their reason phrase, other statuses get a generic
/// sentence naming their class.
///
/// ```
/// use bgcopy::hresult;
/// assert_eq!(
///     hresult::description(hresult::BG_E_HTTP_ERROR_404).as_deref(),
///     Some("The server returned HTTP status 404 (Not Found): the requested URL does not exist."),
/// );
/// assert_eq!(
///     hresult::description(hresult::BG_E_EMPTY).as_deref(),
///     Some("The job does not contain any files."),
/// );
/// assert_eq!(hresult::description(0x1234_5678), None);
/// ```
#[must_use]
pub fn description(hresult: u32) -> Option<String> {
    if let Some(status) = http_status(hresult) {
        return Some(http_description(status));
    }
    CATALOGUE.iter().find(|&&(code, _, _)| code == hresult).map(|&(_, _, text)| text.to_owned())
}

/// Every named code of this module as `(code, name)` pairs: the general, BITS and Delivery
/// Optimization codes in table order, then the named `BG_E_HTTP_ERROR_*` codes by status.
///
/// Each pair agrees with [`name`], and [`description`] has a text for each code.
///
/// ```
/// use bgcopy::hresult;
/// assert!(hresult::catalogue().any(|(code, name)| {
///     code == hresult::BG_E_NOT_FOUND && name == "BG_E_NOT_FOUND"
/// }));
/// ```
pub fn catalogue() -> impl Iterator<Item = (u32, &'static str)> {
    let general = CATALOGUE.iter().map(|&(code, name, _)| (code, name));
    let http = HTTP_STATUSES
        .iter()
        .filter_map(|entry| entry.name.map(|name| (from_http_status(entry.status), name)));
    general.chain(http)
}

/// The entry of the HTTP status table for `status`, if it is a registered status.
fn find_http(status: u16) -> Option<&'static HttpStatus> {
    HTTP_STATUSES
        .binary_search_by_key(&status, |entry| entry.status)
        .ok()
        .and_then(|index| HTTP_STATUSES.get(index))
}

/// The description of an HTTP-family code; `status` is in `100..=599`.
fn http_description(status: u16) -> String {
    if let Some(entry) = find_http(status) {
        return format!(
            "The server returned HTTP status {status} ({}): {}",
            entry.reason, entry.detail
        );
    }
    let class = match status / 100 {
        1 => "an informational",
        2 => "a success",
        3 => "a redirection",
        4 => "a client error",
        _ => "a server error",
    };
    format!("The server returned HTTP status {status}, {class} status with no standard meaning.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn spot_values_match_the_spec() {
        let expected: &[(u32, u32)] = &[
            (S_OK, 0x0000_0000),
            (S_FALSE, 0x0000_0001),
            (E_NOTIMPL, 0x8000_4001),
            (E_UNEXPECTED, 0x8000_FFFF),
            (E_INVALIDARG, 0x8007_0057),
            (E_NOT_SET, 0x8007_0490),
            (ERROR_RESOURCE_LANG_NOT_FOUND_HR, 0x8007_0717),
            (ERROR_SHARING_VIOLATION_HR, from_win32(32)),
            (ERROR_REVISION_MISMATCH_HR, from_win32(1306)),
            (BG_S_PARTIAL_COMPLETE, 0x0020_0017),
            (BG_S_UNABLE_TO_DELETE_FILES, 0x0020_001A),
            (BG_E_NOT_FOUND, 0x8020_0001),
            (BG_E_INVALID_STATE, 0x8020_0002),
            (BG_E_ERROR_INFORMATION_UNAVAILABLE, 0x8020_000F),
            (BG_E_SERVER_EXECUTE_ENABLE, 0x8020_0023),
            (BG_E_BLOCKED_BY_POLICY, 0x8020_003E),
            (BG_E_TOO_MANY_JOBS_PER_MACHINE, 0x8020_0050),
            (BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK, 0x8020_0076),
            (BG_E_HTTP_ERROR_100, 0x8019_0064),
            (BG_E_HTTP_ERROR_449, 0x8019_01C1),
            (BG_E_HTTP_ERROR_505, 0x8019_01F9),
            (DO_E_NO_SERVICE, 0x80D0_1001),
            (DO_E_INVALID_STATE, 0x80D0_2013),
            (DO_E_UNEXPECTED_HTTP_STATUS_2XX, 0x80D0_380D),
            (DO_E_SERVICES_RESPONSE_EMPTY, 0x80D0_6803),
            (DO_E_BAD_INCOMING_DATA, 0x80D0_6804),
            (DO_E_METAINFO_FILE_SIZE, 0x80D0_6822),
            (DO_ZONE_MASK, 0xF000),
            (DO_TRANSIENT_ZONE_MASK, 0xF800),
            (DO_TRANSIENT_ZONE, 0x3800),
        ];
        for &(actual, wanted) in expected {
            assert_eq!(actual, wanted, "{actual:#010x} != {wanted:#010x}");
        }
    }

    #[test]
    fn do_core_block_is_consecutive() {
        let block = [
            DO_E_SERVICES_RESPONSE_EMPTY,
            DO_E_BAD_INCOMING_DATA,
            DO_E_BAD_PIECE_HASH,
            DO_E_BAD_PIECE_HASH_NO_BAN,
            DO_E_ALREADY_HAVE_PIECE,
            DO_E_MISSING_PIECE,
            DO_E_METAINFO_CONTENT,
            DO_E_METAINFO_VERSION,
            DO_E_SWARM_NOT_RUNNING,
            DO_E_UNRECOGNIZED_CONN,
            DO_E_PEER_BANNED,
            DO_E_CONNECT_TO_SELF,
            DO_E_ALREADY_CONNECTED,
            DO_E_NO_MORE_CONNECTIONS,
            DO_E_LOST_CONNECTION,
            DO_E_UNRECOGNIZED_SWARM,
            DO_E_INVALID_HANDSHAKE_LEN,
            DO_E_SOCKET_CLOSED,
            DO_E_PEER_MSG_TOO_LONG,
            DO_E_INVALID_PEER_MSG,
            DO_E_PEER_IS_UPLOAD,
            DO_E_PIN_FAIL_NO_PEERING,
            DO_E_DELETE_PINNED_SWARM,
            DO_E_METAINFO_DIGEST_MATCH,
            DO_E_METAINFO_HOH_MATCH,
            DO_E_METAINFO_HOH_FINAL_MATCH,
            DO_E_METAINFO_CONTENT_LENGTH,
            DO_E_METAINFO_PIECE_SIZE,
            DO_E_METAINFO_PARSE_HOH,
            DO_E_METAINFO_PARSE_PIECEHASHES,
            DO_E_METAINFO_PARSE_ONE_PIECEHASH,
            DO_E_METAINFO_FILE_SIZE,
        ];
        for (offset, &value) in (0u32..).zip(block.iter()) {
            assert_eq!(value, 0x80D0_6803 + offset);
        }
        assert_eq!(block.last(), Some(&0x80D0_6822));
    }

    #[test]
    fn http_named_statuses_are_the_spec_table() {
        let named: Vec<u16> = catalogue().filter_map(|(code, _)| http_status(code)).collect();
        let spec: &[u16] = &[
            100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 400,
            401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
            449, 500, 501, 502, 503, 504, 505,
        ];
        assert_eq!(named, spec);
        for &status in spec {
            let name = name(from_http_status(status));
            assert_eq!(name.map(String::from), Some(format!("BG_E_HTTP_ERROR_{status}")));
        }
    }

    #[test]
    fn from_http_status_builds_the_family_code() {
        assert_eq!(from_http_status(404), 0x8019_0194);
        assert_eq!(from_http_status(200), BG_E_HTTP_ERROR_200);
        assert_eq!(from_http_status(0), 0x8019_0000);
        assert_eq!(from_http_status(u16::MAX), 0x8019_FFFF);
    }

    #[test]
    fn http_status_round_trips_for_every_status() {
        for status in 100..=599 {
            assert_eq!(http_status(from_http_status(status)), Some(status));
        }
        for status in [0, 1, 99, 600, 999, 0x4000, u16::MAX] {
            assert_eq!(http_status(from_http_status(status)), None, "status {status}");
        }
    }

    #[test]
    fn http_status_rejects_other_codes() {
        for code in [
            S_OK,
            E_FAIL,
            E_ACCESSDENIED,
            BG_E_NOT_FOUND,
            BG_S_PARTIAL_COMPLETE,
            DO_E_INVALID_STATE,
            0x0019_0194, // success bit pattern with the HTTP facility
            0x8819_0194, // an extra flag bit above the facility
            0x8019_4000, // BITS_MC_JOB_CANCELLED (event-log id)
        ] {
            assert_eq!(http_status(code), None, "{code:#010x}");
        }
    }

    #[test]
    fn from_win32_follows_hresult_from_win32() {
        assert_eq!(from_win32(5), E_ACCESSDENIED);
        assert_eq!(from_win32(14), E_OUTOFMEMORY);
        assert_eq!(from_win32(87), E_INVALIDARG);
        assert_eq!(from_win32(1168), E_NOT_SET);
        assert_eq!(from_win32(1815), ERROR_RESOURCE_LANG_NOT_FOUND_HR);
        assert_eq!(from_win32(0), S_OK);
        assert_eq!(from_win32(0x0001_0005), 0x8007_0005);
        assert_eq!(from_win32(BG_E_NOT_FOUND), BG_E_NOT_FOUND);
    }

    #[test]
    fn severity_and_facility() {
        assert!(!is_failure(BG_S_PARTIAL_COMPLETE));
        assert!(!is_failure(S_OK));
        assert!(!is_failure(S_FALSE));
        assert!(is_failure(E_UNEXPECTED));
        assert!(is_failure(BG_E_HTTP_ERROR_404));
        assert_eq!(facility(BG_S_PARTIAL_COMPLETE), FACILITY_BACKGROUNDCOPY);
        assert_eq!(facility(BG_E_INVALID_STATE), FACILITY_BACKGROUNDCOPY);
        assert_eq!(facility(BG_E_HTTP_ERROR_503), FACILITY_HTTP);
        assert_eq!(facility(DO_E_NO_SERVICE), FACILITY_DELIVERY_OPTIMIZATION);
        assert_eq!(facility(E_OUTOFMEMORY), FACILITY_WIN32);
        assert_eq!(facility(E_NOTIMPL), 0);
        assert_eq!(facility(0xFFFF_FFFF), 0x1FFF);
        assert_eq!(code(E_UNEXPECTED), 0xFFFF);
    }

    #[test]
    fn do_transient_zone() {
        assert!(is_do_transient(0x80D0_3801));
        assert!(!is_do_transient(0x80D0_2013));
        for code in catalogue().map(|(code, _)| code) {
            let in_zone = (0x80D0_3800..=0x80D0_3FFF).contains(&code);
            assert_eq!(is_do_transient(code), in_zone, "{code:#010x}");
        }
        assert!(!is_do_transient(0x00D0_3801), "success codes are never transient");
        assert!(!is_do_transient(0x8020_3801), "another facility");
    }

    #[test]
    fn every_catalogued_code_has_a_sentence() {
        for (code, name) in catalogue() {
            let text = description(code).unwrap_or_default();
            assert!(text.ends_with('.'), "{name}: {text:?}");
            assert!(text.len() > 10, "{name}: {text:?}");
            assert!(text.starts_with(|c: char| c.is_ascii_uppercase()), "{name}: {text:?}");
            assert!(!text.contains("  "), "{name}: {text:?}");
        }
    }

    #[test]
    fn catalogue_values_and_names_are_unique() {
        let mut by_code = HashMap::new();
        let mut by_name = HashMap::new();
        for (code, name) in catalogue() {
            assert_eq!(by_code.insert(code, name), None, "{code:#010x} listed twice");
            assert_eq!(by_name.insert(name, code), None, "{name} listed twice");
            assert_eq!(self::name(code), Some(name));
        }
    }

    #[test]
    fn catalogue_names_follow_their_family() {
        for (code, name) in catalogue() {
            let family_ok = match facility(code) {
                FACILITY_BACKGROUNDCOPY if is_failure(code) => name.starts_with("BG_E_"),
                FACILITY_BACKGROUNDCOPY => name.starts_with("BG_S_"),
                FACILITY_HTTP => name.starts_with("BG_E_HTTP_ERROR_"),
                FACILITY_DELIVERY_OPTIMIZATION => name.starts_with("DO_E_"),
                _ => name.starts_with("E_") || name.starts_with("S_") || name.starts_with("ERROR_"),
            };
            assert!(family_ok, "{name} = {code:#010x}");
        }
    }

    /// Every `pub const NAME: u32 = 0x...;` line of `codes.rs` is catalogued under its own name.
    #[test]
    fn every_constant_is_catalogued() {
        let masks = ["DO_ZONE_MASK", "DO_TRANSIENT_ZONE_MASK", "DO_TRANSIENT_ZONE"];
        let mut seen = 0;
        for line in include_str!("codes.rs").lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((const_name, value)) = rest.split_once(": u32 = 0x") else {
                continue;
            };
            if masks.contains(&const_name) {
                continue;
            }
            let digits: String =
                value.trim_end_matches(';').chars().filter(|c| *c != '_').collect();
            let value = u32::from_str_radix(&digits, 16).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(name(value), Some(const_name), "{line}");
            seen += 1;
        }
        assert_eq!(seen, catalogue().count(), "constants and catalogue differ in size");
    }

    #[test]
    fn http_descriptions_cover_the_whole_range() {
        for status in 100..=599 {
            let text = description(from_http_status(status)).unwrap_or_default();
            assert!(
                text.starts_with(&format!("The server returned HTTP status {status}")),
                "{text}"
            );
            assert!(text.ends_with('.'), "{text}");
        }
        assert_eq!(
            description(BG_E_HTTP_ERROR_404).as_deref(),
            Some(concat!(
                "The server returned HTTP status 404 (Not Found): ",
                "the requested URL does not exist."
            ))
        );
        assert_eq!(
            description(from_http_status(499)).as_deref(),
            Some(concat!(
                "The server returned HTTP status 499, ",
                "a client error status with no standard meaning."
            ))
        );
        for (status, reason) in [
            (308, "(Permanent Redirect)"),
            (429, "(Too Many Requests)"),
            (451, "(Unavailable For Legal Reasons)"),
            (413, "(Content Too Large)"),
            (511, "(Network Authentication Required)"),
        ] {
            let text = description(from_http_status(status)).unwrap_or_default();
            assert!(text.contains(reason), "{text}");
        }
    }

    #[test]
    fn http_table_is_sorted_and_in_range() {
        for pair in HTTP_STATUSES.windows(2) {
            assert!(pair[0].status < pair[1].status, "{} / {}", pair[0].status, pair[1].status);
        }
        for entry in HTTP_STATUSES {
            assert!((100..=599).contains(&entry.status));
            assert!(!entry.reason.is_empty());
            assert!(entry.detail.ends_with('.'), "{}", entry.status);
            assert!(entry.detail.starts_with(|c: char| c.is_ascii_lowercase()), "{}", entry.status);
        }
    }

    #[test]
    fn unknown_codes_have_no_name_or_text() {
        for code in [0x8020_002F, 0x8020_FFFF, 0x80D0_FFFF, 0x8007_0001, 0x1234_5678, 0x8019_4000] {
            assert_eq!(name(code), None, "{code:#010x}");
            assert_eq!(description(code), None, "{code:#010x}");
        }
    }
}
