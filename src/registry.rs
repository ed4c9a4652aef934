//! The registry of a manager's jobs: ids to shared job state, creation order, the owner of each
//! job with per-owner counts (for the jobs-per-owner limit in O(1)), and the wake-up [`Signal`]
//! the engine waits on.
//!
//! It is generic over what it holds, so it knows nothing of jobs: the job layer removes a job that
//! reached a final state and wakes the engine through it, and the manager and the engine list and
//! look up jobs through it, without any of them importing the others.

use crate::signal::Signal;
use crate::{BgError, JobId, Result};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// What a job needs of the registry it belongs to, without knowing what the registry holds.
pub(crate) trait Membership: Send + Sync {
    /// The job reached a final state: it leaves the registry.
    fn leave(&self, id: JobId);
    /// The job changed owner (`take_ownership`).
    fn change_owner(&self, id: JobId, owner: &str);
    /// Something changed that matters to scheduling: wake the engine.
    fn wake(&self);
}

impl<T: Send + Sync> Membership for Registry<T> {
    fn leave(&self, id: JobId) {
        self.remove(id);
    }

    fn change_owner(&self, id: JobId, owner: &str) {
        self.set_owner(id, owner);
    }

    fn wake(&self) {
        self.signal.wake();
    }
}

/// How many jobs the registry may hold (the BITS policy limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobLimits {
    /// Jobs one owner may have (`BG_E_TOO_MANY_JOBS_PER_USER` past it).
    pub(crate) per_owner: u32,
    /// Jobs of every owner together (`BG_E_TOO_MANY_JOBS_PER_MACHINE` past it).
    pub(crate) total: u32,
}

/// The registry (see the module docs).
pub(crate) struct Registry<T> {
    entries: Mutex<Entries<T>>,
    limits: JobLimits,
    signal: Signal,
}

struct Entries<T> {
    jobs: HashMap<JobId, Entry<T>>,
    per_owner: HashMap<Arc<str>, u32>,
    next_seq: u64,
}

struct Entry<T> {
    seq: u64,
    owner: Arc<str>,
    item: Arc<T>,
}

impl<T> Entries<T> {
    fn count(&mut self, owner: &Arc<str>, up: bool) {
        let count = self.per_owner.entry(Arc::clone(owner)).or_insert(0);
        if up {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_owner.remove(owner);
            }
        }
    }

    fn insert(&mut self, id: JobId, seq: u64, owner: &str, item: Arc<T>) {
        let owner: Arc<str> = owner.into();
        self.count(&owner, true);
        self.next_seq = self.next_seq.max(seq + 1);
        if let Some(old) = self.jobs.insert(id, Entry { seq, owner, item }) {
            self.count(&old.owner, false);
        }
    }
}

impl<T> Registry<T> {
    /// An empty registry with these limits.
    pub(crate) fn new(limits: JobLimits) -> Registry<T> {
        Registry {
            entries: Mutex::new(Entries {
                jobs: HashMap::new(),
                per_owner: HashMap::new(),
                next_seq: 0,
            }),
            limits,
            signal: Signal::default(),
        }
    }

    /// Adds a new job for `owner` under a fresh id, made by `make(id, seq)`, if the limits allow.
    ///
    /// # Errors
    /// [`BgError::TooManyJobsPerMachine`] or [`BgError::TooManyJobsPerUser`] past a limit; an
    /// error of `make` (nothing is added then).
    pub(crate) fn create(
        &self,
        owner: &str,
        make: impl FnOnce(JobId, u64) -> Result<Arc<T>>,
    ) -> Result<Arc<T>> {
        let mut entries = self.entries.lock();
        if entries.jobs.len() >= self.limits.total as usize {
            return Err(BgError::TooManyJobsPerMachine { limit: self.limits.total });
        }
        if entries.per_owner.get(owner).copied().unwrap_or(0) >= self.limits.per_owner {
            return Err(BgError::TooManyJobsPerUser { limit: self.limits.per_owner });
        }
        let id = loop {
            let id = JobId::new_random();
            if !entries.jobs.contains_key(&id) {
                break id;
            }
        };
        let seq = entries.next_seq;
        let item = make(id, seq)?;
        entries.insert(id, seq, owner, Arc::clone(&item));
        Ok(item)
    }

    /// Puts back a job with its id and creation order as they were (restoring from a store);
    /// the limits are not checked, so that no job is lost.
    pub(crate) fn restore(&self, id: JobId, seq: u64, owner: &str, item: Arc<T>) {
        self.entries.lock().insert(id, seq, owner, item);
    }

