//! The store: round trips, durability across reopen, the one-process lock (in this process and
//! across processes), corrupt and newer stores, and unreadable records.

use super::backend::{Backend, Key, RawRecord};
use super::*;
use crate::store::arbitrary::sample;
use parking_lot::Mutex;
use std::sync::Arc;

fn open(dir: &Path) -> Result<Store> {
    Store::open(dir, &StoreOptions::default())
}

/// A store in a fresh directory holding jobs 1 to `n`, closed again; returns the directory.
fn closed_store_with(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.put_many(&(1..=n).map(sample).collect::<Vec<_>>()).unwrap();
    store.close();
    dir
}

fn db_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(DB_FILE)).unwrap()
}

fn write_db(dir: &Path, bytes: &[u8]) {
    std::fs::write(dir.join(DB_FILE), bytes).unwrap();
}

/// The store's lock is free.
fn assert_lock_free(dir: &Path) {
    drop(LockFile::acquire(dir).expect("the lock is free"));
}

/// The store's (valid) database is not open: redb refuses a second open of a file.
fn assert_db_closed(dir: &Path) {
    if let Err(redb::DatabaseError::DatabaseAlreadyOpen) = redb::Database::open(dir.join(DB_FILE)) {
        panic!("the database was left open");
    }
}

fn assert_corrupt(result: Result<Store>) -> String {
    match result {
        Err(error @ BgError::StoreCorrupt { .. }) => {
            assert_eq!(error.hresult(), crate::hresult::BG_E_DATABASE_CORRUPT);
            error.to_string()
        }
        other => panic!("expected StoreCorrupt, got {other:?}"),
    }
}

#[test]
fn store_is_send_sync_and_debug() {
    fn assert_traits<T: Send + Sync + std::fmt::Debug>() {}
    assert_traits::<Store>();
    assert_traits::<Loaded>();
}

#[test]
fn put_load_and_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), Loaded::default());
    assert_eq!(store.dir(), dir.path());
    // Stored out of order, loaded in creation order.
    for n in [3, 1, 2] {
        store.put(&sample(n)).unwrap();
    }
    let loaded = store.load().unwrap();
    assert_eq!(loaded.jobs, vec![sample(1), sample(2), sample(3)]);
    assert!(loaded.unreadable.is_empty());

    let mut changed = sample(2);
    changed.display_name = "renamed ✓".to_owned();
    store.put(&changed).unwrap();
    store.delete(sample(1).id).unwrap();
    store.delete(sample(9).id).unwrap(); // no such record: not an error
    assert_eq!(store.load().unwrap().jobs, vec![changed, sample(3)]);
}

#[test]
fn a_reopened_store_sees_what_was_stored_after_close_and_after_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.put(&sample(1)).unwrap();
    store.close();
    let store = open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap().jobs, vec![sample(1)]);
    store.put(&sample(2)).unwrap();
    drop(store);
    let store = open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap().jobs, vec![sample(1), sample(2)]);
}

#[test]
fn open_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    let store = open(&nested).unwrap();
    store.put(&sample(1)).unwrap();
    assert!(nested.join(DB_FILE).is_file() && nested.join(lock::LOCK_FILE).is_file());
}

/// A backend that counts the commits of the one it wraps.
#[derive(Debug)]
struct Counting {
    inner: RedbFile,
    commits: Arc<Mutex<usize>>,
}

impl Backend for Counting {
    fn load_all(&self) -> Result<Vec<RawRecord>> {
        self.inner.load_all()
    }
    fn job_count(&self) -> Result<u64> {
        self.inner.job_count()
    }
    fn put(&self, key: Key, value: &[u8]) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.put(key, value)
    }
    fn put_lazy(&self, key: Key, value: &[u8]) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.put_lazy(key, value)
    }
    fn flush(&self) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.flush()
    }
    fn put_many(&self, records: &[(Key, Vec<u8>)]) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.put_many(records)
    }
    fn delete(&self, key: Key) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.delete(key)
    }
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.inner.meta(name)
    }
    fn set_meta(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        *self.commits.lock() += 1;
        self.inner.set_meta(entries)
    }
}

