//! The durable store (DESIGN 5.2): job records that survive an exit, a crash and a reboot.
//!
//! Job records are kept in bgcopy's own versioned format ([`record`], on the byte codec of
//! [`codec`]). The job layer hands [`JobSnapshot`](crate::job::snapshot::JobSnapshot)s in and gets
//! them back; it does not know how they are stored.

// Nothing calls the store yet: the integration wires it into `Manager::open`.
#![cfg_attr(not(test), allow(dead_code))]

mod codec;
mod record;

#[cfg(test)]
pub(crate) mod arbitrary;
