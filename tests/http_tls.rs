//! Which certificates the `http` transport trusts: the operating system's store, read through
//! the platform verifier, and the bundled web roots when the system store has none. On Linux
//! and the BSDs the system store is the one `SSL_CERT_FILE`/`SSL_CERT_DIR` name (else the
//! distribution's bundle), so a test can put a certificate in it for this process only. One
//! test in its own binary: it sets environment variables, which nothing else here reads.

#![cfg(all(feature = "http", unix, not(target_vendor = "apple"), not(target_os = "android")))]

mod http_support;
#[path = "http_support/tls.rs"]
mod tls;

use bgcopy::*;
use http_support::{attempt, completed_content, job_for, transport};

#[test]
fn the_system_store_is_trusted_and_the_bundled_roots_serve_when_it_is_empty() {
    let server = tls::SelfSigned::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("system-roots.pem");
    std::fs::write(&store, &server.certificate_pem).unwrap();
    std::env::remove_var("SSL_CERT_DIR");

    // The server's certificate in the system store: trusted.
    std::env::set_var("SSL_CERT_FILE", &store);
    let files = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(files.path(), &format!("https://localhost:{}/f", server.port));
    attempt(&transport(), &job).expect("a certificate in the system store is trusted");
    assert_eq!(completed_content(&job), b"ok");

    // A system store without a certificate: the bundled roots take over, and they do not
    // vouch for a self-signed certificate (an untrusted certificate, not a set-up failure).
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    std::env::set_var("SSL_CERT_FILE", &empty);
    let files = tempfile::tempdir().unwrap();
    let (_m, job) = job_for(files.path(), &format!("https://127.0.0.1:{}/f", server.port));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::DO_E_HTTP_CERT_VALIDATION);
    assert_eq!(error.context(), BgErrorContext::RemoteFile, "{error:?}");
    let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
    assert!(message.contains("not trusted"), "{message}");
}
