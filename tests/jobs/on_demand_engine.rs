//! On-demand jobs in the engine, with transports of the test's own (DESIGN 6.3): a transport
//! that panics fails the job instead of leaving a run that never ends.

use bgcopy::transport::{RangeSink, TransferError, TransferRequest, TransferSink, Transport};
use bgcopy::*;
use std::sync::Arc;
use std::time::Duration;

/// Scheme `boom`: serves ranges of a 4 MiB file, and panics on the second range it is asked for.
#[derive(Debug, Default)]
struct PanickingTransport {
    calls: parking_lot::Mutex<u32>,
}

impl Transport for PanickingTransport {
    fn schemes(&self) -> &[&str] {
        &["boom"]
    }

    fn protocol(&self) -> &str {
        "boom"
    }

    fn transfer(
        &self,
        _request: &TransferRequest<'_>,
        _sink: &mut dyn TransferSink,
    ) -> Result<(), TransferError> {
        unreachable!("an on-demand job asks for ranges only")
    }

    fn transfer_range(
        &self,
        _request: &TransferRequest<'_>,
        first: u64,
        last: Option<u64>,
        sink: &mut dyn RangeSink,
    ) -> Result<(), TransferError> {
        let call = {
            let mut calls = self.calls.lock();
            *calls += 1;
            *calls
        };
        sink.set_remote_size(4 << 20)?;
        if call == 2 {
            panic!("the transport fails (expected by the test)");
        }
        let end = last.map_or(4 << 20, |last| last + 1);
        sink.write(&vec![7u8; (end - first) as usize])
    }
}

#[test]
fn a_transport_that_panics_fails_an_on_demand_job_with_e_unexpected() {
    let dir = tempfile::tempdir().unwrap();
    let manager = Manager::builder().transport(Arc::new(PanickingTransport::default())).build();
    let job = manager.create_job("boom", BgJobType::Download).unwrap();
    job.set_property(BgJobProperty::OnDemandMode(true)).unwrap();
    job.set_max_connections(2).unwrap();
    job.add_file("boom://host/f", &dir.path().join("out.bin")).unwrap();
    let file = job.enum_files().remove(0);
    file.request_file_ranges(&[BgFileRange { initial_offset: 0, length: BG_LENGTH_TO_EOF }])
        .unwrap();
    job.resume().unwrap();
    let state = job.wait_until(Duration::from_secs(60), |s| s.is_settled());
    assert_eq!(state, BgJobState::Error);
    assert_eq!(job.get_error().unwrap().get_error().1, hresult::E_UNEXPECTED);
    // The bytes that arrived before are kept, and counted once.
    let filled: u64 = file.get_filled_file_ranges().iter().map(|r| r.length).sum();
    assert_eq!(file.get_progress().bytes_transferred, filled);
    assert_eq!(job.get_progress().bytes_transferred, filled);
}
