//! The later file interfaces, each extending the one before as in COM: `IBackgroundCopyFile2`
//! (ranges, a new remote name), `IBackgroundCopyFile3` (temporary name, validation, peers),
//! `IBackgroundCopyFile4` (bytes from the origin and from peers), `IBackgroundCopyFile5`
//! (properties) and `IBackgroundCopyFile6` (on-demand ranges). DESIGN sections 6.2 and 6.3 give
//! the rules.

use crate::{BackgroundCopyFile, BgFileProperty, BgFilePropertyId, BgFileRange, Result};
use std::path::PathBuf;

/// `IBackgroundCopyFile2`: the ranges of a ranged file, and a new remote name.
pub trait BackgroundCopyFile2: BackgroundCopyFile {
    /// The ranges given to `add_file_with_ranges`, as given (`GetFileRanges`); empty for a whole
    /// file.
    fn get_file_ranges(&self) -> Vec<BgFileRange>;

    /// Gives the file a new remote name (`SetRemoteName`), validated like `add_file`, durable, and
    /// used from the file's next request. The bytes on disk are kept only when the new URL serves
    /// the same content (same size and strong validator); otherwise the file restarts from zero.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final.
    /// - `E_INVALIDARG`: a name `add_file` refuses.
    fn set_remote_name(&self, remote_url: &str) -> Result<()>;
}

/// `IBackgroundCopyFile3`: the temporary file, validation by the caller, and peers.
pub trait BackgroundCopyFile3: BackgroundCopyFile2 {
    /// The temporary file's path while the file downloads (`GetTemporaryName`), or `None` once it
    /// was renamed into place or before it exists.
    fn get_temporary_name(&self) -> Option<PathBuf>;

    /// Says whether the caller found the file's content valid (`SetValidationState`).
    /// `false` on a file with bytes from a peer fetches it again from the origin; on a file from
    /// the origin it puts the job in `Error` with `BG_E_VALIDATION_FAILED`.
    ///
    /// # Errors
    /// - `E_PENDING` (`0x8000000A`): the file is not transferred yet.
    /// - `BG_E_INVALID_STATE`: the job is final.
    fn set_validation_state(&self, valid: bool) -> Result<()>;

    /// The validation state last set (`GetValidationState`); `false` until set.
    fn get_validation_state(&self) -> bool;

    /// Whether any byte of the file came from a peer (here: the cache host)
    /// (`IsDownloadedFromPeer`).
    fn is_downloaded_from_peer(&self) -> bool;
}

/// `IBackgroundCopyFile4`: where the bytes came from.
pub trait BackgroundCopyFile4: BackgroundCopyFile3 {
    /// Bytes from the origin and from peers (`GetPeerDownloadStats`).
    fn get_peer_download_stats(&self) -> (u64, u64);
}

/// `IBackgroundCopyFile5`: file properties by id.
pub trait BackgroundCopyFile5: BackgroundCopyFile4 {
    /// One property (`GetProperty`).
    ///
    /// # Errors
    /// `E_NOT_SET` (`0x80070490`): no response was received yet.
    fn get_property(&self, id: BgFilePropertyId) -> Result<BgFileProperty>;
}

/// `IBackgroundCopyFile6`: on-demand ranges (jobs with `OnDemandMode(true)`).
pub trait BackgroundCopyFile6: BackgroundCopyFile5 {
    /// Says where a reader is (`UpdateDownloadPosition`): the bytes after `offset` come first.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final or not on demand.
    /// - `BG_E_INVALID_RANGE`: past the end of the file.
    fn update_download_position(&self, offset: u64) -> Result<()>;

    /// Asks for more ranges of the file (`RequestFileRanges`); the job moves on by itself.
    ///
    /// # Errors
    /// - `BG_E_INVALID_STATE`: the job is final or not on demand.
    /// - `BG_E_INVALID_RANGE`: a range past the end of the file.
    fn request_file_ranges(&self, ranges: &[BgFileRange]) -> Result<()>;

    /// The ranges on disk, merged and sorted (`GetFilledFileRanges`).
    fn get_filled_file_ranges(&self) -> Vec<BgFileRange>;
}
