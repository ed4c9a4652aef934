//! The job state machine as one pure function: [`transition`] maps a state and an event to the
//! next state or to the error the call returns.
//!
//! # Caller-driven events (methods of [`BackgroundCopyJob`](crate::BackgroundCopyJob))
//!
//! `→X` = new state; `=` = accepted, state unchanged; `INV` = `BG_E_INVALID_STATE`;
//! `EMPTY` = `BG_E_EMPTY` (state unchanged). "work" = the job has a file not yet transferred.
//!
//! | Event | S | Q | C | T | TE | E | TD | A | X |
//! |---|---|---|---|---|---|---|---|---|---|
//! | `Suspend` | = | →S | →S | →S | →S | →S | →S | INV | INV |
//! | `Resume` with work | →Q | = | = | = | →Q | →Q | →Q | INV | INV |
//! | `Resume` without work | EMPTY | = | = | = | EMPTY | EMPTY | EMPTY | INV | INV |
//! | `Cancel` | →X | →X | →X | →X | →X | →X | →X | INV | INV |
//! | `Complete` | →A | →A | →A | →A | →A | →A | →A | INV | INV |
//! | `Modify` (add files, every setter, take ownership) | = | = | = | = | = | = | = | INV | INV |
//!
//! # Driver events (the [driver API](crate::JobDriver), used by the engine)
//!
//! | Event | S | Q | C | T | TE | E | TD | A | X |
//! |---|---|---|---|---|---|---|---|---|---|
//! | `Claim` | INV | →C | INV | INV | INV | INV | INV | INV | INV |
//! | `Connected` | INV | INV | →T | = | INV | INV | INV | INV | INV |
//! | `Transferred` | INV | INV | →TD | →TD | INV | INV | INV | INV | INV |
//! | `TransientFailure` | INV | INV | →TE | →TE | INV | INV | INV | INV | INV |
//! | `FatalFailure` | INV | INV | →E | →E | INV | INV | INV | INV | INV |
//! | `Yield` (time slice over, claim released) | INV | INV | →Q | →Q | INV | INV | INV | INV | INV |
//! | `Retry` (retry delay passed) | INV | INV | INV | INV | →Q | INV | INV | INV | INV |
//! | `NoProgressTimeout` | INV | INV | INV | INV | →E | INV | INV | INV | INV |
//!
//! bgcopy's choices where Windows is silent (DESIGN section 4): `Suspend` from `Error` and
//! `Transferred` reports `Suspended`; `Resume` with every file transferred is `BG_E_EMPTY`; adding
//! files in a final state is `BG_E_INVALID_STATE`.

use crate::{BgError, BgJobState, Result};

/// Something that moves a job: a method call or a driver step. See the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobEvent {
    /// `suspend()`.
    Suspend,
    /// `resume()`; `has_work` is whether a file is left to transfer.
    Resume {
        /// Whether the job has a file that is not transferred yet.
        has_work: bool,
    },
    /// `cancel()`.
    Cancel,
    /// `complete()`.
    Complete,
    /// Any change that leaves the state alone: adding files, a setter, `take_ownership()`.
    Modify,
    /// A driver claims a queued job.
    Claim,
    /// The driver connected and bytes start to move.
    Connected,
    /// The driver finished every file.
    Transferred,
    /// The driver failed with a recoverable error.
    TransientFailure,
    /// The driver failed with a fatal error.
    FatalFailure,
    /// The driver releases the job unfinished (its time slice is over).
    Yield,
    /// The retry delay of a transient error has passed.
    Retry,
    /// The no-progress timeout has passed in `TransientError`.
    NoProgressTimeout,
}

/// The state after `event` in `state`, or the error of the call (see the module table).
///
/// ```
/// use bgcopy::BgJobState;
/// use bgcopy::state_machine::{JobEvent, transition};
/// assert_eq!(transition(BgJobState::Suspended, JobEvent::Resume { has_work: true })?, BgJobState::Queued);
/// assert_eq!(transition(BgJobState::Suspended, JobEvent::Resume { has_work: false }).unwrap_err().hresult(), 0x8020_0003);
/// assert!(transition(BgJobState::Cancelled, JobEvent::Suspend).is_err());
/// # Ok::<(), bgcopy::BgError>(())
/// ```
///
/// # Errors
/// [`BgError::InvalidState`] where the table says `INV`, [`BgError::Empty`] where it says `EMPTY`.
pub fn transition(state: BgJobState, event: JobEvent) -> Result<BgJobState> {
    use BgJobState::*;
    use JobEvent as E;
    let invalid = Err(BgError::InvalidState { state, reason: crate::InvalidStateReason::JobState });
    if state.is_final() {
        return invalid;
    }
    match (event, state) {
        (E::Suspend, _) => Ok(Suspended),
        (E::Resume { .. }, Queued | Connecting | Transferring) => Ok(state),
        (E::Resume { has_work: true }, _) => Ok(Queued),
        (E::Resume { has_work: false }, _) => Err(BgError::Empty),
        (E::Cancel, _) => Ok(Cancelled),
        (E::Complete, _) => Ok(Acknowledged),
        (E::Modify, _) => Ok(state),
        (E::Claim, Queued) => Ok(Connecting),
        (E::Connected, Connecting | Transferring) => Ok(Transferring),
        (E::Transferred, Connecting | Transferring) => Ok(Transferred),
        (E::TransientFailure, Connecting | Transferring) => Ok(TransientError),
        (E::FatalFailure, Connecting | Transferring) => Ok(Error),
        (E::Yield, Connecting | Transferring) => Ok(Queued),
        (E::Retry, TransientError) => Ok(Queued),
        (E::NoProgressTimeout, TransientError) => Ok(Error),
        _ => invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_reject_every_event() {
        let events = [
            JobEvent::Suspend,
            JobEvent::Resume { has_work: true },
            JobEvent::Cancel,
            JobEvent::Complete,
            JobEvent::Modify,
            JobEvent::Claim,
            JobEvent::Retry,
        ];
        for state in [BgJobState::Acknowledged, BgJobState::Cancelled] {
            for event in events {
                assert!(matches!(transition(state, event), Err(BgError::InvalidState { .. })));
            }
        }
    }

    #[test]
    fn only_queued_jobs_can_be_claimed() {
        for state in BgJobState::ALL {
            let ok = transition(state, JobEvent::Claim).is_ok();
            assert_eq!(ok, state == BgJobState::Queued, "{state:?}");
        }
    }
}
