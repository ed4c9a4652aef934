//! [`Revoked`]: a future that resolves when a driver's claim no longer holds, woken by the job's
//! change (the job's watch), never by a timer.

use crate::job::JobShared;
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
    job: Arc<JobShared>,
    generation: Generation,
    key: Option<u64>,
}

impl Revoked {
    pub(crate) fn new(job: Arc<JobShared>, generation: Generation) -> Revoked {
        Revoked { job, generation, key: None }
    }
}

impl Future for Revoked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let (counters, generation) = (&this.job.counters, this.generation);
        if this
            .job
            .watch
            .register(&mut this.key, cx.waker(), || !counters.claim_is_live(generation))
        {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Revoked {
    fn drop(&mut self) {
        self.job.watch.deregister(self.key);
    }
}

impl fmt::Debug for Revoked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revoked")
            .field("job", &self.job.id)
            .field("revoked", &!self.job.counters.claim_is_live(self.generation))
            .finish()
    }
}
