//! Name resolution with a time limit, without a thread per request.
//!
//! The system resolver (`getaddrinfo`) blocks and cannot be cancelled, so the only way to bound a
//! look-up is to run it on another thread and stop waiting. ureq's own resolver does that for
//! every request when a resolve timeout is set, pooled connection or not. This one starts a
//! thread only when it must:
//!
//! - an IP address in the URL is used as it is (no look-up, no thread);
//! - a name looked up in the last [`CACHE_TTL`] is answered from the cache (`getaddrinfo` does
//!   not say how long an answer is valid, so the time is short; [`Resolver::forget`] drops the
//!   cache at once when a connection fails, so a moved host is looked up again on the retry);
//! - otherwise one thread looks the name up, and every request for that name meanwhile waits for
//!   the same thread: at most one look-up per name runs at a time, however many workers ask, and
//!   a hung DNS server costs one thread per name, not one per attempt.
//!
//! A caller waits until its deadline (ureq's resolve timeout for the request, or the connect
//! timeout for a proxy's name) and then fails with `Timeout::Resolve`; the look-up goes on, and
//! its answer, if it comes, is cached for the next attempt. Failed look-ups are not cached.
//!
//! This plugs into ureq through `ureq::unversioned::resolver`, which ureq changes only in minor
//! versions; everything that touches it is in this file.

use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs};
use ureq::unversioned::transport::NextTimeout;

/// How long a look-up's answer is reused.
pub(super) const CACHE_TTL: Duration = Duration::from_secs(30);
/// Names kept at most; when full, expired answers go, then the whole cache.
const CACHE_CAPACITY: usize = 512;

/// What a look-up function returns: the addresses of `host:port`.
type Lookup = fn(&str) -> io::Result<Vec<SocketAddr>>;

/// Why a name gave no address.
#[derive(Debug)]
pub(super) enum LookupError {
    /// The deadline passed first (the look-up goes on in the background).
    TimedOut,
    /// The name does not resolve, or resolves to nothing.
    NotFound,
    /// No thread could be started for the look-up.
    Spawn(io::Error),
}

/// The resolver an [`HttpTransport`](super::HttpTransport)'s agent uses; clones share one cache.
#[derive(Clone)]
pub(super) struct Resolver {
    shared: Arc<Shared>,
}

struct Shared {
    map: Mutex<HashMap<String, Slot>>,
    lookup: Lookup,
}

// `Mutex::lock(&m)` rather than `m.lock()` in the two accessors below: the layers test matches
// member calls by name, and the job layer has a crate-private `lock` of its own.
impl Shared {
    fn cache(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        Mutex::lock(&self.map)
    }
}

enum Slot {
    /// Addresses found, valid until the instant.
    Ready(Arc<[SocketAddr]>, Instant),
    /// A look-up is running; its result arrives in the [`Pending`].
    Running(Arc<Pending>),
}

/// The result of one running look-up, for every caller waiting for it.
#[derive(Default)]
struct Pending {
    /// `None` while running; then the addresses, or `None` if the name gave none.
    outcome: Mutex<Option<Option<Arc<[SocketAddr]>>>>,
    done: Condvar,
}

impl Pending {
    fn outcome(&self) -> MutexGuard<'_, Option<Option<Arc<[SocketAddr]>>>> {
        Mutex::lock(&self.outcome)
    }
}

impl Resolver {
    /// A resolver on the system's `getaddrinfo`.
    pub(super) fn new() -> Resolver {
        Resolver::with_lookup(|name| name.to_socket_addrs().map(Iterator::collect))
    }

    fn with_lookup(lookup: Lookup) -> Resolver {
        Resolver { shared: Arc::new(Shared { map: Mutex::new(HashMap::new()), lookup }) }
    }

    /// Drops every cached answer (a connection failed: the addresses may be stale).
    pub(super) fn forget(&self) {
        self.shared.cache().retain(|_, slot| matches!(slot, Slot::Running(_)));
    }

