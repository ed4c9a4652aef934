//! The HTTP/1.1 pieces of the segment server: reading a request head, choosing what a `Range`
//! and `If-Range` call for, the validators' spellings, and writing a body through a
//! per-connection token bucket, cut where the plan says.

use std::io::{self, BufRead, Write};
use std::ops::Range;
use std::thread;
use std::time::{Duration, Instant};

/// A request head: method, target and headers (names in lower case).
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Reads one request head; `None` at the end of the connection or on garbage.
pub fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some(Head { method, target, headers });
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

/// What a request for a body of `len` bytes gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// `200` with the whole body.
    Full,
    /// `206` with these bytes.
    Partial(Range<u64>),
    /// `416`: no byte of the range exists.
    Unsatisfiable,
}

/// The validators a response carries, as sent.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Applies RFC 9110 sections 14.2 and 13.1.5: no `Range` (or `ignore_range`) means the whole
/// body; an `If-Range` that is not the current strong ETag or `Last-Modified` exactly (a weak
/// tag never matches) means the whole body; a `Range` that is not one well-formed byte range is
/// ignored (several ranges are too: this server sends no multipart); a range that starts past
/// the end is `416`; `bytes=a-b` is cut at the end, `bytes=-n` is the last `n` bytes.
pub fn choose(
    range: Option<&str>,
    if_range: Option<&str>,
    len: u64,
    sent: &Sent,
    ignore_range: bool,
) -> Choice {
    let Some(range) = range.filter(|_| !ignore_range) else { return Choice::Full };
    if let Some(if_range) = if_range {
        let strong = sent.etag.as_deref().filter(|e| !e.starts_with("W/"));
        let matches = Some(if_range) == strong || Some(if_range) == sent.last_modified.as_deref();
        if !matches {
            return Choice::Full;
        }
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else { return Choice::Full };
    let Some((first, last)) = spec.trim().split_once('-') else { return Choice::Full };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            Some(0) => Choice::Unsatisfiable,
            Some(_) if len == 0 => Choice::Unsatisfiable,
            Some(n) => Choice::Partial(len.saturating_sub(n)..len),
            None => Choice::Full,
        },
        (first, "") => match number(first) {
            Some(a) if a >= len => Choice::Unsatisfiable,
            Some(a) => Choice::Partial(a..len),
            None => Choice::Full,
        },
        (first, last) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a > b => Choice::Full,
            (Some(a), Some(_)) if a >= len => Choice::Unsatisfiable,
            (Some(a), Some(b)) => Choice::Partial(a..b.min(len - 1) + 1),
            _ => Choice::Full,
        },
    }
}

/// The `Date` every response carries: a day after every `Last-Modified`, so those are strong.
pub const DATE: &str = "Wed, 02 Jul 2025 10:00:00 GMT";

/// The `Last-Modified` of content version `version` (1 to 86 399): one second per version.
pub fn last_modified(version: u32) -> String {
    let v = version % 86_400;
    format!("Tue, 01 Jul 2025 {:02}:{:02}:{:02} GMT", v / 3600, v / 60 % 60, v % 60)
}

/// The strong ETag of version `version` of the resource at `path`.
pub fn etag(path: &str, version: u32) -> String {
    // FNV-1a: a stable tag per path, so two resources never share one.
    let hash = path.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}-v{version}\"")
}

/// xorshift64*: deterministic, seedable, good enough to pick sizes, offsets and contents (the
/// loopback servers' and their tests').
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..hi` (`lo < hi`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// `n` pseudo-random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// A connection's token bucket: `rate` body bytes per second, a burst of 50 ms of it.
#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new() -> Bucket {
        Bucket { tokens: 0.0, last: Instant::now() }
    }

    /// Waits until up to `want` bytes may be sent at `rate()` (read again after every pause of
    /// at most 50 ms, so a change applies at once) and returns how many (at least one, at most a
    /// burst); all of them at once when there is no cap.
    pub fn take(&mut self, want: usize, rate: impl Fn() -> Option<u64>) -> usize {
        loop {
            let now = Instant::now();
            let elapsed = now.duration_since(self.last).as_secs_f64();
            self.last = now;
            let Some(rate) = rate().filter(|r| *r > 0) else {
                self.tokens = 0.0;
                return want;
            };
            let burst = usize::try_from((rate / 20).max(512)).unwrap_or(usize::MAX);
            self.tokens = (self.tokens + elapsed * rate as f64).min(burst as f64);
            let chunk = want.min(burst);
            if self.tokens >= chunk as f64 {
                self.tokens -= chunk as f64;
                return chunk;
            }
            let wait = (chunk as f64 - self.tokens) / rate as f64;
            thread::sleep(Duration::from_secs_f64(wait.min(0.05)));
        }
    }
}

/// How a body goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length,
    Chunked,
}

/// Writes `body` (framed), through `bucket` at `rate()`, calling `sent(n)` before each piece
/// goes out (so a client that has a byte finds it in the log); stops after `cut_at` body bytes
/// if given. Returns the body bytes written.
pub fn write_body(
    out: &mut impl Write,
    body: &[u8],
    framing: Framing,
    cut_at: Option<u64>,
    bucket: &mut Bucket,
    rate: impl Fn() -> Option<u64>,
    mut sent: impl FnMut(u64),
) -> io::Result<u64> {
    let end =
        cut_at.map_or(body.len(), |c| usize::try_from(c).unwrap_or(usize::MAX).min(body.len()));
    let mut at = 0;
    while at < end {
        let n = bucket.take((end - at).min(64 * 1024), &rate);
        let piece = &body[at..at + n];
        sent(n as u64);
        match framing {
            Framing::Length => out.write_all(piece)?,
            Framing::Chunked => {
                out.write_all(format!("{n:x}\r\n").as_bytes())?;
                out.write_all(piece)?;
                out.write_all(b"\r\n")?;
            }
        }
        out.flush()?;
        at += n;
    }
    if cut_at.is_none() && framing == Framing::Chunked {
        out.write_all(b"0\r\n\r\n")?;
        out.flush()?;
    }
    Ok(at as u64)
}
