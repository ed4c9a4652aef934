use crate::{BackgroundCopyJob, BgJobType, JobId, Result};

/// The job queue (`IBackgroundCopyManager`): create, find and list jobs.
pub trait BackgroundCopyManager {
    /// The job handle type.
    type Job: BackgroundCopyJob;

    /// Creates a new job (`CreateJob`): a fresh random id, no files, state `Suspended`, all progress
    /// zero, BITS defaults for every property, owned by the manager's owner.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::InvalidArgument`](crate::BgError::InvalidArgument) (`E_INVALIDARG`): the display
    ///   name is longer than 256 UTF-16 units or contains a NUL character.
    /// - [`BgError::NotImplemented`](crate::BgError::NotImplemented) (`E_NOTIMPL`): `Upload` or
    ///   `UploadReply` (only downloads are supported).
    /// - [`BgError::TooManyJobsPerUser`](crate::BgError::TooManyJobsPerUser) /
    ///   [`BgError::TooManyJobsPerMachine`](crate::BgError::TooManyJobsPerMachine): a configured
    ///   limit (default 60 per owner, 300 per manager) is reached.
    fn create_job(&self, display_name: &str, job_type: BgJobType) -> Result<Self::Job>;

    /// Finds a job by id (`GetJob`).
    ///
    /// # Errors
    /// [`BgError::NotFound`](crate::BgError::NotFound) (`BG_E_NOT_FOUND`) when no job has that id,
    /// including jobs that reached a final state (acknowledged or cancelled).
    fn get_job(&self, id: JobId) -> Result<Self::Job>;

    /// A snapshot of the caller's jobs (`EnumJobs` with flags 0), in creation order. Jobs in a final
    /// state are not listed; each handle shows live values.
    fn enum_jobs(&self) -> Vec<Self::Job>;

    /// A readable description of an HRESULT (`GetErrorDescription`), in English.
    ///
    /// # Errors
    /// [`BgError::NoDescription`](crate::BgError::NoDescription)
    /// (`HRESULT_FROM_WIN32(ERROR_RESOURCE_LANG_NOT_FOUND)`) for a code bgcopy does not know. Every
    /// code of [`hresult`](crate::hresult) and every HTTP status code (`0x8019_0000 + status`) has
    /// a text.
    fn get_error_description(&self, hresult: u32) -> Result<String>;
}
