//! A ticket and the moves it may make:
//!
//! ```text
//! reported ──take──▶ taken ──done──▶ done ──rate──▶ rated
//!    │                 │   ▲            │
//!    │                 │   └──reopen────┘
//!    └──cancel
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{Category, Error, Kind, Score, Unit, Urgency};

/// A ticket number as people type it: `42` or `#42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketId(pub i64);

impl FromStr for TicketId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix('#')
            .or_else(|| t.strip_prefix('＃'))
            .unwrap_or(t);
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(TicketId(n)),
            _ => Err(Error::BadTicketId(t.to_owned())),
        }
    }
}

/// A stored ticket number (typed input goes through [`FromStr`]).
impl From<i64> for TicketId {
    fn from(id: i64) -> Self {
        TicketId(id)
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    Reported,
    Taken,
    Done,
    Rated,
    Cancelled,
}

impl TicketStatus {
    pub fn code(self) -> &'static str {
        match self {
            TicketStatus::Reported => "reported",
            TicketStatus::Taken => "taken",
            TicketStatus::Done => "done",
            TicketStatus::Rated => "rated",
            TicketStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            TicketStatus::Reported,
            TicketStatus::Taken,
            TicketStatus::Done,
            TicketStatus::Rated,
            TicketStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Still work for staff.
    pub fn is_open(self) -> bool {
        matches!(self, TicketStatus::Reported | TicketStatus::Taken)
    }
}

/// Who asks for a move, and who did it in the audit trail: a Telegram user (or Butler
/// itself), and whether they are a manager.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: u64,
    pub name: String,
    pub is_manager: bool,
}

impl Actor {
    /// Managers only: changing a rating's outcome (closing a follow-up, asking to rate
    /// again), exporting unless opened to staff.
    pub fn must_be_manager(&self) -> Result<(), Error> {
        if self.is_manager {
            Ok(())
        } else {
            Err(Error::ManagersOnly)
        }
    }

    /// `/export`: managers, and staff when the settings open it to them.
    pub fn may_export(&self, open_to_staff: bool) -> Result<(), Error> {
        if open_to_staff {
            Ok(())
        } else {
            self.must_be_manager()
        }
    }

    /// Butler itself, for what scheduled jobs do (user id 0, never a Telegram user's).
    pub fn butler() -> Self {
        Actor {
            id: 0,
            name: "Butler".to_owned(),
            is_manager: false,
        }
    }
}

/// A ticket as read from the store.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: TicketId,
    pub group_chat_id: i64,
    pub group_name: String,
    /// The chat the report was written in (differs from `group_chat_id` once the group
    /// became a supergroup).
    pub report_chat_id: i64,
    pub report_message_id: i32,
    pub owner_id: u64,
    pub owner_name: String,
    pub unit: Option<Unit>,
    pub category: Category,
    pub text: String,
    pub status: TicketStatus,
    pub priority: bool,
    pub taken_by: Option<(u64, String)>,
    pub rating_round: i64,
    pub created_at: DateTime<Utc>,
    /// Photos of any kind, for the card's count.
    pub photo_count: i64,
    /// The latest score, if rated.
    pub score: Option<Score>,
    /// The language the owner reads: the group's choice, else the owner's own.
    pub owner_locale: Option<super::Locale>,
    /// A repair, a complaint or a suggestion.
    pub kind: Kind,
    pub urgency: Urgency,
    /// The earlier finished repair this one repeats (same unit and category within 30
    /// days), if any.
    pub repeat_of: Option<TicketId>,
    /// The staff chat of a route the card lives in; `None`: the main staff chat.
    pub staff_chat: Option<i64>,
    /// Set while the ticket is paused: since when, and why.
    pub paused: Option<super::pause::Pause>,
    /// The paused time of the pauses that have ended, in seconds.
    pub paused_secs: i64,
    /// Its deadlines, as the SLA policy set them (see [`super::sla`]).
    pub due: super::sla::Dues,
}

impl Ticket {
    /// The owner's report, to answer under: only while it is in the chat Butler writes
    /// to (message ids start again in a group that became a supergroup).
    pub fn report_in_group(&self) -> Option<i32> {
        (self.report_chat_id == self.group_chat_id).then_some(self.report_message_id)
    }

    /// Staff work (take, done, reopen, progress, category, note, urgency) is for repairs;
    /// a complaint or suggestion is the managers' (see [`Ticket::answerable`]).
    pub fn staff_work(&self) -> Result<(), Error> {
        if self.kind.is_staff_work() {
            Ok(())
        } else {
            Err(Error::ForManagers(self.id.0))
        }
    }

    /// A manager answers or closes a complaint or suggestion while it is open.
    pub fn answerable(&self, by: &Actor) -> Result<(), Error> {
        by.must_be_manager()?;
        if self.kind.is_staff_work() {
            return Err(Error::NotARequest(self.id.0));
        }
        match self.status {
            TicketStatus::Reported | TicketStatus::Taken => Ok(()),
            _ => Err(Error::Closed),
        }
    }

