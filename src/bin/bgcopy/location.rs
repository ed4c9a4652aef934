//! Where the store is: `--store DIR`, else `$BGCOPY_STORE` (clap reads both), else the user's
//! state directory for bgcopy, from the `directories` crate: `$XDG_STATE_HOME/bgcopy` (or
//! `~/.local/state/bgcopy`) on Linux and the BSDs, `%LOCALAPPDATA%\bgcopy\data` on Windows (local,
//! not roaming: the jobs name this machine's paths), `~/Library/Application Support/bgcopy` on
//! macOS. Relative names are made absolute, so that messages name the directory exactly.

use crate::failure::Failure;
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
    absolute(&dir)
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
