//! The mirrored data types: plain data with serde, no behaviour beyond small queries, and
//! [`BgError`], the error of every call, which says its HRESULT (`error.rs`).
//!
//! Each type mirrors one C type of the Background Copy headers (`bits.h`, `deliveryoptimization.h`);
//! the mapping is given on every type.

mod cost;
pub(crate) mod error;
mod file_info;
mod ids;
mod job_props;
mod notify;
mod progress;
mod proxy;
mod ranges;
mod sources;
mod state;
mod success;
mod times;

pub(crate) use cost::cost_allows;
pub use cost::{
    BITS_COST_OPTION_IGNORE_CONGESTION, BITS_COST_STATE_BELOW_CAP,
    BITS_COST_STATE_CAPPED_USAGE_UNKNOWN, BITS_COST_STATE_NEAR_CAP,
    BITS_COST_STATE_OVERCAP_CHARGED, BITS_COST_STATE_OVERCAP_THROTTLED, BITS_COST_STATE_RESERVED,
    BITS_COST_STATE_ROAMING, BITS_COST_STATE_UNRESTRICTED, BITS_COST_STATE_USAGE_BASED,
    BITS_JOB_TRANSFER_POLICY_ALWAYS, BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE,
    BITS_JOB_TRANSFER_POLICY_NOT_ROAMING, BITS_JOB_TRANSFER_POLICY_STANDARD,
    BITS_JOB_TRANSFER_POLICY_UNRESTRICTED, NetworkCost, UnrestrictedNetwork,
};
pub use error::{BgError, InvalidStateReason, Result};
pub use file_info::BgFileInfo;
pub use ids::JobId;
pub use job_props::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobType};
pub use notify::BgNotify;
pub use progress::{BG_SIZE_UNKNOWN, BgFileProgress, BgJobProgress};
pub use proxy::BgProxySettings;
pub use ranges::{BG_LENGTH_TO_EOF, BgFileRange, BgJobProperty, BgJobPropertyId};
pub use sources::{
    BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgFileProperty, BgFilePropertyId,
    BgHttpSecurity, BgPeerCaching,
};
pub use state::BgJobState;
pub use success::BgSuccess;
pub use times::BgJobTimes;

/// Implements `TryFrom<u32>` for a `#[repr(u32)]` enum, failing with `E_NOTIMPL` as Windows does
/// for a value outside the enumeration.
macro_rules! enum_try_from_u32 {
    ($ty:ident, $what:literal, [$($variant:ident),+ $(,)?]) => {
        impl TryFrom<u32> for $ty {
            type Error = crate::BgError;

            fn try_from(value: u32) -> Result<Self, crate::BgError> {
                $(
                    if value == $ty::$variant as u32 {
                        return Ok($ty::$variant);
                    }
                )+
                Err(crate::BgError::NotImplemented(concat!($what, " value out of range")))
            }
        }

        impl From<$ty> for u32 {
            fn from(value: $ty) -> u32 {
                value as u32
            }
        }
    };
}
pub(crate) use enum_try_from_u32;
