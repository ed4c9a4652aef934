//! The built-in "service": worker threads that run queued jobs through transports.
//! (Scheduling, retry timing and the no-progress timeout are filled in by the engine work.)

use crate::manager::ManagerCore;
use crate::transport::{LocalTransport, Transport};
use std::fmt;
use std::sync::Arc;

/// Engine settings for [`ManagerBuilder::engine_config`](crate::ManagerBuilder::engine_config).
#[derive(Clone)]
pub struct EngineConfig {
    pub(crate) workers: usize,
    pub(crate) transports: Vec<Arc<dyn Transport>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { workers: 2, transports: vec![Arc::new(LocalTransport)] }
    }
}

impl EngineConfig {
    /// Schemes served beyond the built-in `http`, `https` and `file`, lower case.
    pub(crate) fn extra_schemes(&self) -> Vec<String> {
        let builtin = ["http", "https", "file"];
        let mut schemes: Vec<String> = self
            .transports
            .iter()
            .flat_map(|t| t.schemes().iter().map(|s| s.to_ascii_lowercase()))
            .filter(|s| !builtin.contains(&s.as_str()))
            .collect();
        schemes.sort();
        schemes.dedup();
        schemes
    }

    pub(crate) fn add_transport(&mut self, transport: Arc<dyn Transport>) {
        self.transports.retain(|t| !t.schemes().iter().any(|s| transport.schemes().contains(s)));
        self.transports.push(transport);
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("workers", &self.workers)
            .field("transports", &self.transports)
            .finish()
    }
}

/// The running engine; dropping it stops and joins the workers.
#[derive(Debug)]
pub(crate) struct EngineHandle {
    _config: EngineConfig,
}

impl EngineHandle {
    pub(crate) fn start(_core: &Arc<ManagerCore>, config: EngineConfig) -> EngineHandle {
        EngineHandle { _config: config }
    }
}
