//! Checks of the strings and names a caller passes in: limits, schemes, absolute paths.
//! Each failure is the `BgError` Windows gives for it; nothing here touches a job. Only
//! [`directory_is_missing`] looks at the file system.

use crate::platform::names;
use crate::{BgError, Result};
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Display name limit, in UTF-16 units (`CreateJob`, `SetDisplayName`).
pub(crate) const MAX_DISPLAY_NAME: usize = 256;
/// Description limit, in UTF-16 units.
pub(crate) const MAX_DESCRIPTION: usize = 1024;
/// Remote name limit, in UTF-16 units.
pub(crate) const MAX_REMOTE_NAME: usize = 2200;
/// Limit of one segment of a remote name (`MAX_PATH`), in UTF-16 units.
pub(crate) const MAX_URL_SEGMENT: usize = 260;
/// Proxy list and bypass list limit, in UTF-16 units.
pub(crate) const MAX_PROXY_LIST: usize = 4000;
/// The most connections per file.
pub(crate) const MAX_CONNECTIONS: u32 = 16;

/// Length in UTF-16 code units, the unit Windows counts limits in.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn no_nul(what: &str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(BgError::InvalidArgument(format!("{what} contains a NUL character")));
    }
    Ok(())
}

/// A display name for `create_job`: over-long is `E_INVALIDARG` there.
pub(crate) fn display_name_for_create(name: &str) -> Result<()> {
    no_nul("the display name", name)?;
    let len = utf16_len(name);
    if len > MAX_DISPLAY_NAME {
        return Err(BgError::InvalidArgument(format!(
            "the display name is {len} characters long, more than {MAX_DISPLAY_NAME}"
        )));
    }
    Ok(())
}

/// A display name for `set_display_name`: over-long is `BG_E_STRING_TOO_LONG` there.
pub(crate) fn display_name_for_set(name: &str) -> Result<()> {
    no_nul("the display name", name)?;
    limit("the display name", name, MAX_DISPLAY_NAME)
}

/// A description.
pub(crate) fn description(text: &str) -> Result<()> {
    no_nul("the description", text)?;
    limit("the description", text, MAX_DESCRIPTION)
}

fn limit(what: &'static str, s: &str, max: usize) -> Result<()> {
    let len = utf16_len(s);
    if len > max {
        return Err(BgError::StringTooLong { what, len, max });
    }
    Ok(())
}

/// The URL schemes a manager accepts in remote names, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schemes(Vec<String>);

impl Schemes {
    /// `file` (always served) plus `extra`.
    pub(crate) fn new(extra: impl IntoIterator<Item = String>) -> Schemes {
        let mut schemes: Vec<String> = std::iter::once("file".to_owned())
            .chain(extra)
            .map(|s| s.to_ascii_lowercase())
            .collect();
        schemes.sort();
        schemes.dedup();
        Schemes(schemes)
    }

    /// Whether `scheme` (any case) is accepted.
    pub(crate) fn accepts(&self, scheme: &str) -> bool {
        self.0.iter().any(|s| s.eq_ignore_ascii_case(scheme))
    }
}

/// The protocol of a remote name, as reported by `get_protocol`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `http://` or `https://`.
    Http,
    /// `file://` or a plain absolute path.
    File,
    /// A scheme served by a transport registered on the manager.
    Custom(String),
}

impl Protocol {
    pub(crate) fn name(&self) -> &str {
        match self {
            Protocol::Http => "http",
            Protocol::File => "file",
            Protocol::Custom(scheme) => scheme,
        }
    }

    /// The URL scheme that selects the transport (`"file"` for plain paths).
    pub(crate) fn scheme<'a>(&'a self, remote_name: &'a str) -> &'a str {
        match self {
            Protocol::Http => {
                if remote_name.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("https:")) {
                    "https"
                } else {
                    "http"
                }
            }
            Protocol::File => "file",
            Protocol::Custom(scheme) => scheme,
        }
    }
}

