use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One file to add to a job (`BG_FILE_INFO`): where it comes from and where it goes.
///
/// ```
/// use bgcopy::BgFileInfo;
/// let info = BgFileInfo::new("https://example.com/a.bin", "/tmp/a.bin");
/// assert_eq!(info.remote_name, "https://example.com/a.bin");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BgFileInfo {
    /// The remote name: an `http://`, `https://` or `file://` URL, or a plain absolute path.
    pub remote_name: String,
    /// The absolute local path the file appears under after `complete()`.
    pub local_name: PathBuf,
}

impl BgFileInfo {
    /// A file entry from a remote name and a local path.
    pub fn new(remote_name: impl Into<String>, local_name: impl Into<PathBuf>) -> Self {
        BgFileInfo { remote_name: remote_name.into(), local_name: local_name.into() }
    }
}
