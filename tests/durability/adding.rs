//! `Job::add_with_sha256` on a store (issue 16, item 5): the file and its expected digest are
//! one change, so one store record. A commit that fails (the store's failure hook, as a full
//! disk would) leaves neither; one that succeeds brings both back on the next open. A crash
//! cannot fall between the two, as there is no second record to miss.
#![cfg(feature = "store")]

use crate::support;

use bgcopy::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use support::hooks::{self, HookGuard};

/// The HRESULT of a full disk (`HRESULT_FROM_WIN32(ERROR_DISK_FULL)`).
const DISK_FULL: u32 = 0x8007_0070;
const DIGEST: [u8; 32] = [0x5a; 32];

/// Counts the store commits under `dir`, and fails them (a full disk) while `full` is set.
struct Commits {
    count: Arc<AtomicUsize>,
    full: Arc<AtomicBool>,
    _hook: HookGuard,
}

impl Commits {
    fn watch(dir: &Path) -> Commits {
        let (count, full) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let hook = {
            let (dir, count, full) = (dir.to_owned(), Arc::clone(&count), Arc::clone(&full));
            hooks::add_failure_hook(move |point, path| {
                if point != "store:commit" || !path.starts_with(&dir) {
                    return None;
                }
                count.fetch_add(1, Ordering::SeqCst);
                full.load(Ordering::SeqCst)
                    .then(|| std::io::Error::from(std::io::ErrorKind::StorageFull))
            })
        };
        Commits { count, full, _hook: hook }
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

fn open(store: &Path) -> Manager {
    Manager::builder().without_engine().store(store).try_build().unwrap()
}

#[test]
fn add_with_sha256_records_the_file_and_its_digest_in_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let commits = Commits::watch(&store);
    let manager = open(&store);
    let job = manager.create_job("checked", BgJobType::Download).unwrap();
    let before = commits.count();
    let file = job.add_with_sha256("https://example.com/a", &dir.path().join("a"), DIGEST).unwrap();
    assert_eq!(commits.count() - before, 1, "one durable change, one record");
    assert_eq!(file.get_expected_sha256(), Some(DIGEST));

    // `add` is `add_file`: one record as well.
    let before = commits.count();
    job.add("https://example.com/b", &dir.path().join("b")).unwrap();
    assert_eq!(commits.count() - before, 1);

    let id = job.get_id();
    drop((file, job, manager));
    let manager = open(&store);
    let files = manager.get_job(id).unwrap().enum_files();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].get_expected_sha256(), Some(DIGEST), "the digest came back with the file");
    assert_eq!(files[1].get_expected_sha256(), None);
}

#[test]
fn add_with_sha256_that_cannot_be_recorded_leaves_neither_the_file_nor_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let commits = Commits::watch(&store);
    let manager = open(&store);
    let job = manager.create_job("refused", BgJobType::Download).unwrap();
    let local = dir.path().join("a");

    commits.full.store(true, Ordering::SeqCst);
    let error = job.add_with_sha256("https://example.com/a", &local, DIGEST).unwrap_err();
    assert_eq!(error.hresult(), DISK_FULL, "{error}");
    let error = job.add("https://example.com/a", &local).unwrap_err();
    assert_eq!(error.hresult(), DISK_FULL, "{error}");
    assert!(job.enum_files().is_empty());
    assert_eq!(job.get_progress().files_total, 0);

    let id = job.get_id();
    drop((job, manager));
    commits.full.store(false, Ordering::SeqCst);
    let manager = open(&store);
    let job = manager.get_job(id).unwrap();
    assert!(job.enum_files().is_empty(), "nothing of the refused change was recorded");
    // The name was not taken by the refused call.
    let file = job.add_with_sha256("https://example.com/a", &local, DIGEST).unwrap();
    assert_eq!(file.get_expected_sha256(), Some(DIGEST));
}
