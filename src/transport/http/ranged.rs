//! One range of a ranged file (DESIGN 6.3, [`Transport::transfer_range`]): `Range: bytes=
//! first-last`, with `If-Range` naming the content the file's earlier ranges came from.
//!
//! - A `206` is taken only if its validators pass [`range::check`] and its `Content-Range` is one
//!   range starting at `first`; its complete length is reported first (a range of the file past
//!   it fails the file with `BG_E_INVALID_RANGE` before any byte is written).
//! - A `200` naming other content than the one sent restarts the file. A `200` from byte zero
//!   serves a range from zero: its first bytes are taken, the rest left. Any other `200` is a
//!   server that cannot serve ranges: fatal `BG_E_INSUFFICIENT_RANGE_SUPPORT`.
//! - A `416` is a range past the end of the file: its complete length is reported (which fails
//!   a ranged file with `BG_E_INVALID_RANGE`), and nothing is written; without one it is a fatal
//!   `BG_E_INVALID_RANGE`.
//!
//! [`Transport::transfer_range`]: crate::transport::Transport::transfer_range

use super::client::{Client, Method, Ranged};
use super::range::{self, Check, ContentRange};
use super::{coded, header, invalid_response, unexpected, validators};
use crate::transport::{RangeSink, TransferError};
use crate::{BgErrorContext, hresult};

/// Bytes read from a body per write.
const BUFFER: usize = 256 * 1024;

/// Fetches bytes `first..=last` (to the end for `None`) into `sink`.
pub(super) fn fetch(
    client: &Client<'_>,
    first: u64,
    last: Option<u64>,
    sink: &mut dyn RangeSink,
) -> Result<(), TransferError> {
    let sent = sink.validator().map(str::to_owned);
    let ranged = Ranged { first, last, if_range: sent.as_deref() };
    let mut response = client.send(Method::Get, Some(ranged), &|| sink.should_stop())?;
    let status = response.status().as_u16();
    let headers = response.headers();
    let fresh = match range::check(sent.as_deref(), &validators(headers)) {
        Check::Coded(coding) => return Err(coded(&coding)),
        Check::Changed => return sink.restart(),
        Check::Same(validator) => validator,
    };
    let want = last.map(|last| last - first + 1);
    let take = match status {
        206 => {
            let Some(ContentRange::Bytes { first: from, last: to, complete }) =
                header(headers, "content-range").and_then(ContentRange::parse)
            else {
                return Err(invalid_response("a 206 without one well-formed Content-Range"));
            };
            if from != first {
                return Err(invalid_response(format!(
                    "a 206 from byte {from} to a request from byte {first}"
                )));
            }
            if let Some(complete) = complete {
                sink.set_remote_size(complete)?;
            }
            let len = to - from + 1;
            want.map_or(len, |want| want.min(len))
        }
        200 if first == 0 => {
            // The whole body: its first bytes are the range.
            let length = response.body().content_length();
            if let Some(length) = length {
                sink.set_remote_size(length)?;
            }
            match (want, length) {
                (Some(want), Some(length)) => want.min(length),
                (Some(want), None) => want,
                (None, length) => length.unwrap_or(u64::MAX),
            }
        }
        200 => {
            return Err(TransferError::fatal(
                hresult::BG_E_INSUFFICIENT_RANGE_SUPPORT,
                BgErrorContext::RemoteFile,
                format!(
                    "the server answered a request for the bytes from {first} with the whole \
                     file: it serves no ranges"
                ),
            ));
        }
        416 => {
            // `bytes */complete`: the size, which says the range starts past the end. A ranged
            // file fails on it; an on-demand file learns that nothing is there.
            if let Some(ContentRange::Unsatisfied { complete }) =
                header(headers, "content-range").and_then(ContentRange::parse)
            {
                sink.set_remote_size(complete)?;
                if first >= complete {
                    return Ok(());
                }
            }
            return Err(TransferError::fatal(
                hresult::BG_E_INVALID_RANGE,
                BgErrorContext::RemoteFile,
                format!("the range from byte {first} is past the end of the file"),
            ));
        }
        status => return Err(unexpected(status, headers)),
    };
    if sink.validator().is_none() {
        sink.set_validator(fresh);
    }
    let mut reader = response.body_mut().as_reader();
    let capacity = usize::try_from(take).unwrap_or(BUFFER).clamp(1, BUFFER);
    let mut buf = vec![0u8; capacity];
    let mut left = take;
    while left > 0 {
        if sink.should_stop() {
            return Err(TransferError::Stopped);
        }
        let room = usize::try_from(left).unwrap_or(buf.len()).min(buf.len());
        let n = super::stall::read(&mut reader, &mut buf[..room], || sink.should_stop())?;
        if n == 0 {
            if take == u64::MAX {
                // A whole body of unknown length, read to its end.
                return Ok(());
            }
            return Err(TransferError::transient(
                hresult::BG_E_CONNECTION_CLOSED,
                BgErrorContext::RemoteFile,
                format!("the connection closed {left} bytes before the end of the range"),
            ));
        }
        sink.write(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}
