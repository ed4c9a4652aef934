use serde::{Deserialize, Serialize};
use std::fmt;

/// Scheduling priority of a job (`BG_JOB_PRIORITY`); the default is [`BgJobPriority::Normal`].
///
/// A higher level runs before a lower one; jobs of equal level take turns; `Foreground` jobs run
/// alongside background ones. `Foreground` is the highest level and compares as the *smallest*
/// value, as in Windows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[repr(u32)]
pub enum BgJobPriority {
    /// Competes with other applications for bandwidth; highest (`BG_JOB_PRIORITY_FOREGROUND`).
    Foreground = 0,
    /// High background priority (`BG_JOB_PRIORITY_HIGH`).
    High = 1,
    /// Normal background priority; the default (`BG_JOB_PRIORITY_NORMAL`).
    #[default]
    Normal = 2,
    /// Low background priority (`BG_JOB_PRIORITY_LOW`).
    Low = 3,
}

super::enum_try_from_u32!(BgJobPriority, "BG_JOB_PRIORITY", [Foreground, High, Normal, Low]);

/// The kind of job (`BG_JOB_TYPE`). bgcopy runs `Download` jobs; the others are refused with
/// `E_NOTIMPL` by `create_job`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgJobType {
    /// Download files from remote names to local names (`BG_JOB_TYPE_DOWNLOAD`).
    #[default]
    Download = 0,
    /// Upload one file (`BG_JOB_TYPE_UPLOAD`); not supported.
    Upload = 1,
    /// Upload one file and receive a reply (`BG_JOB_TYPE_UPLOAD_REPLY`); not supported.
    UploadReply = 2,
}

super::enum_try_from_u32!(BgJobType, "BG_JOB_TYPE", [Download, Upload, UploadReply]);

/// Where an error happened (`BG_ERROR_CONTEXT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgErrorContext {
    /// No error (`BG_ERROR_CONTEXT_NONE`).
    #[default]
    None = 0,
    /// The context is not known (`BG_ERROR_CONTEXT_UNKNOWN`).
    Unknown = 1,
    /// Raised by the queue manager (`BG_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER`).
    GeneralQueueManager = 2,
    /// Raised while notifying the client (`BG_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION`).
    QueueManagerNotification = 3,
    /// A problem with the local file: permissions, a missing directory, a full disk
    /// (`BG_ERROR_CONTEXT_LOCAL_FILE`).
    LocalFile = 4,
    /// A problem with the remote file: it does not exist or cannot be read
    /// (`BG_ERROR_CONTEXT_REMOTE_FILE`).
    RemoteFile = 5,
    /// A transport failure not tied to the file (`BG_ERROR_CONTEXT_GENERAL_TRANSPORT`).
    GeneralTransport = 6,
    /// The server application failed (`BG_ERROR_CONTEXT_REMOTE_APPLICATION`).
    RemoteApplication = 7,
}

super::enum_try_from_u32!(
    BgErrorContext,
    "BG_ERROR_CONTEXT",
    [
        None,
        Unknown,
        GeneralQueueManager,
        QueueManagerNotification,
        LocalFile,
        RemoteFile,
        GeneralTransport,
        RemoteApplication
    ]
);

impl BgErrorContext {
    /// A readable sentence describing the context (what
    /// [`BackgroundCopyError::get_error_context_description`](crate::BackgroundCopyError::get_error_context_description)
    /// returns).
    pub const fn description(self) -> &'static str {
        match self {
            BgErrorContext::None => "No error has occurred.",
            BgErrorContext::Unknown => "The error happened in an unknown place.",
            BgErrorContext::GeneralQueueManager => "The error happened in the job queue manager.",
            BgErrorContext::QueueManagerNotification => {
                "The error happened while the queue manager was notifying the client."
            }
            BgErrorContext::LocalFile => "The error happened while handling the local file.",
            BgErrorContext::RemoteFile => "The error happened while handling the remote file.",
            BgErrorContext::GeneralTransport => {
                "The error happened in the transport layer, before the remote file was reached."
            }
            BgErrorContext::RemoteApplication => "The server application reported an error.",
        }
    }
}

impl fmt::Display for BgErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// How a job finds its proxy (`BG_JOB_PROXY_USAGE`); the default is [`BgJobProxyUsage::Preconfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[repr(u32)]
pub enum BgJobProxyUsage {
    /// The system's or user's settings (for bgcopy: the usual proxy environment variables)
    /// (`BG_JOB_PROXY_USAGE_PRECONFIG`).
    #[default]
    Preconfig = 0,
    /// Connect directly (`BG_JOB_PROXY_USAGE_NO_PROXY`).
    NoProxy = 1,
    /// Use the job's proxy list and bypass list (`BG_JOB_PROXY_USAGE_OVERRIDE`).
    Override = 2,
    /// Detect the proxy automatically (`BG_JOB_PROXY_USAGE_AUTODETECT`).
    Autodetect = 3,
}

super::enum_try_from_u32!(
    BgJobProxyUsage,
    "BG_JOB_PROXY_USAGE",
    [Preconfig, NoProxy, Override, Autodetect]
);
