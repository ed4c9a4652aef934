//! [`BgError`], the error of every fallible bgcopy call, and its HRESULT mapping.

use super::state::BgJobState;
use crate::hresult;
use std::io;
use std::path::PathBuf;

/// `Result` with [`BgError`] as the default error.
pub type Result<T, E = BgError> = std::result::Result<T, E>;

/// The error of a bgcopy call. Every variant says its HRESULT through [`BgError::hresult`].
///
/// Variants map to the codes Windows returns for the same mistake, so code ported from
/// `IBackgroundCopyJob` can keep matching on HRESULTs, and Rust code can match on variants.
///
/// ```
/// use bgcopy::{BgError, BgJobState};
/// let err = BgError::InvalidState { state: BgJobState::Cancelled };
/// assert_eq!(err.hresult(), 0x8020_0002);
/// assert_eq!(err.to_string(), "the call is not allowed while the job is cancelled");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BgError {
    /// No job has that id, or the job is in a final state (`BG_E_NOT_FOUND`).
    #[error("no job with that id")]
    NotFound,
    /// The call is not allowed in the job's current state (`BG_E_INVALID_STATE`).
    #[error("the call is not allowed while the job is {state}")]
    InvalidState {
        /// The state the job was in.
        state: BgJobState,
    },
    /// The job has no files, or nothing left to transfer (`BG_E_EMPTY`).
    #[error("the job has no files to transfer")]
    Empty,
    /// The error is not tied to a file (`BG_E_FILE_NOT_AVAILABLE`).
    #[error("the error is not tied to a file")]
    FileNotAvailable,
    /// The error is not tied to a protocol (`BG_E_PROTOCOL_NOT_AVAILABLE`).
    #[error("the error is not tied to a protocol")]
    ProtocolNotAvailable,
    /// The job is not in `Error` or `TransientError`, so there is no error to report
    /// (`BG_E_ERROR_INFORMATION_UNAVAILABLE`).
    #[error("no error information is available")]
    ErrorInformationUnavailable,
    /// An argument is malformed: an empty or invalid name, a relative local path, an unsupported
    /// URL scheme, a NUL character, a duplicate local name (`E_INVALIDARG`).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A string is longer than its limit (`BG_E_STRING_TOO_LONG`).
    #[error("{what} is {len} characters long, more than the limit of {max}")]
    StringTooLong {
        /// Which string.
        what: &'static str,
        /// Its length in UTF-16 code units.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value outside an enumeration, undefined flag bits, or an unsupported job type
    /// (`E_NOTIMPL`).
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    /// Adding the files would exceed the files-per-job limit (`BG_E_TOO_MANY_FILES_IN_JOB`).
    #[error("a job may hold at most {limit} files")]
    TooManyFilesInJob {
        /// The configured limit.
        limit: u32,
    },
    /// The owner already has the maximum number of jobs (`BG_E_TOO_MANY_JOBS_PER_USER`).
    #[error("an owner may have at most {limit} jobs")]
    TooManyJobsPerUser {
        /// The configured limit.
        limit: u32,
    },
    /// The manager already holds the maximum number of jobs (`BG_E_TOO_MANY_JOBS_PER_MACHINE`).
    #[error("a manager may hold at most {limit} jobs")]
    TooManyJobsPerMachine {
        /// The configured limit.
        limit: u32,
    },
    /// The proxy list is too long (`BG_E_PROXY_LIST_TOO_LARGE`).
    #[error("the proxy list is {len} characters long, more than the limit of {max}")]
    ProxyListTooLarge {
        /// Its length in UTF-16 code units.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The proxy bypass list is too long (`BG_E_PROXY_BYPASS_LIST_TOO_LARGE`).
    #[error("the proxy bypass list is {len} characters long, more than the limit of {max}")]
    ProxyBypassListTooLarge {
        /// Its length in UTF-16 code units.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The job is being transferred by another driver (`BG_E_INVALID_STATE`).
    #[error("the job is claimed by another driver")]
    Claimed,
    /// No text is known for the HRESULT
    /// (`HRESULT_FROM_WIN32(ERROR_RESOURCE_LANG_NOT_FOUND)`, `0x8007_0717`).
    #[error("no description is known for HRESULT {hresult:#010x}")]
    NoDescription {
        /// The HRESULT asked about.
        hresult: u32,
    },
    /// A file-system operation failed, e.g. a rename during `complete()`; the HRESULT is derived
    /// from the I/O error (`E_ACCESSDENIED`, `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`, ...).
    #[error("cannot {op} {path:?}")]
    Io {
        /// What was being done ("rename", "create", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The directory a local name would be written in does not exist (or is not a directory):
    /// `add_file` and `add_file_set` refuse the name, as BITS does
    /// (`HRESULT_FROM_WIN32(ERROR_PATH_NOT_FOUND)`, `0x8007_0003`).
    #[error("the directory of {path:?} does not exist")]
    PathNotFound {
        /// The local name.
        path: PathBuf,
    },
    /// The store is open in another process, or already open in this one: one process at a time
    /// opens a store, and a second open fails at once instead of waiting
    /// (`HRESULT_FROM_WIN32(ERROR_SHARING_VIOLATION)`, `0x8007_0020`).
    #[error("the store {path:?} is in use by {}", holder(.pid))]
    StoreLocked {
        /// The store directory (or its database file, if a program other than bgcopy has that
        /// open).
        path: PathBuf,
        /// The process id of the holder, if it could be read from the lock file (on Windows the
        /// holder's lock keeps others from reading it).
        pid: Option<u32>,
    },
    /// The store's database cannot be read: it is not a database, it is truncated or damaged, or
    /// its metadata makes no sense. The files are left as they are (`BG_E_DATABASE_CORRUPT`).
    #[error("the store {path:?} is corrupt: {reason}")]
    StoreCorrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it. (A boxed `str` keeps `BgError` at 48 bytes.)
        reason: Box<str>,
    },
    /// The store, or one of its records, was written in a newer format by a newer bgcopy; it is
    /// left untouched (`HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)`, `0x8007_051A`).
    #[error("the store {path:?} has format version {found}, newer than the supported {supported}")]
    StoreTooNew {
        /// The store directory.
        path: PathBuf,
        /// The format version found.
        found: u32,
        /// The newest format version this bgcopy reads.
        supported: u32,
    },
    /// Any other failure, carried with its HRESULT (for example a transfer failure reported
    /// through the driver API).
    #[error("{message}")]
    Failed {
        /// The HRESULT of the failure.
        hresult: u32,
        /// What happened.
        message: String,
    },
}

impl BgError {
    /// The HRESULT Windows would return for the same failure (as the `u32` bit pattern).
    pub fn hresult(&self) -> u32 {
        match self {
            BgError::NotFound => hresult::BG_E_NOT_FOUND,
            BgError::InvalidState { .. } | BgError::Claimed => hresult::BG_E_INVALID_STATE,
            BgError::Empty => hresult::BG_E_EMPTY,
            BgError::FileNotAvailable => hresult::BG_E_FILE_NOT_AVAILABLE,
            BgError::ProtocolNotAvailable => hresult::BG_E_PROTOCOL_NOT_AVAILABLE,
            BgError::ErrorInformationUnavailable => hresult::BG_E_ERROR_INFORMATION_UNAVAILABLE,
            BgError::InvalidArgument(_) => hresult::E_INVALIDARG,
            BgError::StringTooLong { .. } => hresult::BG_E_STRING_TOO_LONG,
            BgError::NotImplemented(_) => hresult::E_NOTIMPL,
            BgError::TooManyFilesInJob { .. } => hresult::BG_E_TOO_MANY_FILES_IN_JOB,
            BgError::TooManyJobsPerUser { .. } => hresult::BG_E_TOO_MANY_JOBS_PER_USER,
            BgError::TooManyJobsPerMachine { .. } => hresult::BG_E_TOO_MANY_JOBS_PER_MACHINE,
            BgError::ProxyListTooLarge { .. } => hresult::BG_E_PROXY_LIST_TOO_LARGE,
            BgError::ProxyBypassListTooLarge { .. } => hresult::BG_E_PROXY_BYPASS_LIST_TOO_LARGE,
            BgError::NoDescription { .. } => hresult::ERROR_RESOURCE_LANG_NOT_FOUND_HR,
            BgError::Io { source, .. } => io_hresult(source),
            BgError::PathNotFound { .. } => hresult::ERROR_PATH_NOT_FOUND_HR,
            BgError::StoreLocked { .. } => hresult::ERROR_SHARING_VIOLATION_HR,
            BgError::StoreCorrupt { .. } => hresult::BG_E_DATABASE_CORRUPT,
            BgError::StoreTooNew { .. } => hresult::ERROR_REVISION_MISMATCH_HR,
            BgError::Failed { hresult, .. } => *hresult,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> BgError {
        BgError::Io { op, path: path.into(), source }
    }
}

/// Who holds a locked store, for [`BgError::StoreLocked`]'s message.
fn holder(pid: &Option<u32>) -> String {
    match pid {
        Some(pid) => format!("process {pid}"),
        None => "another process".to_owned(),
    }
}

/// The HRESULT for an I/O error: the Win32 code on Windows, otherwise the code for its kind.
pub(crate) fn io_hresult(error: &io::Error) -> u32 {
    if let Some(code) = crate::platform::errors::win32_code(error) {
        return hresult::from_win32(code);
    }
    match error.kind() {
        io::ErrorKind::NotFound => hresult::ERROR_FILE_NOT_FOUND_HR,
        io::ErrorKind::PermissionDenied => hresult::E_ACCESSDENIED,
        io::ErrorKind::AlreadyExists => hresult::ERROR_ALREADY_EXISTS_HR,
        io::ErrorKind::StorageFull => hresult::ERROR_DISK_FULL_HR,
        io::ErrorKind::NotADirectory => hresult::ERROR_DIRECTORY_HR,
        io::ErrorKind::ReadOnlyFilesystem => hresult::ERROR_WRITE_PROTECT_HR,
        io::ErrorKind::OutOfMemory => hresult::E_OUTOFMEMORY,
        io::ErrorKind::Interrupted | io::ErrorKind::TimedOut => hresult::ERROR_TIMEOUT_HR,
        io::ErrorKind::UnexpectedEof => hresult::ERROR_HANDLE_EOF_HR,
        _ => hresult::E_FAIL,
    }
}
