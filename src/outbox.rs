//! The one sending path. Every message Butler sends is an [`Outgoing`] row written in the
//! transaction of the change that causes it; [`Outbox::flush`] sends what is due, in order
//! per chat, and records the outcome. A handler flushes right after its commit so owners
//! hear back at once; [`Outbox::run`] is the background worker that retries what failed
//! for a passing reason (429, 5xx, network) and sends whatever a crash left behind.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMedia, InputMediaPhoto, MessageId,
    ReplyParameters,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::{Mutex, Notify};

use crate::store::{BotMessageKind, OutboxRow, Store};

/// Rows looked at in one pass of [`Outbox::flush`].
const BATCH: i64 = 200;

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
}

impl Outgoing {
    pub fn chat_id(&self) -> i64 {
        match self {
            Outgoing::Text { chat_id, .. }
            | Outgoing::Photo { chat_id, .. }
            | Outgoing::Album { chat_id, .. }
            | Outgoing::Edit { chat_id, .. } => *chat_id,
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

/// Inline keyboard rows of (label, callback data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Buttons(pub Vec<Vec<(String, String)>>);

impl Buttons {
    fn markup(&self) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup::new(self.0.iter().map(|row| {
            row.iter()
                .map(|(label, data)| InlineKeyboardButton::callback(label.clone(), data.clone()))
                .collect::<Vec<_>>()
        }))
    }
}

/// What one delivery attempt came to.
enum Outcome {
    Sent(Vec<MessageId>),
    /// Try again after this long; later messages to the chat wait too.
    Retry(Duration, String),
    /// Never going to work (bad request, blocked): recorded and dropped.
    Failed(String),
}

pub struct Outbox {
    store: Store,
    wake: Notify,
    /// One sender at a time keeps per-chat order simple.
    sending: Mutex<()>,
}

impl Outbox {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            wake: Notify::new(),
            sending: Mutex::new(()),
        })
    }

    /// Send everything that is due now. Returns how many rows were sent.
    pub async fn flush(&self, bot: &Bot) -> Result<usize, crate::store::Error> {
        let _guard = self.sending.lock().await;
        let mut sent = 0;
        loop {
            let now = Utc::now();
            let rows = self.store.outbox_due(now, BATCH).await?;
            if rows.is_empty() {
                return Ok(sent);
            }
            let mut blocked_chats = std::collections::HashSet::new();
            let mut progressed = false;
            for row in rows {
                if blocked_chats.contains(&row.chat_id) {
                    continue;
                }
                match self.deliver(bot, &row).await {
                    Ok(Outcome::Sent(ids)) => {
                        self.store.outbox_sent(&row, &ids, Utc::now()).await?;
                        sent += 1;
                        progressed = true;
                    }
                    Ok(Outcome::Retry(after, why)) => {
                        tracing::warn!(outbox_id = row.id, chat_id = row.chat_id, ?after, %why, "delivery deferred");
                        let at = Utc::now() + chrono::Duration::from_std(after).unwrap_or_default();
                        self.store.outbox_defer(row.id, at, &why).await?;
                        blocked_chats.insert(row.chat_id);
                    }
                    Ok(Outcome::Failed(why)) | Err(why) => {
                        tracing::error!(outbox_id = row.id, chat_id = row.chat_id, %why, "delivery failed for good");
                        self.store.outbox_failed(row.id, &why).await?;
                        progressed = true;
                    }
                }
            }
            if !progressed {
                return Ok(sent);
            }
        }
    }

    /// Wake the background worker (after a commit that enqueued something).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// The background worker: flushes when woken and every second, until `shutdown`.
    pub async fn run(self: Arc<Self>, bot: Bot, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.flush(&bot).await {
                tracing::error!(error = %e, "outbox flush failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        // A last flush, bounded, so that what the last updates caused goes out.
        let _ = tokio::time::timeout(Duration::from_secs(3), self.flush(&bot)).await;
    }

    async fn deliver(&self, bot: &Bot, row: &OutboxRow) -> Result<Outcome, String> {
        let msg: Outgoing = serde_json::from_str(&row.payload)
            .map_err(|e| format!("unreadable outbox row: {e}"))?;
        let chat = ChatId(row.chat_id);
        let result = match &msg {
            Outgoing::Text {
                text,
                reply_to,
                buttons,
                ..
            } => {
                let mut req = bot.send_message(chat, fit_text(text));
                if let Some(reply) = self.reply_parameters(reply_to).await? {
                    req = req.reply_parameters(reply);
                }
                if let Some(b) = buttons {
                    req = req.reply_markup(b.markup());
                }
                req.await.map(|m| vec![m.id])
            }
            Outgoing::Photo {
                file_id,
                caption,
                reply_to,
                ..
            } => {
                let mut req = bot.send_photo(chat, InputFile::file_id(file_id.clone().into()));
                if let Some(c) = caption {
                    req = req.caption(fit_caption(c));
                }
                if let Some(reply) = self.reply_parameters(reply_to).await? {
                    req = req.reply_parameters(reply);
                }
                req.await.map(|m| vec![m.id])
            }
            Outgoing::Album {
                file_ids,
                caption,
                reply_to,
                ..
            } => {
                let media = file_ids.iter().enumerate().map(|(i, f)| {
                    let mut p = InputMediaPhoto::new(InputFile::file_id(f.clone().into()));
                    if i == 0
                        && let Some(c) = caption
                    {
                        p = p.caption(fit_caption(c));
                    }
                    InputMedia::Photo(p)
                });
                let mut req = bot.send_media_group(chat, media.collect::<Vec<_>>());
                if let Some(reply) = self.reply_parameters(reply_to).await? {
                    req = req.reply_parameters(reply);
                }
                req.await.map(|ms| ms.into_iter().map(|m| m.id).collect())
            }
            Outgoing::Edit {
                target,
                text,
                buttons,
                ..
            } => {
                let Some(message_id) = self.resolve(row.chat_id, target).await? else {
                    return Ok(Outcome::Failed(format!("edit target {target:?} not found")));
                };
                let mut req = bot.edit_message_text(chat, message_id, fit_text(text));
                if let Some(b) = buttons {
                    req = req.reply_markup(b.markup());
                }
                match req.await {
                    Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(vec![message_id]),
                    other => other.map(|m| vec![m.id]),
                }
            }
        };
        Ok(classify(result))
    }

    async fn reply_parameters(
        &self,
        target: &Option<Target>,
    ) -> Result<Option<ReplyParameters>, String> {
        let Some(target) = target else {
            return Ok(None);
        };
        // The chat of a reply is the chat of the message itself.
        let id = match target {
            Target::Message(id) => Some(MessageId(*id)),
            other => self.resolve_any(other).await?,
        };
        // Sent plainly when the message to reply to is gone.
        Ok(id.map(|id| ReplyParameters::new(id).allow_sending_without_reply()))
    }

    async fn resolve(&self, _chat_id: i64, target: &Target) -> Result<Option<MessageId>, String> {
        match target {
            Target::Message(id) => Ok(Some(MessageId(*id))),
            other => self.resolve_any(other).await,
        }
    }

    async fn resolve_any(&self, target: &Target) -> Result<Option<MessageId>, String> {
        let found = match target {
            Target::Message(id) => return Ok(Some(MessageId(*id))),
            Target::Latest { ticket_id, kind } => {
                self.store.latest_bot_message(*ticket_id, *kind).await
            }
            Target::FollowUp { id } => self.store.follow_up_message(*id).await,
        };
        found.map(|o| o.map(MessageId)).map_err(|e| e.to_string())
    }
}

/// Telegram's limits, in the UTF-16 units it counts. Renderers shorten by characters, so
/// text full of emoji (two units each) can still be over: cut it here, the last step
/// before Telegram, rather than have it refused with 400.
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;

fn fit_text(text: &str) -> String {
    crate::domain::text::fit_utf16(text, TEXT_LIMIT)
}

fn fit_caption(caption: &str) -> String {
    crate::domain::text::fit_utf16(caption, CAPTION_LIMIT)
}

fn classify(result: Result<Vec<MessageId>, RequestError>) -> Outcome {
    match result {
        Ok(ids) => Outcome::Sent(ids),
        Err(RequestError::RetryAfter(secs)) => {
            Outcome::Retry(secs.duration(), "429 retry_after".into())
        }
        Err(e @ (RequestError::Network(_) | RequestError::Io(_))) => {
            Outcome::Retry(Duration::from_secs(3), e.to_string())
        }
        Err(RequestError::Api(ApiError::Unknown(text))) if looks_transient(&text) => {
            Outcome::Retry(Duration::from_secs(5), text)
        }
        Err(RequestError::InvalidJson { raw, .. }) => {
            // A proxy's HTML error page during an outage, not Telegram's answer.
            Outcome::Retry(
                Duration::from_secs(5),
                format!("invalid answer: {}", crate::domain::text::shorten(&raw, 80)),
            )
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn looks_transient(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("internal server error")
        || t.contains("bad gateway")
        || t.contains("too many requests")
        || t.contains("gateway")
}
