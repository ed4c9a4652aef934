//! Which certificates the `http` transport trusts: the operating system's store, read through
//! the platform verifier, and the bundled web roots when the system store has none. On Linux
//! and the BSDs the system store is the one `SSL_CERT_FILE`/`SSL_CERT_DIR` name (else the
//! distribution's bundle), so a test can put a certificate in it for one process. Each
//! case runs in a child process of the test binary, with the environment set for the child.

#![cfg(all(feature = "http", unix, not(target_vendor = "apple"), not(target_os = "android")))]

use crate::http_support;
use crate::tls;

use bgcopy::transport::TransferError;
use bgcopy::*;
use http_support::{attempt, completed_content, job_for, transport};

/// Runs `case` in a child process of this test binary whose environment names `roots` as the
/// system store (`SSL_CERT_FILE`): the environment is set for the child only, never changed
/// in this process.
fn in_child_with_roots(case: &str, roots: &std::path::Path, port: u16) {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &http_support::test_name(module_path!(), "child_case"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .env("BGCOPY_TLS_CASE", case)
        .env("BGCOPY_TLS_PORT", port.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "case {case} failed in its child: {status}");
}

#[test]
fn the_system_store_is_trusted_and_the_bundled_roots_serve_when_it_is_empty() {
    let server = tls::SelfSigned::start();
    let dir = tempfile::tempdir().unwrap();
    // The server's certificate in the system store: trusted.
    let store = dir.path().join("system-roots.pem");
    std::fs::write(&store, &server.certificate_pem).unwrap();
    in_child_with_roots("trusted", &store, server.port);
    // A system store without a certificate: the bundled roots take over, and they do not
    // vouch for a self-signed certificate (an untrusted certificate, not a set-up failure).
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    in_child_with_roots("empty", &empty, server.port);
}

/// The child's half of the test above; does nothing when run on its own.
#[test]
fn child_case() {
    let (Ok(case), Ok(port)) = (std::env::var("BGCOPY_TLS_CASE"), std::env::var("BGCOPY_TLS_PORT"))
    else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    match case.as_str() {
        "trusted" => {
            let (_m, job) = job_for(files.path(), &format!("https://localhost:{port}/f"));
            attempt(&transport(), &job).expect("a certificate in the system store is trusted");
            assert_eq!(completed_content(&job), b"ok");
        }
        "empty" => {
            let (_m, job) = job_for(files.path(), &format!("https://127.0.0.1:{port}/f"));
            let error = attempt(&transport(), &job).unwrap_err();
            assert!(!error.is_transient(), "{error:?}");
            assert_eq!(error.hresult(), hresult::DO_E_HTTP_CERT_VALIDATION);
            assert_eq!(error.context(), BgErrorContext::RemoteFile, "{error:?}");
            let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
            assert!(message.contains("not trusted"), "{message}");
        }
        other => panic!("unknown case {other}"),
    }
}
