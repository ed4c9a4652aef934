//! The network cost states and transfer policies of `bits5_0.h` (`BITS_COST_STATE_*`,
//! `BITS_JOB_TRANSFER_POLICY_*`), and [`NetworkCost`], the source of the current state that the
//! engine checks a job's `CostFlags` against (DESIGN 6.3).

use std::fmt;

/// The network has no cost and no cap (`BITS_COST_STATE_UNRESTRICTED`).
pub const BITS_COST_STATE_UNRESTRICTED: u32 = 0x1;
/// A capped network whose usage is unknown (`BITS_COST_STATE_CAPPED_USAGE_UNKNOWN`).
pub const BITS_COST_STATE_CAPPED_USAGE_UNKNOWN: u32 = 0x2;
/// A capped network below its cap (`BITS_COST_STATE_BELOW_CAP`).
pub const BITS_COST_STATE_BELOW_CAP: u32 = 0x4;
/// A capped network near its cap (`BITS_COST_STATE_NEAR_CAP`).
pub const BITS_COST_STATE_NEAR_CAP: u32 = 0x8;
/// Over the cap, with a charge for more (`BITS_COST_STATE_OVERCAP_CHARGED`).
pub const BITS_COST_STATE_OVERCAP_CHARGED: u32 = 0x10;
/// Over the cap, throttled (`BITS_COST_STATE_OVERCAP_THROTTLED`).
pub const BITS_COST_STATE_OVERCAP_THROTTLED: u32 = 0x20;
/// Charged by usage (`BITS_COST_STATE_USAGE_BASED`).
pub const BITS_COST_STATE_USAGE_BASED: u32 = 0x40;
/// A roaming network (`BITS_COST_STATE_ROAMING`).
pub const BITS_COST_STATE_ROAMING: u32 = 0x80;
/// An option bit of a policy, not a state: transfer even on a congested network
/// (`BITS_COST_OPTION_IGNORE_CONGESTION`).
pub const BITS_COST_OPTION_IGNORE_CONGESTION: u32 = 0x8000_0000;
/// Reserved (`BITS_COST_STATE_RESERVED`).
pub const BITS_COST_STATE_RESERVED: u32 = 0x4000_0000;

/// Every network, whatever it costs (`BITS_JOB_TRANSFER_POLICY_ALWAYS`).
pub const BITS_JOB_TRANSFER_POLICY_ALWAYS: u32 = 0x8000_00FF;
/// Every network but a roaming one; the default of a job (`BITS_JOB_TRANSFER_POLICY_NOT_ROAMING`).
pub const BITS_JOB_TRANSFER_POLICY_NOT_ROAMING: u32 = 0x8000_007F;
/// No network with a surcharge (`BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE`).
pub const BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE: u32 = 0x8000_006F;
/// Neither a surcharge nor near a cap (`BITS_JOB_TRANSFER_POLICY_STANDARD`).
pub const BITS_JOB_TRANSFER_POLICY_STANDARD: u32 = 0x8000_0067;
/// Only networks without cost or traffic limits (`BITS_JOB_TRANSFER_POLICY_UNRESTRICTED`).
pub const BITS_JOB_TRANSFER_POLICY_UNRESTRICTED: u32 = 0x8000_0021;

/// Where the engine learns what the current network costs (set with
/// [`ManagerBuilder::network_cost`](crate::ManagerBuilder::network_cost); the default is
/// [`UnrestrictedNetwork`]).
///
/// The engine asks on every scheduling pass, so the call must be cheap and must not block. When
/// the answer changes, the application calls
/// [`Manager::network_changed`](crate::Manager::network_changed) so that the engine looks again at
/// once; the engine does not poll the source.
pub trait NetworkCost: Send + Sync + fmt::Debug {
    /// The current network's `BITS_COST_STATE_*` bits (normally one). A job runs only while one
    /// of these bits is in its `CostFlags`; 0 (the state is unknown) counts as
    /// [`BITS_COST_STATE_UNRESTRICTED`].
    fn cost_state(&self) -> u32;
}

/// The default network-cost source: always [`BITS_COST_STATE_UNRESTRICTED`].
#[derive(Debug, Clone, Copy, Default)]
pub struct UnrestrictedNetwork;

impl NetworkCost for UnrestrictedNetwork {
    fn cost_state(&self) -> u32 {
        BITS_COST_STATE_UNRESTRICTED
    }
}

/// Whether a job with these `CostFlags` may transfer on a network in `state` (0: unknown,
/// taken as unrestricted). The option bits of the flags play no part.
pub(crate) fn cost_allows(flags: u32, state: u32) -> bool {
    let state = if state == 0 { BITS_COST_STATE_UNRESTRICTED } else { state };
    flags & state & !(BITS_COST_OPTION_IGNORE_CONGESTION | BITS_COST_STATE_RESERVED) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_allows_the_states_of_its_bits() {
        assert!(cost_allows(BITS_JOB_TRANSFER_POLICY_ALWAYS, BITS_COST_STATE_ROAMING));
        assert!(!cost_allows(BITS_JOB_TRANSFER_POLICY_NOT_ROAMING, BITS_COST_STATE_ROAMING));
        assert!(cost_allows(BITS_JOB_TRANSFER_POLICY_NOT_ROAMING, BITS_COST_STATE_NEAR_CAP));
        assert!(!cost_allows(BITS_JOB_TRANSFER_POLICY_STANDARD, BITS_COST_STATE_NEAR_CAP));
        assert!(!cost_allows(
            BITS_JOB_TRANSFER_POLICY_NO_SURCHARGE,
            BITS_COST_STATE_OVERCAP_CHARGED
        ));
        assert!(cost_allows(
            BITS_JOB_TRANSFER_POLICY_UNRESTRICTED,
            BITS_COST_STATE_OVERCAP_THROTTLED
        ));
        assert!(!cost_allows(BITS_JOB_TRANSFER_POLICY_UNRESTRICTED, BITS_COST_STATE_BELOW_CAP));
        assert!(cost_allows(BITS_JOB_TRANSFER_POLICY_UNRESTRICTED, 0));
        // A flags value with only the option bit allows nothing.
        assert!(!cost_allows(BITS_COST_OPTION_IGNORE_CONGESTION, BITS_COST_STATE_UNRESTRICTED));
    }
}
