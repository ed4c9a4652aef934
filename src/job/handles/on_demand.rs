//! The on-demand calls of a file (`BackgroundCopyFile6`, DESIGN 6.3): asking for ranges, the
//! reader's position, the ranges on disk. The state they change is `state/on_demand.rs`.

use crate::job::state::on_demand::OnDemand;
use crate::{
    BG_LENGTH_TO_EOF, BackgroundCopyFile, BackgroundCopyFile6, BgError, BgFileRange, BgJobState,
    InvalidStateReason, JobFile, Result,
};

/// The error of a range past the end of a file.
fn past_end(what: String) -> BgError {
    BgError::InvalidRange(what.into())
}

impl BackgroundCopyFile6 for JobFile {
    fn update_download_position(&self, offset: u64) -> Result<()> {
        self.update_download_position_now(offset)
    }

    fn request_file_ranges(&self, ranges: &[BgFileRange]) -> Result<()> {
        self.request_file_ranges_now(ranges)
    }

    fn get_filled_file_ranges(&self) -> Vec<BgFileRange> {
        self.get_filled_file_ranges_now()
    }
}

impl JobFile {
    /// The job's on-demand state, or `BG_E_INVALID_STATE` if the job is not on demand or final.
    pub(super) fn on_demand_state(&self) -> Result<std::sync::Arc<OnDemand>> {
        let state = self.job.counters.state();
        let on_demand = self.job.inner.lock().properties.on_demand.clone();
        match on_demand {
            Some(on_demand) if !state.is_final() => Ok(on_demand),
            _ => Err(BgError::InvalidState { state, reason: InvalidStateReason::JobState }),
        }
    }

    /// The file's size, if known.
    pub(super) fn known_size(&self) -> Option<u64> {
        let total = self.get_progress().bytes_total;
        (total != crate::BG_SIZE_UNKNOWN).then_some(total)
    }

    fn request_file_ranges_now(&self, ranges: &[BgFileRange]) -> Result<()> {
        let on_demand = self.on_demand_state()?;
        let size = self.known_size();
        let mut asked = Vec::with_capacity(ranges.len());
        for range in ranges {
            let end = match range.length {
                BG_LENGTH_TO_EOF => u64::MAX,
                _ => range.end().filter(|_| range.length > 0).ok_or_else(|| {
                    past_end(format!(
                        "the range of {} bytes at {} is invalid",
                        range.length, range.initial_offset
                    ))
                })?,
            };
            if let Some(size) = size
                && (range.initial_offset >= size || (end != u64::MAX && end > size))
            {
                return Err(past_end(format!(
                    "the range at {} is past the end of the file ({size} bytes)",
                    range.initial_offset
                )));
            }
            asked.push((range.initial_offset, end));
        }
        // Recorded first (DESIGN 6.1): a request is durable when it returns, and a request the
        // store cannot record is not applied.
        let index = self.index();
        self.job.change(|inner| {
            let state = self.job.counters.state();
            if state.is_final() {
                return Err(BgError::InvalidState { state, reason: InvalidStateReason::JobState });
            }
            let all = &mut inner.properties.asked;
            if all.len() <= index {
                all.resize_with(index + 1, Vec::new);
            }
            let mut ranges = std::mem::take(&mut all[index]);
            ranges.extend_from_slice(&asked);
            all[index] = crate::job::filled_ranges::merge(ranges);
            inner.effects.save = true;
            Ok(())
        })?;
        self.ask(&on_demand, &asked, None)
    }

    fn update_download_position_now(&self, offset: u64) -> Result<()> {
        let on_demand = self.on_demand_state()?;
        if let Some(size) = self.known_size()
            && offset > size
        {
            return Err(past_end(format!("offset {offset} is past the end ({size} bytes)")));
        }
        on_demand.lock().file(self.index()).position = Some(offset);
        Ok(())
    }

    fn get_filled_file_ranges_now(&self) -> Vec<BgFileRange> {
        let on_demand = self.job.inner.lock().properties.on_demand.clone();
        let ranges = match on_demand {
            Some(on_demand) => on_demand.on_disk(self.index()),
            None => {
                let progress = self.get_progress();
                if progress.completed || self.file.counters.is_transferred() {
                    vec![(0, progress.bytes_total)].into_iter().filter(|(_, e)| *e > 0).collect()
                } else {
                    let inner = self.job.inner.lock();
                    inner.file_disk[self.index()].on_disk(progress.bytes_transferred)
                }
            }
        };
        ranges
            .into_iter()
            .map(|(start, end)| BgFileRange { initial_offset: start, length: end - start })
            .collect()
    }

    /// Asks for `ranges` (and, with `position`, moves the reader there), then moves the job on
    /// if it went idle: a suspended job that was resumed before is resumed.
    pub(crate) fn ask(
        &self,
        on_demand: &OnDemand,
        ranges: &[(u64, u64)],
        position: Option<u64>,
    ) -> Result<()> {
        on_demand.ask(self.index(), ranges, position);
        // A job reopened from a store with bytes on disk was resumed before.
        let resumed = self.job.inner.lock().properties.resumed
            || self.job.counters.snapshot().bytes_transferred > 0;
        if resumed && self.job.counters.state() == BgJobState::Suspended {
            let shared = &self.job;
            let moved = shared.change(|inner| {
                if shared.counters.state() != BgJobState::Suspended {
                    return Ok(shared.counters.state());
                }
                let has_work = crate::job::JobShared::has_work(inner);
                shared.apply(inner, crate::job::JobEvent::Resume { has_work })
            });
            match moved {
                Ok(_) | Err(BgError::Empty) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}
