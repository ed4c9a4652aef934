//! Files: creating and reopening a temporary file without following a link, owner-only; the
//! identity of an open file (device and inode) and whether a file can be this process's (owner,
//! link count); writing at an offset.

use std::fs::{File, OpenOptions};
use std::io;

/// Read-write options that, on Unix, give a new file mode `0600` and never follow a symbolic
/// link at the name (`O_NOFOLLOW`). On Windows the file inherits its directory's ACL and a link
/// (a reparse point) at the name is followed.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// The identity of a file as it was created: its device and inode on Unix. A file put at the
/// same name later has another identity. Windows gives none (see [`FileId::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of an open file; `None` where the platform has none to give (Windows).
    pub(crate) fn of(file: &File) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let metadata = file.metadata().ok()?;
            Some(FileId { dev: metadata.dev(), ino: metadata.ino() })
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            None
        }
    }
}

/// Why the file of `metadata` cannot be one this process created: on Unix, another user than
/// the effective one owns it, or it has more than one link (a hard link to someone else's
/// file). `None` if it may be ours; always `None` on Windows, where neither is checked.
pub(crate) fn foreign(metadata: &std::fs::Metadata) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.uid() != rustix::process::geteuid().as_raw() {
            return Some("another user owns it");
        }
        if metadata.nlink() != 1 {
            return Some("it has more than one link");
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    None
}

/// Writes all of `data` at `offset` of `file`, without moving a cursor another writer shares
/// (`pwrite` on Unix). On Windows `seek_write` moves the file's cursor, which no caller uses.
#[cfg(unix)]
pub(crate) fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, data, offset)
}

/// Writes all of `data` at `offset` of `file`, without moving a cursor another writer shares
/// (`pwrite` on Unix). On Windows `seek_write` moves the file's cursor, which no caller uses.
#[cfg(windows)]
pub(crate) fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !data.is_empty() {
        let n = file.seek_write(data, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
        offset += n as u64;
    }
    Ok(())
}
