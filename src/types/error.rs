//! [`BgError`], the error of every fallible bgcopy call, and its HRESULT mapping.

use super::job_props::BgErrorContext;
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
/// Each HRESULT has one variant, with three documented exceptions: [`Io`](Self::Io) and
/// [`Transfer`](Self::Transfer) carry the HRESULT of their cause (an I/O error's, a transport's),
/// which may be any code, and [`StoreFailed`](Self::StoreFailed)'s `E_FAIL` is also what `Io`
/// gives for an I/O error of no known kind.
///
/// ```
/// use bgcopy::{BgError, BgJobState, InvalidStateReason};
/// let err = BgError::InvalidState {
///     state: BgJobState::Cancelled,
///     reason: InvalidStateReason::JobState,
/// };
/// assert_eq!(err.hresult(), 0x8020_0002);
/// assert_eq!(err.to_string(), "the call is not allowed while the job is cancelled");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BgError {
    /// No job has that id, or the job is in a final state (`BG_E_NOT_FOUND`).
    #[error("no job with that id")]
    NotFound,
    /// The call is not allowed now (`BG_E_INVALID_STATE`): the job's state forbids it, another
    /// driver holds the job, or the file is transferred already; `reason` says which.
    #[error("{}", invalid_state(.state, .reason))]
    InvalidState {
        /// The state the job was in.
        state: BgJobState,
        /// Why the call is not allowed.
        reason: InvalidStateReason,
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
    /// A call on a store after it was closed: a caller's mistake (`E_UNEXPECTED`).
    #[error("the store {path:?} is closed")]
    StoreClosed {
        /// The store directory.
        path: PathBuf,
    },
    /// The store's engine refused an operation for a reason that is neither an I/O error, a
    /// damaged file nor a lock held elsewhere: a bug of bgcopy or of the engine (`E_FAIL`).
    #[error("the store {path:?} failed: {reason}")]
    StoreFailed {
        /// The database file.
        path: PathBuf,
        /// The operation and what the engine said.
        reason: Box<str>,
    },
    /// A transfer failed: a [`TransferError::Failed`](crate::transport::TransferError::Failed)
    /// as a `BgError`. The HRESULT is the transport's. Every field is kept but the remote side's
    /// retry hint (`retry_after`), which only the engine reads (room for it would make every
    /// `BgError` larger).
    #[error("{message}")]
    Transfer {
        /// The HRESULT of the failure.
        hresult: u32,
        /// Where it happened.
        context: BgErrorContext,
        /// Recoverable (retried) or not.
        transient: bool,
        /// What happened, for people.
        message: Box<str>,
    },
    /// The job was suspended, cancelled or completed while it was transferring: a
    /// [`TransferError::Stopped`](crate::transport::TransferError::Stopped) as a `BgError`
    /// (`E_ABORT`).
    #[error("the transfer was stopped")]
    TransferStopped,
    /// What is asked for does not exist yet: the file is not transferred (`E_PENDING`,
    /// `0x8000000A`; `set_validation_state`).
    #[error("not yet: {0}")]
    Pending(&'static str),
    /// Nothing was set or received yet (`E_NOT_SET`, `0x80070490`; a file's response headers
    /// before any response).
    #[error("not set: {0}")]
    NotSet(&'static str),
    /// The value cannot be read back (`E_ACCESSDENIED`; write-only custom headers).
    #[error("access denied: {0}")]
    AccessDenied(&'static str),
    /// A credentials' user name is longer than its limit (`BG_E_USERNAME_TOO_LARGE`).
    #[error("the user name is {len} characters long, more than the limit of {max}")]
    UserNameTooLarge {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A credentials' password is longer than its limit (`BG_E_PASSWORD_TOO_LARGE`); the message
    /// never shows it.
    #[error("the password is {len} characters long, more than the limit of {max}")]
    PasswordTooLarge {
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A range of a file is invalid: empty, not representable, or past the end of the file
    /// (`BG_E_INVALID_RANGE`; DESIGN 6.3).
    #[error("{0}")]
    InvalidRange(Box<str>),
    /// Two ranges of a file share a byte (`BG_E_OVERLAPPING_RANGES`; DESIGN 6.3).
    #[error("{0}")]
    OverlappingRanges(Box<str>),
    /// More ranges than a file may have (`BG_E_TOO_MANY_RANGES_IN_FILE`; DESIGN 6.3).
    #[error("{count} ranges, more than the {limit} a file may have")]
    TooManyRangesInFile {
        /// The ranges given.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// Why a call was refused with [`BgError::InvalidState`] (all `BG_E_INVALID_STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidStateReason {
    /// The job's state does not allow the call (the case BITS knows).
    JobState,
    /// The job is claimed: an earlier driver of it still exists (it is stopping after a suspend;
    /// try again when it is dropped), or `complete()` or `cancel()` is at work on its files.
    Claimed,
    /// The file is transferred already, so what was checked on its content cannot change (its
    /// expected digest).
    FileTransferred,
    /// The job was resumed once, so what may be set only before (its HTTP method) is fixed.
    Resumed,
}

/// [`BgError::InvalidState`]'s message.
fn invalid_state(state: &BgJobState, reason: &InvalidStateReason) -> String {
    match reason {
        InvalidStateReason::JobState => format!("the call is not allowed while the job is {state}"),
        InvalidStateReason::Claimed => "the job is claimed by another driver".to_owned(),
        InvalidStateReason::FileTransferred => "the file is already transferred".to_owned(),
        InvalidStateReason::Resumed => "the job was resumed once; this is set before".to_owned(),
    }
}

impl BgError {
    /// The HRESULT Windows would return for the same failure (as the `u32` bit pattern).
    pub fn hresult(&self) -> u32 {
        match self {
            BgError::NotFound => hresult::BG_E_NOT_FOUND,
            BgError::InvalidState { .. } => hresult::BG_E_INVALID_STATE,
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
            BgError::StoreClosed { .. } => hresult::E_UNEXPECTED,
            BgError::StoreFailed { .. } => hresult::E_FAIL,
            BgError::Transfer { hresult, .. } => *hresult,
            BgError::TransferStopped => hresult::E_ABORT,
            BgError::Pending(_) => hresult::E_PENDING,
            BgError::NotSet(_) => hresult::E_NOT_SET,
            BgError::AccessDenied(_) => hresult::E_ACCESSDENIED,
            BgError::UserNameTooLarge { .. } => hresult::BG_E_USERNAME_TOO_LARGE,
            BgError::PasswordTooLarge { .. } => hresult::BG_E_PASSWORD_TOO_LARGE,
            BgError::InvalidRange(_) => hresult::BG_E_INVALID_RANGE,
            BgError::OverlappingRanges(_) => hresult::BG_E_OVERLAPPING_RANGES,
            BgError::TooManyRangesInFile { .. } => hresult::BG_E_TOO_MANY_RANGES_IN_FILE,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// One of every variant (every reason of `InvalidState`). `ordinal` below is an exhaustive
    /// match, so a new variant fails to compile until it is given a number, and the test below
    /// fails until it is listed here.
    fn one_of_each() -> Vec<BgError> {
        let state = |reason| BgError::InvalidState { state: BgJobState::Queued, reason };
        vec![
            BgError::NotFound,
            state(InvalidStateReason::JobState),
            state(InvalidStateReason::Claimed),
            state(InvalidStateReason::FileTransferred),
            state(InvalidStateReason::Resumed),
            BgError::Empty,
            BgError::FileNotAvailable,
            BgError::ProtocolNotAvailable,
            BgError::ErrorInformationUnavailable,
            BgError::InvalidArgument("x".into()),
            BgError::StringTooLong { what: "x", len: 2, max: 1 },
            BgError::NotImplemented("x"),
            BgError::TooManyFilesInJob { limit: 1 },
            BgError::TooManyJobsPerUser { limit: 1 },
            BgError::TooManyJobsPerMachine { limit: 1 },
            BgError::ProxyListTooLarge { len: 2, max: 1 },
            BgError::ProxyBypassListTooLarge { len: 2, max: 1 },
            BgError::NoDescription { hresult: 1 },
            BgError::io("open", "/x", io::Error::other("x")),
            BgError::PathNotFound { path: "/x".into() },
            BgError::StoreLocked { path: "/x".into(), pid: None },
            BgError::StoreCorrupt { path: "/x".into(), reason: "x".into() },
            BgError::StoreTooNew { path: "/x".into(), found: 2, supported: 1 },
            BgError::StoreClosed { path: "/x".into() },
            BgError::StoreFailed { path: "/x".into(), reason: "x".into() },
            BgError::Transfer {
                hresult: hresult::BG_E_CONNECT_FAILURE,
                context: BgErrorContext::GeneralTransport,
                transient: true,
                message: "x".into(),
            },
            BgError::TransferStopped,
            BgError::Pending("x"),
            BgError::NotSet("x"),
            BgError::AccessDenied("x"),
            BgError::UserNameTooLarge { len: 2, max: 1 },
            BgError::PasswordTooLarge { len: 2, max: 1 },
            BgError::InvalidRange("x".into()),
            BgError::OverlappingRanges("x".into()),
            BgError::TooManyRangesInFile { count: 2, limit: 1 },
        ]
    }

    fn ordinal(error: &BgError) -> usize {
        match error {
            BgError::NotFound => 0,
            BgError::InvalidState { .. } => 1,
            BgError::Empty => 2,
            BgError::FileNotAvailable => 3,
            BgError::ProtocolNotAvailable => 4,
            BgError::ErrorInformationUnavailable => 5,
            BgError::InvalidArgument(_) => 6,
            BgError::StringTooLong { .. } => 7,
            BgError::NotImplemented(_) => 8,
            BgError::TooManyFilesInJob { .. } => 9,
            BgError::TooManyJobsPerUser { .. } => 10,
            BgError::TooManyJobsPerMachine { .. } => 11,
            BgError::ProxyListTooLarge { .. } => 12,
            BgError::ProxyBypassListTooLarge { .. } => 13,
            BgError::NoDescription { .. } => 14,
            BgError::Io { .. } => 15,
            BgError::PathNotFound { .. } => 16,
            BgError::StoreLocked { .. } => 17,
            BgError::StoreCorrupt { .. } => 18,
            BgError::StoreTooNew { .. } => 19,
            BgError::StoreClosed { .. } => 20,
            BgError::StoreFailed { .. } => 21,
            BgError::Transfer { .. } => 22,
            BgError::TransferStopped => 23,
            BgError::Pending(_) => 24,
            BgError::NotSet(_) => 25,
            BgError::AccessDenied(_) => 26,
            BgError::UserNameTooLarge { .. } => 27,
            BgError::PasswordTooLarge { .. } => 28,
            BgError::InvalidRange(_) => 29,
            BgError::OverlappingRanges(_) => 30,
            BgError::TooManyRangesInFile { .. } => 31,
        }
    }

    /// The variants whose HRESULT is their cause's, as the enum's documentation says.
    fn carries_its_cause(error: &BgError) -> bool {
        matches!(error, BgError::Io { .. } | BgError::Transfer { .. })
    }

    #[test]
    fn the_table_lists_every_variant() {
        let mut seen: Vec<usize> = one_of_each().iter().map(ordinal).collect();
        seen.dedup();
        assert_eq!(seen, (0..32).collect::<Vec<_>>());
    }

    #[test]
    fn every_variant_says_a_failure_hresult_and_no_two_share_one_unless_documented() {
        let mut owner: HashMap<u32, usize> = HashMap::new();
        for error in one_of_each() {
            let code = error.hresult();
            assert!(hresult::is_failure(code), "{error:?}: {code:#010x}");
            if carries_its_cause(&error) {
                continue;
            }
            let first = *owner.entry(code).or_insert(ordinal(&error));
            assert_eq!(first, ordinal(&error), "{error:?} shares {code:#010x}");
        }
        // The documented overlap: `Io` of an I/O error of no known kind is `E_FAIL`, as is
        // `StoreFailed`.
        let other = BgError::io("open", "/x", io::Error::other("x"));
        assert_eq!(other.hresult(), hresult::E_FAIL);
        assert_eq!(owner.get(&hresult::E_FAIL).copied(), Some(21));
    }

    #[test]
    fn invalid_state_is_the_one_spelling_of_bg_e_invalid_state() {
        let spelled: Vec<usize> = one_of_each()
            .iter()
            .filter(|e| !carries_its_cause(e) && e.hresult() == hresult::BG_E_INVALID_STATE)
            .map(ordinal)
            .collect();
        assert_eq!(spelled, [1, 1, 1, 1], "only InvalidState, with its four reasons");
    }
}
