//! `[sla]`: the service-level deadlines of repairs per urgency (`[sla]` itself is B's,
//! `[sla.A]` and `[sla.C]` override it for those levels), a complaint's clocks
//! (`[sla.complaint]`), and how often an urgent (A) repair's take alert repeats.

use chrono::Duration;
use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Urgency;
use crate::domain::sla::{ComplaintClocks, RepairClocks};

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
    /// `[sla.A]`: the clocks of an urgent repair (they run day and night). Keys left out
    /// take A's defaults: take 5 minutes, first update 15 minutes, resolve 4 hours.
    #[serde(rename = "A", alias = "a", deserialize_with = "level_a")]
    pub urgent: LevelSla,
    /// `[sla.C]`: the clocks of a cosmetic repair. Keys left out take C's defaults: take
    /// 60 minutes, first update 240 minutes, resolve 72 hours.
    #[serde(rename = "C", alias = "c", deserialize_with = "level_c")]
    pub minor: LevelSla,
}

/// The deadlines of one urgency level of repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LevelSla {
    pub take_minutes: u32,
    pub first_update_minutes: u32,
    pub resolve_hours: u32,
}

impl LevelSla {
    pub const A: LevelSla = LevelSla {
        take_minutes: 5,
        first_update_minutes: 15,
        resolve_hours: 4,
    };
    pub const C: LevelSla = LevelSla {
        take_minutes: 60,
        first_update_minutes: 240,
        resolve_hours: 72,
    };
}

/// A level's table as written: each key may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelSlaRaw {
    take_minutes: Option<u32>,
    first_update_minutes: Option<u32>,
    resolve_hours: Option<u32>,
}

impl LevelSlaRaw {
    fn over(self, base: LevelSla) -> LevelSla {
        LevelSla {
            take_minutes: self.take_minutes.unwrap_or(base.take_minutes),
            first_update_minutes: self
                .first_update_minutes
                .unwrap_or(base.first_update_minutes),
            resolve_hours: self.resolve_hours.unwrap_or(base.resolve_hours),
        }
    }
}

fn level_a<'de, D: Deserializer<'de>>(d: D) -> Result<LevelSla, D::Error> {
    Ok(LevelSlaRaw::deserialize(d)?.over(LevelSla::A))
}

fn level_c<'de, D: Deserializer<'de>>(d: D) -> Result<LevelSla, D::Error> {
    Ok(LevelSlaRaw::deserialize(d)?.over(LevelSla::C))
}

impl SlaSettings {
    /// The deadlines of a repair of `urgency`: B's are `[sla]` itself.
    pub fn level(&self, urgency: Urgency) -> LevelSla {
        match urgency {
            Urgency::A => self.urgent,
            Urgency::B => LevelSla {
                take_minutes: self.take_minutes,
                first_update_minutes: self.first_update_minutes,
                resolve_hours: self.resolve_hours,
            },
            Urgency::C => self.minor,
        }
    }

    /// The clocks of a repair of `urgency`, as durations.
    pub fn repair_clocks(&self, urgency: Urgency) -> RepairClocks {
        let l = self.level(urgency);
        RepairClocks {
            take: Duration::minutes(l.take_minutes.into()),
            first_update: Duration::minutes(l.first_update_minutes.into()),
            resolve: Duration::hours(l.resolve_hours.into()),
        }
    }

    /// Every count of these settings with its dotted key; each must be at least 1.
    pub fn counts(&self) -> Vec<(&'static str, u32)> {
        let (a, c, k) = (self.urgent, self.minor, self.complaint);
        vec![
            ("sla.take_minutes", self.take_minutes),
            ("sla.first_update_minutes", self.first_update_minutes),
            ("sla.resolve_hours", self.resolve_hours),
            ("sla.urgent_repeat_minutes", self.urgent_repeat_minutes),
            ("sla.A.take_minutes", a.take_minutes),
            ("sla.A.first_update_minutes", a.first_update_minutes),
            ("sla.A.resolve_hours", a.resolve_hours),
            ("sla.C.take_minutes", c.take_minutes),
            ("sla.C.first_update_minutes", c.first_update_minutes),
            ("sla.C.resolve_hours", c.resolve_hours),
            (
                "sla.complaint.first_response_minutes",
                k.first_response_minutes,
            ),
            ("sla.complaint.reply_hours", k.reply_hours),
            ("sla.complaint.return_visit_days", k.return_visit_days),
        ]
    }

    /// A complaint's clocks, as durations.
    pub fn complaint_clocks(&self) -> ComplaintClocks {
        ComplaintClocks {
            first_response: Duration::minutes(self.complaint.first_response_minutes.into()),
            reply: Duration::hours(self.complaint.reply_hours.into()),
        }
    }
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
            urgent: LevelSla::A,
            minor: LevelSla::C,
        }
    }
}