/// Checks a remote name and says its protocol: `http://`, `https://`, `file://` URLs, plain
/// absolute paths, and URLs of the other schemes the manager accepts (those of its transports and
/// those declared for drivers); at most 2200 characters; for the BITS forms, no wildcards in the
/// path and no path segment over 260 characters (`BG_FILE_INFO` rules), checked on the path as
/// written and as it decodes (`%2A` is a `*`, `%00` a NUL).
pub(crate) fn remote_name(name: &str, schemes: &Schemes) -> Result<Protocol> {
    let invalid = |why: &str| BgError::InvalidArgument(format!("remote name {name:?}: {why}"));
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    no_nul("the remote name", name)?;
    let len = utf16_len(name);
    if len > MAX_REMOTE_NAME {
        return Err(invalid(&format!("{len} characters long, more than {MAX_REMOTE_NAME}")));
    }
    if is_plain_absolute_path(name) {
        remote_path_rules(name, &['*', '?']).map_err(|why| invalid(&why))?;
        return Ok(Protocol::File);
    }
    let url =
        url::Url::parse(name).map_err(|e| invalid(&format!("not a URL or absolute path ({e})")))?;
    let url_path_rules = || {
        let raw = raw_url_path(name);
        remote_path_rules(raw, &['*'])
            .and_then(|()| decoded_path_rules(raw))
            .map_err(|why| invalid(&why))
    };
    match url.scheme() {
        scheme @ ("http" | "https") => {
            if !schemes.accepts(scheme) {
                return Err(invalid(&format!(
                    "the {scheme} scheme needs bgcopy's cargo feature `http` (or a transport, or \
                     a scheme declared with ManagerBuilder::scheme for a driver of your own)"
                )));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid("the URL has no host"));
            }
            url_path_rules()?;
            Ok(Protocol::Http)
        }
        "file" => {
            // A '?' in a file URL would start a query that names no file: it is a wildcard.
            if url.query().is_some() {
                return Err(invalid("wildcards are not allowed"));
            }
            url_path_rules()?;
            file_url_to_path(&url)
                .ok_or_else(|| invalid("the file URL does not name a local path"))?;
            Ok(Protocol::File)
        }
        other if schemes.accepts(other) => Ok(Protocol::Custom(other.to_owned())),
        other => Err(invalid(&format!("unsupported protocol {other:?}"))),
    }
}

/// The protocol of a remote name already accepted once (a job restored from a store): by its
/// scheme alone, whether or not this manager serves it now (the engine then fails the file).
pub(crate) fn protocol_of(name: &str) -> Protocol {
    if is_plain_absolute_path(name) {
        return Protocol::File;
    }
    let scheme = name.split_once(':').map_or("", |(scheme, _)| scheme).to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" => Protocol::Http,
        "file" | "" => Protocol::File,
        _ => Protocol::Custom(scheme),
    }
}

/// The rules on a URL path once percent-decoded: no NUL, no wildcard.
fn decoded_path_rules(raw: &str) -> std::result::Result<(), String> {
    let decoded = percent_decoded(raw);
    if decoded.contains(&0) {
        return Err("the path decodes to a NUL character".to_owned());
    }
    if decoded.iter().any(|b| matches!(b, b'*' | b'?')) {
        return Err("the path decodes to a wildcard".to_owned());
    }
    Ok(())
}

/// The bytes `text` percent-decodes to (a `%` not followed by two hex digits stays as it is).
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// `BG_FILE_INFO`'s rules for the path of a remote name: none of `wildcards`, and no segment longer
/// than `MAX_PATH`.
fn remote_path_rules(path: &str, wildcards: &[char]) -> std::result::Result<(), String> {
    if path.contains(wildcards) {
        return Err("wildcards are not allowed".to_owned());
    }
    match path.split(['/', '\\']).map(utf16_len).find(|&len| len > MAX_URL_SEGMENT) {
        Some(len) => {
            Err(format!("a segment is {len} characters long, more than {MAX_URL_SEGMENT}"))
        }
        None => Ok(()),
    }
}

/// The path of a URL as written: after the authority, before a query or fragment.
fn raw_url_path(name: &str) -> &str {
    let rest = name.split_once("://").map_or(name, |(_, rest)| rest);
    let path = rest.find('/').map_or("", |start| &rest[start..]);
    path.find(['?', '#']).map_or(path, |end| &path[..end])
}

