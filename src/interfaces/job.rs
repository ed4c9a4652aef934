use crate::{
    BackgroundCopyError, BackgroundCopyFile, BgFileInfo, BgJobPriority, BgJobProgress,
    BgJobProxyUsage, BgJobState, BgJobTimes, BgJobType, BgNotify, BgProxySettings, BgSuccess,
    JobId, Result,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A job: a set of files transferred together (`IBackgroundCopyJob`).
///
/// Final states (`Acknowledged`, `Cancelled`) reject every change with
/// [`BgError::InvalidState`](crate::BgError::InvalidState) (`BG_E_INVALID_STATE`); getters keep
/// working in every state. The full method × state matrix is in the docs of
/// [`transition`](crate::state_machine::transition).
pub trait BackgroundCopyJob {
    /// The file handle type.
    type File: BackgroundCopyFile;
    /// The error report type.
    type Error: BackgroundCopyError;
    /// The callback interface type (`IBackgroundCopyCallback`); for [`Job`](crate::Job), `dyn`
    /// [`BackgroundCopyCallback`](crate::BackgroundCopyCallback).
    type Callback: ?Sized;

    /// Adds several files (`AddFileSet`), all or nothing: every entry is checked before any is
    /// added. Files are transferred in the order added. Allowed in every non-final state.
    ///
    /// # Blocking
    /// Checks the local directories on disk; with a store, writes and syncs a record.
    ///
    /// # Errors
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    /// - [`BgError::InvalidArgument`](crate::BgError::InvalidArgument) (`E_INVALIDARG`): an empty
    ///   set, an empty or over-long remote name (2200, or a path segment over 260), an unsupported
    ///   scheme (only `http`, `https`, `file`, plain absolute paths and the schemes of registered
    ///   transports), wildcards (`*`, `?`) in a remote path, a relative local path, one over
    ///   the platform's limit (260 characters on Windows, `MAX_PATH` as in BITS; on Unix the
    ///   platform's `PATH_MAX`, 4096 bytes with its NUL on Linux and 1024 on macOS, and 255
    ///   bytes a name), a NUL character, or a local name already used in the job (or twice in
    ///   the set; case is ignored on Windows and macOS).
    /// - [`BgError::TooManyFilesInJob`](crate::BgError::TooManyFilesInJob)
    ///   (`BG_E_TOO_MANY_FILES_IN_JOB`): the files-per-job limit (default 200) would be exceeded.
    fn add_file_set(&self, files: &[BgFileInfo]) -> Result<()>;

    /// Adds one file (`AddFile`); same rules as [`add_file_set`](Self::add_file_set).
    ///
    /// # Blocking
    /// As [`add_file_set`](Self::add_file_set).
    ///
    /// # Errors
    /// As [`add_file_set`](Self::add_file_set).
    fn add_file(&self, remote_url: &str, local_name: &Path) -> Result<()>;

    /// A snapshot of the files, in the order added (`EnumFiles`); each handle shows live progress.
    fn enum_files(&self) -> Vec<Self::File>;

    /// Stops the transfer and puts the job in `Suspended` (`Suspend`); a suspended job stays so.
    /// From `Error` and `Transferred` the job becomes `Suspended` too.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn suspend(&self) -> Result<()>;

    /// Queues the job for transfer (`Resume`): `Suspended`, `Error`, `TransientError` and
    /// `Transferred` (with files left to transfer) become `Queued`; an error retries at once;
    /// `Queued`, `Connecting` and `Transferring` are left as they are.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::Empty`](crate::BgError::Empty) (`BG_E_EMPTY`): the job has no files, or every
    ///   file is already transferred; the state is left as it was.
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn resume(&self) -> Result<()>;

    /// Cancels the job for good (`Cancel`): stops the transfer, deletes every temporary file, never
    /// touches a local file that existed before; the job becomes `Cancelled` and leaves the manager.
    /// Returns [`BgSuccess::UnableToDeleteFiles`] if some temporary files could not be deleted.
    ///
    /// # Blocking
    /// Deletes the temporary files (and syncs their directories with a store), then with a store
    /// writes and syncs a record.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is already final.
    fn cancel(&self) -> Result<BgSuccess>;

    /// Completes the job (`Complete`): every fully transferred file is synced and renamed into
    /// place (its progress shows `completed`), the temporary files of the others are deleted, and
    /// the job becomes `Acknowledged` and leaves the manager. Returns
    /// [`BgSuccess::PartialComplete`] when only some files were kept.
    ///
    /// # Blocking
    /// Syncs and renames the files into place, deletes the others' temporary files and, with a
    /// store, writes and syncs records: file-system work that can take a while for large files.
    ///
    /// # Errors
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    /// - [`BgError::Io`](crate::BgError::Io): a rename failed; the files renamed so far stay in
    ///   place, and the job stays (in `Transferred` if every file was transferred) so that
    ///   `complete()` can be called again or the job cancelled.
    fn complete(&self) -> Result<BgSuccess>;

    /// The job id (`GetId`).
    fn get_id(&self) -> JobId;

    /// The job type, fixed at creation (`GetType`).
    fn get_type(&self) -> BgJobType;

    /// Job-wide progress (`GetProgress`). Lock-free and allocation-free; the snapshot is always
    /// consistent (see [`BgJobProgress::is_consistent`]) and, for one reader, no counter goes
    /// backwards except when a file restarts from zero.
    fn get_progress(&self) -> BgJobProgress;

    /// Creation, modification and transfer-completion times (`GetTimes`).
    fn get_times(&self) -> BgJobTimes;

    /// The current state (`GetState`); lock-free.
    fn get_state(&self) -> BgJobState;

    /// The error report (`GetError`), available only while the job is in `Error` or
    /// `TransientError`.
    ///
    /// # Errors
    /// [`BgError::ErrorInformationUnavailable`](crate::BgError::ErrorInformationUnavailable)
    /// (`BG_E_ERROR_INFORMATION_UNAVAILABLE`) in every other state.
    fn get_error(&self) -> Result<Self::Error>;

    /// The owner of the job (`GetOwner`): the manager owner that created it or took it over.
    fn get_owner(&self) -> String;

    /// Replaces the display name (`SetDisplayName`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::StringTooLong`](crate::BgError::StringTooLong) (`BG_E_STRING_TOO_LONG`): more
    ///   than 256 UTF-16 units.
    /// - [`BgError::InvalidArgument`](crate::BgError::InvalidArgument): a NUL character.
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_display_name(&self, name: &str) -> Result<()>;

    /// The display name (`GetDisplayName`).
    fn get_display_name(&self) -> String;

    /// Replaces the description (`SetDescription`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::StringTooLong`](crate::BgError::StringTooLong): more than 1024 UTF-16 units.
    /// - [`BgError::InvalidArgument`](crate::BgError::InvalidArgument): a NUL character.
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_description(&self, description: &str) -> Result<()>;

    /// The description; empty until set (`GetDescription`).
    fn get_description(&self) -> String;

    /// Sets the scheduling priority (`SetPriority`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_priority(&self, priority: BgJobPriority) -> Result<()>;

    /// The priority; default `Normal` (`GetPriority`).
    fn get_priority(&self) -> BgJobPriority;

    /// Selects which callbacks fire (`SetNotifyFlags`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::NotImplemented`](crate::BgError::NotImplemented) (`E_NOTIMPL`): a bit outside
    ///   the five defined flags.
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_notify_flags(&self, flags: BgNotify) -> Result<()>;

    /// The notify flags; default `JOB_TRANSFERRED | JOB_ERROR` (`GetNotifyFlags`).
    fn get_notify_flags(&self) -> BgNotify;

    /// Registers (or with `None` removes) the callback (`SetNotifyInterface`). The last
    /// registration wins. Registering on a job already in `Transferred` or `Error` delivers that
    /// event to the new callback (if flagged).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_notify_interface(&self, callback: Option<Arc<Self::Callback>>) -> Result<()>;

    /// The registered callback; default `None` (`GetNotifyInterface`).
    fn get_notify_interface(&self) -> Option<Arc<Self::Callback>>;

    /// Sets the minimum wait before retrying after a transient error (`SetMinimumRetryDelay`);
    /// values below 5 s are raised to 5 s. Whole seconds, as in Windows (fractions are dropped).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_minimum_retry_delay(&self, delay: Duration) -> Result<()>;

    /// The minimum retry delay; default 600 s (`GetMinimumRetryDelay`).
    fn get_minimum_retry_delay(&self) -> Duration;

    /// Sets how long transient errors are retried without progress before the job goes to `Error`
    /// (`SetNoProgressTimeout`); zero makes every error final. Whole seconds.
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_no_progress_timeout(&self, timeout: Duration) -> Result<()>;

    /// The no-progress timeout; default 1 209 600 s, 14 days (`GetNoProgressTimeout`).
    fn get_no_progress_timeout(&self) -> Duration;

    /// The number of failed transfer attempts (`GetErrorCount`); never reset.
    fn get_error_count(&self) -> u32;

    /// Sets the proxy settings (`SetProxySettings`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// - [`BgError::InvalidArgument`](crate::BgError::InvalidArgument) (`E_INVALIDARG`): a list
    ///   given with a usage other than `Override`, `Override` without a (non-empty) proxy list, or
    ///   a NUL character.
    /// - [`BgError::ProxyListTooLarge`](crate::BgError::ProxyListTooLarge) /
    ///   [`BgError::ProxyBypassListTooLarge`](crate::BgError::ProxyBypassListTooLarge): a list
    ///   longer than 4000 UTF-16 units.
    /// - [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn set_proxy_settings(
        &self,
        usage: BgJobProxyUsage,
        proxy_list: Option<&str>,
        bypass_list: Option<&str>,
    ) -> Result<()>;

    /// The proxy settings; default `Preconfig` with no lists (`GetProxySettings`).
    fn get_proxy_settings(&self) -> BgProxySettings;

    /// Makes the caller (the owner of the manager handle this job came from) the owner of the job
    /// (`TakeOwnership`).
    ///
    /// # Blocking
    /// With a store, writes and syncs a record before it returns.
    ///
    /// # Errors
    /// [`BgError::InvalidState`](crate::BgError::InvalidState): the job is final.
    fn take_ownership(&self) -> Result<()>;
}