    /// Staff member `by` takes the ticket.
    pub fn take(&self, by: &Actor) -> Result<(), Error> {
        self.staff_work()?;
        match (self.status, &self.taken_by) {
            (TicketStatus::Reported, _) => Ok(()),
            (TicketStatus::Taken, Some((id, _))) if *id == by.id => Err(Error::AlreadyYours),
            (TicketStatus::Taken, Some((_, name))) => Err(Error::AlreadyTaken { by: name.clone() }),
            (TicketStatus::Taken, None) => Ok(()),
            (TicketStatus::Done | TicketStatus::Rated, _) => Err(Error::AlreadyDone),
            (TicketStatus::Cancelled, _) => Err(Error::Closed),
        }
    }

    /// `by` closes the ticket; `photos_since_taken` counts photos added after the last take
    /// (or reopen).
    pub fn finish(
        &self,
        by: &Actor,
        photos_since_taken: i64,
        require_photo: bool,
    ) -> Result<(), Error> {
        self.staff_work()?;
        match self.status {
            TicketStatus::Reported => return Err(Error::NotTaken),
            TicketStatus::Done | TicketStatus::Rated => return Err(Error::AlreadyDone),
            TicketStatus::Cancelled => return Err(Error::Closed),
            TicketStatus::Taken => {}
        }
        if let Some((taker, name)) = &self.taken_by
            && *taker != by.id
            && !by.is_manager
        {
            return Err(Error::NotYourTicket { by: name.clone() });
        }
        if require_photo && photos_since_taken == 0 {
            return Err(Error::PhotoRequired);
        }
        Ok(())
    }

    /// Back to work: the owner says it is not fixed (`by_owner`), or staff reopen it. A
    /// rated ticket's score stands unless a manager reopens it.
    pub fn reopen(&self, by: &Actor, by_owner: bool) -> Result<(), Error> {
        self.staff_work()?;
        match self.status {
            TicketStatus::Done => Ok(()),
            TicketStatus::Rated if by_owner || by.is_manager => Ok(()),
            TicketStatus::Rated => Err(Error::RatedReopenManagersOnly),
            TicketStatus::Cancelled => Err(Error::Closed),
            _ => Err(Error::NotDone),
        }
    }

    /// Progress (a photo or text from staff) can be added while the ticket is open.
    pub fn accepts_progress(&self) -> Result<(), Error> {
        self.staff_work()?;
        match self.status {
            TicketStatus::Reported | TicketStatus::Taken => Ok(()),
            TicketStatus::Done | TicketStatus::Rated => Err(Error::AlreadyDone),
            TicketStatus::Cancelled => Err(Error::Closed),
        }
    }

    /// The owner `owner_id` withdraws the report: only their own, and only while it is
    /// still work for staff (waiting or taken, paused or not).
    pub fn cancel(&self, owner_id: u64) -> Result<(), Error> {
        if owner_id != self.owner_id {
            return Err(Error::NotYourReport);
        }
        match self.status {
            TicketStatus::Reported | TicketStatus::Taken => Ok(()),
            TicketStatus::Done | TicketStatus::Rated => Err(Error::FinishedCannotCancel),
            TicketStatus::Cancelled => Err(Error::AlreadyCancelled),
        }
    }

    /// The owner `owner_id` rates in round `round` (the question they pressed under).
    pub fn rate(&self, owner_id: u64, round: i64) -> Result<(), Error> {
        if owner_id != self.owner_id {
            return Err(Error::NotTheReporter);
        }
        if round != self.rating_round || self.rating_round == 0 {
            return Err(Error::RatingNotOpen);
        }
        match self.status {
            TicketStatus::Done => Ok(()),
            TicketStatus::Rated if self.score.is_none() => Ok(()),
            _ => Err(Error::RatingNotOpen),
        }
    }
}

