//! One ticket's story as `/ticket N` tells it: every event with its person and time, the
//! photos, the follow-ups. Read by the store, told by `messages::story`.

use chrono::{DateTime, Utc};

use super::EventKind;

/// One event of the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryEvent {
    pub kind: EventKind,
    /// Who did it, as named then.
    pub actor: String,
    /// The event's detail as recorded (a note, a score, a category code …).
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// A managers' follow-up of the ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryFollowUp {
    pub id: i64,
    /// Opened by a low score (else: the rating question expired unanswered).
    pub low_score: bool,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Everything that happened to a ticket, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Story {
    pub events: Vec<StoryEvent>,
    /// Telegram file ids of every photo (report, progress, completion), oldest first.
    pub photos: Vec<String>,
    pub follow_ups: Vec<StoryFollowUp>,
}
