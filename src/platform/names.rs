//! Local names: when two names are one file (case ignored on Windows and macOS), how long a path
//! and each of its names may be, and a path as the bytes a store record holds and back.

use std::path::{Path, PathBuf};

/// `path` (already lexically normal) in the form two names of one file share: lowercased where
/// the default file systems ignore case (NTFS on Windows, APFS on macOS), so that `a.bin` and
/// `A.BIN` are one name there; unchanged on Linux, whose file systems tell them apart. A path
/// that is not Unicode is left as it is. A case-sensitive volume mounted on macOS or Windows is
/// still folded (two names it tells apart are refused as one), and a case-insensitive one on
/// Linux is not.
#[cfg(any(windows, target_os = "macos"))]
pub(crate) fn case_folded(path: PathBuf) -> PathBuf {
    match path.to_str() {
        Some(text) => PathBuf::from(text.to_lowercase()),
        None => path,
    }
}

/// `path` (already lexically normal) in the form two names of one file share: lowercased where
/// the default file systems ignore case (NTFS on Windows, APFS on macOS), so that `a.bin` and
/// `A.BIN` are one name there; unchanged on Linux, whose file systems tell them apart.
#[cfg(not(any(windows, target_os = "macos")))]
pub(crate) fn case_folded(path: PathBuf) -> PathBuf {
    path
}

/// What [`path_len`] and [`name_len`] count.
#[cfg(windows)]
pub(crate) const LENGTH_UNIT: &str = "characters";
/// What [`path_len`] and [`name_len`] count.
#[cfg(not(windows))]
pub(crate) const LENGTH_UNIT: &str = "bytes";

/// The longest local path: `MAX_PATH` (260 UTF-16 units) on Windows, as BITS; on Unix the
/// platform's `PATH_MAX` less its terminating NUL (4095 bytes on Linux, 1023 on macOS and the
/// BSDs).
#[cfg(windows)]
pub(crate) const MAX_PATH_LEN: usize = 260;
/// The longest local path: `MAX_PATH` (260 UTF-16 units) on Windows, as BITS; on Unix the
/// platform's `PATH_MAX` less its terminating NUL (4095 bytes on Linux, 1023 on macOS and the
/// BSDs).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const MAX_PATH_LEN: usize = 4096 - 1;
/// The longest local path: `MAX_PATH` (260 UTF-16 units) on Windows, as BITS; on Unix the
/// platform's `PATH_MAX` less its terminating NUL (4095 bytes on Linux, 1023 on macOS and the
/// BSDs).
#[cfg(not(any(windows, target_os = "linux", target_os = "android")))]
pub(crate) const MAX_PATH_LEN: usize = 1024 - 1;

/// The longest name (one component of a path): 255, in bytes on Unix (`NAME_MAX`), in UTF-16
/// units on Windows (NTFS), never fewer than bytes there.
pub(crate) const MAX_NAME_LEN: usize = 255;

/// The length of `path` in the platform's unit ([`LENGTH_UNIT`]): UTF-16 units on Windows,
/// bytes on Unix.
pub(crate) fn path_len(path: &Path) -> usize {
    len(path.as_os_str())
}

/// The length of the longest name (component) of `path`, in the platform's unit.
pub(crate) fn longest_name_len(path: &Path) -> usize {
    path.iter().map(len).max().unwrap_or(0)
}

#[cfg(windows)]
fn len(text: &std::ffi::OsStr) -> usize {
    text.to_string_lossy().encode_utf16().count()
}

#[cfg(not(windows))]
fn len(text: &std::ffi::OsStr) -> usize {
    text.len()
}

/// The bytes a store record holds for `path`: its raw bytes on Unix (any bytes, not only
/// UTF-8); its UTF-8 text on Windows, `None` for a name that is not Unicode (it cannot be
/// recorded there).
#[cfg(feature = "store")]
pub(crate) fn path_bytes(path: &Path) -> Option<&[u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    path.to_str().map(str::as_bytes)
}

/// The path of the bytes [`path_bytes`] gave: any bytes on Unix; UTF-8 only elsewhere (`None`
/// for other bytes).
#[cfg(feature = "store")]
pub(crate) fn path_from_bytes(bytes: &[u8]) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    std::str::from_utf8(bytes).ok().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_is_folded_only_where_the_file_systems_ignore_it() {
        let same = case_folded(PathBuf::from("/d/a.bin")) == case_folded(PathBuf::from("/D/A.BIN"));
        assert_eq!(same, cfg!(any(windows, target_os = "macos")));
    }

    #[cfg(feature = "store")]
    #[test]
    fn paths_round_trip_through_their_record_bytes() {
        for path in ["/d/a.bin", "/d/é日本😀"] {
            let path = Path::new(path);
            let bytes = path_bytes(path).unwrap();
            assert_eq!(path_from_bytes(bytes).as_deref(), Some(path));
        }
        // Bytes that are not UTF-8 are a path on Unix only.
        assert_eq!(path_from_bytes(&[b'/', 0xff]).is_some(), cfg!(unix));
    }

    #[test]
    fn lengths_count_the_platforms_unit() {
        let path = Path::new("/d/éé");
        let expected = if cfg!(windows) { 5 } else { 7 };
        assert_eq!(path_len(path), expected);
        assert_eq!(longest_name_len(Path::new("/ab/cde/f")), 3);
        const { assert!(MAX_PATH_LEN >= 260 && MAX_NAME_LEN == 255) };
    }
}
