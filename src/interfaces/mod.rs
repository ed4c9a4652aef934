//! The interface traits, one per Windows interface, every method in snake case. The callback
//! interface, which users implement and which is called with bgcopy's concrete handles, lives with
//! the job model ([`BackgroundCopyCallback`](crate::BackgroundCopyCallback)); these four know
//! only the mirror types, through associated types.
//!
//! | Trait | Windows interface | bgcopy type |
//! |---|---|---|
//! | [`BackgroundCopyManager`] | `IBackgroundCopyManager` | [`Manager`](crate::Manager) |
//! | [`BackgroundCopyJob`] | `IBackgroundCopyJob` | [`Job`](crate::Job) |
//! | [`BackgroundCopyJob2`] … [`BackgroundCopyJob5`] | `IBackgroundCopyJob2` … `5` | [`Job`](crate::Job) |
//! | [`BackgroundCopyJobHttpOptions`] | `IBackgroundCopyJobHttpOptions` (`2`, `3`) | [`Job`](crate::Job) |
//! | [`BackgroundCopyFile`] | `IBackgroundCopyFile` | [`JobFile`](crate::JobFile) |
//! | [`BackgroundCopyFile2`] … [`BackgroundCopyFile6`] | `IBackgroundCopyFile2` … `6` | [`JobFile`](crate::JobFile) |
//! | [`BackgroundCopyError`] | `IBackgroundCopyError` | [`JobError`](crate::JobError) |
//! | [`BackgroundCopyCallback`](crate::BackgroundCopyCallback) | `IBackgroundCopyCallback` (+ `Callback2::FileTransferred`) | implemented by users |
//!
//! COM enumerators (`IEnumBackgroundCopyJobs`, `IEnumBackgroundCopyFiles`) become `Vec` snapshots;
//! out-parameters become return values, so the `E_INVALIDARG` of a NULL out-pointer cannot happen.
//! The traits use associated types so that another implementation (a Windows adapter, a test
//! double) can implement the same interfaces with its own handle types.

mod copy_error;
mod file;
mod file_later;
mod http_options;
mod job;
mod job_later;
mod manager;

pub use copy_error::BackgroundCopyError;
pub use file::BackgroundCopyFile;
pub use file_later::{
    BackgroundCopyFile2, BackgroundCopyFile3, BackgroundCopyFile4, BackgroundCopyFile5,
    BackgroundCopyFile6,
};
pub use http_options::BackgroundCopyJobHttpOptions;
pub use job::BackgroundCopyJob;
pub use job_later::{
    BackgroundCopyJob2, BackgroundCopyJob3, BackgroundCopyJob4, BackgroundCopyJob5,
};
pub use manager::BackgroundCopyManager;
