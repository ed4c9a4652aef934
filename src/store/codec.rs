//! The byte-level codec under the record format: a [`Writer`] and a bounds-checked [`Reader`] for
//! little-endian integers, length-prefixed bytes and strings, options and sequences.
//!
//! The reader never panics and never allocates more than its input could hold: every length and
//! count is checked against the bytes that remain before anything is allocated (a sequence's
//! capacity is at most the number of its smallest items that the remaining bytes could encode).
//! Every read names the field it reads, so a [`DecodeError`] says what was wrong and where.
//!
//! | Item | Encoding |
//! |---|---|
//! | `u8`, `u32`, `u64`, `i64` | little-endian, 1, 4, 8, 8 bytes |
//! | `bool` | one byte, 0 or 1 |
//! | bytes, string | `u32` length, then the bytes (strings are UTF-8) |
//! | `Option<T>` | one tag byte, 0 (none) or 1 (some), then `T` if some |
//! | sequence | `u32` count, then the items |

use std::fmt;

/// Why a record could not be encoded (a value the format cannot hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodeError(pub(crate) String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds one record. Infallible per call; a value the format cannot hold (a string longer than
/// `u32::MAX` bytes) is remembered and reported by [`Writer::finish`].
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
    error: Option<EncodeError>,
}

impl Writer {
    /// An empty writer.
    pub(crate) fn new() -> Writer {
        Writer::default()
    }

    /// Records that the value being written cannot be encoded; the first failure wins.
    pub(crate) fn fail(&mut self, reason: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(EncodeError(reason.into()));
        }
    }

    /// Bytes as they are, without a length.
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// One byte.
    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    /// A `u32`, little-endian.
    pub(crate) fn u32(&mut self, value: u32) {
        self.raw(&value.to_le_bytes());
    }

    /// A `u64`, little-endian.
    pub(crate) fn u64(&mut self, value: u64) {
        self.raw(&value.to_le_bytes());
    }

    /// An `i64`, little-endian two's complement.
    pub(crate) fn i64(&mut self, value: i64) {
        self.raw(&value.to_le_bytes());
    }

    /// A bool as 0 or 1.
    pub(crate) fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    /// A length or count as a `u32`; `what` names it if it does not fit.
    pub(crate) fn len(&mut self, len: usize, what: &str) {
        match u32::try_from(len) {
            Ok(len) => self.u32(len),
            Err(_) => {
                self.fail(format!("{what} is too long to store ({len})"));
                self.u32(0);
            }
        }
    }

    /// Length-prefixed bytes.
    pub(crate) fn bytes(&mut self, bytes: &[u8], what: &str) {
        self.len(bytes.len(), what);
        self.raw(bytes);
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self, value: &str, what: &str) {
        self.bytes(value.as_bytes(), what);
    }

    /// An option: a tag byte, then the value through `write` if there is one.
    pub(crate) fn option<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Writer, T)) {
        match value {
            None => self.u8(0),
            Some(value) => {
                self.u8(1);
                write(self, value);
            }
        }
    }

    /// A counted sequence, each item through `write`.
    pub(crate) fn seq<T>(
        &mut self,
        items: &[T],
        what: &str,
        mut write: impl FnMut(&mut Writer, &T),
    ) {
        self.len(items.len(), what);
        for item in items {
            write(self, item);
        }
    }

    /// The record, or the first value that could not be encoded.
    pub(crate) fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.error {
            None => Ok(self.buf),
            Some(error) => Err(error),
        }
    }
}

/// What was wrong with a record (see [`DecodeError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The record does not start with the record magic.
    BadMagic,
    /// The record was written in a format version newer than this bgcopy reads.
    TooNew {
        /// The record's version.
        found: u32,
        /// The newest version this bgcopy reads.
        supported: u32,
    },
    /// The record's format version is not one bgcopy ever wrote (0).
    UnknownVersion(u32),
    /// The input ends before the field does.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// A length or count promises more than the remaining input could hold.
    TooLong {
        /// The length or count read.
        len: u64,
        /// Bytes left.
        remaining: usize,
    },
    /// An enum discriminant, option tag or bool outside its range.
    OutOfRange(u64),
    /// A string that is not UTF-8.
    NotUtf8,
    /// A value that breaks a rule of the format (the text says which).
    Invalid(&'static str),
    /// Bytes after the end of the record.
    TrailingBytes(usize),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadMagic => f.write_str("not a bgcopy job record"),
            Problem::TooNew { found, supported } => {
                write!(f, "format version {found} is newer than the supported {supported}")
            }
            Problem::UnknownVersion(found) => write!(f, "unknown format version {found}"),
            Problem::Truncated { needed, remaining } => {
                write!(f, "needs {needed} bytes but only {remaining} remain")
            }
            Problem::TooLong { len, remaining } => {
                write!(f, "length {len} is more than the {remaining} bytes that remain")
            }
            Problem::OutOfRange(value) => write!(f, "value {value} is out of range"),
            Problem::NotUtf8 => f.write_str("not UTF-8"),
            Problem::Invalid(rule) => f.write_str(rule),
            Problem::TrailingBytes(count) => write!(f, "{count} bytes after the end of the record"),
        }
    }
}

/// Why a record could not be decoded: which field, at which byte offset, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError {
    /// The field being read.
    pub(crate) what: &'static str,
    /// The byte offset in the record where that field starts.
    pub(crate) offset: usize,
    /// What was wrong.
    pub(crate) problem: Problem,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}: {}", self.what, self.offset, self.problem)
    }
}

impl std::error::Error for DecodeError {}

