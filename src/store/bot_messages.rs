//! Messages Butler sent that belong to a ticket (`bot_messages`): the card, the rating
//! question, the follow-up card … found again by a reply to them or to edit them. The
//! outbox writes them as it sends (see `outbox.rs`).

use serde::{Deserialize, Serialize};

use super::{Error, Result, Store, decode, query_as, query_scalar};
use crate::domain::TicketId;

/// What a message Butler sent is, for a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotMessageKind {
    /// The staff card with Take / Done.
    Card,
    /// Report photos shown under the card.
    CardPhotos,
    /// "Ticket #N received" under the owner's report.
    Confirmation,
    /// The 1–5 question.
    Rating,
    /// "What went wrong?" after a low score.
    LowScoreQuestion,
    /// The managers' follow-up card.
    FollowUp,
    /// Progress relayed to the owner group.
    Relay,
    /// The private alert to managers about a watch-listed owner.
    WatchAlert,
    /// A complaint's or suggestion's card for the managers (privately, or in the
    /// complaints chat): a reply answers the owner, its button closes it.
    RequestCard,
    /// The roster offered under a card by its Assign button.
    AssignMenu,
    /// A ticket's story (`/ticket N`), with its "Show photos" button.
    Story,
}

impl BotMessageKind {
    pub(super) fn code(self) -> &'static str {
        match self {
            BotMessageKind::Card => "card",
            BotMessageKind::CardPhotos => "card_photos",
            BotMessageKind::Confirmation => "confirmation",
            BotMessageKind::Rating => "rating",
            BotMessageKind::LowScoreQuestion => "low_score_question",
            BotMessageKind::FollowUp => "follow_up",
            BotMessageKind::Relay => "relay",
            BotMessageKind::WatchAlert => "watch_alert",
            BotMessageKind::RequestCard => "request_card",
            BotMessageKind::AssignMenu => "assign_menu",
            BotMessageKind::Story => "story",
        }
    }

    fn from_code(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// A message of Butler's that someone replied to or pressed a button under; also what
/// to remember a message as when it is sent (see [`Store::outbox_sent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BotMessage {
    pub ticket_id: TicketId,
    pub kind: BotMessageKind,
    pub ref_id: Option<i64>,
}

/// A `bot_messages` row, before its kind is parsed.
#[derive(sqlx::FromRow)]
struct BotMessageRecord {
    ticket_id: i64,
    kind: String,
    ref_id: Option<i64>,
}

impl TryFrom<BotMessageRecord> for BotMessage {
    type Error = Error;
    fn try_from(r: BotMessageRecord) -> Result<Self> {
        Ok(BotMessage {
            ticket_id: TicketId(r.ticket_id),
            kind: decode("bot message kind", &r.kind, BotMessageKind::from_code)?,
            ref_id: r.ref_id,
        })
    }
}

impl Store {
    /// Which ticket a message of Butler's belongs to.
    pub async fn bot_message(&self, chat_id: i64, message_id: i32) -> Result<Option<BotMessage>> {
        let row: Option<BotMessageRecord> = query_as(
            "SELECT ticket_id, kind, ref_id FROM bot_messages WHERE chat_id = ? AND message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(BotMessage::try_from).transpose()
    }

    /// The latest message of `kind` about a ticket in `chat_id` (a card moved to another
    /// staff chat leaves one in each).
    pub async fn latest_bot_message(
        &self,
        chat_id: i64,
        ticket_id: i64,
        kind: BotMessageKind,
    ) -> Result<Option<i32>> {
        Ok(query_scalar(
            "SELECT message_id FROM bot_messages WHERE ticket_id = ? AND kind = ? AND chat_id = ?
             ORDER BY at DESC, message_id DESC LIMIT 1",
        )
        .bind(ticket_id)
        .bind(kind.code())
        .bind(chat_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn follow_up_message(&self, follow_up_id: i64) -> Result<Option<i32>> {
        Ok(query_scalar(
            "SELECT message_id FROM bot_messages WHERE kind = ? AND ref_id = ? LIMIT 1",
        )
        .bind(BotMessageKind::FollowUp.code())
        .bind(follow_up_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
