//! What happened to a ticket, as the audit trail (`ticket_events.kind`) records it. This
//! enum is the only writer and reader of those kinds: the store binds [`EventKind::as_str`]
//! for every kind it writes or matches in SQL, and parses what it reads back.

use std::fmt;
use std::str::FromStr;

/// A kind of ticket event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The owner reported it.
    Reported,
    /// The owner added a detail (text or photo) by replying.
    Detail,
    /// The owner corrected the report's text.
    Edited,
    /// Staff changed the category.
    Category,
    /// Staff added a note.
    Note,
    /// Staff took it.
    Taken,
    /// Staff reported progress (text or photo).
    Progress,
    /// Staff finished it.
    Done,
    /// Back to work: not fixed after all.
    Reopened,
    /// The owner rated it.
    Rated,
    /// The owner said what went wrong after a low score.
    LowScoreComment,
    /// The rating question closed unanswered.
    RatingExpired,
    /// A manager closed a follow-up.
    FollowUpClosed,
    /// A manager asked the owner to rate again.
    RerateAsked,
    /// A manager answered a complaint or suggestion (relayed to the owner).
    Answered,
    /// A manager closed a complaint or suggestion.
    Closed,
    /// Staff changed the urgency (the detail: the new level).
    Urgency,
    /// A manager or dispatcher gave it to a staff member (detail: their name); a `taken`
    /// event of that person, detail `assigned`, follows.
    Assigned,
    /// The holder or a manager handed it on (detail: the new holder's name, and why); a
    /// `taken` event of the new holder, detail `transferred`, follows.
    Transferred,
    /// The holder put it back to waiting (detail: why).
    Returned,
    /// Staff paused it (waiting for a part, the owner away); the detail is why.
    Paused,
    /// Staff resumed a paused ticket.
    Resumed,
    /// The owner withdrew the report.
    Cancelled,
    /// The owner pressed Hurry up (催一下) after a deadline passed.
    Hurried,
}

impl EventKind {
    /// Every kind, in the order of the ticket's life.
    pub const ALL: [EventKind; 24] = [
        EventKind::Reported,
        EventKind::Detail,
        EventKind::Edited,
        EventKind::Category,
        EventKind::Note,
        EventKind::Taken,
        EventKind::Progress,
        EventKind::Done,
        EventKind::Reopened,
        EventKind::Rated,
        EventKind::LowScoreComment,
        EventKind::RatingExpired,
        EventKind::FollowUpClosed,
        EventKind::RerateAsked,
        EventKind::Answered,
        EventKind::Closed,
        EventKind::Urgency,
        EventKind::Assigned,
        EventKind::Transferred,
        EventKind::Returned,
        EventKind::Paused,
        EventKind::Resumed,
        EventKind::Cancelled,
        EventKind::Hurried,
    ];

    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Reported => "reported",
            EventKind::Detail => "detail",
            EventKind::Edited => "edited",
            EventKind::Category => "category",
            EventKind::Note => "note",
            EventKind::Taken => "taken",
            EventKind::Progress => "progress",
            EventKind::Done => "done",
            EventKind::Reopened => "reopened",
            EventKind::Rated => "rated",
            EventKind::LowScoreComment => "low_score_comment",
            EventKind::RatingExpired => "rating_expired",
            EventKind::FollowUpClosed => "follow_up_closed",
            EventKind::RerateAsked => "rerate_asked",
            EventKind::Answered => "answered",
            EventKind::Closed => "closed",
            EventKind::Urgency => "urgency",
            EventKind::Assigned => "assigned",
            EventKind::Transferred => "transferred",
            EventKind::Returned => "returned",
            EventKind::Paused => "paused",
            EventKind::Resumed => "resumed",
            EventKind::Cancelled => "cancelled",
            EventKind::Hurried => "hurried",
        }
    }
}

/// A stored kind no [`EventKind`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?}")]
pub struct UnknownEventKind(pub String);

impl FromStr for EventKind {
    type Err = UnknownEventKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownEventKind(s.to_owned()))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for EventKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_text() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert!("withdrawn".parse::<EventKind>().is_err());
    }

    #[test]
    fn no_two_kinds_share_a_text() {
        let mut texts: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), EventKind::ALL.len());
    }
}