/// The local path a `file://` URL or plain absolute path names.
pub(crate) fn local_source_path(name: &str) -> Option<PathBuf> {
    if is_plain_absolute_path(name) {
        return Some(PathBuf::from(name));
    }
    let url = url::Url::parse(name).ok()?;
    (url.scheme() == "file").then(|| file_url_to_path(&url)).flatten()
}

fn file_url_to_path(url: &url::Url) -> Option<PathBuf> {
    url.to_file_path().ok()
}

fn is_plain_absolute_path(name: &str) -> bool {
    // `Path::is_absolute` is platform-specific: `/x` on Unix, `C:\x` or `\\server\share` on Windows.
    // A URL such as `c:/x` would parse as scheme "c", so absolute paths are checked first.
    Path::new(name).is_absolute() || name.starts_with("\\\\")
}

/// Checks a local name: absolute, naming a file, no NUL, within the platform's limits (see
/// `platform::names`): at most 260 characters on Windows (`MAX_PATH`, as BITS); on Unix the
/// platform's `PATH_MAX` (4096 bytes on Linux with the NUL) and 255 bytes a name (`NAME_MAX`).
pub(crate) fn local_name(path: &Path) -> Result<()> {
    let invalid = |why: &str| BgError::InvalidArgument(format!("local name {path:?}: {why}"));
    let text = path.to_string_lossy();
    if text.is_empty() {
        return Err(invalid("empty"));
    }
    no_nul("the local name", &text)?;
    if !path.is_absolute() {
        return Err(invalid("not an absolute path"));
    }
    let (len, max, unit) = (names::path_len(path), names::MAX_PATH_LEN, names::LENGTH_UNIT);
    if len > max {
        return Err(invalid(&format!("{len} {unit} long, more than {max}")));
    }
    let (len, max) = (names::longest_name_len(path), names::MAX_NAME_LEN);
    if len > max {
        return Err(invalid(&format!("a name is {len} {unit} long, more than {max}")));
    }
    // `components()` drops a trailing `.` ("/dir/." names the directory), so check the text too.
    if text.ends_with('/')
        || text.ends_with('\\')
        || text.rsplit(['/', '\\']).next() == Some(".")
        || !matches!(path.components().next_back(), Some(Component::Normal(_)))
    {
        return Err(invalid("does not name a file"));
    }
    if text.contains('*') || text.contains('?') {
        return Err(invalid("wildcards are not allowed"));
    }
    Ok(())
}

/// Whether the directory `local_name` (a valid local name) would be written in is missing: no
/// entry at that path, or one that is not a directory (BITS's `ERROR_PATH_NOT_FOUND`). File
/// system work: call it outside the job's locks. An answer it cannot get (access denied) is
/// not a missing directory; the transfer reports it.
pub(crate) fn directory_is_missing(local_name: &Path) -> bool {
    let Some(dir) = local_name.parent() else { return false };
    match std::fs::metadata(dir) {
        Ok(meta) => !meta.is_dir(),
        Err(e) => matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory),
    }
}

/// A lexical normal form of a local path, to find two names for the same file. On Windows and
/// macOS, whose file systems ignore case by default (NTFS, APFS), the form ignores case too, so
/// that `a.bin` and `A.BIN` are one name there (R15); Linux file systems tell them apart.
pub(crate) fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    crate::platform::names::case_folded(out)
}

