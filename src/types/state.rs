use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of a job (`BG_JOB_STATE`).
///
/// The numeric values are those of the Windows enumeration. See the transition table on
/// [`BackgroundCopyJob`](crate::BackgroundCopyJob) for how a job moves between states.
///
/// ```
/// use bgcopy::BgJobState;
/// assert!(BgJobState::Acknowledged.is_final());
/// assert_eq!(BgJobState::Transferred as u32, 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgJobState {
    /// Waiting for the scheduler to give the job its turn (`BG_JOB_STATE_QUEUED`).
    Queued = 0,
    /// Connecting to the server (`BG_JOB_STATE_CONNECTING`).
    Connecting = 1,
    /// Data is moving (`BG_JOB_STATE_TRANSFERRING`).
    Transferring = 2,
    /// Paused; the state of every new job (`BG_JOB_STATE_SUSPENDED`).
    Suspended = 3,
    /// A non-recoverable error; the client must act (`BG_JOB_STATE_ERROR`).
    Error = 4,
    /// A recoverable error; retried automatically (`BG_JOB_STATE_TRANSIENT_ERROR`).
    TransientError = 5,
    /// Every file is transferred; `complete()` makes them visible (`BG_JOB_STATE_TRANSFERRED`).
    Transferred = 6,
    /// `complete()` was called; final (`BG_JOB_STATE_ACKNOWLEDGED`).
    Acknowledged = 7,
    /// `cancel()` was called; final (`BG_JOB_STATE_CANCELLED`).
    Cancelled = 8,
}

super::enum_try_from_u32!(
    BgJobState,
    "BG_JOB_STATE",
    [
        Queued,
        Connecting,
        Transferring,
        Suspended,
        Error,
        TransientError,
        Transferred,
        Acknowledged,
        Cancelled
    ]
);

impl BgJobState {
    /// Every state, in numeric order.
    pub const ALL: [BgJobState; 9] = [
        BgJobState::Queued,
        BgJobState::Connecting,
        BgJobState::Transferring,
        BgJobState::Suspended,
        BgJobState::Error,
        BgJobState::TransientError,
        BgJobState::Transferred,
        BgJobState::Acknowledged,
        BgJobState::Cancelled,
    ];

    /// `true` for `Acknowledged` and `Cancelled`: the job can never change again.
    pub const fn is_final(self) -> bool {
        matches!(self, BgJobState::Acknowledged | BgJobState::Cancelled)
    }

    /// Whether a job stays in this state until someone acts (DESIGN 5.1: *settled*):
    /// `Transferred`, `Error`, `Suspended` and the final states. In the others (`Queued`,
    /// `Connecting`, `Transferring`, `TransientError`) it moves on by itself. What
    /// [`Job::wait`](crate::Job::wait) and [`Job::settled`](crate::Job::settled) wait for.
    ///
    /// ```
    /// use bgcopy::BgJobState;
    /// assert!(BgJobState::Transferred.is_settled());
    /// assert!(!BgJobState::TransientError.is_settled());
    /// ```
    pub const fn is_settled(self) -> bool {
        matches!(
            self,
            BgJobState::Transferred
                | BgJobState::Error
                | BgJobState::Suspended
                | BgJobState::Acknowledged
                | BgJobState::Cancelled
        )
    }

    /// `true` for the states in which a transfer is scheduled or running:
    /// `Queued`, `Connecting`, `Transferring` and `TransientError`.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            BgJobState::Queued
                | BgJobState::Connecting
                | BgJobState::Transferring
                | BgJobState::TransientError
        )
    }

    /// The Windows name of the state, e.g. `"BG_JOB_STATE_QUEUED"`.
    pub const fn windows_name(self) -> &'static str {
        match self {
            BgJobState::Queued => "BG_JOB_STATE_QUEUED",
            BgJobState::Connecting => "BG_JOB_STATE_CONNECTING",
            BgJobState::Transferring => "BG_JOB_STATE_TRANSFERRING",
            BgJobState::Suspended => "BG_JOB_STATE_SUSPENDED",
            BgJobState::Error => "BG_JOB_STATE_ERROR",
            BgJobState::TransientError => "BG_JOB_STATE_TRANSIENT_ERROR",
            BgJobState::Transferred => "BG_JOB_STATE_TRANSFERRED",
            BgJobState::Acknowledged => "BG_JOB_STATE_ACKNOWLEDGED",
            BgJobState::Cancelled => "BG_JOB_STATE_CANCELLED",
        }
    }
}

impl fmt::Display for BgJobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            BgJobState::Queued => "queued",
            BgJobState::Connecting => "connecting",
            BgJobState::Transferring => "transferring",
            BgJobState::Suspended => "suspended",
            BgJobState::Error => "error",
            BgJobState::TransientError => "transient error",
            BgJobState::Transferred => "transferred",
            BgJobState::Acknowledged => "acknowledged",
            BgJobState::Cancelled => "cancelled",
        };
        f.write_str(text)
    }
}
