//! The job's files on disk: temporary files next to their destination, created exclusively with
//! owner-only permissions and never through a symlink; commit (fsync, rename, directory fsync) and
//! removal.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The temporary file name for one file of a job: hidden, in the destination directory, tagged
/// with the job id and file index so two jobs never share one. `attempt` > 0 picks another name
/// when the first is taken.
pub(crate) fn temp_path(
    local_name: &Path,
    job: crate::JobId,
    index: usize,
    attempt: u32,
) -> PathBuf {
    let dir = local_name.parent().unwrap_or_else(|| Path::new("/"));
    let name = local_name.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tag = format!("{:08x}", (job.as_u128() >> 96) as u32);
    let suffix = if attempt == 0 { String::new() } else { format!("-{attempt}") };
    dir.join(format!(".{name}.{tag}-{index}{suffix}.bgcopy.tmp"))
}

/// Whether `candidate`, a file name in the destination directory of `local_name`, is one of the
/// names [`temp_path`] gives file `index` of `job` (any attempt): how a store finds the
/// temporary files of its jobs that no record names (orphans), and touches nothing else.
pub(crate) fn is_temp_name(
    candidate: &std::ffi::OsStr,
    local_name: &Path,
    job: crate::JobId,
    index: usize,
) -> bool {
    let first = temp_path(local_name, job, index, 0);
    let Some(first) = first.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return false;
    };
    let stem = first.strip_suffix(".bgcopy.tmp").unwrap_or(&first);
    let candidate = candidate.to_string_lossy();
    let Some(rest) = candidate.strip_prefix(stem) else { return false };
    let Some(attempt) = rest.strip_suffix(".bgcopy.tmp") else { return false };
    attempt.is_empty()
        || attempt
            .strip_prefix('-')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Owner-only permissions; never follow a symlink planted at the name.
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Creates a new temporary file; fails if anything (a file, a symlink) is at the name already.
pub(crate) fn create_temp(path: &Path) -> io::Result<File> {
    options().create_new(true).open(path)
}

/// Opens an existing temporary file to continue it; never follows a symlink.
pub(crate) fn open_temp(path: &Path) -> io::Result<File> {
    let file = options().open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "temporary file is not a regular file",
        ));
    }
    Ok(file)
}

/// Makes a finished temporary file visible under its local name: fsync the data, rename atomically
/// (replacing an existing file, as Windows does), fsync the directory so the rename is durable.
pub(crate) fn commit(temp: &Path, local_name: &Path) -> io::Result<()> {
    publish(temp, local_name, false)?;
    sync_dirs([local_name])
}

/// [`commit`] without the directory fsync: the file is in place, atomically and with its data
/// synced (by this call, unless `synced` says it already is), but the rename is durable only
/// after [`sync_dirs`] of its name. `complete()` renames every file first and then syncs each
/// directory once, not once per file.
pub(crate) fn publish(temp: &Path, local_name: &Path, synced: bool) -> io::Result<()> {
    crate::faults::point("commit:before-sync", temp);
    // Opened even when synced: `open_temp` refuses a temporary file that is not a regular file.
    // Closed before the rename (Windows does not rename an open file).
    let file = open_temp(temp)?;
    if !synced {
        file.sync_all()?;
    }
    drop(file);
    crate::faults::point("commit:before-rename", temp);
    std::fs::rename(temp, local_name)?;
    crate::faults::point("commit:renamed", local_name);
    Ok(())
}

/// Fsyncs the directory of each of `names` once (a directory named twice is synced once), so
/// that the names created or renamed into them are durable.
///
/// # Errors
/// The first directory that cannot be opened or synced: a rename whose durability is unknown is
/// an error, not a silent success (DESIGN 6.1). On Windows a directory cannot be synced this
/// way: there this does nothing (see the README's platform table).
pub(crate) fn sync_dirs<'a>(names: impl IntoIterator<Item = &'a Path>) -> io::Result<()> {
    let mut dirs: Vec<&Path> = names.into_iter().filter_map(Path::parent).collect();
    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir)?;
        crate::faults::point("dir:synced", dir);
    }
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        // Gone with everything in it: nothing of it is left to make durable.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(dir) => dir.sync_all(),
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Deletes a temporary file; one that is already gone counts as deleted.
pub(crate) fn remove(temp: &Path) -> io::Result<()> {
    crate::faults::point("remove:before", temp);
    match std::fs::remove_file(temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_of_a_file_are_recognised_and_nothing_else() {
        let job = crate::JobId::from_u128(0xABCD_EF01 << 96);
        let local = Path::new("/d/report.pdf");
        for attempt in [0, 1, 12] {
            let name = temp_path(local, job, 3, attempt);
            assert!(is_temp_name(name.file_name().unwrap(), local, job, 3), "{name:?}");
        }
        let other_index = temp_path(local, job, 31, 0);
        assert!(!is_temp_name(other_index.file_name().unwrap(), local, job, 3));
        let other_job = temp_path(local, crate::JobId::from_u128(7), 3, 0);
        assert!(!is_temp_name(other_job.file_name().unwrap(), local, job, 3));
        for stranger in
            ["report.pdf", ".report.pdf.abcdef01-3.tmp", ".report.pdf.abcdef01-3-x.bgcopy.tmp"]
        {
            assert!(!is_temp_name(std::ffi::OsStr::new(stranger), local, job, 3), "{stranger}");
        }
    }
}
