//! The job state machine as a pure function, for tests, models and documentation: [`transition`]
//! maps a state and a [`JobEvent`] to the next state or to the error the call returns. Jobs apply
//! it to every change; nothing here changes a job.

pub use crate::job::{JobEvent, transition};