/// A ticket for the domain's unit tests: #1, reported by owner 7 in group -1, category
/// Other, made now.
#[cfg(test)]
pub(crate) fn sample(status: TicketStatus, taken_by: Option<(u64, &str)>) -> Ticket {
    Ticket {
        id: TicketId(1),
        group_chat_id: -1,
        group_name: "g".into(),
        report_chat_id: -1,
        report_message_id: 1,
        owner_id: 7,
        owner_name: "o".into(),
        unit: None,
        category: Category::Other,
        text: "t".into(),
        status,
        priority: false,
        taken_by: taken_by.map(|(i, n)| (i, n.to_owned())),
        rating_round: if status == TicketStatus::Done { 1 } else { 0 },
        created_at: Utc::now(),
        photo_count: 0,
        score: None,
        owner_locale: None,
        kind: Kind::Repair,
        urgency: Urgency::B,
        repeat_of: None,
        staff_chat: None,
        paused: None,
        paused_secs: 0,
        due: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(status: TicketStatus, taken_by: Option<(u64, &str)>) -> Ticket {
        sample(status, taken_by)
    }

    fn staff(id: u64) -> Actor {
        Actor {
            id,
            name: format!("s{id}"),
            is_manager: false,
        }
    }

    #[test]
    fn ticket_numbers_parse_with_or_without_hash() {
        assert_eq!("#42".parse::<TicketId>().unwrap(), TicketId(42));
        assert_eq!(" 42 ".parse::<TicketId>().unwrap(), TicketId(42));
        assert!("abc".parse::<TicketId>().is_err());
        assert!("0".parse::<TicketId>().is_err());
        assert!("-3".parse::<TicketId>().is_err());
    }

    #[test]
    fn a_taken_ticket_cannot_be_taken_by_someone_else() {
        let t = ticket(TicketStatus::Taken, Some((1, "Wang")));
        assert_eq!(
            t.take(&staff(2)),
            Err(Error::AlreadyTaken { by: "Wang".into() })
        );
        assert_eq!(t.take(&staff(1)), Err(Error::AlreadyYours));
    }

    #[test]
    fn done_needs_a_photo_when_required() {
        let t = ticket(TicketStatus::Taken, Some((1, "Wang")));
        assert_eq!(t.finish(&staff(1), 0, true), Err(Error::PhotoRequired));
        assert_eq!(t.finish(&staff(1), 0, false), Ok(()));
        assert_eq!(t.finish(&staff(1), 1, true), Ok(()));
    }

    #[test]
    fn only_the_taker_or_a_manager_closes() {
        let t = ticket(TicketStatus::Taken, Some((1, "Wang")));
        assert_eq!(
            t.finish(&staff(2), 1, true),
            Err(Error::NotYourTicket { by: "Wang".into() })
        );
        let manager = Actor {
            id: 9,
            name: "m".into(),
            is_manager: true,
        };
        assert_eq!(t.finish(&manager, 1, true), Ok(()));
    }

    #[test]
    fn an_untaken_ticket_cannot_be_closed() {
        assert_eq!(
            ticket(TicketStatus::Reported, None).finish(&staff(1), 1, true),
            Err(Error::NotTaken)
        );
    }

    #[test]
    fn only_a_manager_reopens_a_rated_ticket() {
        let done = ticket(TicketStatus::Done, Some((1, "Wang")));
        assert_eq!(done.reopen(&staff(2), false), Ok(()));
        let rated = ticket(TicketStatus::Rated, Some((1, "Wang")));
        assert_eq!(
            rated.reopen(&staff(1), false),
            Err(Error::RatedReopenManagersOnly)
        );
        let manager = Actor {
            id: 9,
            name: "m".into(),
            is_manager: true,
        };
        assert_eq!(rated.reopen(&manager, false), Ok(()));
        assert_eq!(rated.reopen(&staff(7), true), Ok(()));
        assert_eq!(staff(1).must_be_manager(), Err(Error::ManagersOnly));
        assert_eq!(manager.must_be_manager(), Ok(()));
    }

    #[test]
    fn staff_cannot_work_on_a_complaint_and_only_managers_answer_one() {
        let mut t = ticket(TicketStatus::Reported, None);
        t.kind = Kind::Complaint;
        assert_eq!(t.take(&staff(1)), Err(Error::ForManagers(1)));
        assert_eq!(t.accepts_progress(), Err(Error::ForManagers(1)));
        assert_eq!(t.answerable(&staff(1)), Err(Error::ManagersOnly));
        let manager = Actor {
            id: 9,
            name: "m".into(),
            is_manager: true,
        };
        assert_eq!(t.answerable(&manager), Ok(()));
        t.status = TicketStatus::Done;
        assert_eq!(t.answerable(&manager), Err(Error::Closed));
        t.kind = Kind::Repair;
        assert_eq!(t.answerable(&manager), Err(Error::NotARequest(1)));
    }

    #[test]
    fn only_the_reporter_rates_and_only_the_open_round() {
        let t = ticket(TicketStatus::Done, Some((1, "Wang")));
        assert_eq!(t.rate(8, 1), Err(Error::NotTheReporter));
        assert_eq!(t.rate(7, 2), Err(Error::RatingNotOpen));
        assert_eq!(t.rate(7, 1), Ok(()));
    }

    #[test]
    fn only_the_reporter_cancels_and_only_an_open_ticket() {
        let waiting = ticket(TicketStatus::Reported, None);
        assert_eq!(waiting.cancel(8), Err(Error::NotYourReport));
        assert_eq!(waiting.cancel(7), Ok(()));
        assert_eq!(
            ticket(TicketStatus::Taken, Some((1, "Wang"))).cancel(7),
            Ok(())
        );
        for finished in [TicketStatus::Done, TicketStatus::Rated] {
            assert_eq!(
                ticket(finished, Some((1, "Wang"))).cancel(7),
                Err(Error::FinishedCannotCancel)
            );
        }
        assert_eq!(
            ticket(TicketStatus::Cancelled, None).cancel(7),
            Err(Error::AlreadyCancelled)
        );
        assert_eq!(
            ticket(TicketStatus::Cancelled, None).cancel(8),
            Err(Error::NotYourReport),
            "a stranger learns nothing about someone else's ticket"
        );
    }
}