#[test]
fn put_many_is_one_commit_and_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).unwrap());
    let commits = Arc::new(Mutex::new(0));
    let inner = RedbFile::open(&dir.path().join(DB_FILE), |_| Ok(())).unwrap();
    let backend = Box::new(Counting { inner, commits: Arc::clone(&commits) });
    let lock = LockFile::acquire(dir.path()).unwrap();
    let store = Store {
        dir: dir.path().to_owned(),
        held: RwLock::new(Some(Held { backend, _lock: lock })),
        lazy_pending: parking_lot::Mutex::new(false),
    };

    let jobs: Vec<_> = (1..=5).map(sample).collect();
    store.put_many(&jobs).unwrap();
    assert_eq!(*commits.lock(), 1, "five jobs, one commit");
    store.put_many(&[]).unwrap();
    assert_eq!(*commits.lock(), 1, "nothing to store, no commit");

    // One snapshot the format cannot hold: nothing is stored, nothing is committed.
    let mut bad = sample(7);
    bad.files[0].ranges = vec![(10, 5)];
    let error = store.put_many(&[sample(6), bad.clone()]).unwrap_err();
    assert_eq!(error.hresult(), crate::hresult::E_INVALIDARG, "{error}");
    assert!(error.to_string().contains("ranges"), "{error}");
    assert_eq!(store.put(&bad).unwrap_err().hresult(), crate::hresult::E_INVALIDARG);
    assert_eq!(*commits.lock(), 1);
    assert_eq!(store.load().unwrap().jobs, jobs);
}

#[test]
fn puts_from_several_threads_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()).unwrap());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || (0..5).for_each(|n| store.put(&sample(t * 5 + n)).unwrap()))
        })
        .collect();
    threads.into_iter().for_each(|thread| thread.join().unwrap());
    assert_eq!(store.load().unwrap().jobs, (0..20).map(sample).collect::<Vec<_>>());
}

#[test]
fn a_second_open_fails_at_once_naming_our_pid_until_the_first_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).unwrap();
    let error = open(dir.path()).unwrap_err();
    let pid = std::process::id();
    assert!(
        matches!(&error, BgError::StoreLocked { path, pid: Some(p) } if path == dir.path() && *p == pid),
        "{error:?}"
    );
    assert_eq!(error.hresult(), 0x8007_0020);
    assert!(error.to_string().contains(&format!("process {pid}")), "{error}");
    // The refused open changed nothing: the holder carries on.
    first.put(&sample(1)).unwrap();

    first.close();
    let second = open(dir.path()).unwrap();
    assert_eq!(second.load().unwrap().jobs, vec![sample(1)]);
    drop(second);
    drop(open(dir.path()).unwrap());
}

#[test]
fn calls_after_close_fail_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.close();
    store.close(); // twice is harmless
    let errors = [
        store.load().map(drop).unwrap_err(),
        store.put(&sample(1)).unwrap_err(),
        store.put_many(&[sample(1)]).unwrap_err(),
        store.delete(sample(1).id).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.hresult(), crate::hresult::E_UNEXPECTED);
        assert!(error.to_string().ends_with("is closed"), "{error}");
    }
    assert_lock_free(dir.path());
    assert_db_closed(dir.path());
}

#[test]
fn garbage_truncated_and_damaged_databases_are_corrupt_and_left_unchanged() {
    let good = db_bytes(closed_store_with(3).path());
    let mut damaged = good.clone();
    // Damage every page after the header: redb's checksums cover them.
    for page in damaged.chunks_mut(4096).skip(1) {
        page[100..164].fill(0xA5);
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect()),
        ("text", b"this is not a database\n".to_vec()),
        ("truncated to half", good[..good.len() / 2].to_vec()),
        ("truncated to the header", good[..512].to_vec()),
        ("damaged pages", damaged),
    ];
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_db(dir.path(), &bytes);
        let message = assert_corrupt(open(dir.path()));
        assert!(message.starts_with("the store "), "{name}: {message}");
        assert!(db_bytes(dir.path()) == bytes, "{name}: the file was changed");
        assert_lock_free(dir.path());
    }
}

