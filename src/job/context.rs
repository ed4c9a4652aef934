//! [`JobContext`]: what a job knows of the manager it belongs to, without knowing the manager or
//! the engine: the registry to leave when it becomes final (whose signal wakes the engine), the
//! files-per-job limit, the URL schemes it accepts, the serial executor that delivers its
//! callbacks, the event hub of its manager's subscriptions, the store its changes are recorded in
//! (if any), and the manager's service that public handles keep running. The manager makes one per manager and hands it to every job.

use crate::executor::SerialExecutor;
use crate::job::events::hub::EventHub;
use crate::job::keepalive::Keepalive;
use crate::job::record::recorder::Persist;
use crate::job::validate::Schemes;
use crate::limit::Limiter;
use crate::registry::Membership;
use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock, Weak};

/// A manager's environment, shared by its jobs (see the module docs).
pub(crate) struct JobContext {
    registry: Weak<dyn Membership>,
    /// Files one job may hold.
    pub(crate) max_files: u32,
    /// Schemes accepted in remote names.
    pub(crate) schemes: Schemes,
    /// Delivers the BITS callbacks, in order, on one thread.
    pub(crate) callbacks: SerialExecutor,
    /// Subscriptions to every job, and the progress pacer.
    pub(crate) hub: Arc<EventHub>,
    /// Where the jobs are recorded, if the manager has a store.
    pub(crate) persist: Option<Arc<dyn Persist>>,
    /// The bandwidth caps of the jobs and of the manager.
    pub(crate) limiter: Arc<Limiter>,
    /// The manager's service, once it runs.
    service: OnceLock<Weak<dyn Any + Send + Sync>>,
}

impl JobContext {
    /// A context for the jobs of `registry`.
    pub(crate) fn new(
        registry: Weak<dyn Membership>,
        max_files: u32,
        schemes: Schemes,
        persist: Option<Arc<dyn Persist>>,
        limiter: Arc<Limiter>,
    ) -> JobContext {
        JobContext {
            registry,
            persist,
            limiter,
            max_files,
            schemes,
            callbacks: SerialExecutor::new("bgcopy-notifier"),
            hub: EventHub::new(),
            service: OnceLock::new(),
        }
    }

    /// Sets the service that handles keep running (once).
    pub(crate) fn set_service(&self, service: Weak<dyn Any + Send + Sync>) {
        let _ = self.service.set(service);
    }

    /// A share in the service for a new handle (empty once the service is gone).
    pub(crate) fn keepalive(&self) -> Keepalive {
        self.service.get().and_then(Weak::upgrade).map(Keepalive::new).unwrap_or_default()
    }

    /// The registry, while the manager exists.
    pub(crate) fn registry(&self) -> Option<Arc<dyn Membership>> {
        self.registry.upgrade()
    }
}

impl Drop for JobContext {
    fn drop(&mut self) {
        // The last job of the manager is gone: nothing can be subscribed to any more.
        self.hub.close();
    }
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("max_files", &self.max_files)
            .field("schemes", &self.schemes)
            .field("hub", &self.hub)
            .finish()
    }
}