    /// The addresses of `name` (`host:port`), waiting at most until `deadline` (`None`: as long
    /// as the system resolver takes).
    pub(super) fn lookup(
        &self,
        name: &str,
        deadline: Option<Instant>,
    ) -> Result<Arc<[SocketAddr]>, LookupError> {
        if let Ok(address) = name.parse::<SocketAddr>() {
            return Ok(Arc::from([address]));
        }
        let pending = {
            let mut cache = self.shared.cache();
            match cache.get(name) {
                Some(Slot::Ready(addresses, until)) if Instant::now() < *until => {
                    return Ok(Arc::clone(addresses));
                }
                Some(Slot::Running(pending)) => Arc::clone(pending),
                _ => {
                    let pending = Arc::new(Pending::default());
                    make_room(&mut cache);
                    cache.insert(name.to_owned(), Slot::Running(Arc::clone(&pending)));
                    if let Err(e) = self.spawn(name, &pending) {
                        cache.remove(name);
                        return Err(LookupError::Spawn(e));
                    }
                    pending
                }
            }
        };
        let mut result = pending.outcome();
        while result.is_none() {
            match deadline {
                Some(deadline) => {
                    if pending.done.wait_until(&mut result, deadline).timed_out()
                        && result.is_none()
                    {
                        return Err(LookupError::TimedOut);
                    }
                }
                None => pending.done.wait(&mut result),
            }
        }
        result.clone().flatten().ok_or(LookupError::NotFound)
    }

    /// Starts the look-up thread for `name`: it caches the answer (or clears the slot), then
    /// wakes every waiter.
    fn spawn(&self, name: &str, pending: &Arc<Pending>) -> io::Result<()> {
        let (shared, pending, name) =
            (Arc::clone(&self.shared), Arc::clone(pending), name.to_owned());
        let thread = thread::Builder::new().name("bgcopy-resolve".to_owned());
        thread.spawn(move || {
            let found: Option<Arc<[SocketAddr]>> =
                (shared.lookup)(&name).ok().filter(|a| !a.is_empty()).map(Arc::from);
            {
                // The slot is still this look-up's: a running slot is replaced by nothing else.
                let mut cache = shared.cache();
                match &found {
                    Some(addresses) => {
                        let until = Instant::now() + CACHE_TTL;
                        cache.insert(name, Slot::Ready(Arc::clone(addresses), until));
                    }
                    None => {
                        cache.remove(&name);
                    }
                }
            }
            *pending.outcome() = Some(found);
            pending.done.notify_all();
        })?;
        Ok(())
    }
}

/// Keeps the cache under its capacity: expired answers go first, then everything finished.
fn make_room(cache: &mut HashMap<String, Slot>) {
    if cache.len() < CACHE_CAPACITY {
        return;
    }
    let now = Instant::now();
    cache.retain(|_, slot| match slot {
        Slot::Ready(_, until) => now < *until,
        Slot::Running(_) => true,
    });
    if cache.len() >= CACHE_CAPACITY {
        cache.retain(|_, slot| matches!(slot, Slot::Running(_)));
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("cached", &self.shared.cache().len()).finish()
    }
}

