//! [`Revoked`]: a future that resolves when a driver's claim no longer holds, woken by the job's
//! change (the job's watch), never by a timer.

use crate::job::JobShared;
use crate::job::events::watch::Registration;
use crate::job::state::counters::Generation;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The future of [`JobDriver::revoked`](crate::JobDriver::revoked) and
/// [`FileTransfer::revoked`](crate::FileTransfer::revoked): resolves once the claim it was made
/// from no longer holds (the job was suspended, cancelled or completed, or the claim ended).
/// `Send + Unpin + 'static`; no async runtime needed.
#[must_use = "futures do nothing unless polled"]
pub struct Revoked {
    watch: Registration<JobShared>,
    generation: Generation,
}

impl Revoked {
    pub(crate) fn new(job: Arc<JobShared>, generation: Generation) -> Revoked {
        Revoked { watch: Registration::new(job), generation }
    }
}

impl Future for Revoked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let generation = self.generation;
        self.watch.poll(cx, |job| !job.counters.claim_is_live(generation))
    }
}

impl fmt::Debug for Revoked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let job = self.watch.owner();
        f.debug_struct("Revoked")
            .field("job", &job.id)
            .field("revoked", &!job.counters.claim_is_live(self.generation))
            .finish()
    }
}
