//! The service-level policy of a ticket: which clocks it has (a repair: take, first
//! update, resolve; a complaint: first response, reply), how long each is for its kind
//! and urgency, whether they follow the business-hours calendar (B and C repairs do; A
//! repairs and complaints run day and night), and when the owner may press Hurry up.

use chrono::{DateTime, Duration, Utc};

use super::calendar::Calendar;
use super::{Error, Kind, Ticket, TicketStatus, Urgency};

/// How long a repair of one urgency has for each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairClocks {
    pub take: Duration,
    pub first_update: Duration,
    pub resolve: Duration,
}

/// How long a complaint has: a manager's first answer, and the reply that closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintClocks {
    pub first_response: Duration,
    pub reply: Duration,
}

/// A ticket's deadlines as stored on it, set at the report (and again when its urgency
/// changes); `first_update` when it is taken. `None`: the ticket has no such clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dues {
    /// A repair: taken by then.
    pub take: Option<DateTime<Utc>>,
    /// A taken repair: the owner hears progress by then.
    pub first_update: Option<DateTime<Utc>>,
    /// A repair: done by then; a complaint: answered and closed (the reply) by then.
    pub resolve: Option<DateTime<Utc>>,
    /// A complaint: a manager's first answer by then.
    pub response: Option<DateTime<Utc>>,
}

/// Whether the clocks of a `kind` of `urgency` run only in business hours.
pub fn follows_business_hours(kind: Kind, urgency: Urgency) -> bool {
    kind == Kind::Repair && urgency != Urgency::A
}

/// The clock arithmetic of one ticket: its calendar (business hours or always).
fn clock<'a>(kind: Kind, urgency: Urgency, calendar: Calendar<'a>) -> Calendar<'a> {
    if follows_business_hours(kind, urgency) {
        calendar
    } else {
        Calendar {
            hours: None,
            ..calendar
        }
    }
}

/// The deadlines of a new ticket reported at `at` (the take and resolve of a repair, the
/// first response and reply of a complaint; a suggestion has none).
pub fn dues_at_report(
    kind: Kind,
    urgency: Urgency,
    at: DateTime<Utc>,
    repair: RepairClocks,
    complaint: ComplaintClocks,
    calendar: Calendar<'_>,
) -> Dues {
    let c = clock(kind, urgency, calendar);
    match kind {
        Kind::Repair => Dues {
            take: Some(c.add(at, repair.take)),
            resolve: Some(c.add(at, repair.resolve)),
            ..Dues::default()
        },
        Kind::Complaint => Dues {
            response: Some(c.add(at, complaint.first_response)),
            resolve: Some(c.add(at, complaint.reply)),
            ..Dues::default()
        },
        Kind::Suggestion => Dues::default(),
    }
}

/// The first-update deadline of a repair taken at `at`.
pub fn first_update_due(
    urgency: Urgency,
    at: DateTime<Utc>,
    repair: RepairClocks,
    calendar: Calendar<'_>,
) -> DateTime<Utc> {
    clock(Kind::Repair, urgency, calendar).add(at, repair.first_update)
}

/// How often the owner may press Hurry up on one ticket.
pub const HURRY_EVERY: Duration = Duration::hours(1);

impl Ticket {
    /// The deadline the owner may hurry up after, as it stands at `now` (pushed back by
    /// the time spent paused): the take time while nobody holds it, else the resolve
    /// time; a complaint's first response while unanswered, else its reply time.
    pub fn hurry_due(&self, now: DateTime<Utc>, answered: bool) -> Option<DateTime<Utc>> {
        let earliest = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let due = match (self.kind, self.status) {
            (Kind::Repair, TicketStatus::Reported) => earliest(self.due.take, self.due.resolve),
            (Kind::Complaint, _) if !answered => earliest(self.due.response, self.due.resolve),
            _ => self.due.resolve,
        }?;
        Some(due + self.paused_time(now))
    }

    /// Whether the Hurry up button belongs under the owner's confirmation at `now`: still
    /// open, not paused, and a promised time has passed.
    pub fn hurry_offered(&self, now: DateTime<Utc>, answered: bool) -> bool {
        self.status.is_open()
            && self.paused.is_none()
            && self.hurry_due(now, answered).is_some_and(|due| due <= now)
    }

