//! Where the bytes come from (DESIGN 6.2) on the command line: the global `--cache-host`,
//! `--header` and `--mirror` of `transfer` and `addfile`, and the verbs `setremotename`,
//! `replaceremoteprefix`, `setnotifycmdline` and `getresponseheaders`.

use crate::failure::{Code, Failure, Outcome};
use crate::json::FileInfo;
use crate::open::{self, Engine, View};
use crate::verbs::find;
use crate::{output, snapshot};
use bgcopy::{
    BackgroundCopyFile, BackgroundCopyFile2, BackgroundCopyFile5, BackgroundCopyJob,
    BackgroundCopyJob2, BackgroundCopyJob3, BackgroundCopyJobHttpOptions, BgFileProperty,
    BgFilePropertyId, BgSuccess, Job, JobFile, JobId, ManagerBuilder,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The cache host of this run (`--cache-host`), for every manager the verb opens.
static CACHE_HOST: OnceLock<String> = OnceLock::new();

/// Records `--cache-host` for [`configure`].
pub(crate) fn set_cache_host(host: Option<String>) {
    if let Some(host) = host {
        let _ = CACHE_HOST.set(host);
    }
}

/// `builder` with the cache host of the command line, if one was given.
pub(crate) fn configure(builder: ManagerBuilder) -> ManagerBuilder {
    match CACHE_HOST.get() {
        Some(host) => builder.cache_host(host),
        None => builder,
    }
}

/// One `--header "Name: value"`: split at the first colon, the value's leading blanks dropped.
pub(crate) fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) =
        text.split_once(':').ok_or_else(|| format!("{text:?}: a header is \"Name: value\""))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{text:?}: the header has no name"));
    }
    Ok((name.to_owned(), value.trim_start().to_owned()))
}

/// `--header` and `--mirror` of `transfer` and `addfile`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct SourceArgs {
    /// A custom header sent to the file's own server only (never to a mirror, a redirect
    /// to another server or the cache host), "Name: value"; repeatable. Kept write-only:
    /// it cannot be read back.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub(crate) headers: Vec<(String, String)>,
    /// A mirror of the file, tried in order when its URL fails; repeatable (at most 16).
    /// Bytes of two sources are joined only when both give the same size and strong
    /// validator. With `transfer`, only for a single URL DEST pair.
    #[arg(long = "mirror", value_name = "URL")]
    pub(crate) mirrors: Vec<String>,
}

