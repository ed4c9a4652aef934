//! Operating-system error codes: which errors carry a Win32 code that is their HRESULT.

/// The Win32 error code of `error` on Windows (an HRESULT is made of it); `None` elsewhere,
/// where an OS error number is not a Win32 code and the caller maps the error's kind instead.
pub(crate) fn win32_code(error: &std::io::Error) -> Option<u32> {
    #[cfg(windows)]
    {
        error.raw_os_error().map(|code| code as u32)
    }
    #[cfg(not(windows))]
    {
        let _ = error;
        None
    }
}
