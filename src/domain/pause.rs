//! Pausing a ticket (waiting for a part, the owner not at home) and where a ticket is
//! worked: the rules, and the clock arithmetic that leaves paused time out.
//!
//! A paused ticket stays open and keeps its holder; its SLA clocks stand still: each
//! deadline is pushed back by the time spent paused, and while paused no deadline passes.

use chrono::{DateTime, Duration, Utc};

use super::{Actor, Error, Ticket, TicketStatus};

/// A pause in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub since: DateTime<Utc>,
    /// Why, as the one who paused said it.
    pub reason: String,
}

impl Ticket {
    /// `by` pauses the ticket: a taken, open ticket, by its holder or a manager.
    pub fn pause(&self, by: &Actor) -> Result<(), Error> {
        self.may_hold(by)?;
        if self.paused.is_some() {
            return Err(Error::AlreadyPaused);
        }
        Ok(())
    }

    /// `by` resumes a paused ticket: its holder or a manager.
    pub fn resume(&self, by: &Actor) -> Result<(), Error> {
        self.may_hold(by)?;
        if self.paused.is_none() {
            return Err(Error::NotPaused);
        }
        Ok(())
    }

    /// Open, taken, and `by` holds it or is a manager.
    fn may_hold(&self, by: &Actor) -> Result<(), Error> {
        self.staff_work()?;
        match self.status {
            TicketStatus::Reported => return Err(Error::NotTaken),
            TicketStatus::Done | TicketStatus::Rated => return Err(Error::AlreadyDone),
            TicketStatus::Cancelled => return Err(Error::Closed),
            TicketStatus::Taken => {}
        }
        match &self.taken_by {
            Some((holder, _)) if *holder == by.id || by.is_manager => Ok(()),
            None if by.is_manager => Ok(()),
            _ => Err(Error::NotYourPause),
        }
    }

    /// All the time this ticket has spent paused up to `now`, the pause in progress
    /// included.
    pub fn paused_time(&self, now: DateTime<Utc>) -> Duration {
        let ongoing = self
            .paused
            .as_ref()
            .map_or(Duration::zero(), |p| (now - p.since).max(Duration::zero()));
        Duration::seconds(self.paused_secs) + ongoing
    }

    /// How long the clock has run since `from` (the report, or the take) at `now`, paused
    /// time left out. Pauses are only possible once taken, so all of them lie after the
    /// report; for a clock started at the take, `paused_since_from` is the paused time
    /// after it (see [`paused_after`]).
    pub fn running_time(
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        paused_since_from: Duration,
    ) -> Duration {
        ((now - from) - paused_since_from).max(Duration::zero())
    }

    /// The staff chat this ticket is worked in: its route's, else `main`.
    pub fn staff_chat_or(&self, main: i64) -> i64 {
        self.staff_chat.unwrap_or(main)
    }

    /// Whether `by`, writing in staff chat `chat`, may work this ticket there: in the
    /// ticket's own staff chat (where membership was checked), or anywhere for a manager.
    /// `name` names the ticket's chat for the refusal.
    pub fn worked_from(
        &self,
        chat: i64,
        main: i64,
        by: &Actor,
        name: impl FnOnce(i64) -> String,
    ) -> Result<(), Error> {
        let home = self.staff_chat_or(main);
        if chat == home || by.is_manager {
            Ok(())
        } else {
            Err(Error::OtherStaffChat { chat: name(home) })
        }
    }
}

