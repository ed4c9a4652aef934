//! Power loss, not only `kill -9` (DESIGN 6.1).
#![cfg(target_os = "linux")]

mod powerloss_support;

use powerloss_support::PowerFs;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

/// The file system itself: unsynced data, unsynced names and unsynced renames are lost; synced
/// ones are kept.
#[test]
fn the_file_system_loses_exactly_what_was_not_synced() {
    let fs = PowerFs::mount();
    let root = fs.root();
    // Data written, never synced: the name (synced) stays, the data goes.
    let mut file = File::create(root.join("a")).unwrap();
    file.write_all(b"hello").unwrap();
    sync_dir(root);
    drop(file);
    fs.cut();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"");
    // Data synced, the directory not: the name goes.
    let mut file = File::create(root.join("b")).unwrap();
    file.write_all(b"data").unwrap();
    file.sync_all().unwrap();
    drop(file);
    assert!(root.join("b").exists());
    fs.cut();
    assert!(!root.join("b").exists());
    // Both synced: kept, then a rename over it synced: the rename is kept.
    let mut file = File::create(root.join("c")).unwrap();
    file.write_all(b"first").unwrap();
    file.sync_all().unwrap();
    let mut file = File::create(root.join("d")).unwrap();
    file.write_all(b"second").unwrap();
    file.sync_all().unwrap();
    sync_dir(root);
    std::fs::rename(root.join("d"), root.join("c")).unwrap();
    sync_dir(root);
    fs.cut();
    assert_eq!(std::fs::read(root.join("c")).unwrap(), b"second");
    assert!(!root.join("d").exists());
    // A rename not synced: undone.
    std::fs::rename(root.join("c"), root.join("e")).unwrap();
    fs.cut();
    assert_eq!(std::fs::read(root.join("c")).unwrap(), b"second");
    assert!(!root.join("e").exists());
    // Overwrites at offsets, a truncation, and a directory of its own.
    std::fs::create_dir(root.join("sub")).unwrap();
    sync_dir(root);
    let mut file =
        OpenOptions::new().create_new(true).write(true).open(root.join("sub/f")).unwrap();
    file.write_all(b"0123456789").unwrap();
    file.sync_data().unwrap();
    sync_dir(&root.join("sub"));
    file.set_len(4).unwrap();
    fs.cut();
    assert_eq!(std::fs::read(root.join("sub/f")).unwrap(), b"0123456789");
    let names: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(fs.unsupported().is_empty(), "{:?}", fs.unsupported());
}
