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
    /// `[sla.complaint]`: the clocks of a complaint (they run day and night).
    pub complaint: ComplaintSla,
}

/// A complaint's clocks: a manager's first answer, the reply that closes it, and the
/// return visit after closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintSla {
    /// Minutes after the complaint within which a manager first answers the owner.
    pub first_response_minutes: u32,
    /// Hours after the complaint within which it is answered and closed.
    pub reply_hours: u32,
    /// Working days after closing within which the owner is visited or called back.
    pub return_visit_days: u32,
}

impl Default for ComplaintSla {
    fn default() -> Self {
        Self {
            first_response_minutes: 120,
            reply_hours: 48,
            return_visit_days: 3,
        }
    }
}

impl Default for SlaSettings {
    fn default() -> Self {
        Self {
            take_minutes: 10,
            first_update_minutes: 30,
            resolve_hours: 24,
            urgent_repeat_minutes: 5,
            complaint: ComplaintSla::default(),
        }
    }
}