/// The paused time after `from`, given the (paused, resumed) spans of a ticket (an open
/// span, `None`, runs until `now`).
pub fn paused_after(
    spans: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Duration {
    spans
        .iter()
        .map(|&(start, end)| {
            let start = start.max(from);
            let end = end.unwrap_or(now).min(now);
            (end - start).max(Duration::zero())
        })
        .fold(Duration::zero(), |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }

    fn ticket(status: TicketStatus, holder: Option<u64>) -> Ticket {
        Ticket {
            category: Category::Plumbing,
            taken_by: holder.map(|h| (h, format!("s{h}"))),
            rating_round: 0,
            created_at: at(0),
            ..crate::domain::ticket::sample(status, None)
        }
    }

    fn person(id: u64, is_manager: bool) -> Actor {
        Actor {
            id,
            name: format!("p{id}"),
            is_manager,
        }
    }

    #[test]
    fn the_holder_or_a_manager_pauses_a_taken_ticket() {
        let t = ticket(TicketStatus::Taken, Some(1));
        assert_eq!(t.pause(&person(1, false)), Ok(()));
        assert_eq!(t.pause(&person(9, true)), Ok(()));
        assert_eq!(t.pause(&person(2, false)), Err(Error::NotYourPause));
    }

    #[test]
    fn a_waiting_or_finished_ticket_cannot_be_paused() {
        let by = person(1, true);
        assert_eq!(
            ticket(TicketStatus::Reported, None).pause(&by),
            Err(Error::NotTaken)
        );
        assert_eq!(
            ticket(TicketStatus::Done, Some(1)).pause(&by),
            Err(Error::AlreadyDone)
        );
        assert_eq!(
            ticket(TicketStatus::Rated, Some(1)).pause(&by),
            Err(Error::AlreadyDone)
        );
        assert_eq!(
            ticket(TicketStatus::Cancelled, None).pause(&by),
            Err(Error::Closed)
        );
    }

    #[test]
    fn a_paused_ticket_is_not_paused_twice_and_only_a_paused_one_resumes() {
        let mut t = ticket(TicketStatus::Taken, Some(1));
        assert_eq!(t.resume(&person(1, false)), Err(Error::NotPaused));
        t.paused = Some(Pause {
            since: at(5),
            reason: "part".into(),
        });
        assert_eq!(t.pause(&person(1, false)), Err(Error::AlreadyPaused));
        assert_eq!(t.resume(&person(1, false)), Ok(()));
        assert_eq!(t.resume(&person(2, false)), Err(Error::NotYourPause));
    }

    #[test]
    fn paused_time_adds_the_ended_pauses_and_the_one_in_progress() {
        let mut t = ticket(TicketStatus::Taken, Some(1));
        t.paused_secs = 600;
        assert_eq!(t.paused_time(at(30)), Duration::minutes(10));
        t.paused = Some(Pause {
            since: at(20),
            reason: "part".into(),
        });
        assert_eq!(t.paused_time(at(30)), Duration::minutes(20));
    }

    #[test]
    fn the_running_time_leaves_paused_time_out_and_never_goes_negative() {
        let run = Ticket::running_time(at(0), at(60), Duration::minutes(45));
        assert_eq!(run, Duration::minutes(15));
        assert_eq!(
            Ticket::running_time(at(0), at(10), Duration::minutes(45)),
            Duration::zero()
        );
    }

    #[test]
    fn paused_after_counts_only_the_part_of_each_span_after_the_start() {
        let spans = [
            (at(0), Some(at(10))),
            (at(20), Some(at(30))),
            (at(50), None),
        ];
        assert_eq!(paused_after(&spans, at(5), at(60)), Duration::minutes(25));
        assert_eq!(paused_after(&spans, at(40), at(55)), Duration::minutes(5));
    }

    #[test]
    fn a_ticket_is_worked_from_its_own_chat_or_by_a_manager() {
        let mut t = ticket(TicketStatus::Reported, None);
        t.staff_chat = Some(-200);
        let name = |c: i64| format!("chat {c}");
        assert_eq!(t.worked_from(-200, -100, &person(1, false), name), Ok(()));
        assert_eq!(
            t.worked_from(-100, -100, &person(1, false), name),
            Err(Error::OtherStaffChat {
                chat: "chat -200".into()
            })
        );
        assert_eq!(t.worked_from(-100, -100, &person(9, true), name), Ok(()));
        t.staff_chat = None;
        assert_eq!(t.worked_from(-100, -100, &person(1, false), name), Ok(()));
    }
}
