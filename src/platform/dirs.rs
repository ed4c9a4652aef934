//! Directories and permissions: syncing a directory so the names created or renamed in it are
//! durable, and restricting a directory (`0700`) or a file (`0600`) to its owner.

use std::io;
use std::path::Path;

/// Fsyncs the directory `dir`, so that the names created or renamed in it are durable. A
/// directory that is gone counts as synced (nothing of it is left to make durable). On Windows
/// a directory cannot be opened for a sync with std: this does nothing there.
///
/// # Errors
/// The directory cannot be opened (other than gone) or the sync fails.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    match std::fs::File::open(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(dir) => dir.sync_all(),
    }
}

/// Fsyncs the directory `dir`, so that the names created or renamed in it are durable. A
/// directory that is gone counts as synced (nothing of it is left to make durable). On Windows
/// a directory cannot be opened for a sync with std: this does nothing there.
///
/// # Errors
/// The directory cannot be opened (other than gone) or the sync fails.
#[cfg(not(unix))]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    let _ = dir;
    Ok(())
}

/// Restricts the directory `dir` to its owner: mode `0700` on Unix. On Windows it keeps the ACL
/// it inherited from its parent.
///
/// # Errors
/// Reading or setting its permissions fails.
#[cfg(feature = "store")]
pub(crate) fn make_private_dir(dir: &Path) -> io::Result<()> {
    make_private(dir, 0o700)
}

/// Restricts the file `file` to its owner: mode `0600` on Unix. On Windows it keeps the ACL it
/// inherited from its directory.
///
/// # Errors
/// Reading or setting its permissions fails.
#[cfg(feature = "store")]
pub(crate) fn make_private_file(file: &Path) -> io::Result<()> {
    make_private(file, 0o600)
}

/// Sets `mode` on `path` unless it has it already (Unix); nothing elsewhere.
#[cfg(feature = "store")]
fn make_private(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(all(test, unix, feature = "store"))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_directories_are_0700_and_private_files_0600() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        make_private_dir(dir.path()).unwrap();
        make_private_file(&file).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(dir.path()), mode(&file)), (0o700, 0o600));
        sync_dir(dir.path()).unwrap();
        sync_dir(&dir.path().join("gone")).unwrap();
    }
}
