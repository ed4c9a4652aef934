//! Plugs a transport for a made-up URL scheme, `demo://`, into the engine. Once registered, the
//! manager accepts `demo://` remote names in `add_file` and the engine schedules, retries and
//! completes those files like any other.
//!
//! ```text
//! cargo run --example custom_transport
//! ```
//!
//! `demo://words/<count>` serves `<count>` generated words; anything else is "not found".

use bgcopy::transport::{TransferError, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

/// Serves generated text for `demo://words/<count>`.
#[derive(Debug)]
struct DemoTransport;

impl DemoTransport {
    const WORDS: [&'static str; 8] =
        ["alpha ", "bravo ", "charlie ", "delta ", "echo ", "foxtrot ", "golf ", "hotel "];

    /// The whole body of a resource, or `None` if it does not exist.
    fn body(remote_name: &str) -> Option<Vec<u8>> {
        let count: usize = remote_name.strip_prefix("demo://words/")?.parse().ok()?;
        Some(Self::WORDS.iter().cycle().take(count).flat_map(|w| w.bytes()).collect())
    }
}

impl Transport for DemoTransport {
    fn schemes(&self) -> &[&str] {
        &["demo"]
    }

    fn protocol(&self) -> &str {
        "demo"
    }

    fn transfer(
        &self,
        request: &TransferRequest<'_>,
        sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        let Some(body) = Self::body(request.remote_name) else {
            // A classified failure: fatal (the job goes to Error and waits for the client).
            return Err(TransferError::fatal(
                hresult::BG_E_HTTP_ERROR_404,
                BgErrorContext::RemoteFile,
                format!("{} does not exist", request.remote_name),
            ));
        };
        // The size first (the job's bytes_total becomes known), then the bytes after the ones an
        // earlier attempt left in the temporary file.
        sink.set_size(Some(body.len() as u64))?;
        let start = sink.offset() as usize;
        for piece in body[start..].chunks(16 * 1024) {
            // The sink returns TransferError::Stopped once the job is suspended or cancelled;
            // `?` hands it back to the engine.
            sink.write(piece)?;
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let manager = Manager::builder().transport(Arc::new(DemoTransport)).build();

    let job = manager.create_job("demo words", BgJobType::Download)?;
    job.add_file("demo://words/5", &dir.path().join("five.txt"))?;
    job.add_file("demo://words/100000", &dir.path().join("many.txt"))?;
    job.resume()?;
    // wait() sleeps until the job settles (Transferred, Error, ...): no polling.
    let state = job.wait(Duration::from_secs(60));
    println!("demo job: {state:?}, {:?}", job.get_progress());
    job.complete()?;
    println!("five.txt: {:?}", std::fs::read_to_string(dir.path().join("five.txt"))?);
    println!("many.txt: {} bytes", std::fs::metadata(dir.path().join("many.txt"))?.len());

    // A failure is reported through the job's error, with the transport's protocol name.
    let broken = manager.create_job("demo failure", BgJobType::Download)?;
    broken.add_file("demo://nothing-here", &dir.path().join("missing.txt"))?;
    broken.resume()?;
    let state = broken.wait(Duration::from_secs(60));
    let error = broken.get_error()?;
    let (context, code) = error.get_error();
    println!(
        "broken job: {state:?}: {context:?} {code:#010X} via {:?}: {}",
        error.get_protocol()?,
        error.message()
    );
    broken.cancel()?;

    // Without the registration the scheme is refused up front.
    let plain = Manager::new().create_job("no demo", BgJobType::Download)?;
    let refused = plain.add_file("demo://words/1", &dir.path().join("x.txt")).unwrap_err();
    println!("a manager without the transport refuses demo://: {refused}");
    Ok(())
}