    /// The job with this id.
    pub(crate) fn get(&self, id: JobId) -> Option<Arc<T>> {
        self.entries.lock().jobs.get(&id).map(|entry| Arc::clone(&entry.item))
    }

    /// Removes a job (it reached a final state).
    pub(crate) fn remove(&self, id: JobId) {
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.jobs.remove(&id) {
            entries.count(&entry.owner, false);
        }
    }

    /// A job changed owner (`take_ownership`).
    pub(crate) fn set_owner(&self, id: JobId, owner: &str) {
        let mut entries = self.entries.lock();
        let Some(old) = entries.jobs.get(&id).map(|entry| Arc::clone(&entry.owner)) else {
            return;
        };
        if *old != *owner {
            let owner: Arc<str> = owner.into();
            entries.count(&old, false);
            entries.count(&owner, true);
            if let Some(entry) = entries.jobs.get_mut(&id) {
                entry.owner = owner;
            }
        }
    }

    /// Every job, in creation order.
    pub(crate) fn list(&self) -> Vec<Arc<T>> {
        self.list_where(|_| true)
    }

    /// The jobs whose owner `keep` accepts, in creation order.
    pub(crate) fn list_where(&self, mut keep: impl FnMut(&str) -> bool) -> Vec<Arc<T>> {
        let entries = self.entries.lock();
        let mut jobs: Vec<(u64, Arc<T>)> = entries
            .jobs
            .values()
            .filter(|entry| keep(&entry.owner))
            .map(|entry| (entry.seq, Arc::clone(&entry.item)))
            .collect();
        jobs.sort_unstable_by_key(|(seq, _)| *seq);
        jobs.into_iter().map(|(_, item)| item).collect()
    }

    /// How many jobs it holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().jobs.len()
    }

    /// The wake-up signal of the jobs' engine.
    pub(crate) fn signal(&self) -> &Signal {
        &self.signal
    }
}

impl<T> fmt::Debug for Registry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("jobs", &self.len()).field("limits", &self.limits).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(per_owner: u32, total: u32) -> Registry<u32> {
        Registry::new(JobLimits { per_owner, total })
    }

    #[test]
    fn jobs_list_in_creation_order() {
        let r = registry(10, 10);
        let ids: Vec<u32> =
            (0..5).map(|n| *r.create("a", |_, _| Ok(Arc::new(n))).unwrap()).collect();
        assert_eq!(r.list().iter().map(|n| **n).collect::<Vec<_>>(), ids);
    }

    #[test]
    fn the_owner_limit_counts_per_owner_and_follows_ownership() {
        let r = registry(2, 10);
        let mut ids = Vec::new();
        for _ in 0..2 {
            r.create("a", |id, _| {
                ids.push(id);
                Ok(Arc::new(0))
            })
            .unwrap();
        }
        assert!(matches!(
            r.create("a", |_, _| Ok(Arc::new(0))),
            Err(BgError::TooManyJobsPerUser { .. })
        ));
        r.set_owner(ids[0], "b");
        r.create("a", |_, _| Ok(Arc::new(0))).unwrap();
        r.remove(ids[1]);
        r.create("a", |_, _| Ok(Arc::new(0))).unwrap();
        assert_eq!(r.list_where(|owner| owner == "b").len(), 1);
    }

    #[test]
    fn the_total_limit_counts_every_owner() {
        let r = registry(10, 2);
        r.create("a", |_, _| Ok(Arc::new(0))).unwrap();
        r.create("b", |_, _| Ok(Arc::new(0))).unwrap();
        assert!(matches!(
            r.create("c", |_, _| Ok(Arc::new(0))),
            Err(BgError::TooManyJobsPerMachine { .. })
        ));
    }

    #[test]
    fn a_failed_make_adds_nothing_and_restored_jobs_keep_their_order() {
        let r = registry(10, 10);
        assert!(r.create("a", |_, _| Err(BgError::Empty)).is_err());
        assert_eq!(r.len(), 0);
        r.restore(JobId::from_u128(2), 7, "a", Arc::new(7));
        r.restore(JobId::from_u128(1), 3, "a", Arc::new(3));
        let next = r.create("a", |_, seq| Ok(Arc::new(seq as u32))).unwrap();
        assert_eq!(*next, 8, "new jobs come after restored ones");
        assert_eq!(r.list().iter().map(|n| **n).collect::<Vec<_>>(), [3, 7, 8]);
    }
}
