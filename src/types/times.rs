use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// Time stamps of a job (`BG_JOB_TIMES`).
///
/// `modification_time` changes when files are added, on every setter, on every state change and when
/// a file finishes; not for every chunk of bytes (that keeps clock reads off the transfer path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BgJobTimes {
    /// When the job was created.
    pub creation_time: SystemTime,
    /// When the job was last changed.
    pub modification_time: SystemTime,
    /// When the job entered `Transferred`; `None` before that, and again once the job is queued
    /// for another round (files added after it was transferred).
    pub transfer_completion_time: Option<SystemTime>,
}
