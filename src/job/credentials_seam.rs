//! `BackgroundCopyJob2` for [`Job`] on this branch: the credentials (`http_options.rs`); the
//! notify command line is the other half of issue 17's job side (branch `wip-srcjob`, whose
//! `sources.rs` has the whole trait): until that branch is merged it is refused with
//! `E_NOTIMPL`, never silently ignored. The integrator keeps `sources.rs`'s impl and drops this
//! file.

use super::handle::Job;
use crate::{
    BackgroundCopyJob2, BgAuthCredentials, BgAuthScheme, BgAuthTarget, BgError, BgSuccess, Result,
};
use std::path::{Path, PathBuf};

impl BackgroundCopyJob2 for Job {
    fn set_notify_cmd_line(&self, program: Option<&Path>, parameters: Option<&str>) -> Result<()> {
        let _ = (program, parameters);
        Err(BgError::NotImplemented("the notify command line"))
    }

    fn get_notify_cmd_line(&self) -> Option<(PathBuf, String)> {
        None
    }

    fn set_credentials(&self, credentials: &BgAuthCredentials) -> Result<()> {
        self.set_job_credentials(credentials)
    }

    fn remove_credentials(&self, target: BgAuthTarget, scheme: BgAuthScheme) -> Result<BgSuccess> {
        self.remove_job_credentials(target, scheme)
    }
}
