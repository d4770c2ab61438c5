//! What a message is: [`Outgoing`] (send or edit), the messages it refers to ([`Target`]),
//! what to remember it by once sent ([`Remember`]), its [`Buttons`], and its stored form
//! (see [`Outgoing::from_payload`]): the store keeps a message as this JSON text and hands
//! it back as it is, so writing it ([`store::Tx::enqueue`]) and reading it are here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::domain::TicketId;
use crate::store::{self, BotMessage, BotMessageKind};

/// A message to send, or to edit, as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Outgoing {
    Text {
        chat_id: i64,
        text: String,
        #[serde(default)]
        reply_to: Option<Target>,
        #[serde(default)]
        buttons: Option<Buttons>,
        #[serde(default)]
        remember: Option<Remember>,
    },
    Photo {
        chat_id: i64,
        file_id: String,
        #[serde(default)]
        caption: Option<String>,
        #[serde(default)]
        reply_to: Option<Target>,
        #[serde(default)]
        remember: Option<Remember>,
    },
    /// 2 to 10 photos; the caption goes on the first.
    Album {
        chat_id: i64,
        file_ids: Vec<String>,
        #[serde(default)]
        caption: Option<String>,
        #[serde(default)]
        reply_to: Option<Target>,
        #[serde(default)]
        remember: Option<Remember>,
    },
    Edit {
        chat_id: i64,
        target: Target,
        text: String,
        #[serde(default)]
        buttons: Option<Buttons>,
    },
    /// A file Butler made (an export): `file` is the id of its bytes, kept by
    /// `Tx::add_outbox_file`, uploaded under `file_name`.
    Document {
        chat_id: i64,
        file: i64,
        file_name: String,
        #[serde(default)]
        caption: Option<String>,
    },
    /// A picture Butler made (a chart), kept and uploaded like a document, shown as a photo.
    PhotoFile {
        chat_id: i64,
        file: i64,
        file_name: String,
        #[serde(default)]
        caption: Option<String>,
    },
}

impl Outgoing {
    /// The message an outbox row's payload holds. The payload is the message as JSON
    /// (tagged by `op`, as serde writes [`Outgoing`]); this is where delivery reads it.
    pub fn from_payload(payload: &str) -> serde_json::Result<Self> {
        serde_json::from_str(payload)
    }

    /// The payload an outbox row keeps: the message as JSON.
    pub fn to_payload(&self) -> store::Result<String> {
        serde_json::to_string(self).map_err(|e| store::Error::Corrupt(e.to_string()))
    }

    /// What to remember the message as once sent, if anything.
    pub(super) fn remembered(&self) -> Option<BotMessage> {
        match self {
            Outgoing::Text { remember, .. }
            | Outgoing::Photo { remember, .. }
            | Outgoing::Album { remember, .. } => remember.as_ref().map(|r| BotMessage {
                ticket_id: TicketId(r.ticket_id),
                kind: r.kind,
                ref_id: r.ref_id,
            }),
            Outgoing::Edit { .. } | Outgoing::Document { .. } | Outgoing::PhotoFile { .. } => None,
        }
    }

    /// Whether sending it looks up a message sent before (a reply to, or an edit of, the
    /// latest card, confirmation or follow-up card), which must be on record first.
    pub(super) fn refers_to_sent(&self) -> bool {
        let target = match self {
            Outgoing::Text { reply_to, .. }
            | Outgoing::Photo { reply_to, .. }
            | Outgoing::Album { reply_to, .. } => reply_to.as_ref(),
            Outgoing::Edit { target, .. } => Some(target),
            Outgoing::Document { .. } | Outgoing::PhotoFile { .. } => None,
        };
        matches!(
            target,
            Some(Target::Latest { .. } | Target::FollowUp { .. })
        )
    }

    pub fn chat_id(&self) -> i64 {
        match self {
            Outgoing::Text { chat_id, .. }
            | Outgoing::Photo { chat_id, .. }
            | Outgoing::Album { chat_id, .. }
            | Outgoing::Edit { chat_id, .. } => *chat_id,
            Outgoing::Document { chat_id, .. } | Outgoing::PhotoFile { chat_id, .. } => *chat_id,
        }
    }

    /// A plain text message.
    pub fn text(chat_id: i64, text: impl Into<String>) -> Self {
        Outgoing::Text {
            chat_id,
            text: text.into(),
            reply_to: None,
            buttons: None,
            remember: None,
        }
    }

