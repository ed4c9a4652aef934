use serde::{Deserialize, Serialize};

/// The success codes of `cancel()` and `complete()` (`S_OK` and the `BG_S_*` codes).
///
/// ```
/// use bgcopy::BgSuccess;
/// assert_eq!(BgSuccess::PartialComplete.hresult(), 0x0020_0017);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BgSuccess {
    /// Everything was done (`S_OK`).
    Ok,
    /// `complete()` kept only the files that were fully transferred (`BG_S_PARTIAL_COMPLETE`).
    PartialComplete,
    /// Some temporary files could not be deleted (`BG_S_UNABLE_TO_DELETE_FILES`).
    UnableToDeleteFiles,
    /// Nothing matched or nothing was there, so nothing changed (`S_FALSE`): from
    /// `replace_remote_prefix` and `remove_credentials`.
    NoChange,
}

impl BgSuccess {
    /// The HRESULT: `0`, `0x0020_0017`, `0x0020_001A` or `0x1`.
    pub const fn hresult(self) -> u32 {
        match self {
            BgSuccess::Ok => crate::hresult::S_OK,
            BgSuccess::PartialComplete => crate::hresult::BG_S_PARTIAL_COMPLETE,
            BgSuccess::UnableToDeleteFiles => crate::hresult::BG_S_UNABLE_TO_DELETE_FILES,
            BgSuccess::NoChange => crate::hresult::S_FALSE,
        }
    }
}
