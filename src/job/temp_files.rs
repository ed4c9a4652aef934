//! The job's files on disk: temporary files next to their destination, created exclusively with
//! owner-only permissions and never through a symlink; commit (fsync, rename, directory fsync) and
//! removal. What of that holds on Windows and macOS: `crate::platform`.

use crate::platform::files::foreign;
use sha2::Digest;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The longest file name (one path component, in bytes) the common file systems take
/// (`NAME_MAX` on Linux and macOS; NTFS counts 255 UTF-16 units, never fewer than bytes).
const NAME_MAX: usize = crate::platform::names::MAX_NAME_LEN;
/// What every temporary name ends with.
const TEMP_SUFFIX: &str = ".bgcopy.tmp";
/// Room kept for the attempt part (`-{attempt}`) of a shortened name: the longest `u32`.
const ATTEMPT_ROOM: usize = 1 + 10;
/// Hex digits of the hash of the full name in a shortened temporary name.
const HASH_DIGITS: usize = 16;

/// The temporary file name for one file of a job: hidden, in the destination directory, tagged
/// with the job id and file index so two jobs never share one. `attempt` > 0 picks another name
/// when the first is taken.
///
/// The name is `.{name}.{8 hex of the id}-{index}{-attempt}.bgcopy.tmp`, always within
/// [`NAME_MAX`] bytes: when that would be too long for some attempt, `{name}` becomes its first
/// bytes (cut at a character) then `~` and a hash of the whole name, so that a local name that
/// passes validation never fails at transfer with `ENAMETOOLONG`.
pub(crate) fn temp_path(
    local_name: &Path,
    job: crate::JobId,
    index: usize,
    attempt: u32,
) -> PathBuf {
    let dir = local_name.parent().unwrap_or_else(|| Path::new("/"));
    let suffix = if attempt == 0 { String::new() } else { format!("-{attempt}") };
    dir.join(format!("{}{suffix}{TEMP_SUFFIX}", temp_stem(local_name, job, index)))
}

/// The part of every temporary name of file `index` of `job` before the attempt.
fn temp_stem(local_name: &Path, job: crate::JobId, index: usize) -> String {
    let tail = tag_and_index(job, index);
    let long = legacy_stem(local_name, &tail);
    if long.len() + ATTEMPT_ROOM + TEMP_SUFFIX.len() <= NAME_MAX {
        return long;
    }
    let raw = local_name.file_name().unwrap_or_default();
    let digest = sha2::Sha256::digest(raw.as_encoded_bytes());
    let hash: String = digest.iter().take(HASH_DIGITS / 2).map(|b| format!("{b:02x}")).collect();
    let name = file_name(local_name);
    // `.` + stem + `~` + hash + tail + attempt + suffix.
    let room =
        NAME_MAX.saturating_sub(2 + HASH_DIGITS + tail.len() + ATTEMPT_ROOM + TEMP_SUFFIX.len());
    let mut cut = room.min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}~{hash}{tail}", &name[..cut])
}

/// `.{8 hex of the job id}-{index}`.
fn tag_and_index(job: crate::JobId, index: usize) -> String {
    format!(".{:08x}-{index}", (job.as_u128() >> 96) as u32)
}

/// The local name's last component as text (lossy).
fn file_name(local_name: &Path) -> String {
    local_name.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The stem of version 0.2's names, whatever their length: `.{name}{tail}`.
fn legacy_stem(local_name: &Path, tail: &str) -> String {
    format!(".{}{tail}", file_name(local_name))
}

/// Whether `candidate`, a file name in the destination directory of `local_name`, is one of the
/// names [`temp_path`] gives file `index` of `job` (any attempt), or one version 0.2 gave it (a
/// store of 0.2 may hold one): how a store finds the temporary files of its jobs that no record
/// names (orphans), and touches nothing else.
#[cfg(feature = "store")]
pub(crate) fn is_temp_name(
    candidate: &std::ffi::OsStr,
    local_name: &Path,
    job: crate::JobId,
    index: usize,
) -> bool {
    let candidate = candidate.to_string_lossy();
    let Some(rest) = candidate.strip_suffix(TEMP_SUFFIX) else { return false };
    let legacy = legacy_stem(local_name, &tag_and_index(job, index));
    [temp_stem(local_name, job, index), legacy].iter().any(|stem| {
        rest.strip_prefix(stem.as_str()).is_some_and(|attempt| {
            attempt.is_empty()
                || attempt
                    .strip_prefix('-')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// The identity of a temporary file as it was created (device and inode on Unix): a file put at
/// the name later (a tmp cleaner deleted ours, someone else made one) has another identity, so
/// it is never taken for ours (R7).
pub(crate) use crate::platform::files::FileId;

/// Why a file at a temporary name is not taken for ours (inside an `io::Error`).
#[derive(Debug)]
struct NotOurs(&'static str);

impl std::fmt::Display for NotOurs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the file at the temporary name is not this job's: {}", self.0)
    }
}

impl std::error::Error for NotOurs {}

/// Whether `error` says the file at a temporary name is not the one this job created (another
/// owner, more than one link, another identity): it must be left alone, neither written to nor
/// deleted, and the file restarts in a new temporary file.
pub(crate) fn is_not_ours(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<NotOurs>())
}

/// Whether the file of `metadata` cannot be a temporary file this process created (see
/// [`open_temp`]): recovery never resumes from it.
#[cfg(feature = "store")]
pub(crate) fn is_foreign(metadata: &std::fs::Metadata) -> bool {
    foreign(metadata).is_some()
}

/// Creates a new temporary file; fails if anything (a file, a symlink) is at the name already.
pub(crate) fn create_temp(path: &Path) -> io::Result<File> {
    crate::platform::files::private_options().create_new(true).open(path)
}

/// Opens an existing temporary file to continue it; never follows a symlink. With `expected`,
/// the file must be the one created then.
///
/// # Errors
/// `InvalidInput` for a file that is not a regular file; an error [`is_not_ours`] says yes to
/// for a file another user owns, one with more than one link, or one of another identity than
/// `expected` (nothing is written to it); any error of opening it.
pub(crate) fn open_temp(path: &Path, expected: Option<FileId>) -> io::Result<File> {
    let file = crate::platform::files::private_options().open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "temporary file is not a regular file",
        ));
    }
    if let Some(why) = foreign(&metadata) {
        return Err(io::Error::other(NotOurs(why)));
    }
    if expected.is_some_and(|id| FileId::of(&file) != Some(id)) {
        return Err(io::Error::other(NotOurs("it is not the file created")));
    }
    Ok(file)
}

/// Makes a finished temporary file visible under its local name: fsync the data, rename atomically
/// (replacing an existing file, as Windows does), fsync the directory so the rename is durable.
#[cfg(feature = "store")]
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
    let file = open_temp(temp, None)?;
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
        crate::platform::dirs::sync_dir(dir)?;
        crate::faults::point("dir:synced", dir);
    }
    Ok(())
}

