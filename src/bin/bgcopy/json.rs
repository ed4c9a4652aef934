//! The stable JSON schema of `list --json` and `info --json` (documented in `args.rs`'s help
//! text and in the README), and the same records in the snapshot a holder publishes. Fields
//! may be added; none is renamed or removed.

use bgcopy::{
    BG_SIZE_UNKNOWN, BackgroundCopyError, BackgroundCopyFile, BackgroundCopyJob, BgErrorContext,
    BgJobState, Job,
};
use serde::{Deserialize, Serialize};

/// One job as `list --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobSummary {
    /// The id in braces, as `JobId` displays it.
    pub(crate) id: String,
    pub(crate) display_name: String,
    /// The `BgJobState` variant name.
    pub(crate) state: BgJobState,
    /// `None` (`null`) while the total is unknown (`BG_SIZE_UNKNOWN`).
    pub(crate) bytes_total: Option<u64>,
    pub(crate) bytes_transferred: u64,
    pub(crate) files_total: u32,
    pub(crate) files_transferred: u32,
}

/// One job as `info --json` prints it: the summary, its files and its error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobInfo {
    #[serde(flatten)]
    pub(crate) summary: JobSummary,
    pub(crate) files: Vec<FileInfo>,
    /// `None` (`null`) unless the job is in `Error` or `TransientError`.
    pub(crate) error: Option<ErrorInfo>,
    /// Connections per file the job allows (1 to 16).
    #[serde(default = "one")]
    pub(crate) max_connections: u32,
    /// The job's own cap in bytes per second; `None` (`null`): no cap.
    #[serde(default)]
    pub(crate) max_bytes_per_second: Option<u64>,
}

fn one() -> u32 {
    1
}

/// One file of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileInfo {
    pub(crate) remote: String,
    /// The absolute local name (lossy if it is not UTF-8).
    pub(crate) local: String,
    pub(crate) bytes_total: Option<u64>,
    pub(crate) bytes_transferred: u64,
    /// Whether `complete` made the file visible under its local name.
    pub(crate) completed: bool,
    /// The headers of the file's last response in the process that holds the store (one
    /// `Name: value` per CRLF-terminated line); absent before any (they are not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) response_headers: Option<String>,
}

/// The error of a job in `Error` or `TransientError`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorInfo {
    /// The `BgErrorContext` variant name.
    pub(crate) context: BgErrorContext,
    pub(crate) hresult: u32,
    /// `0x%08X`.
    pub(crate) hresult_hex: String,
    pub(crate) description: String,
    /// The transport's own words.
    pub(crate) message: String,
}

impl ErrorInfo {
    /// The context's name (`RemoteFile`), as JSON has it.
    pub(crate) fn context_name(&self) -> String {
        format!("{:?}", self.context)
    }
}

/// `None` for `BG_SIZE_UNKNOWN`.
fn known(bytes: u64) -> Option<u64> {
    (bytes != BG_SIZE_UNKNOWN).then_some(bytes)
}

impl JobInfo {
    /// The job as it is now.
    pub(crate) fn of(job: &Job) -> JobInfo {
        let progress = job.get_progress();
        let summary = JobSummary {
            id: job.get_id().to_string(),
            display_name: job.get_display_name(),
            state: job.get_state(),
            bytes_total: known(progress.bytes_total),
            bytes_transferred: progress.bytes_transferred,
            files_total: progress.files_total,
            files_transferred: progress.files_transferred,
        };
        let files = job
            .enum_files()
            .iter()
            .map(|file| {
                let progress = file.get_progress();
                FileInfo {
                    remote: file.get_remote_name(),
                    local: file.get_local_name().to_string_lossy().into_owned(),
                    bytes_total: known(progress.bytes_total),
                    bytes_transferred: progress.bytes_transferred,
                    completed: progress.completed,
                    response_headers: crate::sources::response_headers(file),
                }
            })
            .collect();
        let error = job.get_error().ok().map(|error| {
            let (context, hresult) = error.get_error();
            ErrorInfo {
                context,
                hresult,
                hresult_hex: format!("0x{hresult:08X}"),
                description: error.get_error_description(),
                message: error.message().to_owned(),
            }
        });
        JobInfo {
            summary,
            files,
            error,
            max_connections: job.get_max_connections(),
            max_bytes_per_second: job.get_max_bytes_per_second(),
        }
    }
}

/// Pretty JSON of `value` (the types here always serialize).
pub(crate) fn to_text(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"unserializable: {e}\""))
}
