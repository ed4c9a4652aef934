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

use crate::job::state::on_demand::OnDemand;
use crate::job::state::transitions::{JobEvent, transition};
use crate::{
    BackgroundCopyJob5, BgError, BgJobProperty, BgJobPropertyId, InvalidStateReason, Job, Result,
};
use std::sync::Arc;

impl BackgroundCopyJob5 for Job {
    fn set_property(&self, value: BgJobProperty) -> Result<()> {
        self.set_job_property(value)
    }

    fn get_property(&self, id: BgJobPropertyId) -> Result<BgJobProperty> {
        self.get_job_property(id)
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
                        return Err(BgError::InvalidState {
                            state,
                            reason: InvalidStateReason::JobState,
                        });
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
                        return Err(BgError::InvalidState {
                            state,
                            reason: InvalidStateReason::Resumed,
                        });
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
        })?;
        if let BgJobProperty::CostFlags(_) = value
            && let Some(registry) = self.shared.ctx.registry()
        {
            // The engine checks the new flags against the network's cost at once.
            registry.wake();
        }
        Ok(())
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

    /// The job's `CostFlags` (the engine checks them against the network's cost).
    pub(crate) fn cost_flags(&self) -> u32 {
        self.lock().properties.cost_flags
    }

    /// The on-demand state, if the job is on demand.
    pub(crate) fn on_demand(&self) -> Option<Arc<OnDemand>> {
        self.lock().properties.on_demand.clone()
    }
}
