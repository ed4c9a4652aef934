use crate::BgFileProgress;
use std::path::PathBuf;

/// One file of a job (`IBackgroundCopyFile`).
pub trait BackgroundCopyFile {
    /// The remote name as it was added (`GetRemoteName`).
    fn get_remote_name(&self) -> String;

    /// The absolute local path (`GetLocalName`).
    fn get_local_name(&self) -> PathBuf;

    /// The file's progress (`GetProgress`): [`BG_SIZE_UNKNOWN`](crate::BG_SIZE_UNKNOWN) until the
    /// size is known, bytes in the temporary file, and `completed` once `complete()` renamed it into
    /// place. Lock-free.
    fn get_progress(&self) -> BgFileProgress;
}