impl ureq::unversioned::resolver::Resolver for Resolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let name = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => DefaultResolver::host_and_port(scheme, authority),
            _ => None,
        };
        let name = name.ok_or_else(|| ureq::Error::BadUri(format!("{uri} has no host or port")))?;
        let deadline = if timeout.after.is_not_happening() {
            None
        } else {
            Instant::now().checked_add(*timeout.after)
        };
        let addresses = self.lookup(&name, deadline).map_err(|e| match e {
            LookupError::TimedOut => ureq::Error::Timeout(timeout.reason),
            LookupError::NotFound => ureq::Error::HostNotFound,
            LookupError::Spawn(e) => ureq::Error::Io(e),
        })?;
        let mut resolved = self.empty();
        for address in config.ip_family().keep_wanted(addresses.iter().copied()) {
            if resolved.try_push(address).is_err() {
                break; // as many as ureq keeps
            }
        }
        if resolved.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls of each test's look-up function (tests run in parallel: one counter each).
    struct Calls(Mutex<usize>);

    impl Calls {
        const fn new() -> Calls {
            Calls(Mutex::new(0))
        }

        fn count(&self) {
            *self.0.lock() += 1;
        }

        fn get(&self) -> usize {
            *self.0.lock()
        }
    }

    static SLOW: Calls = Calls::new();
    static SHARED: Calls = Calls::new();
    static FAILING: Calls = Calls::new();
    static LITERAL: Calls = Calls::new();

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn soon(ms: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let resolver = Resolver::with_lookup(|_| {
            LITERAL.count();
            Ok(vec![address("192.0.2.1:80")])
        });
        assert_eq!(resolver.lookup("127.0.0.1:80", soon(0)).unwrap()[0], address("127.0.0.1:80"));
        assert_eq!(resolver.lookup("[::1]:443", None).unwrap()[0], address("[::1]:443"));
        assert_eq!(LITERAL.get(), 0);
    }

    #[test]
    fn a_slow_lookup_times_out_and_its_answer_serves_the_next_request() {
        // The look-up answers only once the test lets it: the request's timeout is judged by
        // order (it returned while the look-up was still held), never by the clock.
        static RELEASED: parking_lot::Mutex<bool> = parking_lot::Mutex::new(false);
        static GATE: parking_lot::Condvar = parking_lot::Condvar::new();
        let resolver = Resolver::with_lookup(|_| {
            SLOW.count();
            let mut released = RELEASED.lock();
            while !*released {
                GATE.wait(&mut released);
            }
            Ok(vec![address("192.0.2.7:80")])
        });
        let first = {
            let resolver = resolver.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            thread::spawn(move || tx.send(resolver.lookup("slow.test:80", soon(100))));
            // A request that waited for the held look-up would never answer.
            rx.recv_timeout(Duration::from_secs(60)).expect("the request waited for the look-up")
        };
        assert!(matches!(first, Err(LookupError::TimedOut)));
        *RELEASED.lock() = true;
        GATE.notify_all();
        // The look-up went on; a later request with time to spare gets its answer, then the cache.
        assert_eq!(
            resolver.lookup("slow.test:80", soon(60_000)).unwrap()[0],
            address("192.0.2.7:80")
        );
        assert_eq!(resolver.lookup("slow.test:80", soon(0)).unwrap()[0], address("192.0.2.7:80"));
        assert_eq!(SLOW.get(), 1, "one look-up for all three requests");
    }

    #[test]
    fn concurrent_requests_share_one_lookup_and_forget_drops_the_cache() {
        let resolver = Resolver::with_lookup(|_| {
            SHARED.count();
            thread::sleep(Duration::from_millis(100));
            Ok(vec![address("192.0.2.8:80")])
        });
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let resolver = resolver.clone();
                thread::spawn(move || resolver.lookup("shared.test:80", soon(5000)).unwrap())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap()[0], address("192.0.2.8:80"));
        }
        for _ in 0..10 {
            resolver.lookup("shared.test:80", soon(5000)).unwrap();
        }
        assert_eq!(SHARED.get(), 1, "eight waiters and ten cache hits, one look-up");
        resolver.forget();
        resolver.lookup("shared.test:80", soon(5000)).unwrap();
        assert_eq!(SHARED.get(), 2, "forget drops the cached answer");
    }

    #[test]
    fn failed_lookups_are_not_found_and_not_cached() {
        let resolver = Resolver::with_lookup(|_| {
            FAILING.count();
            Err(io::Error::other("no such name"))
        });
        for _ in 0..2 {
            let result = resolver.lookup("none.test:80", soon(5000));
            assert!(matches!(result, Err(LookupError::NotFound)));
        }
        assert_eq!(FAILING.get(), 2);
        let empty = Resolver::with_lookup(|_| Ok(Vec::new()));
        assert!(matches!(empty.lookup("empty.test:80", None), Err(LookupError::NotFound)));
    }

    #[test]
    fn the_cache_stays_under_its_capacity() {
        let resolver = Resolver::with_lookup(|_| Ok(vec![address("192.0.2.9:80")]));
        for i in 0..CACHE_CAPACITY + 10 {
            resolver.lookup(&format!("host{i}.test:80"), soon(5000)).unwrap();
        }
        assert!(resolver.shared.cache().len() <= CACHE_CAPACITY);
    }

    #[test]
    fn ureq_requests_resolve_through_it_with_their_timeout() {
        use ureq::unversioned::resolver::Resolver as _;
        let resolver = Resolver::with_lookup(|name| {
            assert_eq!(name, "named.test:8080");
            Ok(vec![address("192.0.2.10:8080"), address("[2001:db8::1]:8080")])
        });
        let uri: Uri = "http://named.test:8080/f".parse().unwrap();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            reason: ureq::Timeout::Resolve,
            ..NextTimeout::default()
        };
        let config = Config::default();
        let found = resolver.resolve(&uri, &config, timeout).unwrap();
        assert_eq!(&found[..], &[address("192.0.2.10:8080"), address("[2001:db8::1]:8080")]);
        let https: Uri = "https://[::1]/f".parse().unwrap();
        assert_eq!(resolver.resolve(&https, &config, timeout).unwrap()[0], address("[::1]:443"));
    }
}