/// Checks proxy settings: lists only with `Override`, which needs a proxy list; each list at most
/// 4000 characters.
pub(crate) fn proxy(
    usage: crate::BgJobProxyUsage,
    proxy_list: Option<&str>,
    bypass_list: Option<&str>,
) -> Result<()> {
    for list in [proxy_list, bypass_list].into_iter().flatten() {
        no_nul("a proxy list", list)?;
    }
    if let Some(list) = proxy_list {
        let len = utf16_len(list);
        if len > MAX_PROXY_LIST {
            return Err(BgError::ProxyListTooLarge { len, max: MAX_PROXY_LIST });
        }
    }
    if let Some(list) = bypass_list {
        let len = utf16_len(list);
        if len > MAX_PROXY_LIST {
            return Err(BgError::ProxyBypassListTooLarge { len, max: MAX_PROXY_LIST });
        }
    }
    match usage {
        crate::BgJobProxyUsage::Override => {
            if proxy_list.is_none_or(|l| l.trim().is_empty()) {
                return Err(BgError::InvalidArgument("Override needs a proxy list".into()));
            }
        }
        _ => {
            if proxy_list.is_some() || bypass_list.is_some() {
                return Err(BgError::InvalidArgument(
                    "proxy lists are only allowed with Override".into(),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> Schemes {
        Schemes::new(["http".to_owned(), "https".to_owned()])
    }

    #[test]
    fn schemes() {
        assert_eq!(remote_name("http://h/x", &web()).unwrap(), Protocol::Http);
        assert_eq!(remote_name("HTTPS://h/x", &web()).unwrap(), Protocol::Http);
        assert_eq!(remote_name("file:///tmp/x", &web()).unwrap(), Protocol::File);
        assert!(remote_name("ftp://h/x", &web()).is_err());
        assert!(remote_name("http://", &web()).is_err());
        assert!(remote_name("relative/x", &web()).is_err());
        #[cfg(unix)]
        assert_eq!(remote_name("/tmp/x", &web()).unwrap(), Protocol::File);
        let custom = remote_name("demo://x", &Schemes::new(["demo".to_owned()])).unwrap();
        assert_eq!(custom.name(), "demo");
    }

    #[test]
    fn http_without_a_transport_or_declared_scheme_names_the_feature() {
        let error = remote_name("https://h/x", &Schemes::new([])).unwrap_err();
        assert!(error.to_string().contains("feature `http`"), "{error}");
        assert_eq!(remote_name("file:///tmp/x", &Schemes::new([])).unwrap(), Protocol::File);
    }

    #[test]
    fn remote_paths_are_checked_as_they_decode() {
        for bad in [
            "http://h/a%2A",
            "http://h/a%2ab",
            "http://h/a%3Fb",
            "http://h/a%00",
            "file:///tmp/a%2A",
        ] {
            assert!(remote_name(bad, &web()).is_err(), "{bad}");
        }
        for good in ["http://h/a%20b", "http://h/100%", "http://h/a%2", "http://h/%41?q=*"] {
            assert!(remote_name(good, &web()).is_ok(), "{good}");
        }
        assert_eq!(percent_decoded("a%41%zz%4"), b"aA%zz%4");
    }

    #[test]
    fn file_urls_are_percent_decoded() {
        #[cfg(unix)]
        assert_eq!(local_source_path("file:///tmp/a%20b").unwrap(), PathBuf::from("/tmp/a b"));
    }

    #[test]
    fn local_paths_are_limited_by_the_platform() {
        // `len` characters in names of at most 150 (each within every platform's name limit).
        let path = |len: usize| {
            let mut text = if cfg!(windows) { "C:".to_owned() } else { String::new() };
            while len - text.len() > 150 {
                text.push('/');
                text.push_str(&"d".repeat(100));
            }
            text.push('/');
            text.push_str(&"f".repeat(len - text.len()));
            assert_eq!(text.len(), len);
            PathBuf::from(text)
        };
        let rejected = |len: usize| local_name(&path(len)).is_err();
        assert!(!rejected(260));
        assert_eq!(rejected(300), cfg!(windows), "300 characters pass on Unix only");
        assert!(rejected(names::MAX_PATH_LEN + 1));
        assert!(!rejected(names::MAX_PATH_LEN.min(402)));
        let long_name = PathBuf::from(format!("/d/{}", "n".repeat(256)));
        assert_eq!(local_name(&long_name).unwrap_err().hresult(), crate::hresult::E_INVALIDARG);
    }

    #[test]
    fn normalization_finds_aliases() {
        assert_eq!(normalized(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        // Case aliases are one name where the file system ignores case (Windows and macOS:
        // `platform::names` tests it, and the CI rows for them run it).
        let same_file = normalized(Path::new("/d/a.bin")) == normalized(Path::new("/D/A.BIN"));
        let folded = crate::platform::names::case_folded(PathBuf::from("/D/A.BIN"));
        assert_eq!(same_file, folded == Path::new("/d/a.bin"));
    }
}