/// Deletes a temporary file; one that is already gone counts as deleted, and so does one that
/// cannot be ours (another user's, or a hard link: R7), which is left in place.
pub(crate) fn remove(temp: &Path) -> io::Result<()> {
    crate::faults::point("remove:before", temp);
    if std::fs::symlink_metadata(temp).is_ok_and(|m| m.is_file() && foreign(&m).is_some()) {
        return Ok(());
    }
    match std::fs::remove_file(temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(all(test, feature = "store"))]
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

    /// Names of 222 to 255 bytes (and multi-byte ones cut inside a character) once gave
    /// temporary names past `NAME_MAX` (`ENAMETOOLONG` at transfer).
    #[test]
    fn temp_names_of_long_local_names_fit_in_255_bytes_and_are_recognised() {
        let job = crate::JobId::from_u128(u128::MAX);
        let ascii = |n: usize| "a".repeat(n);
        let accented = |n: usize| format!("{}{}", "é".repeat(n / 2), "b".repeat(n % 2));
        for len in [200, 221, 222, 230, 232, 233, 250, 254, 255] {
            for name in [ascii(len), accented(len)] {
                assert_eq!(name.len(), len);
                let local = Path::new("/d").join(&name);
                for index in [0, 199, usize::MAX] {
                    for attempt in [0, 1, 15, u32::MAX] {
                        let temp = temp_path(&local, job, index, attempt);
                        let temp_name = temp.file_name().unwrap();
                        assert!(temp_name.len() <= 255, "{len}: {} bytes", temp_name.len());
                        assert_eq!(temp.parent(), Some(Path::new("/d")));
                        assert!(is_temp_name(temp_name, &local, job, index), "{temp:?}");
                        let other = if index == 0 { 1 } else { 0 };
                        assert!(!is_temp_name(temp_name, &local, job, other), "{temp:?}");
                        let other_job = crate::JobId::from_u128(7);
                        assert!(!is_temp_name(temp_name, &local, other_job, index), "{temp:?}");
                    }
                }
                // Another long name with the same first bytes is another file: not recognised.
                let (last, _) = name.char_indices().next_back().unwrap();
                let sibling = Path::new("/d").join(format!("{}x", &name[..last]));
                let theirs = temp_path(&sibling, job, 0, 0);
                assert!(!is_temp_name(theirs.file_name().unwrap(), &local, job, 0), "{theirs:?}");
            }
        }
    }

    #[test]
    fn names_of_version_0_2_are_still_recognised_and_strangers_are_not() {
        let job = crate::JobId::from_u128(0xABCD_EF01 << 96);
        // 0.2 made `.{name}.{tag}-{index}{-attempt}.bgcopy.tmp` whatever the length.
        for len in [10, 225, 232] {
            let name = "n".repeat(len);
            let local = Path::new("/d").join(&name);
            for old in [
                format!(".{name}.abcdef01-3.bgcopy.tmp"),
                format!(".{name}.abcdef01-3-2.bgcopy.tmp"),
            ] {
                assert!(is_temp_name(std::ffi::OsStr::new(&old), &local, job, 3), "{old}");
            }
            let short = temp_path(&local, job, 3, 0);
            let short = short.file_name().unwrap().to_string_lossy().into_owned();
            for stranger in [
                name.clone(),
                format!(".{name}.abcdef01-3.tmp"),
                format!(".{name}.abcdef01-3-.bgcopy.tmp"),
                format!(".{name}.abcdef01-3-x.bgcopy.tmp"),
                format!(".{name}.abcdef01-4.bgcopy.tmp"),
                format!(".{name}~0123456789abcdef.abcdef01-3.bgcopy.tmp"),
                short.replace(".bgcopy.tmp", "-1x.bgcopy.tmp"),
                format!("x{short}"),
            ] {
                assert!(
                    !is_temp_name(std::ffi::OsStr::new(&stranger), &local, job, 3),
                    "{stranger}"
                );
            }
        }
    }
}