    /// Photos as one message (one photo) or albums of up to ten, the caption on the first.
    pub fn photos(
        chat_id: i64,
        file_ids: &[String],
        caption: Option<String>,
        reply_to: Option<Target>,
        remember: Option<Remember>,
    ) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut caption = caption;
        for chunk in file_ids.chunks(10) {
            if chunk.len() == 1 {
                out.push(Outgoing::Photo {
                    chat_id,
                    file_id: chunk[0].clone(),
                    caption: caption.take(),
                    reply_to: reply_to.clone(),
                    remember: remember.clone(),
                });
            } else {
                out.push(Outgoing::Album {
                    chat_id,
                    file_ids: chunk.to_vec(),
                    caption: caption.take(),
                    reply_to: reply_to.clone(),
                    remember: remember.clone(),
                });
            }
        }
        out
    }
}

/// A message Butler refers to: one whose id is known, or the latest of a kind for a ticket
/// (resolved at delivery time, so a card can be edited before the handler knows its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Message(i32),
    Latest {
        ticket_id: i64,
        kind: BotMessageKind,
    },
    FollowUp {
        id: i64,
    },
}

/// After sending, remember the message as `kind` for `ticket_id`, so replies to it and
/// later edits find it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remember {
    pub ticket_id: i64,
    pub kind: BotMessageKind,
    #[serde(default)]
    pub ref_id: Option<i64>,
}

/// Writing messages in a change: each becomes an outbox row holding its payload, and its
/// class, decided here by whoever builds the message: [`store::Tx::enqueue`] and
/// [`store::Tx::enqueue_all`] for messages that answer a person (a confirmation, a card,
/// a relay, a rating question, a refusal), [`store::Tx::enqueue_bulk`] for broadcasts
/// and reports nobody is waiting on (the greeting, notices, summaries, the monthly
/// report, sweep alerts). Within Telegram's overall budget the first go first.
impl store::Tx<'_> {
    /// Puts a message that answers a person in the outbox; it leaves once this
    /// transaction commits.
    pub async fn enqueue(&mut self, msg: &Outgoing, now: DateTime<Utc>) -> store::Result<()> {
        self.enqueue_payload(msg.chat_id(), &msg.to_payload()?, false, now)
            .await
    }

    /// Puts messages that answer a person in the outbox, in this order.
    pub async fn enqueue_all(
        &mut self,
        msgs: &[Outgoing],
        now: DateTime<Utc>,
    ) -> store::Result<()> {
        self.enqueue_class(msgs, false, now).await
    }

    /// Puts bulk messages in the outbox, in this order: they leave after those that
    /// answer a person (in their own chats, still in order with them).
    pub async fn enqueue_bulk(
        &mut self,
        msgs: &[Outgoing],
        now: DateTime<Utc>,
    ) -> store::Result<()> {
        self.enqueue_class(msgs, true, now).await
    }

    async fn enqueue_class(
        &mut self,
        msgs: &[Outgoing],
        bulk: bool,
        now: DateTime<Utc>,
    ) -> store::Result<()> {
        let rows = msgs
            .iter()
            .map(|m| Ok((m.chat_id(), m.to_payload()?)))
            .collect::<store::Result<Vec<_>>>()?;
        self.enqueue_payloads(&rows, bulk, now).await
    }
}

/// Inline keyboard rows of (label, callback data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buttons(pub Vec<Vec<(String, String)>>);

impl Buttons {
    pub(super) fn markup(&self) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup::new(self.0.iter().map(|row| {
            row.iter()
                .map(|(label, data)| InlineKeyboardButton::callback(label.clone(), data.clone()))
                .collect::<Vec<_>>()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_replies_to_and_edits_of_earlier_messages_wait_for_their_record() {
        let card = Target::Latest {
            ticket_id: 1,
            kind: BotMessageKind::Card,
        };
        assert!(!Outgoing::text(1, "hi").refers_to_sent());
        let mut photos = Outgoing::photos(1, &["a".into()], None, Some(card.clone()), None);
        assert!(photos.remove(0).refers_to_sent());
        let under_report = Outgoing::photos(1, &["a".into()], None, Some(Target::Message(5)), None);
        assert!(!under_report[0].refers_to_sent());
        let edit = Outgoing::Edit {
            chat_id: 1,
            target: Target::FollowUp { id: 3 },
            text: "x".into(),
            buttons: None,
        };
        assert!(edit.refers_to_sent());
    }
}
