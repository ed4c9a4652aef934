//! [`Keepalive`]: what a public handle holds to keep its manager's service (the engine threads,
//! the store) running. The job layer treats it as opaque: the manager makes it, and the service
//! stops when the last one is dropped.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A share in a manager's service (see the module docs); empty for the engine's own handles,
/// which must not keep the engine running.
#[derive(Clone, Default)]
pub(crate) struct Keepalive(Option<Arc<dyn Any + Send + Sync>>);

impl Keepalive {
    /// A share in `service`.
    pub(crate) fn new(service: Arc<dyn Any + Send + Sync>) -> Keepalive {
        Keepalive(Some(service))
    }

    /// Whether this share keeps a service running.
    pub(crate) fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for Keepalive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Keepalive").field(&self.is_held()).finish()
    }
}
