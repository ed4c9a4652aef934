//! [`FileShared`]: what one file of a job is, shared by its [`JobFile`](crate::JobFile) handles,
//! and [`FileDisk`]: what is on disk of it.

use crate::job::state::counters::FileCounters;
use crate::job::validate::Protocol;
use std::path::PathBuf;

/// The immutable facts and hot counters of one file, shared by its handles.
///
/// Aligned to a 64-byte cache line (and so sized in whole lines): the counters, written on every
/// chunk, never share a line with another file's. Not 128 bytes like the job's total: that would
/// add 64 to 128 bytes per file (the `Arc` header pads to the alignment too).
#[repr(align(64))]
pub(crate) struct FileShared {
    pub(crate) index: usize,
    pub(crate) remote_name: String,
    pub(crate) local_name: PathBuf,
    pub(crate) protocol: Protocol,
    pub(crate) counters: FileCounters,
    /// The ranges of a ranged file (`add_file_with_ranges`), as given; `None` for a whole file.
    pub(crate) ranges: Option<Box<[crate::BgFileRange]>>,
    /// The on-demand state of its job, once the file was opened for an on-demand run: the
    /// file's progress adds the bytes of its runs (`state/on_demand.rs`).
    pub(crate) on_demand:
        std::sync::OnceLock<std::sync::Arc<crate::job::state::on_demand::OnDemand>>,
}

/// The mutable, cold part of a file's record, under the job lock.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileDisk {
    /// Its temporary file, once one was created.
    pub(crate) temp_path: Option<PathBuf>,
    /// The identity of `temp_path`'s file as this process created it (device and inode): a
    /// reopen refuses any other file at the name (R7). Not recorded in the store: after a
    /// restart of the process the first reopen checks only the owner and the link count, and
    /// learns it.
    pub(crate) temp_id: Option<crate::job::temp_files::FileId>,
    /// A validator of the remote content (an HTTP ETag or Last-Modified), kept for resuming.
    pub(crate) validator: Option<String>,
    /// A driver holds this file's [`FileTransfer`](crate::FileTransfer).
    pub(crate) writer_active: bool,
    /// The SHA-256 the content must have, checked before the file counts as transferred (boxed:
    /// most files have none, and every file pays for the field).
    pub(crate) expected_sha256: Option<Box<[u8; 32]>>,
    /// The end of the bytes known to be on disk (synced) and recorded by the store, while they
    /// are one range from zero and the file has no [`Holes`] (the common case, kept inline).
    durable_end: u64,
    /// The ranges of a file fetched in segments: `None` while it is one range from zero.
    holes: Option<Box<Holes>>,
    /// Bumped when the file restarts from zero, so that a checkpoint that synced the bytes of
    /// the earlier content never records them for the new one.
    pub(crate) epoch: u64,
    /// The directory entry of `temp_path` is known to be durable (its directory was synced
    /// since the file was created): a record may name it.
    pub(crate) entry_synced: bool,
    /// Where the bytes come from (DESIGN 6.2): a new remote name, mirrors, the source now,
    /// validation and peer figures, the last response's headers.
    pub(crate) sources: super::sources::FileSources,
}

/// The ranges of a file with holes, or being fetched in segments (see [`FileDisk`]).
#[derive(Debug, Default, Clone)]
struct Holes {
    /// Ranges known to be on disk (synced) and recorded by the store: what a restart of the
    /// process may resume from. Only the checkpointer and `finish` extend them (after a sync);
    /// a restart of the file clears them.
    durable: Vec<(u64, u64)>,
    /// The ranges the temporary file held when its current (or last) writer began: with the
    /// file's count, where its bytes are now ([`FileDisk::on_disk`]). Empty means the count is
    /// one range from zero.
    base: Vec<(u64, u64)>,
    /// Who knows the ranges on disk while writers fetch the file at several places.
    live: Option<Live>,
}

/// The keeper of a file's ranges while it is fetched at several places at once.
#[derive(Debug, Clone)]
enum Live {
    /// The segment table of a file fetched over several connections (DESIGN 5.3).
    Segments(std::sync::Arc<crate::job::state::segments::SegmentTable>),
    /// The on-demand state of the job, and the file's index in it (DESIGN 6.3).
    OnDemand(std::sync::Arc<crate::job::state::on_demand::OnDemand>, usize),
}