#[test]
fn reset_corrupt_moves_the_database_aside_and_opens_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = b"not a database at all".repeat(100);
    write_db(dir.path(), &garbage);
    let options = StoreOptions { reset_corrupt: true, ..StoreOptions::default() };
    let store = Store::open(dir.path(), &options).unwrap();
    assert_eq!(store.load().unwrap(), Loaded::default());
    store.put(&sample(1)).unwrap();

    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("bgcopy.redb.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let secs: u64 = aside[0]["bgcopy.redb.corrupt-".len()..].parse().unwrap();
    assert!(secs > 1_600_000_000, "{secs}");
    assert!(std::fs::read(dir.path().join(&aside[0])).unwrap() == garbage);

    // A second reset the same second does not overwrite the first.
    store.close();
    write_db(dir.path(), b"more garbage");
    drop(Store::open(dir.path(), &options).unwrap());
    let count = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("bgcopy.redb.corrupt-")
        })
        .count();
    assert_eq!(count, 2);
}

/// Sets metadata straight in the database file, as another bgcopy (or damage) would.
fn set_meta_directly(dir: &Path, name: &str, value: &[u8]) {
    let db = RedbFile::open(&dir.join(DB_FILE), |_| Ok(())).unwrap();
    db.set_meta(&[(name, value)]).unwrap();
}

#[test]
fn a_store_of_a_newer_format_is_refused_unchanged_and_holds_nothing() {
    let dir = closed_store_with(2);
    set_meta_directly(dir.path(), META_FORMAT, &3u32.to_le_bytes());
    let before = db_bytes(dir.path());
    for options in
        [StoreOptions::default(), StoreOptions { reset_corrupt: true, ..StoreOptions::default() }]
    {
        let error = Store::open(dir.path(), &options).unwrap_err();
        assert!(
            matches!(&error, BgError::StoreTooNew { path, found: 3, supported: 2 } if path == dir.path()),
            "{error:?}"
        );
        assert_eq!(error.hresult(), 0x8007_051A);
        assert!(db_bytes(dir.path()) == before, "a newer store is never written to");
        assert_lock_free(dir.path());
    }
    assert_db_closed(dir.path());
}

#[test]
fn a_record_of_a_newer_format_fails_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.put(&sample(1)).unwrap();
    let mut newer = record::encode(&sample(2)).unwrap();
    newer[4..8].copy_from_slice(&3u32.to_le_bytes());
    store.with_backend(|backend| backend.put(record::key(sample(2).id), &newer)).unwrap();
    let error = store.load().unwrap_err();
    assert!(matches!(error, BgError::StoreTooNew { found: 3, supported: 2, .. }), "{error:?}");
}

#[test]
fn metadata_that_makes_no_sense_is_corrupt() {
    let cases: [(&str, &[u8], &str); 3] = [
        (META_FORMAT, &[1, 0, 0], "the format version is 3 bytes long"),
        (META_FORMAT, &0u32.to_le_bytes(), "format version 0"),
        (META_WRITER, &[0xff, 0xfe], "the bgcopy version is not UTF-8"),
    ];
    for (name, value, reason) in cases {
        let dir = closed_store_with(1);
        set_meta_directly(dir.path(), name, value);
        let before = db_bytes(dir.path());
        let message = assert_corrupt(open(dir.path()));
        assert!(message.ends_with(reason), "{message}");
        assert!(db_bytes(dir.path()) == before, "{reason}: the file was changed");
        assert_lock_free(dir.path());
    }

    // Job records without any metadata.
    let dir = tempfile::tempdir().unwrap();
    let db = RedbFile::open(&dir.path().join(DB_FILE), |_| Ok(())).unwrap();
    db.put(record::key(sample(1).id), &record::encode(&sample(1)).unwrap()).unwrap();
    drop(db);
    let message = assert_corrupt(open(dir.path()));
    assert!(message.ends_with("job records but no format version"), "{message}");
}

