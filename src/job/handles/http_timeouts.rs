//! Per-job HTTP timeouts (connect and stalled read; the custom headers and the rest of
//! `IBackgroundCopyJobHttpOptions` are in `handles/http_options.rs`). The expected digest of a file
//! is in `digests.rs`.
//!
//! The options are plain settings under the job lock, changed like every other property: refused
//! in a final state (`BG_E_INVALID_STATE`), stamping the modification time and firing
//! `job_modification`.

use crate::job::handles::job::Job;
use crate::job::state::transitions::{JobEvent, transition};
use crate::{BgError, Result};
use std::time::Duration;

fn check_timeout(what: &str, timeout: Option<Duration>) -> Result<()> {
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(BgError::InvalidArgument(format!("the {what} timeout is zero")));
    }
    Ok(())
}

impl Job {
    /// Sets the job's HTTP timeouts: `connect` bounds establishing a connection (TCP and TLS
    /// set-up, a proxy's tunnel; a name look-up has its own bound, `HttpTransport::with_resolve_timeout`),
    /// `read` bounds one read that receives nothing (a stalled server, while waiting for the
    /// response or inside the body). `None` keeps the transport's default (see
    /// `HttpTransport::with_timeouts`). A timeout that fires is a transient failure: the job goes
    /// to `TransientError` and is retried.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; [`BgError::InvalidArgument`] for a zero
    /// duration.
    pub fn set_http_timeouts(
        &self,
        connect: Option<Duration>,
        read: Option<Duration>,
    ) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        check_timeout("connect", connect)?;
        check_timeout("read", read)?;
        self.modify(false, |inner| {
            inner.options.connect_timeout = connect;
            inner.options.read_timeout = read;
        })
    }

    /// The job's HTTP timeouts as `(connect, read)`; `None` means the transport's default.
    pub fn get_http_timeouts(&self) -> (Option<Duration>, Option<Duration>) {
        let inner = self.lock();
        (inner.options.connect_timeout, inner.options.read_timeout)
    }
}
