//! Fault points: named places on the file-work and durability paths where a test can pause the
//! work (to show that no job lock is held there) or crash the process (to show what survives a
//! crash at exactly that step). They exist only with the internal `_test-hooks` feature; without
//! it every point compiles to nothing.
//!
//! A crash is asked for with the environment variable `BGCOPY_CRASH_AT=<point>` (the first time
//! the point is reached) or `<point>@<n>` (the n-th time, from 1): the process aborts there, as a
//! `kill -9` would stop it, with no destructor run. A hook set with `set_hook` is called at every
//! point with the point's name and the path it works on.

#[cfg(feature = "_test-hooks")]
use parking_lot::{Mutex, RwLock};
use std::path::Path;
#[cfg(feature = "_test-hooks")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "_test-hooks")]
type Hook = Arc<dyn Fn(&str, &Path) + Send + Sync>;

#[cfg(feature = "_test-hooks")]
static HOOK: RwLock<Option<Hook>> = RwLock::new(None);
#[cfg(feature = "_test-hooks")]
static CRASH: OnceLock<Option<(String, u64)>> = OnceLock::new();
#[cfg(feature = "_test-hooks")]
static HITS: Mutex<u64> = Mutex::new(0);

#[cfg(feature = "_test-hooks")]
fn crash_at() -> &'static Option<(String, u64)> {
    CRASH.get_or_init(|| {
        let spec = std::env::var("BGCOPY_CRASH_AT").ok()?;
        Some(match spec.split_once('@') {
            Some((name, n)) => (name.to_owned(), n.parse().unwrap_or(1)),
            None => (spec, 1),
        })
    })
}

/// Reaches fault point `name` while working on `path` (see the module docs).
#[cfg(feature = "_test-hooks")]
pub(crate) fn point(name: &'static str, path: &Path) {
    if let Some((at, nth)) = crash_at()
        && at == name
    {
        let mut hits = HITS.lock();
        *hits += 1;
        if *hits == *nth {
            std::process::abort();
        }
    }
    let hook = HOOK.read().clone();
    if let Some(hook) = hook {
        hook(name, path);
    }
}

/// Reaches fault point `name`: nothing, without the `_test-hooks` feature.
#[cfg(not(feature = "_test-hooks"))]
#[inline(always)]
pub(crate) fn point(_name: &'static str, _path: &Path) {}

/// Calls `hook` at every fault point of the process (replacing the hook set before).
#[cfg(feature = "_test-hooks")]
pub fn set_hook(hook: impl Fn(&str, &Path) + Send + Sync + 'static) {
    *HOOK.write() = Some(Arc::new(hook));
}

/// Removes the hook.
#[cfg(feature = "_test-hooks")]
pub fn clear_hook() {
    *HOOK.write() = None;
}

#[cfg(feature = "_test-hooks")]
type Failure = Arc<dyn Fn(&str, &Path) -> Option<std::io::Error> + Send + Sync>;

#[cfg(feature = "_test-hooks")]
static FAILURE: RwLock<Option<Failure>> = RwLock::new(None);

/// Reaches failure point `name` while working on `path`: the error a test asked for with
/// [`set_failure`], as if the disk had returned it (for faults a real file system cannot be
/// made to produce on cue, such as the n-th commit of a store failing; the same tests run on a
/// really full disk too).
///
/// # Errors
/// The error the failure hook returns for this point, if any.
#[cfg(all(feature = "store", feature = "_test-hooks"))]
pub(crate) fn fail(name: &'static str, path: &Path) -> std::io::Result<()> {
    let hook = FAILURE.read().clone();
    match hook.and_then(|hook| hook(name, path)) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Reaches failure point `name`: nothing, without the `_test-hooks` feature.
///
/// # Errors
/// Never.
#[cfg(all(feature = "store", not(feature = "_test-hooks")))]
#[inline(always)]
pub(crate) fn fail(_name: &'static str, _path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Makes every failure point ask `hook` whether to fail, and with which error (replacing the
/// hook set before).
#[cfg(feature = "_test-hooks")]
pub fn set_failure(hook: impl Fn(&str, &Path) -> Option<std::io::Error> + Send + Sync + 'static) {
    *FAILURE.write() = Some(Arc::new(hook));
}

/// Removes the failure hook.
#[cfg(feature = "_test-hooks")]
pub fn clear_failure() {
    *FAILURE.write() = None;
}