#[test]
fn a_new_store_records_its_format_and_the_bgcopy_that_opened_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).unwrap());
    set_meta_directly(dir.path(), META_WRITER, b"0.0.1");
    let store = open(dir.path()).unwrap();
    let meta = |name| store.with_backend(|backend| backend.meta(name)).unwrap();
    assert_eq!(meta(META_FORMAT), Some(FORMAT_VERSION.to_le_bytes().to_vec()));
    assert_eq!(meta(META_WRITER), Some(env!("CARGO_PKG_VERSION").as_bytes().to_vec()));
}

#[test]
fn undecodable_records_are_reported_and_left_untouched_while_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.put_many(&[sample(1), sample(2), sample(3)]).unwrap();
    let garbage = b"BGJR\x01\x00\x00\x00 damaged".to_vec();
    let mut wrong_id = record::encode(&sample(4)).unwrap();
    wrong_id[8] ^= 0xff;
    store
        .with_backend(|backend| {
            backend.put(record::key(sample(2).id), &garbage)?;
            backend.put(record::key(sample(4).id), &wrong_id)
        })
        .unwrap();
    // A key that is not a job id, written around the store's own API.
    drop(store);
    let db = redb::Database::create(dir.path().join(DB_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(redb_file::JOBS).unwrap().insert(&b"odd"[..], &b"value"[..]).unwrap();
    txn.commit().unwrap();
    drop(db);

    let store = open(dir.path()).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.jobs, vec![sample(1), sample(3)]);
    let reasons: Vec<_> = loaded.unreadable.iter().map(|u| (u.id(), u.reason.as_str())).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons.contains(&(None, "the key is 3 bytes, not a 16-byte job id")), "{reasons:?}");
    let damaged = reasons.iter().find(|(id, _)| *id == Some(sample(2).id)).unwrap();
    assert!(damaged.1.starts_with("id at byte 8: needs 16 bytes"), "{reasons:?}");
    let mismatched = reasons.iter().find(|(id, _)| *id == Some(sample(4).id)).unwrap();
    assert_eq!(mismatched.1, "id at byte 8: the record's id is not its key");

    // Reading changed nothing: the bad values are still there, byte for byte.
    drop(store);
    let store = open(dir.path()).unwrap();
    let raw = store.with_backend(|backend| backend.load_all()).unwrap();
    let value_of =
        |id: JobId| raw.iter().find(|r| r.key == record::key(id)).map(|r| r.value.clone()).unwrap();
    assert_eq!(value_of(sample(2).id), garbage);
    assert_eq!(value_of(sample(4).id), wrong_id);
    assert_eq!(store.load().unwrap(), loaded);
}

#[test]
fn a_database_copied_while_open_recovers_every_commit_as_after_a_crash() {
    // A copy taken while the store is open has no clean shutdown, as after `kill -9`.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    for n in 1..=3 {
        store.put(&sample(n)).unwrap();
    }
    store.delete(sample(2).id).unwrap();
    let crashed = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join(DB_FILE), crashed.path().join(DB_FILE)).unwrap();
    drop(store);
    let store = open(crashed.path()).unwrap();
    assert_eq!(store.load().unwrap().jobs, vec![sample(1), sample(3)]);
}

#[test]
fn a_lazy_put_becomes_durable_with_the_flush_of_close() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.put_lazy(&sample(4)).unwrap();
    store.close();
    let store = open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap().jobs, [sample(4)]);
}