/// Reads one record front to back, checking every bound.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `input`.
    pub(crate) fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { input, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// An error about the field `what` that starts at `offset`.
    pub(crate) fn error_at(
        &self,
        what: &'static str,
        offset: usize,
        problem: Problem,
    ) -> DecodeError {
        DecodeError { what, offset, problem }
    }

    /// An error about the field `what` that starts at the current position.
    pub(crate) fn error(&self, what: &'static str, problem: Problem) -> DecodeError {
        self.error_at(what, self.pos, problem)
    }

    /// The current position, for errors found after a field was read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if len > remaining {
            return Err(self.error(what, Problem::Truncated { needed: len, remaining }));
        }
        let start = self.pos;
        self.pos += len;
        self.input.get(start..self.pos).ok_or_else(|| {
            self.error_at(what, start, Problem::Truncated { needed: len, remaining })
        })
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.array(what).map(u64::from_le_bytes)
    }

    /// A little-endian `i64`.
    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.array(what).map(i64::from_le_bytes)
    }

    /// A bool: exactly 0 or 1.
    pub(crate) fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let start = self.pos;
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.error_at(what, start, Problem::OutOfRange(other.into()))),
        }
    }

    /// A `u32` count of items each at least `min_item_len` bytes long (at least 1), checked
    /// against the remaining input.
    fn count(&mut self, what: &'static str, min_item_len: usize) -> Result<usize, DecodeError> {
        let start = self.pos;
        let count = self.u32(what)?;
        let remaining = self.remaining();
        let fits = usize::try_from(count)
            .ok()
            .filter(|count| count.saturating_mul(min_item_len.max(1)) <= remaining);
        fits.ok_or_else(|| {
            self.error_at(what, start, Problem::TooLong { len: count.into(), remaining })
        })
    }

    /// Length-prefixed bytes.
    pub(crate) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.count(what, 1)?;
        self.take(len, what)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let start = self.pos;
        let bytes = self.bytes(what)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err(self.error_at(what, start, Problem::NotUtf8)),
        }
    }

    /// An option: a tag byte (0 or 1), then the value through `read` if there is one.
    pub(crate) fn option<T>(
        &mut self,
        what: &'static str,
        read: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        let start = self.pos;
        match self.u8(what)? {
            0 => Ok(None),
            1 => read(self).map(Some),
            other => Err(self.error_at(what, start, Problem::OutOfRange(other.into()))),
        }
    }

    /// A counted sequence; each item is at least `min_item_len` bytes long and read by `read`.
    pub(crate) fn seq<T>(
        &mut self,
        what: &'static str,
        min_item_len: usize,
        mut read: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let count = self.count(what, min_item_len)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(read(self)?);
        }
        Ok(items)
    }

    /// Ends the record: any byte left is an error.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(self.error("end of record", Problem::TrailingBytes(count))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian_and_read_back() {
        let mut writer = Writer::new();
        writer.u8(7);
        writer.u32(0x0102_0304);
        writer.u64(u64::MAX - 1);
        writer.i64(-2);
        writer.bool(true);
        let bytes = writer.finish().unwrap();
        assert_eq!(&bytes[1..5], &[4, 3, 2, 1]);
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.u8("a").unwrap(), 7);
        assert_eq!(reader.u32("b").unwrap(), 0x0102_0304);
        assert_eq!(reader.u64("c").unwrap(), u64::MAX - 1);
        assert_eq!(reader.i64("d").unwrap(), -2);
        assert!(reader.bool("e").unwrap());
        reader.finish().unwrap();
    }

    #[test]
    fn a_short_input_is_truncated_with_what_and_where() {
        let mut reader = Reader::new(&[1, 2, 3]);
        reader.u8("first").unwrap();
        let error = reader.u32("second").unwrap_err();
        assert_eq!(error.what, "second");
        assert_eq!(error.offset, 1);
        assert_eq!(error.problem, Problem::Truncated { needed: 4, remaining: 2 });
        assert_eq!(error.to_string(), "second at byte 1: needs 4 bytes but only 2 remain");
    }

    #[test]
    fn a_length_longer_than_the_input_is_refused_before_allocating() {
        let mut bytes = u32::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        let error = Reader::new(&bytes).string("name").unwrap_err();
        assert_eq!(error.problem, Problem::TooLong { len: u32::MAX.into(), remaining: 3 });
        let error = Reader::new(&bytes).seq("items", 8, |r| r.u64("item")).unwrap_err();
        assert_eq!(error.offset, 0);
        assert!(matches!(error.problem, Problem::TooLong { .. }), "{error}");
    }

    #[test]
    fn tags_and_bools_outside_their_range_are_refused() {
        assert_eq!(Reader::new(&[2]).bool("flag").unwrap_err().problem, Problem::OutOfRange(2));
        let error = Reader::new(&[9]).option("maybe", |r| r.u8("inner")).unwrap_err();
        assert_eq!(error.problem, Problem::OutOfRange(9));
    }

    #[test]
    fn strings_must_be_utf8_and_trailing_bytes_are_refused() {
        let mut writer = Writer::new();
        writer.bytes(&[0xff, 0xfe], "bad");
        let bytes = writer.finish().unwrap();
        assert_eq!(Reader::new(&bytes).string("name").unwrap_err().problem, Problem::NotUtf8);
        let reader = Reader::new(&[0, 0]);
        assert_eq!(reader.finish().unwrap_err().problem, Problem::TrailingBytes(2));
    }

    #[test]
    fn the_first_encoding_failure_is_reported_by_finish() {
        let mut writer = Writer::new();
        writer.fail("first");
        writer.fail("second");
        assert_eq!(writer.finish().unwrap_err().to_string(), "first");
    }
}
