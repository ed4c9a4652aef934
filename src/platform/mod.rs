//! What differs between Unix (Linux, macOS) and Windows, in one place: every `cfg(unix)`,
//! `cfg(windows)`, `target_os` and `std::os::` of the library is in this module, one file per
//! concept. The rest of the crate calls these functions and never asks which platform it is on.
//! A leaf: it knows nothing of the crate.
//!
//! Two exceptions, named: the built-in transport `transport/local.rs` keeps its own small `cfg`
//! for a source file's device and inode, because a built-in transport uses only the public API,
//! as a user's would (`tests/layers.rs` checks both); and the command line (`src/bin/`, a
//! separate crate target) keeps its signal handling (`src/bin/bgcopy/events.rs`) and its
//! snapshot file's checks.
//!
//! What holds where, per function (the README's table "What holds on each platform" says the
//! same for users):
//!
//! | function | Linux | macOS | Windows: what is **not** guaranteed |
//! |---|---|---|---|
//! | [`files::private_options`] | mode `0600`, `O_NOFOLLOW`: a planted symlink fails the open | same | no mode (the directory's ACL applies) and no `O_NOFOLLOW`: a link (reparse point) at the name is followed |
//! | [`files::FileId::of`] | device and inode | same | `None`: a file put at the name later is not told apart by identity |
//! | [`files::foreign`] | another owner (effective user id) or more than one link is foreign | same | never foreign: owner and links are not checked |
//! | [`files::write_all_at`] | `pwrite`, no shared cursor moves | same | `seek_write`, which moves the handle's cursor (no caller uses it) |
//! | [`dirs::sync_dir`] | `fsync` of the directory; errors are returned | `fsync`, which std makes `F_FULLFSYNC` (milliseconds each) | nothing: a directory cannot be synced, so a rename or a new name may be lost at a power loss |
//! | [`dirs::make_private_dir`], [`dirs::make_private_file`] | modes `0700`, `0600` | same | nothing: the inherited ACL applies (`%LOCALAPPDATA%` is private) |
//! | [`names::case_folded`] | case kept: `a.bin` and `A.BIN` are two files | lowercased (APFS ignores case by default) | lowercased (NTFS ignores case); a case-sensitive volume is folded all the same |
//! | [`names::MAX_PATH_LEN`], [`names::MAX_NAME_LEN`] | 4095 bytes (`PATH_MAX` less its NUL), names 255 bytes | 1023 bytes, names 255 bytes | 260 UTF-16 units (`MAX_PATH`, as BITS), names 255 |
//! | [`names::path_bytes`], [`names::path_from_bytes`] | any bytes | same | UTF-8 only: a name that is not Unicode cannot be recorded in a store |
//! | [`tls::VERIFIER_CHECKS_REVOCATION`] | `false`: the verifier does not check revocation, so `ENABLE_CRL_CHECK` is `E_NOTIMPL` | `true` | `true` |
//! | [`errors::win32_code`] | `None` (errno is no Win32 code; the error's kind is mapped) | same | the Win32 code, which is the HRESULT's |
//!
//! Not here because std already makes it portable: the store's lock (`File::try_lock`, `flock`
//! on Unix, `LockFileEx` on Windows, where the holder's pid cannot be read) and renames
//! (`rename` replaces the destination everywhere; on Windows it fails while another process
//! holds the destination open without `FILE_SHARE_DELETE`).

pub(crate) mod dirs;
pub(crate) mod errors;
pub(crate) mod files;
pub(crate) mod names;
pub(crate) mod tls;
