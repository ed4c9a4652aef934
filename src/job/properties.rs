//! The job properties of `IBackgroundCopyJob5` (DESIGN 6.3): set and read by id, with BITS's
//! state rules.
//!
//! - A final job refuses every change (`BG_E_INVALID_STATE`).
//! - `OnDemandMode` only while the job has no file (`BG_E_INVALID_STATE`), and not with
//!   `DynamicContent` (`E_INVALIDARG`).
//! - `DynamicContent` only before the first `resume()` (`BG_E_INVALID_STATE`), and not with
//!   `OnDemandMode` or a ranged file (`E_INVALIDARG`).
//! - The others at any time before the job is final.
//! - `NotificationClsid` and `UseStoredCredentials` are `E_NOTIMPL`: they need COM or the Windows
//!   credential store.
//!
//! A job "was resumed" once a `resume()` succeeded on it, or (for a job reopened from a store)
//! once it left `Suspended` or holds a byte.

use super::on_demand::OnDemand;
use super::transitions::{JobEvent, transition};
use crate::{BackgroundCopyJob5, BgError, BgJobProperty, BgJobPropertyId, Job, Result};
use std::sync::Arc;

/// The default least time between two notifications of a job, in milliseconds (BITS's).
pub(crate) const DEFAULT_NOTIFICATION_INTERVAL_MS: u32 = 500;

/// The default cost flags: every network but a roaming one
/// (`BITS_COST_STATE_TRANSFER_NOT_ROAMING`).
pub(crate) const DEFAULT_COST_FLAGS: u32 = 0x8000_007F;

impl BackgroundCopyJob5 for Job {
    fn set_property(&self, value: BgJobProperty) -> Result<()> {
        self.set_job_property(value)
    }

    fn get_property(&self, id: BgJobPropertyId) -> Result<BgJobProperty> {
        self.get_job_property(id)
    }
}

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
    /// The on-demand state, while the job is on demand.
    pub(crate) on_demand: Option<Arc<OnDemand>>,
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
            on_demand: None,
        }
    }
}

fn not_implemented(id: BgJobPropertyId) -> BgError {
    BgError::NotImplemented(match id {
        BgJobPropertyId::NotificationClsid => "NotificationClsid needs COM",
        _ => "UseStoredCredentials needs the Windows credential store",
    })
}

impl Job {
    /// Sets one property, by the rules of the module docs.
    fn set_job_property(&self, value: BgJobProperty) -> Result<()> {
        if let BgJobProperty::NotificationClsid(_) | BgJobProperty::UseStoredCredentials(_) = value
        {
            return Err(not_implemented(value.id()));
        }
        let counters = &self.shared.counters;
        let held = crate::BackgroundCopyJob::get_progress(self).bytes_transferred > 0;
        self.shared.change(|inner| {
            let state = counters.state();
            transition(state, JobEvent::Modify)?;
            let started = inner.properties.resumed || state != crate::BgJobState::Suspended || held;
            let props = &mut inner.properties;
            match value {
                BgJobProperty::OnDemandMode(on) => {
                    if !inner.files.is_empty() {
                        return Err(BgError::InvalidState { state });
                    }
                    if on && props.dynamic_content {
                        return Err(BgError::InvalidArgument(
                            "an on-demand job cannot have dynamic content".into(),
                        ));
                    }
                    props.on_demand = on.then(|| Arc::new(OnDemand::default()));
                }
                BgJobProperty::DynamicContent(on) => {
                    if started {
                        return Err(BgError::InvalidState { state });
                    }
                    let ranged = inner.files.iter().any(|file| file.ranges.is_some());
                    if on && (props.on_demand.is_some() || ranged) {
                        return Err(BgError::InvalidArgument(
                            "dynamic content cannot be fetched on demand or in ranges".into(),
                        ));
                    }
                    props.dynamic_content = on;
                }
                BgJobProperty::HighPerformance(on) => props.high_performance = on,
                BgJobProperty::MaxDownloadSize(size) => props.max_download_size = size,
                BgJobProperty::MinimumNotificationIntervalMs(ms) => {
                    props.notification_interval_ms = ms;
                }
                BgJobProperty::CostFlags(flags) => props.cost_flags = flags,
                BgJobProperty::NotificationClsid(_) | BgJobProperty::UseStoredCredentials(_) => {
                    unreachable!("refused above")
                }
            }
            self.shared.apply(inner, JobEvent::Modify)?;
            Ok(())
        })
    }

