//! Where the store is: `--store DIR`, else `$BGCOPY_STORE` (clap reads both), else the user's
//! state directory for bgcopy, from the `directories` crate: `$XDG_STATE_HOME/bgcopy` (or
//! `~/.local/state/bgcopy`) on Linux and the BSDs, `%LOCALAPPDATA%\bgcopy\data` on Windows (local,
//! not roaming: the jobs name this machine's paths), `~/Library/Application Support/bgcopy` on
//! macOS. Relative names are made absolute, so that messages name the directory exactly. A store
//! directory that does not exist yet is created private to the user (mode 0700 on Unix): its
//! records hold URLs, which may carry credentials.

use crate::failure::Failure;
use bgcopy::BgError;
use directories::ProjectDirs;
use std::path::{Path, PathBuf};

/// The store directory for `store` (from `--store` or `$BGCOPY_STORE`).
pub(crate) fn store_dir(store: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let dir = match store {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => default_dir().ok_or_else(|| {
            Failure::Usage(
                "no home directory to keep the store in: pass --store DIR or set BGCOPY_STORE"
                    .to_owned(),
            )
        })?,
    };
    let dir = absolute(&dir)?;
    if !dir.exists() {
        create_private(&dir).map_err(|source| {
            let error = BgError::Io { op: "create", path: dir.clone(), source };
            Failure::of("create the store", None, error)
        })?;
    }
    Ok(dir)
}

/// Creates `dir` (and what is missing above it) readable by the user only.
fn create_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The user's state directory for bgcopy, where the platform has one, else its local data
/// directory.
fn default_dir() -> Option<PathBuf> {
    let dirs = ProjectDirs::from("", "", "bgcopy")?;
    Some(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).to_owned())
}

/// `path` made absolute against the current directory (without resolving symbolic links).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path)
        .map_err(|e| Failure::Usage(format!("cannot make {} absolute: {e}", path.display())))
}
