//! What the segment server answers to one request: the status, headers and body bytes that the
//! knobs, the content now and the request's `Range`/`If-Range` call for.

use super::wire::{self, Choice, DATE, Framing, Head, Sent};
use super::{State, Validators};
use std::ops::Range;
use std::sync::Arc;

/// What one answer is, before it is written.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) version: u32,
    pub(super) body: Arc<Vec<u8>>,
    pub(super) range: Range<u64>,
    pub(super) framing: Framing,
}

impl Answer {
    fn empty(status: u16, mut headers: Vec<(String, String)>) -> Answer {
        headers.push(("Content-Length".to_owned(), "0".to_owned()));
        let body = Arc::new(Vec::new());
        Answer { status, headers, version: 0, body, range: 0..0, framing: Framing::Length }
    }
}

impl Validators {
    fn sent(self, path: &str, version: u32) -> Sent {
        let etag = wire::etag(path, version);
        let date = wire::last_modified(version);
        match self {
            Validators::Strong => Sent { etag: Some(etag), last_modified: Some(date) },
            Validators::LastModifiedOnly => Sent { etag: None, last_modified: Some(date) },
            Validators::WeakEtagOnly => {
                Sent { etag: Some(format!("W/{etag}")), last_modified: None }
            }
            Validators::None => Sent::default(),
        }
    }
}

fn header(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

impl State {
    /// The answer to `head` for `path` by the knobs and the content now.
    pub(super) fn answer(&mut self, head: &Head, path: &str) -> Answer {
        let mut headers = vec![header("Date", DATE)];
        if let Some((left, value)) = self.retry_after.as_mut().filter(|(left, _)| *left > 0) {
            *left -= 1;
            headers.push(header("Retry-After", value.clone()));
            return Answer::empty(503, headers);
        }
        if head.method != "GET" && head.method != "HEAD" {
            headers.push(header("Allow", "GET, HEAD"));
            return Answer::empty(405, headers);
        }
        let Some(resource) = self.resources.get(path) else { return Answer::empty(404, headers) };
        let len = resource.body.len() as u64;
        let sent = self.validators.sent(path, resource.version);
        headers.extend(sent.etag.iter().map(|e| header("ETag", e.clone())));
        headers.extend(sent.last_modified.iter().map(|d| header("Last-Modified", d.clone())));
        if !self.ignore_range {
            headers.push(header("Accept-Ranges", "bytes"));
        }
        let (range, if_range) = (head.header("range"), head.header("if-range"));
        let (status, range) = match wire::choose(range, if_range, len, &sent, self.ignore_range) {
            Choice::Full => (200, 0..len),
            Choice::Partial(range) => {
                let value = format!("bytes {}-{}/{len}", range.start, range.end - 1);
                headers.push(header("Content-Range", value));
                (206, range)
            }
            Choice::Unsatisfiable => {
                headers.push(header("Content-Range", format!("bytes */{len}")));
                let mut answer = Answer::empty(416, headers);
                answer.version = resource.version;
                return answer;
            }
        };
        let framing = if self.chunked {
            headers.push(header("Transfer-Encoding", "chunked"));
            Framing::Chunked
        } else {
            headers.push(header("Content-Length", (range.end - range.start).to_string()));
            Framing::Length
        };
        let range = if head.method == "HEAD" { range.start..range.start } else { range };
        let body = Arc::clone(&resource.body);
        Answer { status, headers, version: resource.version, body, range, framing }
    }
}

pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        503 => "Service Unavailable",
        _ => "Other",
    }
}
