//! The state of DESIGN 6.3 a job keeps under its lock: the `IBackgroundCopyJob5` properties
//! and the on-demand state (`JobProperties`), and what the store keeps of them and of the ranges
//! of its files (`BytesNeeded`). The calls that change them are `handles/properties.rs`.

use super::on_demand::OnDemand;
use crate::job::record::bytes_needed::{
    BytesNeeded, DEFAULT_COST_FLAGS, DEFAULT_NOTIFICATION_INTERVAL_MS, FileBytesNeeded,
};
use std::sync::Arc;

/// The properties of one job, under its lock.
#[derive(Debug, Clone)]
pub(crate) struct JobProperties {
    /// A `resume()` succeeded on the job.
    pub(crate) resumed: bool,
    pub(crate) cost_flags: u32,
    pub(crate) dynamic_content: bool,
    pub(crate) high_performance: bool,
    /// The largest file, in bytes (0: no limit).
    pub(crate) max_download_size: u64,
    pub(crate) notification_interval_ms: u32,
    /// When (on the manager's clock) the last `job_modification` callback was queued: the next
    /// one without a state change waits `notification_interval_ms` after it.
    pub(crate) last_modification: Option<std::time::Duration>,
    /// The on-demand state, while the job is on demand.
    pub(crate) on_demand: Option<Arc<OnDemand>>,
    /// Per file, the ranges `request_file_ranges` asked for (merged): what the store records,
    /// changed as a recorded change (a draft), so that a request is durable when it returns.
    /// A [`FileReader`](crate::FileReader)'s own requests are the reader's, and live only in
    /// the on-demand state.
    pub(crate) asked: Vec<Vec<(u64, u64)>>,
}

impl Default for JobProperties {
    fn default() -> Self {
        JobProperties {
            resumed: false,
            cost_flags: DEFAULT_COST_FLAGS,
            dynamic_content: false,
            high_performance: false,
            max_download_size: 0,
            notification_interval_ms: DEFAULT_NOTIFICATION_INTERVAL_MS,
            last_modification: None,
            on_demand: None,
            asked: Vec::new(),
        }
    }
}

impl JobProperties {
    /// What the store keeps of a job with these properties and files.
    pub(crate) fn recorded(
        props: &JobProperties,
        files: &[Arc<super::file::FileShared>],
    ) -> BytesNeeded {
        let files = files
            .iter()
            .map(|file| FileBytesNeeded {
                given: file.ranges.as_deref().map(<[_]>::to_vec).unwrap_or_default(),
                wanted: props.asked.get(file.index).cloned().unwrap_or_default(),
            })
            .collect();
        BytesNeeded {
            cost_flags: props.cost_flags,
            dynamic_content: props.dynamic_content,
            high_performance: props.high_performance,
            max_download_size: props.max_download_size,
            notification_interval_ms: props.notification_interval_ms,
            on_demand: props.on_demand.is_some(),
            files,
        }
    }

    /// The properties of a job reopened from its record; `filled` gives each file's ranges on
    /// disk (for an on-demand job).
    pub(crate) fn restored(
        needed: &BytesNeeded,
        filled: &[Vec<(u64, u64)>],
        sizes: &[Option<u64>],
    ) -> JobProperties {
        let on_demand = needed.on_demand.then(|| {
            let on_demand = OnDemand::default();
            for (index, ranges) in filled.iter().enumerate() {
                let wanted =
                    needed.files.get(index).map(|file| file.wanted.clone()).unwrap_or_default();
                on_demand.restore(
                    index,
                    wanted,
                    ranges.clone(),
                    sizes.get(index).copied().flatten(),
                );
            }
            Arc::new(on_demand)
        });
        JobProperties {
            // A reopened job that left `Suspended` or holds bytes counts as resumed (see the
            // module docs); one that did neither may still be set up.
            resumed: false,
            cost_flags: needed.cost_flags,
            dynamic_content: needed.dynamic_content,
            high_performance: needed.high_performance,
            max_download_size: needed.max_download_size,
            notification_interval_ms: needed.notification_interval_ms,
            last_modification: None,
            on_demand,
            asked: needed.files.iter().map(|file| file.wanted.clone()).collect(),
        }
    }
}
