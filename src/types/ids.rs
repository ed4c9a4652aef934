use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The identity of a job: a random 128-bit GUID, as `CreateJob` returns.
///
/// It displays in the Windows registry form, upper case in braces, and parses every usual GUID
/// spelling (with or without braces, any case, `urn:uuid:` prefix). Applications keep it to find the
/// job again with [`BackgroundCopyManager::get_job`](crate::BackgroundCopyManager::get_job).
///
/// ```
/// use bgcopy::JobId;
/// let id: JobId = "{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}".parse()?;
/// assert_eq!(id.to_string(), "{5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C}");
/// assert_eq!(id, "5ce34c0d-0dc9-4c1f-897c-daa1b78cee7c".parse()?);
/// # Ok::<(), bgcopy::BgError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(uuid::Uuid);

impl JobId {
    /// A fresh random (version 4) id.
    pub fn new_random() -> JobId {
        JobId(uuid::Uuid::new_v4())
    }

    /// The id from its 128-bit value.
    pub const fn from_u128(value: u128) -> JobId {
        JobId(uuid::Uuid::from_u128(value))
    }

    /// The 128-bit value.
    pub const fn as_u128(&self) -> u128 {
        self.0.as_u128()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", self.0.braced())
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({self})")
    }
}

impl FromStr for JobId {
    type Err = crate::BgError;

    /// Parses a GUID; a malformed one is `E_INVALIDARG`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(JobId)
            .map_err(|_| crate::BgError::InvalidArgument(format!("not a GUID: {s:?}")))
    }
}