impl SourceArgs {
    /// Sets the headers (write-only) on `job` and the mirrors on each of `files`.
    pub(crate) fn apply(&self, job: &Job, files: &[JobFile]) -> Result<(), Failure> {
        let id = job.get_id();
        if !self.headers.is_empty() {
            let headers: Vec<(&str, &str)> =
                self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            job.set_custom_headers(&headers)
                .and_then(|()| job.make_custom_headers_write_only())
                .map_err(|e| Failure::of(format!("set the headers of job {id}"), Some(id), e))?;
        }
        if !self.mirrors.is_empty() {
            let mirrors: Vec<&str> = self.mirrors.iter().map(String::as_str).collect();
            for file in files {
                file.set_mirrors(&mirrors).map_err(|e| {
                    Failure::of(
                        format!("set the mirrors of {}", file.get_remote_name()),
                        Some(id),
                        e,
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// The file of `job` that `which` names: its index as `info` shows it (from 0), or its local
/// name (as given, or made absolute from the current directory).
fn file_of(job: &Job, which: &str) -> Result<JobFile, Failure> {
    let files = job.enum_files();
    if let Some(file) = which.parse::<usize>().ok().and_then(|index| files.get(index)) {
        return Ok(file.clone());
    }
    let wanted = crate::location::absolute(Path::new(which))?;
    let found = files.into_iter().find(|f| f.get_local_name() == wanted);
    found.ok_or_else(|| no_file(job.get_id(), which))
}

/// `setremotename ID FILE URL`: a new URL for one file (e.g. a signed URL that expired).
pub(crate) fn set_remote_name(dir: &Path, id: JobId, which: &str, url: &str) -> Outcome {
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    let file = file_of(&job, which)?;
    file.set_remote_name(url)
        .map_err(|e| Failure::of(format!("set the remote name of file {which}"), Some(id), e))?;
    say!("bgcopy: file {} of job {id} now comes from {url}", file.get_local_name().display());
    Ok(())
}

/// `replaceremoteprefix ID OLD NEW`: every file whose URL starts with OLD (case-sensitive).
pub(crate) fn replace_remote_prefix(dir: &Path, id: JobId, old: &str, new: &str) -> Outcome {
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    let success = job
        .replace_remote_prefix(old, new)
        .map_err(|e| Failure::of(format!("replace the prefix {old}"), Some(id), e))?;
    if success == BgSuccess::NoChange {
        say!("bgcopy: no URL of job {id} starts with {old} ({})", Code(success.hresult()));
    } else {
        say!("bgcopy: the URLs of job {id} that started with {old} now start with {new}");
    }
    Ok(())
}

/// `setnotifycmdline ID PROGRAM [PARAMETERS]...`, as bitsadmin: `NULL` for no program (then
/// no parameters) or no parameters; the parameters start with the program's name. Several
/// words of parameters are joined with spaces.
pub(crate) fn set_notify_cmd_line(
    dir: &Path,
    id: JobId,
    program: &str,
    parameters: &[String],
) -> Outcome {
    let program = (program != "NULL").then(|| PathBuf::from(program));
    let parameters = match parameters {
        [] => None,
        [null] if null == "NULL" => None,
        words => Some(words.join(" ")),
    };
    let manager = open::for_change(dir, Engine::Off)?;
    let job = find(&manager, id)?;
    job.set_notify_cmd_line(program.as_deref(), parameters.as_deref()).map_err(|e| {
        Failure::of(format!("set the notify command line of job {id}"), Some(id), e)
    })?;
    match &program {
        Some(program) => say!(
            "bgcopy: job {id} runs {} when it is transferred or in error (in the process that \
             holds the store, e.g. `bgcopy serve`)",
            program.display()
        ),
        None => say!("bgcopy: job {id} runs no program"),
    }
    Ok(())
}

/// The headers of `file`'s last response, if it had one in this process.
pub(crate) fn response_headers(file: &JobFile) -> Option<String> {
    match file.get_property(BgFilePropertyId::HttpResponseHeaders) {
        Ok(BgFileProperty::HttpResponseHeaders(headers)) => Some(headers),
        _ => None,
    }
}

/// `getresponseheaders ID [FILE]`: the headers of the last response of each file (or of one),
/// each file's after a `# URL` line. The library keeps them in memory, not in the store: they
/// are those of the process that holds the store (`bgcopy serve`, a running `transfer`), read
/// from its published view; a file with none says `# not set (0x80070490)`.
pub(crate) fn get_response_headers(dir: &Path, id: JobId, which: Option<&str>) -> Outcome {
    let jobs = match open::for_reading(dir, open::PATIENCE)? {
        View::Direct(manager) => snapshot::jobs_of(&manager),
        View::Holder(snapshot) => {
            open::say_holder(&snapshot);
            snapshot.jobs
        }
    };
    let wanted = id.to_string();
    let job = jobs.into_iter().find(|job| job.summary.id == wanted);
    let job = job.ok_or(Failure::NoSuchJob { id })?;
    let chosen: Vec<&FileInfo> = match which {
        None => job.files.iter().collect(),
        Some(which) => {
            let index = which.parse::<usize>().ok().filter(|&i| i < job.files.len());
            let local = crate::location::absolute(Path::new(which))?;
            let found = match index {
                Some(index) => job.files.get(index),
                None => job.files.iter().find(|f| Path::new(&f.local) == local),
            };
            vec![found.ok_or_else(|| no_file(id, which))?]
        }
    };
    let mut out = String::new();
    for file in chosen {
        let _ = writeln!(out, "# {}", file.remote);
        match &file.response_headers {
            Some(headers) => out.push_str(headers),
            None => {
                let _ = writeln!(out, "# not set ({})", Code(NOT_SET));
            }
        }
    }
    output::print(&out)
}

/// `E_NOT_SET`: no response yet.
const NOT_SET: u32 = 0x8007_0490;

/// The usage error for a file a job does not have.
fn no_file(id: JobId, which: &str) -> Failure {
    Failure::Usage(format!("job {id} has no file {which:?} (an index from 0, or a local name)"))
}
