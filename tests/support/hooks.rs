//! The fault and failure hooks of the tests running now. The library has one hook of each kind
//! for the whole process (`bgcopy::__set_fault_hook`, `__set_failure_hook`), and the tests of a
//! binary run in parallel threads of one process: each test adds its own hook here, the hook
//! that the library calls runs every hook added, and each test's hook acts only on paths under
//! its own directory. A hook is removed when its guard is dropped.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type FaultHook = Arc<dyn Fn(&str, &Path) + Send + Sync>;
type FailureHook = Arc<dyn Fn(&str, &Path) -> Option<io::Error> + Send + Sync>;

static FAULTS: parking_lot::Mutex<Vec<(u64, FaultHook)>> = parking_lot::Mutex::new(Vec::new());
static FAILURES: parking_lot::Mutex<Vec<(u64, FailureHook)>> = parking_lot::Mutex::new(Vec::new());

/// Removes its hook when dropped.
#[derive(Debug)]
#[must_use = "the hook is removed when the guard is dropped"]
pub(crate) struct HookGuard {
    id: u64,
    failure: bool,
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Relaxed: a unique number is all that is needed, no other memory is ordered by it.
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Calls `hook` at every fault point of the process (with the point's name and its path) until
/// the guard is dropped. The hook must look only at paths under its test's own directory.
pub(crate) fn add_fault_hook(hook: impl Fn(&str, &Path) + Send + Sync + 'static) -> HookGuard {
    let id = next_id();
    FAULTS.lock().push((id, Arc::new(hook)));
    bgcopy::__set_fault_hook(|point, path| {
        // Cloned out of the lock: a hook may hold its thread (a pause) while others run.
        let hooks: Vec<FaultHook> =
            FAULTS.lock().iter().map(|(_, hook)| Arc::clone(hook)).collect();
        for hook in hooks {
            hook(point, path);
        }
    });
    HookGuard { id, failure: false }
}

/// Asks `hook`, at every failure point of the process, whether to fail and with which error
/// (the first hook that answers wins) until the guard is dropped. The hook must answer only for
/// paths under its test's own directory.
pub(crate) fn add_failure_hook(
    hook: impl Fn(&str, &Path) -> Option<io::Error> + Send + Sync + 'static,
) -> HookGuard {
    let id = next_id();
    FAILURES.lock().push((id, Arc::new(hook)));
    bgcopy::__set_failure_hook(|point, path| {
        let hooks: Vec<FailureHook> =
            FAILURES.lock().iter().map(|(_, hook)| Arc::clone(hook)).collect();
        hooks.iter().find_map(|hook| hook(point, path))
    });
    HookGuard { id, failure: true }
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        if self.failure {
            FAILURES.lock().retain(|(id, _)| *id != self.id);
        } else {
            FAULTS.lock().retain(|(id, _)| *id != self.id);
        }
    }
}
