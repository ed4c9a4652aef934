//! What the platform's certificate verifier does by itself (the `http` transport verifies with
//! the operating system's verifier and trust store).

/// Whether the platform verifier checks certificate revocation: Windows, macOS, iOS and Android
/// do; on Linux and the BSDs it does not, so a job's `ENABLE_CRL_CHECK` cannot be honoured there.
pub(crate) const VERIFIER_CHECKS_REVOCATION: bool =
    cfg!(any(target_os = "windows", target_os = "macos", target_os = "ios", target_os = "android"));
