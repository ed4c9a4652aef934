//! The later job interfaces, each extending the one before as in COM: `IBackgroundCopyJob2`
//! (notify command line, credentials), `IBackgroundCopyJob3` (new remote prefixes, ranged
//! files), `IBackgroundCopyJob4` (peer caching, the maximum download time) and
//! `IBackgroundCopyJob5` (job properties). DESIGN sections 6.2 and 6.3 give the rules.

use crate::{
    BackgroundCopyJob, BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgFileRange, BgJobProperty,
    BgJobPropertyId, BgPeerCaching, BgSuccess, Result,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `IBackgroundCopyJob2`, download side: a program to run when the job needs attention, and
/// credentials for the server or the proxy.
pub trait BackgroundCopyJob2: BackgroundCopyJob {
    /// Sets the program the process holding the store runs when the job enters `Transferred` or
    /// `Error` and no callback is registered for that event (`SetNotifyCmdLine`). The parameters
    /// start with the program's name, as in BITS, and are split as a Windows command line (double
    /// quotes group words), with no shell. `None` for both clears it. Durable.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_INVALIDARG`: parameters without a program.
    /// - `BG_E_STRING_TOO_LONG`: a program over 260 characters or parameters over 4,000.
    fn set_notify_cmd_line(&self, program: Option<&Path>, parameters: Option<&str>) -> Result<()>;

    /// The program and parameters set by [`set_notify_cmd_line`](Self::set_notify_cmd_line)
    /// (`GetNotifyCmdLine`), or `None`.
    fn get_notify_cmd_line(&self) -> Option<(PathBuf, String)>;

    /// Sets credentials for one target and scheme (`SetCredentials`), replacing any for that pair.
    /// There is no getter. They go only to the origin of each file's own remote name.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_NOTIMPL`: a scheme other than `Basic`.
    /// - `BG_E_USERNAME_TOO_LARGE`, `BG_E_PASSWORD_TOO_LARGE`: over 300 characters.
    fn set_credentials(&self, credentials: &BgAuthCredentials) -> Result<()>;

    /// Removes the credentials of one target and scheme (`RemoveCredentials`):
    /// [`BgSuccess::NoChange`] when there were none.
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is final.
    fn remove_credentials(&self, target: BgAuthTarget, scheme: BgAuthScheme) -> Result<BgSuccess>;
}

/// `IBackgroundCopyJob3`: a new URL prefix for every file, and files of which only some ranges
/// are wanted.
pub trait BackgroundCopyJob3: BackgroundCopyJob2 {
    /// Replaces `old_prefix` by `new_prefix` at the start of every file's remote name whose name
    /// starts with it, case-sensitively (`ReplaceRemotePrefix`); [`BgSuccess::NoChange`] when none
    /// matched. Validated and applied like `BackgroundCopyFile2::set_remote_name`.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_INVALIDARG`: an empty prefix, or a resulting remote name that `add_file` refuses.
    fn replace_remote_prefix(&self, old_prefix: &str, new_prefix: &str) -> Result<BgSuccess>;

    /// Adds a file of which only `ranges` are downloaded, written back to back into the local file
    /// in the order given (`AddFileWithRanges`).
    ///
    /// # Errors
    /// As `add_file`, and `BG_E_INVALID_RANGE`, `BG_E_OVERLAPPING_RANGES`, or
    /// `BG_E_TOO_MANY_RANGES_IN_FILE` (over 500 ranges).
    fn add_file_with_ranges(
        &self,
        remote_url: &str,
        local_name: &Path,
        ranges: &[BgFileRange],
    ) -> Result<()>;
}

/// `IBackgroundCopyJob4`: peer caching and the maximum download time.
pub trait BackgroundCopyJob4: BackgroundCopyJob3 {
    /// Sets the peer caching flags (`SetPeerCachingFlags`); the default is `ENABLE_CLIENT`.
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is final.
    fn set_peer_caching_flags(&self, flags: BgPeerCaching) -> Result<()>;

    /// The peer caching flags (`GetPeerCachingFlags`).
    fn get_peer_caching_flags(&self) -> BgPeerCaching;

    /// Sets the longest time the job may spend transferring (`SetMaximumDownloadTime`); default 90
    /// days. Only time in `Connecting` or `Transferring` counts, and `resume()` restarts the
    /// count; when it runs out the job goes to `Error` with `BG_E_MAXDOWNLOAD_TIMEOUT`.
    ///
    /// # Errors
    /// `BG_E_INVALID_STATE`: the job is final.
    fn set_maximum_download_time(&self, timeout: Duration) -> Result<()>;

    /// The maximum download time (`GetMaximumDownloadTime`).
    fn get_maximum_download_time(&self) -> Duration;
}

/// `IBackgroundCopyJob5`: job properties by id.
pub trait BackgroundCopyJob5: BackgroundCopyJob4 {
    /// Sets one property (`SetProperty`).
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final, or the property can be set only before the first
    ///   `resume()` (or before files are added, for `OnDemandMode`).
    /// - `E_NOTIMPL`: `NotificationClsid` and `UseStoredCredentials`.
    /// - `E_INVALIDARG`: a value out of range.
    fn set_property(&self, value: BgJobProperty) -> Result<()>;

    /// One property (`GetProperty`).
    ///
    /// # Errors
    /// `E_NOTIMPL`: `NotificationClsid` and `UseStoredCredentials`.
    fn get_property(&self, id: BgJobPropertyId) -> Result<BgJobProperty>;
}
