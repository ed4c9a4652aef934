//! A FUSE file system that loses what was not synced (issue: power loss is claimed, not tested).
//!
//! Every object has two layers, *volatile* (what the running processes see) and *durable* (what a
//! power loss keeps), in the POSIX-strict model:
//!
//! - a file's data and size (and mode) go to the volatile layer; `fsync`/`fdatasync` of the file
//!   copies them to its durable layer;
//! - a directory's entries (create, mkdir, unlink, rmdir, rename, link) change its volatile layer;
//!   `fsyncdir` of that directory makes its current entries durable. A rename across two
//!   directories is durable on each side only when that side is synced;
//! - [`PowerFs::cut`] (the power loss) replaces every volatile layer by its durable one and drops
//!   every inode that no durable entry reaches from the root. An inode keeps its durable data even
//!   if its name was never synced: it is simply no longer in the namespace.
//!
//! Nothing is cached by the kernel: entries and attributes have a time-to-live of zero and every
//! open is `FOPEN_DIRECT_IO`, so after a cut the processes see exactly the durable state. Locks
//! (`flock`, POSIX locks) are left to the kernel, which handles them locally for a FUSE file
//! system that does not announce lock support.
//!
//! Every `fsync` and `fsyncdir` is a *durability step*, counted from 1. [`PowerFs::freeze_at`]
//! makes the file system stop at step `n`: that step and every later one are held (neither
//! applied nor answered), so no call that needs them can return, and the test kills the process
//! and cuts: a power loss just before step `n`.

#![allow(dead_code, unreachable_pub)]

use fuser::{
    FileAttr, FileType, Filesystem, KernelConfig, MountOption, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
};
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ROOT: u64 = fuser::FUSE_ROOT_ID;
/// Nothing is cached in the kernel: every lookup and attribute comes here.
const TTL: Duration = Duration::ZERO;
const DIRECT_IO: u32 = fuser::consts::FOPEN_DIRECT_IO;

/// One inode: its volatile and durable layers.
#[derive(Debug, Clone)]
struct Node {
    dir: bool,
    perm: u16,
    data: Vec<u8>,
    entries: BTreeMap<OsString, u64>,
    durable_perm: u16,
    durable_data: Vec<u8>,
    durable_entries: BTreeMap<OsString, u64>,
}

impl Node {
    fn new(dir: bool, perm: u16) -> Node {
        Node {
            dir,
            perm,
            data: Vec::new(),
            entries: BTreeMap::new(),
            // A new inode's durable layer is empty: its mode is durable with its first sync.
            durable_perm: perm,
            durable_data: Vec::new(),
            durable_entries: BTreeMap::new(),
        }
    }
}

/// The state shared by the file system thread and the test.
#[derive(Debug)]
struct State {
    nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// Open file handles, to their inode.
    handles: HashMap<u64, u64>,
    next_fh: u64,
    /// Durability steps requested so far (applied, or held once frozen).
    steps: u64,
    /// What each step was (`fsync <path>`, `fsyncdir <path>`), in order.
    log: Vec<String>,
    /// Stop at this step.
    freeze_at: Option<Freeze>,
    /// How many steps of each label were asked for.
    occurrences: HashMap<String, u64>,
    frozen: bool,
    /// The answers to the steps held since the freeze.
    held: Vec<ReplyEmpty>,
    /// Answer every `fsyncdir` with EIO (and apply none).
    fail_dir_syncs: bool,
    /// The forgiving model (see [`PowerFs::journaled`]).
    journaled: bool,
    /// Operations this file system does not support, as they were asked for.
    unsupported: Vec<String>,
    cuts: u64,
}

