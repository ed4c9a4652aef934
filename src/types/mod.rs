//! The mirrored data types: plain data with serde, no behaviour beyond small queries, and
//! [`BgError`], the error of every call, which says its HRESULT (`error.rs`).
//!
//! Each type mirrors one C type of the Background Copy headers (`bits.h`, `deliveryoptimization.h`);
//! the mapping is given on every type.

pub(crate) mod error;
mod file_info;
mod ids;
mod job_props;
mod notify;
mod progress;
mod proxy;
mod state;
mod success;
mod times;

pub use error::{BgError, InvalidStateReason, Result};
pub use file_info::BgFileInfo;
pub use ids::JobId;
pub use job_props::{BgErrorContext, BgJobPriority, BgJobProxyUsage, BgJobType};
pub use notify::BgNotify;
pub use progress::{BG_SIZE_UNKNOWN, BgFileProgress, BgJobProgress};
pub use proxy::BgProxySettings;
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