    /// One property.
    fn get_job_property(&self, id: BgJobPropertyId) -> Result<BgJobProperty> {
        let inner = self.lock();
        let props = &inner.properties;
        Ok(match id {
            BgJobPropertyId::CostFlags => BgJobProperty::CostFlags(props.cost_flags),
            BgJobPropertyId::DynamicContent => BgJobProperty::DynamicContent(props.dynamic_content),
            BgJobPropertyId::HighPerformance => {
                BgJobProperty::HighPerformance(props.high_performance)
            }
            BgJobPropertyId::MaxDownloadSize => {
                BgJobProperty::MaxDownloadSize(props.max_download_size)
            }
            BgJobPropertyId::MinimumNotificationIntervalMs => {
                BgJobProperty::MinimumNotificationIntervalMs(props.notification_interval_ms)
            }
            BgJobPropertyId::OnDemandMode => BgJobProperty::OnDemandMode(props.on_demand.is_some()),
            BgJobPropertyId::NotificationClsid | BgJobPropertyId::UseStoredCredentials => {
                return Err(not_implemented(id));
            }
        })
    }

    /// The on-demand state, if the job is on demand.
    pub(crate) fn on_demand(&self) -> Option<Arc<OnDemand>> {
        self.lock().properties.on_demand.clone()
    }
}

/// What the store keeps of a job's DESIGN 6.3 state (record format 2): the Job5 properties, and
/// per file the ranges as given and what an on-demand reader asked for. The default is what a
/// job without any of it has (a format-1 record reads as it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BytesNeeded {
    pub(crate) cost_flags: u32,
    pub(crate) dynamic_content: bool,
    pub(crate) high_performance: bool,
    pub(crate) max_download_size: u64,
    pub(crate) notification_interval_ms: u32,
    pub(crate) on_demand: bool,
    /// Per file, in the job's order (files past the end have none of it).
    pub(crate) files: Vec<FileBytesNeeded>,
}

/// One file's part of [`BytesNeeded`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FileBytesNeeded {
    /// The ranges as given to `add_file_with_ranges` (empty: a whole file).
    pub(crate) given: Vec<crate::BgFileRange>,
    /// On demand: the ranges asked for, `(start, end)`, sorted and disjoint.
    pub(crate) wanted: Vec<(u64, u64)>,
}

impl Default for BytesNeeded {
    fn default() -> Self {
        BytesNeeded {
            cost_flags: DEFAULT_COST_FLAGS,
            dynamic_content: false,
            high_performance: false,
            max_download_size: 0,
            notification_interval_ms: DEFAULT_NOTIFICATION_INTERVAL_MS,
            on_demand: false,
            files: Vec::new(),
        }
    }
}

impl BytesNeeded {
    /// Whether there is nothing but defaults (the record can stay in format 1).
    pub(crate) fn is_default(&self) -> bool {
        let files = self.files.iter().all(|file| *file == FileBytesNeeded::default());
        BytesNeeded { files: Vec::new(), ..self.clone() } == BytesNeeded::default() && files
    }

    /// What the store keeps of `inner`.
    pub(crate) fn of(inner: &super::JobInner) -> BytesNeeded {
        let props = &inner.properties;
        let wanted = props.on_demand.as_ref().map(|on_demand| on_demand.wanted());
        let files = inner
            .files
            .iter()
            .map(|file| FileBytesNeeded {
                given: file.ranges.as_deref().map(<[_]>::to_vec).unwrap_or_default(),
                wanted: wanted
                    .as_ref()
                    .and_then(|wanted| wanted.get(file.index).cloned())
                    .unwrap_or_default(),
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
    pub(crate) fn restore(
        &self,
        filled: &[Vec<(u64, u64)>],
        sizes: &[Option<u64>],
    ) -> JobProperties {
        let on_demand = self.on_demand.then(|| {
            let on_demand = OnDemand::default();
            for (index, ranges) in filled.iter().enumerate() {
                let wanted =
                    self.files.get(index).map(|file| file.wanted.clone()).unwrap_or_default();
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
            cost_flags: self.cost_flags,
            dynamic_content: self.dynamic_content,
            high_performance: self.high_performance,
            max_download_size: self.max_download_size,
            notification_interval_ms: self.notification_interval_ms,
            on_demand,
        }
    }
}
