//! [`Failure`]: why a verb stopped early, its exit code (DESIGN 5.4) and what it says on
//! stderr. Every refused operation names its HRESULT as `0x%08X` and the description from
//! `bgcopy::hresult::description`.

use crate::events::Stop;
use crate::json::ErrorInfo;
use bgcopy::{BgError, JobId, hresult};
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

/// What a verb returns: `Ok` exits with 0.
pub(crate) type Outcome = Result<(), Failure>;

/// Why a verb failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A bgcopy call was refused (exit 1): what was being done, and the error.
    Refused { doing: String, error: BgError },
    /// The job ended in `Error`, or left the transfer some other way (exit 1).
    JobFailed { id: JobId, why: String, error: Option<ErrorInfo> },
    /// No such job (exit 3).
    NoSuchJob { id: JobId },
    /// Another process holds the store (exit 4).
    Locked { path: PathBuf, pid: Option<u32> },
    /// The command line cannot be carried out as written (exit 2).
    Usage(String),
    /// Ctrl-C, SIGTERM or SIGHUP (exit 128 plus the signal's number: 130, 143, 129); what was
    /// done about it was already said.
    Interrupted(Stop),
    /// Stdout is a pipe whose reader left (`bgcopy list | head -1`): stop writing and exit 0,
    /// saying nothing. The reader took what it wanted; the verb's work is done or not needed.
    ReaderLeft,
    /// Stdout cannot be written for another reason (a full disk behind a redirection; exit 1).
    Output(std::io::Error),
}

impl Failure {
    /// The failure of `doing`, by what went wrong: `BG_E_NOT_FOUND` is "no such job", a locked
    /// store is exit 4, anything else is refused.
    pub(crate) fn of(doing: impl Into<String>, id: Option<JobId>, error: BgError) -> Failure {
        match (error, id) {
            (BgError::NotFound, Some(id)) => Failure::NoSuchJob { id },
            (BgError::StoreLocked { path, pid }, _) => Failure::Locked { path, pid },
            (error, _) => Failure::Refused { doing: doing.into(), error },
        }
    }

    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::ReaderLeft => 0,
            Failure::Refused { .. } | Failure::JobFailed { .. } | Failure::Output(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NoSuchJob { .. } => 3,
            Failure::Locked { .. } => 4,
            Failure::Interrupted(stop) => stop.exit_code(),
        }
    }

    /// Says what happened on stderr and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        match &self {
            Failure::Interrupted(_) | Failure::ReaderLeft => {}
            other => say!("{other}"),
        }
        ExitCode::from(self.code())
    }
}

/// `0x80200002 The requested action is not allowed ...`: an HRESULT and its description.
pub(crate) struct Code(pub(crate) u32);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match hresult::description(self.0) {
            Some(text) => write!(f, "0x{:08X} {text}", self.0),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused { doing, error } => {
                writeln!(f, "bgcopy: cannot {doing}: {error}")?;
                write!(f, "bgcopy: {}", Code(error.hresult()))
            }
            Failure::JobFailed { id, why, error } => {
                write!(f, "bgcopy: job {id} {why}")?;
                if let Some(error) = error {
                    write!(f, "\nbgcopy: {} ({})", Code(error.hresult), error.context_name())?;
                    if !error.message.is_empty() {
                        write!(f, "\nbgcopy: {}", error.message)?;
                    }
                }
                Ok(())
            }
            Failure::NoSuchJob { id } => {
                write!(
                    f,
                    "bgcopy: no job {id} in this store\nbgcopy: {}",
                    Code(hresult::BG_E_NOT_FOUND)
                )
            }
            Failure::Locked { path, pid } => {
                let holder = match pid {
                    Some(pid) => format!("process {pid}"),
                    None => "another process".to_owned(),
                };
                writeln!(f, "bgcopy: the store {} is held by {holder}", path.display())?;
                writeln!(f, "bgcopy: {}", Code(hresult::ERROR_SHARING_VIOLATION_HR))?;
                write!(
                    f,
                    "bgcopy: list, info and monitor show its view; to change jobs, stop it first"
                )
            }
            Failure::Usage(message) => write!(f, "bgcopy: {message}"),
            Failure::Interrupted(stop) => write!(f, "bgcopy: {}", stop.word()),
            Failure::ReaderLeft => write!(f, "bgcopy: stdout closed"),
            Failure::Output(error) => write!(f, "bgcopy: cannot write to stdout: {error}"),
        }
    }
}
