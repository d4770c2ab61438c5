//! `[sla]`: the service-level deadlines of repairs, and how often an urgent (A) repair's
//! take alert repeats. (A policy per kind and urgency, and business hours, grow here.)

use serde::{Deserialize, Serialize};

/// Service-level deadlines; a ticket that misses one is escalated to the managers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaSettings {
    /// Minutes within which someone on the staff must take a new ticket.
    pub take_minutes: u32,
    /// Minutes after taking a ticket within which the first progress update is due.
    pub first_update_minutes: u32,
    /// Hours after a ticket was opened within which it must be resolved.
    pub resolve_hours: u32,
    /// Minutes between the repeated take alerts of an urgency A ticket not taken yet.
    pub urgent_repeat_minutes: u32,
}

impl Default for SlaSettings {
    fn default() -> Self {
        Self {
            take_minutes: 10,
            first_update_minutes: 30,
            resolve_hours: 24,
            urgent_repeat_minutes: 5,
        }
    }
}