    /// The owner `owner_id` presses Hurry up at `now`; `last` is their previous press on
    /// this ticket. Refused for anyone else, a finished or paused ticket, before the
    /// deadline, and within [`HURRY_EVERY`] of the previous press (the error says when).
    pub fn hurry(
        &self,
        owner_id: u64,
        now: DateTime<Utc>,
        answered: bool,
        last: Option<DateTime<Utc>>,
    ) -> Result<(), Error> {
        if owner_id != self.owner_id {
            return Err(Error::NotYourHurry);
        }
        match self.status {
            TicketStatus::Reported | TicketStatus::Taken => {}
            TicketStatus::Done | TicketStatus::Rated => return Err(Error::AlreadyDone),
            TicketStatus::Cancelled => return Err(Error::Closed),
        }
        if self.paused.is_some() {
            return Err(Error::HurryPaused);
        }
        if !self.hurry_offered(now, answered) {
            return Err(Error::HurryNotDue);
        }
        match last {
            Some(at) if now < at + HURRY_EVERY => {
                let wait = (at + HURRY_EVERY - now).num_seconds();
                Err(Error::HurryTooSoon {
                    minutes: (wait + 59) / 60,
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::domain::calendar::BusinessHours;
    use crate::domain::ticket::sample;

    fn repair() -> RepairClocks {
        RepairClocks {
            take: Duration::minutes(10),
            first_update: Duration::minutes(30),
            resolve: Duration::hours(24),
        }
    }

    fn complaint() -> ComplaintClocks {
        ComplaintClocks {
            first_response: Duration::hours(2),
            reply: Duration::hours(48),
        }
    }

    #[test]
    fn b_follows_the_calendar_and_a_and_complaints_do_not() {
        let days = ["mon", "tue", "wed", "thu", "fri"]
            .map(String::from)
            .to_vec();
        let hours = BusinessHours::parse(&days, "08:30", "18:00").unwrap();
        let none = BTreeMap::new();
        let zone = chrono_tz::Asia::Shanghai;
        let cal = Calendar {
            hours: Some(&hours),
            holidays: &none,
            zone,
        };
        // Friday 4 December 2026, 17:55 in Shanghai.
        let at = zone
            .with_ymd_and_hms(2026, 12, 4, 17, 55, 0)
            .unwrap()
            .with_timezone(&Utc);
        let monday = |h, m| {
            zone.with_ymd_and_hms(2026, 12, 7, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let b = dues_at_report(Kind::Repair, Urgency::B, at, repair(), complaint(), cal);
        assert_eq!(b.take, Some(monday(8, 35)));
        let a = dues_at_report(Kind::Repair, Urgency::A, at, repair(), complaint(), cal);
        assert_eq!(a.take, Some(at + Duration::minutes(10)));
        let c = dues_at_report(Kind::Complaint, Urgency::B, at, repair(), complaint(), cal);
        assert_eq!(c.response, Some(at + Duration::hours(2)));
        assert_eq!(c.resolve, Some(at + Duration::hours(48)));
        assert_eq!(c.take, None);
        let s = dues_at_report(Kind::Suggestion, Urgency::B, at, repair(), complaint(), cal);
        assert_eq!(s, Dues::default());
    }

    #[test]
    fn hurry_up_is_the_reporters_once_an_hour_after_the_deadline() {
        let mut t = sample(TicketStatus::Reported, None);
        let now = t.created_at;
        t.due.take = Some(now + Duration::minutes(10));
        t.due.resolve = Some(now + Duration::hours(24));
        let later = now + Duration::minutes(11);
        assert_eq!(t.hurry(7, now, false, None), Err(Error::HurryNotDue));
        assert_eq!(t.hurry(8, later, false, None), Err(Error::NotYourHurry));
        assert_eq!(t.hurry(7, later, false, None), Ok(()));
        assert_eq!(
            t.hurry(7, later + Duration::minutes(59), false, Some(later)),
            Err(Error::HurryTooSoon { minutes: 1 })
        );
        assert_eq!(
            t.hurry(7, later + Duration::hours(1), false, Some(later)),
            Ok(())
        );
        // Taken: the resolve time counts now.
        t.status = TicketStatus::Taken;
        assert!(!t.hurry_offered(later, false));
        assert!(t.hurry_offered(now + Duration::hours(24), false));
        t.status = TicketStatus::Done;
        assert_eq!(t.hurry(7, later, false, None), Err(Error::AlreadyDone));
    }
}
