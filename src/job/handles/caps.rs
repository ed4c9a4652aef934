//! The job's connections and bandwidth caps (DESIGN 5.3; methods of [`Job`]): how many
//! connections a transport may open per file, and the job's own cap in body bytes per second (the
//! manager's cap applies too).
//! Both follow the rules of every setter (refused in a final state, recorded, notified), and
//! both take effect on a running transfer: a cap at once, connections at the next split.

use crate::job::handles::job::Job;
use crate::job::state::transitions::{JobEvent, transition};
use crate::job::validate::MAX_CONNECTIONS;
use crate::{BgError, Result};

impl Job {
    /// Sets how many connections a transport may open for one file (1 to 16; default 1). With
    /// more than one, the `http` transport fetches a file of 2 MiB or more in segments of at
    /// least 1 MiB where the server allows a validated range resume (a known size, a strong
    /// validator, and `206` with an exact `Content-Range`), else over one connection. A running
    /// transfer takes a new count at its next split: segments hand out the next range within
    /// the new count, and a file on one connection switches to segments within 8 MiB.
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("fast", BgJobType::Download)?;
    /// assert_eq!(job.get_max_connections(), 1);
    /// job.set_max_connections(4)?;
    /// assert_eq!(job.get_max_connections(), 4);
    /// assert_eq!(job.set_max_connections(17).unwrap_err().hresult(), hresult::E_INVALIDARG);
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; [`BgError::InvalidArgument`] (`E_INVALIDARG`)
    /// for 0 or more than 16. On error nothing changes.
    pub fn set_max_connections(&self, connections: u32) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        if !(1..=MAX_CONNECTIONS).contains(&connections) {
            return Err(BgError::InvalidArgument(format!(
                "{connections} connections: a file may use 1 to {MAX_CONNECTIONS}"
            )));
        }
        self.modify(false, |inner| inner.max_connections = connections)
    }

    /// How many connections a transport may open for one file (default 1).
    pub fn get_max_connections(&self) -> u32 {
        self.lock().max_connections
    }

    /// Sets (or with `None` removes) the job's own bandwidth cap, in body bytes per second,
    /// effective at once on a running transfer. A burst above it is at most a quarter second's
    /// worth. The manager's cap ([`ManagerBuilder::max_bytes_per_second`]) applies too; this
    /// reports only the job's.
    ///
    /// [`ManagerBuilder::max_bytes_per_second`]: crate::ManagerBuilder::max_bytes_per_second
    ///
    /// ```
    /// use bgcopy::*;
    /// let manager = Manager::builder().without_engine().build();
    /// let job = manager.create_job("polite", BgJobType::Download)?;
    /// job.set_max_bytes_per_second(Some(512 * 1024))?;
    /// assert_eq!(job.get_max_bytes_per_second(), Some(512 * 1024));
    /// assert!(job.set_max_bytes_per_second(Some(0)).is_err());
    /// job.set_max_bytes_per_second(None)?;
    /// # Ok::<(), BgError>(())
    /// ```
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`] in a final state; [`BgError::InvalidArgument`] (`E_INVALIDARG`)
    /// for `Some(0)`. On error nothing changes.
    pub fn set_max_bytes_per_second(&self, limit: Option<u64>) -> Result<()> {
        transition(self.shared.counters.state(), JobEvent::Modify)?;
        if limit == Some(0) {
            return Err(BgError::InvalidArgument(
                "a cap of 0 bytes per second (use None for no cap)".to_owned(),
            ));
        }
        self.modify(false, |inner| inner.max_bytes_per_second = limit)?;
        self.shared.ctx.limiter.set_job_cap(self.shared.id, limit);
        Ok(())
    }

    /// The job's own bandwidth cap in bytes per second (`None`: no cap, the default).
    pub fn get_max_bytes_per_second(&self) -> Option<u64> {
        self.lock().max_bytes_per_second
    }
}