/// `[(0, end)]`, or nothing for 0.
fn prefix(end: u64) -> Vec<(u64, u64)> {
    if end > 0 { vec![(0, end)] } else { Vec::new() }
}

/// The end of `ranges` if they are one range from zero (or none).
fn prefix_end(ranges: &[(u64, u64)]) -> Option<u64> {
    match ranges {
        [] => Some(0),
        [(0, end)] => Some(*end),
        _ => None,
    }
}

impl FileDisk {
    /// The ranges of the temporary file that hold bytes now, given the file's count: the segment
    /// table's while segments are fetched, the on-demand state's while an on-demand job writes
    /// it, else what a single writer from the first hole of the base ranges reached (see
    /// [`ranges`](crate::job::filled_ranges)).
    pub(crate) fn on_disk(&self, counted: u64) -> Vec<(u64, u64)> {
        match self.holes.as_deref() {
            Some(Holes { live: Some(Live::Segments(table)), .. }) => table.on_disk(),
            Some(Holes { live: Some(Live::OnDemand(on_demand, index)), .. }) => {
                on_demand.on_disk(*index)
            }
            Some(holes) => crate::job::filled_ranges::fill(&holes.base, counted),
            None => prefix(counted),
        }
    }

    /// The ranges on disk that the store records.
    pub(crate) fn durable(&self) -> Vec<(u64, u64)> {
        match &self.holes {
            Some(holes) => holes.durable.clone(),
            None => prefix(self.durable_end),
        }
    }

    /// Sets the ranges the store records (they are on disk, synced).
    pub(crate) fn set_durable(&mut self, ranges: Vec<(u64, u64)>) {
        match (&mut self.holes, prefix_end(&ranges)) {
            (None, Some(end)) => self.durable_end = end,
            _ => self.holes_mut().durable = ranges,
        }
        self.tidy();
    }

    /// Sets the ranges the temporary file holds as a writer begins (or after segments).
    pub(crate) fn set_base(&mut self, ranges: Vec<(u64, u64)>) {
        match (&mut self.holes, prefix_end(&ranges)) {
            (None, Some(_)) => {}
            _ => self.holes_mut().base = ranges,
        }
        self.tidy();
    }

    /// Installs (or with `None` removes) the segment table of a file being fetched in segments.
    pub(crate) fn set_segments(
        &mut self,
        table: Option<std::sync::Arc<crate::job::state::segments::SegmentTable>>,
    ) {
        if table.is_some() || self.holes.is_some() {
            self.holes_mut().live = table.map(Live::Segments);
        }
        self.tidy();
    }

    /// Hands (or with `None` takes back) the file's ranges to the on-demand state of its job,
    /// while an on-demand job writes it (its runs are known there only).
    pub(crate) fn set_on_demand(
        &mut self,
        on_demand: Option<(std::sync::Arc<crate::job::state::on_demand::OnDemand>, usize)>,
    ) {
        if on_demand.is_some() || self.holes.is_some() {
            self.holes_mut().live = on_demand.map(|(state, index)| Live::OnDemand(state, index));
        }
        self.tidy();
    }

    fn holes_mut(&mut self) -> &mut Holes {
        let durable_end = self.durable_end;
        self.holes.get_or_insert_with(|| {
            Box::new(Holes { durable: prefix(durable_end), ..Holes::default() })
        })
    }

    /// Back to the inline form once the file is one range from zero again.
    fn tidy(&mut self) {
        if let Some(holes) = &self.holes {
            let base_is_prefix = prefix_end(&holes.base).is_some();
            if let (Some(end), true, None) =
                (prefix_end(&holes.durable), base_is_prefix, &holes.live)
            {
                self.durable_end = end;
                self.holes = None;
            }
        }
    }

    /// Forgets every byte of the temporary file (it restarts from zero).
    pub(crate) fn forget_bytes(&mut self) {
        self.durable_end = 0;
        self.holes = None;
        self.epoch += 1;
    }
}
