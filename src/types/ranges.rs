//! The mirrored types of DESIGN section 6.3, only the bytes needed: file ranges
//! (`BG_FILE_RANGE`) and the job properties of `IBackgroundCopyJob5` (`BITS_JOB_PROPERTY_*`).

use serde::{Deserialize, Serialize};

/// A length meaning "to the end of the file" (`BG_LENGTH_TO_EOF`).
pub const BG_LENGTH_TO_EOF: u64 = u64::MAX;

/// A range of bytes of a remote file (`BG_FILE_RANGE`).
///
/// ```
/// use bgcopy::*;
/// let header = BgFileRange { initial_offset: 0, length: 64 * 1024 };
/// let rest = BgFileRange { initial_offset: 64 * 1024, length: BG_LENGTH_TO_EOF };
/// assert_eq!(header.end(), Some(64 * 1024));
/// assert_eq!(rest.end(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BgFileRange {
    /// The offset of the first byte.
    pub initial_offset: u64,
    /// The number of bytes, or [`BG_LENGTH_TO_EOF`].
    pub length: u64,
}

impl BgFileRange {
    /// The offset just past the range, or `None` for a range to the end of the file (or one whose
    /// end does not fit in a `u64`).
    pub const fn end(&self) -> Option<u64> {
        if self.length == BG_LENGTH_TO_EOF {
            return None;
        }
        self.initial_offset.checked_add(self.length)
    }
}

/// The id of a job property (`BITS_JOB_PROPERTY_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgJobPropertyId {
    /// The transfer policies as network cost flags (`BITS_JOB_PROPERTY_ID_COST_FLAGS`).
    CostFlags = 1,
    /// A COM class to notify (`BITS_JOB_PROPERTY_NOTIFICATION_CLSID`): needs COM, `E_NOTIMPL`.
    NotificationClsid = 2,
    /// The content may change between requests (`BITS_JOB_PROPERTY_DYNAMIC_CONTENT`).
    DynamicContent = 3,
    /// No progress checkpoints for small jobs (`BITS_JOB_PROPERTY_HIGH_PERFORMANCE`).
    HighPerformance = 4,
    /// The largest file the job may download (`BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE`).
    MaxDownloadSize = 5,
    /// Use the Windows credential store (`BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS`): `E_NOTIMPL`.
    UseStoredCredentials = 7,
    /// The least time between two notifications (`BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS`).
    MinimumNotificationIntervalMs = 9,
    /// Fetch only what is asked for (`BITS_JOB_PROPERTY_ON_DEMAND_MODE`).
    OnDemandMode = 10,
}

super::enum_try_from_u32!(
    BgJobPropertyId,
    "BITS_JOB_PROPERTY_ID",
    [
        CostFlags,
        NotificationClsid,
        DynamicContent,
        HighPerformance,
        MaxDownloadSize,
        UseStoredCredentials,
        MinimumNotificationIntervalMs,
        OnDemandMode
    ]
);

/// The value of a job property (`BITS_JOB_PROPERTY_VALUE`), tagged with its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BgJobProperty {
    /// The network cost flags under which the job may transfer (`BITS_COST_STATE_*`).
    CostFlags(u32),
    /// A COM class id: needs COM, refused with `E_NOTIMPL`.
    NotificationClsid(String),
    /// The content may change: no size is needed, no range is used, and an interruption restarts
    /// the file.
    DynamicContent(bool),
    /// No progress checkpoints for small jobs.
    HighPerformance(bool),
    /// The largest file the job may download, in bytes (0: no limit).
    MaxDownloadSize(u64),
    /// Use the Windows credential store for these targets: refused with `E_NOTIMPL`.
    UseStoredCredentials(u32),
    /// The least time between two notifications of the job, in milliseconds (default 500).
    MinimumNotificationIntervalMs(u32),
    /// Fetch only the ranges asked for.
    OnDemandMode(bool),
}

impl BgJobProperty {
    /// The id of this property.
    pub const fn id(&self) -> BgJobPropertyId {
        match self {
            BgJobProperty::CostFlags(_) => BgJobPropertyId::CostFlags,
            BgJobProperty::NotificationClsid(_) => BgJobPropertyId::NotificationClsid,
            BgJobProperty::DynamicContent(_) => BgJobPropertyId::DynamicContent,
            BgJobProperty::HighPerformance(_) => BgJobPropertyId::HighPerformance,
            BgJobProperty::MaxDownloadSize(_) => BgJobPropertyId::MaxDownloadSize,
            BgJobProperty::UseStoredCredentials(_) => BgJobPropertyId::UseStoredCredentials,
            BgJobProperty::MinimumNotificationIntervalMs(_) => {
                BgJobPropertyId::MinimumNotificationIntervalMs
            }
            BgJobProperty::OnDemandMode(_) => BgJobPropertyId::OnDemandMode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_knows_its_end_without_overflow() {
        assert_eq!(BgFileRange { initial_offset: 10, length: 5 }.end(), Some(15));
        assert_eq!(BgFileRange { initial_offset: 10, length: 0 }.end(), Some(10));
        assert_eq!(BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }.end(), None);
        assert_eq!(BgFileRange { initial_offset: u64::MAX, length: 2 }.end(), None);
    }

    #[test]
    fn every_property_says_its_id_and_ids_have_the_windows_values() {
        let all = [
            (BgJobProperty::CostFlags(1), 1),
            (BgJobProperty::NotificationClsid(String::new()), 2),
            (BgJobProperty::DynamicContent(true), 3),
            (BgJobProperty::HighPerformance(true), 4),
            (BgJobProperty::MaxDownloadSize(1), 5),
            (BgJobProperty::UseStoredCredentials(1), 7),
            (BgJobProperty::MinimumNotificationIntervalMs(500), 9),
            (BgJobProperty::OnDemandMode(true), 10),
        ];
        for (property, value) in all {
            assert_eq!(property.id() as u32, value, "{property:?}");
            assert_eq!(BgJobPropertyId::try_from(value).unwrap(), property.id());
        }
        for bad in [0, 6, 8, 11] {
            assert_eq!(
                BgJobPropertyId::try_from(bad).unwrap_err().hresult(),
                crate::hresult::E_NOTIMPL
            );
        }
    }
}