impl State {
    fn new() -> State {
        let mut nodes = HashMap::new();
        let mut root = Node::new(true, 0o755);
        root.durable_perm = 0o755;
        nodes.insert(ROOT, root);
        State {
            nodes,
            next_ino: ROOT + 1,
            handles: HashMap::new(),
            next_fh: 1,
            steps: 0,
            log: Vec::new(),
            freeze_at: None,
            occurrences: HashMap::new(),
            frozen: false,
            held: Vec::new(),
            fail_dir_syncs: false,
            journaled: std::env::var_os("BGCOPY_POWERLOSS_JOURNALED").is_some(),
            unsupported: Vec::new(),
            cuts: 0,
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let node = self.nodes.get(&ino)?;
        let size = if node.dir { 0 } else { node.data.len() as u64 };
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Some(FileAttr {
            ino,
            size,
            blocks: size.div_ceil(512),
            atime: time,
            mtime: time,
            ctime: time,
            crtime: time,
            kind: if node.dir { FileType::Directory } else { FileType::RegularFile },
            perm: node.perm,
            nlink: if node.dir { 2 } else { 1 },
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.nodes.get(&parent)?.entries.get(name).copied()
    }

    fn add(&mut self, parent: u64, name: &OsStr, node: Node) -> Result<u64, i32> {
        match self.nodes.get(&parent) {
            Some(p) if p.dir => {}
            Some(_) => return Err(libc::ENOTDIR),
            None => return Err(libc::ENOENT),
        }
        if self.child(parent, name).is_some() {
            return Err(libc::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        self.nodes.get_mut(&parent).unwrap().entries.insert(name.to_owned(), ino);
        Ok(ino)
    }

    fn open_handle(&mut self, ino: u64) -> u64 {
        let fh = self.next_fh;
        self.next_fh += 1;
        self.handles.insert(fh, ino);
        fh
    }

    /// The volatile path of `ino` (for the step log), if it is in the namespace.
    fn path_of(&self, ino: u64) -> String {
        if ino == ROOT {
            return "/".to_owned();
        }
        let mut stack = vec![(ROOT, PathBuf::from("/"))];
        let mut seen = HashSet::new();
        while let Some((dir, path)) = stack.pop() {
            if !seen.insert(dir) {
                continue;
            }
            for (name, &child) in &self.nodes[&dir].entries {
                let path = path.join(name);
                if child == ino {
                    return path.display().to_string();
                }
                if self.nodes.get(&child).is_some_and(|n| n.dir) {
                    stack.push((child, path));
                }
            }
        }
        format!("<inode {ino}, unlinked>")
    }

    /// A durability step: applied and answered, or held once the file system is frozen.
    fn step(&mut self, what: String, reply: ReplyEmpty, apply: impl FnOnce(&mut State)) -> bool {
        self.steps += 1;
        let what = label(&what);
        let occurrence = self.occurrences.entry(what.clone()).or_default();
        *occurrence += 1;
        let occurrence = *occurrence;
        let hit = match &self.freeze_at {
            Some(Freeze::At(n)) => *n == self.steps,
            Some(Freeze::Key(key, n)) => *key == what && *n == occurrence,
            None => false,
        };
        self.frozen |= hit;
        self.log.push(what);
        if self.frozen {
            self.held.push(reply);
            return true;
        }
        apply(self);
        if self.journaled {
            for node in self.nodes.values_mut() {
                node.durable_entries.clone_from(&node.entries);
            }
        }
        reply.ok();
        false
    }

    fn cut(&mut self) {
        for node in self.nodes.values_mut() {
            node.perm = node.durable_perm;
            node.data.clone_from(&node.durable_data);
            node.entries.clone_from(&node.durable_entries);
        }
        // Only what a durable entry reaches from the root is left.
        let mut reached = HashSet::from([ROOT]);
        let mut stack = vec![ROOT];
        while let Some(dir) = stack.pop() {
            for &child in self.nodes[&dir].entries.values() {
                if reached.insert(child) {
                    stack.push(child);
                }
            }
        }
        self.nodes.retain(|ino, _| reached.contains(ino));
        self.handles.clear();
        self.freeze_at = None;
        self.frozen = false;
        for reply in self.held.drain(..) {
            reply.error(libc::EIO);
        }
        self.cuts += 1;
    }
}

/// Where the file system stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freeze {
    /// At the n-th step (from 1).
    At(u64),
    /// At the n-th step (from 1) with this label (see [`label`]).
    Key(String, u64),
}

/// A step's label: the operation and the path, with the job tag of a bgcopy temporary file
/// (`.<name>.<tag>-<index>.bgcopy.tmp`) replaced by `*`, so that a step has the same label in
/// every run of a scenario.
pub fn label(what: &str) -> String {
    what.split('/')
        .map(|part| match part.strip_suffix(".bgcopy.tmp") {
            Some(stem) => {
                let (name, tag) = stem.rsplit_once('.').unwrap_or((stem, ""));
                let index = tag.split_once('-').map_or("", |(_, index)| index);
                format!("{name}.*-{index}.bgcopy.tmp")
            }
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The FUSE side: every request works on the shared state.
struct Fs(Shared);

impl Fs {
    fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.0.0.lock()
    }
}

impl Filesystem for Fs {
    fn init(&mut self, _req: &Request<'_>, _config: &mut KernelConfig) -> Result<(), i32> {
        Ok(())
    }

    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let state = self.state();
        match state.child(parent, name).and_then(|ino| state.attr(ino)) {
            Some(attr) => reply.entry(&TTL, &attr, 0),
            None => reply.error(libc::ENOENT),
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        match self.state().attr(ino) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(libc::ENOENT),
        }
    }

    fn setattr(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<u64>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<u32>,
        reply: ReplyAttr,
    ) {
        let mut state = self.state();
        let Some(node) = state.nodes.get_mut(&ino) else { return reply.error(libc::ENOENT) };
        if let Some(size) = size {
            if node.dir {
                return reply.error(libc::EISDIR);
            }
            node.data.resize(size as usize, 0);
        }
        if let Some(mode) = mode {
            node.perm = (mode & 0o7777) as u16;
        }
        reply.attr(&TTL, &state.attr(ino).unwrap());
    }

    fn mkdir(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut state = self.state();
        match state.add(parent, name, Node::new(true, (mode & !umask & 0o7777) as u16)) {
            Ok(ino) => reply.entry(&TTL, &state.attr(ino).unwrap(), 0),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut state = self.state();
        let Some(ino) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        if state.nodes[&ino].dir {
            return reply.error(libc::EISDIR);
        }
        state.nodes.get_mut(&parent).unwrap().entries.remove(name);
        reply.ok();
    }

    fn rmdir(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEmpty) {
        let mut state = self.state();
        let Some(ino) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        let node = &state.nodes[&ino];
        if !node.dir {
            return reply.error(libc::ENOTDIR);
        }
        if !node.entries.is_empty() {
            return reply.error(libc::ENOTEMPTY);
        }
        state.nodes.get_mut(&parent).unwrap().entries.remove(name);
        reply.ok();
    }

    fn rename(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        flags: u32,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        let Some(ino) = state.child(parent, name) else { return reply.error(libc::ENOENT) };
        match state.nodes.get(&newparent) {
            Some(p) if p.dir => {}
            _ => return reply.error(libc::ENOENT),
        }
        if flags & libc::RENAME_EXCHANGE != 0 {
            return reply.error(libc::EINVAL);
        }
        if let Some(old) = state.child(newparent, newname) {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return reply.error(libc::EEXIST);
            }
            if old == ino {
                return reply.ok();
            }
            let (old_dir, new_dir) = (state.nodes[&old].dir, state.nodes[&ino].dir);
            if old_dir && !new_dir {
                return reply.error(libc::EISDIR);
            }
            if !old_dir && new_dir {
                return reply.error(libc::ENOTDIR);
            }
            if old_dir && !state.nodes[&old].entries.is_empty() {
                return reply.error(libc::ENOTEMPTY);
            }
        }
        state.nodes.get_mut(&parent).unwrap().entries.remove(name);
        state.nodes.get_mut(&newparent).unwrap().entries.insert(newname.to_owned(), ino);
        reply.ok();
    }

    fn link(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        newparent: u64,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut state = self.state();
        if state.nodes.get(&ino).is_none_or(|n| n.dir) {
            return reply.error(libc::EPERM);
        }
        if state.child(newparent, newname).is_some() {
            return reply.error(libc::EEXIST);
        }
        let Some(dir) = state.nodes.get_mut(&newparent) else { return reply.error(libc::ENOENT) };
        dir.entries.insert(newname.to_owned(), ino);
        reply.entry(&TTL, &state.attr(ino).unwrap(), 0);
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        let mut state = self.state();
        let Some(node) = state.nodes.get_mut(&ino) else { return reply.error(libc::ENOENT) };
        if flags & libc::O_TRUNC != 0 && !node.dir {
            node.data.clear();
        }
        let fh = state.open_handle(ino);
        reply.opened(fh, DIRECT_IO);
    }

    fn create(
        &mut self,
        _req: &Request<'_>,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let mut state = self.state();
        let ino = match state.child(parent, name) {
            Some(_) if flags & libc::O_EXCL != 0 => return reply.error(libc::EEXIST),
            Some(ino) if state.nodes[&ino].dir => return reply.error(libc::EISDIR),
            Some(ino) => {
                if flags & libc::O_TRUNC != 0 {
                    state.nodes.get_mut(&ino).unwrap().data.clear();
                }
                ino
            }
            None => {
                match state.add(parent, name, Node::new(false, (mode & !umask & 0o7777) as u16)) {
                    Ok(ino) => ino,
                    Err(e) => return reply.error(e),
                }
            }
        };
        let fh = state.open_handle(ino);
        reply.created(&TTL, &state.attr(ino).unwrap(), 0, fh, DIRECT_IO);
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let state = self.state();
        let Some(node) = state.nodes.get(&ino) else { return reply.error(libc::ESTALE) };
        let start = (offset.max(0) as usize).min(node.data.len());
        let end = start.saturating_add(size as usize).min(node.data.len());
        reply.data(&node.data[start..end]);
    }

    fn write(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        data: &[u8],
        _write_flags: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyWrite,
    ) {
        let mut state = self.state();
        let Some(node) = state.nodes.get_mut(&ino) else { return reply.error(libc::ESTALE) };
        let start = offset.max(0) as usize;
        let end = start + data.len();
        if node.data.len() < end {
            node.data.resize(end, 0);
        }
        node.data[start..end].copy_from_slice(data);
        reply.written(data.len() as u32);
    }

    fn flush(&mut self, _req: &Request<'_>, _ino: u64, _fh: u64, _owner: u64, reply: ReplyEmpty) {
        reply.ok();
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.state().handles.remove(&fh);
        reply.ok();
    }

    fn fsync(&mut self, _req: &Request<'_>, ino: u64, _fh: u64, datasync: bool, reply: ReplyEmpty) {
        let mut state = self.state();
        if !state.nodes.contains_key(&ino) {
            return reply.error(libc::ESTALE);
        }
        let what =
            format!("{} {}", if datasync { "fdatasync" } else { "fsync" }, state.path_of(ino));
        let held = state.step(what, reply, |state| {
            let node = state.nodes.get_mut(&ino).unwrap();
            node.durable_data.clone_from(&node.data);
            node.durable_perm = node.perm;
        });
        if held {
            self.0.1.notify_all();
        }
    }

    fn fsyncdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if !state.nodes.contains_key(&ino) {
            return reply.error(libc::ESTALE);
        }
        if state.fail_dir_syncs {
            let what = format!("fsyncdir {} failed (EIO)", state.path_of(ino));
            state.log.push(what);
            return reply.error(libc::EIO);
        }
        let what = format!("fsyncdir {}", state.path_of(ino));
        let held = state.step(what, reply, |state| {
            let node = state.nodes.get_mut(&ino).unwrap();
            node.durable_entries.clone_from(&node.entries);
            node.durable_perm = node.perm;
        });
        if held {
            self.0.1.notify_all();
        }
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let state = self.state();
        let Some(node) = state.nodes.get(&ino) else { return reply.error(libc::ENOENT) };
        if !node.dir {
            return reply.error(libc::ENOTDIR);
        }
        let mut list: Vec<(u64, FileType, OsString)> =
            vec![(ino, FileType::Directory, ".".into()), (ino, FileType::Directory, "..".into())];
        for (name, &child) in &node.entries {
            let dir = state.nodes.get(&child).is_some_and(|n| n.dir);
            let kind = if dir { FileType::Directory } else { FileType::RegularFile };
            list.push((child, kind, name.clone()));
        }
        for (i, (child, kind, name)) in list.into_iter().enumerate().skip(offset.max(0) as usize) {
            if reply.add(child, i as i64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        reply.statfs(1 << 24, 1 << 23, 1 << 23, 1 << 20, 1 << 19, 4096, 255, 4096);
    }

    fn access(&mut self, _req: &Request<'_>, _ino: u64, _mask: i32, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fallocate(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        length: i64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let mut state = self.state();
        if mode != 0 {
            state.unsupported.push(format!("fallocate mode {mode}"));
            return reply.error(libc::EOPNOTSUPP);
        }
        let Some(node) = state.nodes.get_mut(&ino) else { return reply.error(libc::ESTALE) };
        let end = (offset + length).max(0) as usize;
        if node.data.len() < end {
            node.data.resize(end, 0);
        }
        reply.ok();
    }
}

/// The state of a [`PowerFs`] at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot(HashMap<u64, Node>);

/// A mounted [`Fs`] on a temporary directory; unmounted when dropped.
pub struct PowerFs {
    shared: Shared,
    // Dropped first: the file system is unmounted before its mount point is removed.
    session: Option<fuser::BackgroundSession>,
    mountpoint: tempfile::TempDir,
}

impl PowerFs {
    /// Mounts a new, empty file system (as root: `mount(2)` directly, no `fusermount`).
    ///
    /// # Panics
    ///
    /// If the mount fails (no `/dev/fuse`, not root).
    pub fn mount() -> PowerFs {
        let shared: Shared = Arc::new((Mutex::new(State::new()), Condvar::new()));
        let mountpoint = tempfile::tempdir().unwrap();
        let options = [MountOption::FSName("bgcopy-powerloss".to_owned()), MountOption::RW];
        let session = fuser::spawn_mount2(Fs(Arc::clone(&shared)), mountpoint.path(), &options)
            .unwrap_or_else(|e| panic!("mounting the power-loss file system: {e}"));
        PowerFs { shared, session: Some(session), mountpoint }
    }

    /// The mount point.
    pub fn root(&self) -> &Path {
        self.mountpoint.path()
    }

    fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.shared.0.lock()
    }

    /// The power loss: everything not synced is gone (see the module docs).
    pub fn cut(&self) {
        self.state().cut();
    }

    /// The whole file system as it is now (right after a cut: what the disk holds), to be put
    /// back with [`PowerFs::restore`].
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.state().nodes.clone())
    }

    /// Puts back a [`PowerFs::snapshot`]: the disk as it was then, with nothing open (for
    /// several runs from the same disk).
    pub fn restore(&self, snapshot: &Snapshot) {
        let mut state = self.state();
        state.nodes.clone_from(&snapshot.0);
        state.handles.clear();
    }

    /// Makes everything durable as it is now (setting up a test's directories).
    pub fn sync_everything(&self) {
        let mut state = self.state();
        for node in state.nodes.values_mut() {
            node.durable_perm = node.perm;
            node.durable_data.clone_from(&node.data);
            node.durable_entries.clone_from(&node.entries);
        }
    }

    /// Stops at a later durability step (counted from the last [`PowerFs::reset_steps`]): that
    /// step and every later one are held, neither applied nor answered, until [`PowerFs::cut`].
    pub fn freeze_at(&self, at: Freeze) {
        let mut state = self.state();
        state.freeze_at = Some(at);
    }

    /// Starts counting durability steps again from zero, and forgets their log.
    pub fn reset_steps(&self) {
        let mut state = self.state();
        state.steps = 0;
        state.log.clear();
        state.occurrences.clear();
    }

    /// Waits until the file system froze (true), or `timeout` passed (false).
    pub fn wait_frozen(&self, timeout: Duration) -> bool {
        let mut state = self.state();
        let deadline = std::time::Instant::now() + timeout;
        while !state.frozen {
            if self.shared.1.wait_until(&mut state, deadline).timed_out() {
                return state.frozen;
            }
        }
        true
    }

    /// Answers the held steps with EIO, without applying them (for a process already killed:
    /// it cannot exit while one of its requests is unanswered). Later steps are still held.
    pub fn release_held(&self) {
        for reply in std::mem::take(&mut self.state().held) {
            reply.error(libc::EIO);
        }
    }

    /// Durability steps since the last reset.
    pub fn steps(&self) -> u64 {
        self.state().steps
    }

    /// The label of each step since the last reset (`fsync /path`, `fsyncdir /path`; see
    /// [`label`]).
    pub fn step_log(&self) -> Vec<String> {
        self.state().log.clone()
    }

    /// Switches to a forgiving model, or back to the strict one: every step also makes every
    /// directory's entries durable, as a journaling file system that commits all pending
    /// namespace changes with any fsync (ext4 `data=ordered` comes close). A failure in the strict
    /// model that this model does not show is a missing directory sync. Also set by the
    /// environment variable `BGCOPY_POWERLOSS_JOURNALED` (for a diagnosis run).
    pub fn journaled(&self, on: bool) {
        self.state().journaled = on;
    }

    /// Answers every later `fsyncdir` with EIO (applying none), or stops doing so.
    pub fn fail_dir_syncs(&self, fail: bool) {
        self.state().fail_dir_syncs = fail;
    }

    /// Operations asked for that this file system does not support.
    pub fn unsupported(&self) -> Vec<String> {
        self.state().unsupported.clone()
    }
}

impl Drop for PowerFs {
    fn drop(&mut self) {
        self.release_held();
        drop(self.session.take());
    }
}

impl std::fmt::Debug for PowerFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerFs").field("root", &self.root()).finish()
    }
}
