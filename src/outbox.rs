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

use crate::domain::TicketId;
use crate::store::{self, BotMessage, BotMessageKind, OutboxRow, Store};

/// Rows looked at in one pass of [`Outbox::flush`].
const BATCH: i64 = 200;
/// Chats a pass sends to at once.
const LANES: usize = 16;
/// A pacer's wait a lane sits out rather than giving up its turn (see [`Outbox::slot`]).
const SHORT_WAIT: Duration = Duration::from_millis(50);

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
    /// Whether sending it looks up a message sent before (a reply to, or an edit of, the
    /// latest card, confirmation or follow-up card), which must be on record first.
    fn refers_to_sent(&self) -> bool {
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

    /// What to remember the sent message as, if anything.
    fn remembered(&self) -> Option<BotMessage> {
        match self {
            Outgoing::Text { remember, .. }
            | Outgoing::Photo { remember, .. }
            | Outgoing::Album { remember, .. } => remember.as_ref().map(|r| BotMessage {
                ticket_id: TicketId(r.ticket_id),
                kind: r.kind,
                ref_id: r.ref_id,
            }),
            _ => None,
        }
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

/// Writing messages in a change: the store keeps each as its JSON text.
impl store::Tx<'_> {
    /// Puts a message in the outbox; it leaves once this transaction commits.
    pub async fn enqueue(
        &mut self,
        msg: &Outgoing,
        now: chrono::DateTime<Utc>,
    ) -> store::Result<()> {
        let payload =
            serde_json::to_string(msg).map_err(|e| store::Error::Corrupt(e.to_string()))?;
        self.enqueue_payload(msg.chat_id(), &payload, now).await
    }

    /// Puts messages in the outbox, in this order.
    pub async fn enqueue_all(
        &mut self,
        msgs: &[Outgoing],
        now: chrono::DateTime<Utc>,
    ) -> store::Result<()> {
        let rows = msgs
            .iter()
            .map(|m| {
                serde_json::to_string(m)
                    .map(|payload| (m.chat_id(), payload))
                    .map_err(|e| store::Error::Corrupt(e.to_string()))
            })
            .collect::<store::Result<Vec<_>>>()?;
        self.enqueue_payloads(&rows, now).await
    }
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
    /// Telegram said how long to wait (429); later messages to the chat wait too.
    RetryAfter(Duration, String),
    /// A passing fault (5xx, network): try again with a growing back-off.
    Transient(String),
    /// Never going to work (bad request): recorded and dropped.
    Failed(String),
    /// The chat will not take messages from the bot any more (blocked, kicked).
    Unreachable(String),
    /// The group became a supergroup with this id: move it and send there.
    Migrated(i64),
}

pub struct Outbox {
    store: Store,
    wake: Notify,
    /// One delivery pass at a time, so that no row is sent twice.
    sending: Mutex<()>,
    /// Telegram's limits, shared by the chats a pass sends to at once. Held only between
    /// awaits, never across a send.
    pacer: std::sync::Mutex<Pacer>,
    /// Off only where no worker runs to send later what the pacer holds back (handler
    /// tests that call the handlers directly).
    pacing: std::sync::atomic::AtomicBool,
}

/// What a pass did for one chat.
#[derive(Default)]
struct Lane {
    sent: usize,
    progressed: bool,
    /// The pacer holds the chat's next row back for this long.
    wait: Option<Duration>,
}

impl Outbox {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            wake: Notify::new(),
            sending: Mutex::new(()),
            pacer: std::sync::Mutex::new(Pacer::telegram()),
            pacing: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// Turns Telegram's rate limits off (on by default).
    pub fn set_pacing(&self, on: bool) {
        self.pacing.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sends what is due and what Telegram's rate limits allow now; the rest waits for the
    /// worker. Returns how many rows were sent. When a pass is already running (another
    /// handler's, or the worker's), the worker is woken to run one more after it, which
    /// sends what this caller committed: the caller does not wait for sends it has no
    /// part in.
    pub async fn flush(&self, bot: &Bot) -> Result<usize, crate::store::Error> {
        let Ok(pass) = self.sending.try_lock() else {
            self.notify();
            return Ok(0);
        };
        Ok(self.flush_locked(bot, pass).await?.0)
    }

    /// As [`Self::flush`], waiting for a running pass to end, and how long until the pacer
    /// lets the next waiting row go.
    async fn flush_inner(
        &self,
        bot: &Bot,
    ) -> Result<(usize, Option<Duration>), crate::store::Error> {
        let pass = self.sending.lock().await;
        self.flush_locked(bot, pass).await
    }

    /// Passes over the due rows until one makes no progress. In a pass, each chat's rows
    /// go in order, one at a time, while different chats are sent to at once (up to
    /// [`LANES`]): a chat waits for its own messages only.
    async fn flush_locked(
        &self,
        bot: &Bot,
        _pass: tokio::sync::MutexGuard<'_, ()>,
    ) -> Result<(usize, Option<Duration>), crate::store::Error> {
        use futures::StreamExt;
        let mut sent = 0;
        loop {
            let rows = self.store.outbox_due(Utc::now(), BATCH).await?;
            if rows.is_empty() {
                return Ok((sent, None));
            }
            let lanes: Vec<Result<Lane, crate::store::Error>> =
                futures::stream::iter(by_chat(rows))
                    .map(|rows| self.deliver_lane(bot, rows))
                    .buffer_unordered(LANES)
                    .collect()
                    .await;
            let mut progressed = false;
            let mut soonest: Option<Duration> = None;
            for lane in lanes {
                let lane = lane?;
                sent += lane.sent;
                progressed |= lane.progressed;
                if let Some(wait) = lane.wait {
                    soonest = Some(soonest.map_or(wait, |s| s.min(wait)));
                }
            }
            if !progressed {
                return Ok((sent, soonest));
            }
        }
    }

    /// Sends one chat's due rows in order, until one has to wait (the pacer, a 429, a
    /// passing fault) or the chat is gone or moved.
    async fn deliver_lane(
        &self,
        bot: &Bot,
        rows: Vec<OutboxRow>,
    ) -> Result<Lane, crate::store::Error> {
        let mut lane = Lane::default();
        // "Sent" records being written while the next row goes out: the lane does not
        // wait for one before sending on, only before a row that looks one up, and
        // before it ends (a later pass must not find the rows due again).
        let mut records: Vec<tokio::task::JoinHandle<Result<(), crate::store::Error>>> = Vec::new();
        for row in rows {
            if let Err(wait) = self.slot(row.chat_id).await {
                lane.wait = Some(wait);
                break;
            }
            let msg = serde_json::from_str::<Outgoing>(&row.payload).ok();
            let looks_up = msg.as_ref().is_some_and(Outgoing::refers_to_sent);
            if looks_up {
                recorded(&mut records).await?;
            }
            let outcome = match &row.unreachable {
                Some(why) => Ok(Outcome::Failed(format!("chat unreachable: {why}"))),
                None => self.deliver(bot, &row).await,
            };
            match outcome {
                Ok(Outcome::Sent(ids)) => {
                    tracing::debug!(outbox_id = row.id, chat_id = row.chat_id, "sent");
                    let store = self.store.clone();
                    let now = Utc::now();
                    let remember = msg.as_ref().and_then(Outgoing::remembered);
                    let ids: Vec<i32> = ids.iter().map(|id| id.0).collect();
                    records.push(tokio::spawn(async move {
                        store.outbox_sent(&row, remember.as_ref(), &ids, now).await
                    }));
                    lane.sent += 1;
                    lane.progressed = true;
                }
                Ok(outcome @ (Outcome::RetryAfter(..) | Outcome::Transient(_))) => {
                    let (after, why) = match outcome {
                        Outcome::RetryAfter(after, why) => (after, why),
                        Outcome::Transient(why) => (backoff(row.attempts), why),
                        _ => unreachable!("matched above"),
                    };
                    tracing::warn!(outbox_id = row.id, chat_id = row.chat_id, ?after, %why, "delivery deferred");
                    let at = Utc::now() + chrono::Duration::from_std(after).unwrap_or_default();
                    self.store.outbox_defer(row.id, at, &why).await?;
                    break;
                }
                Ok(Outcome::Migrated(to)) => {
                    // Records of messages already sent name the old chat: moved with it.
                    recorded(&mut records).await?;
                    tracing::warn!(
                        from = row.chat_id,
                        to,
                        "group became a supergroup; moving it"
                    );
                    self.store.move_chat(row.chat_id, to).await?;
                    // The chat's rows now wait under the new id, for the next pass.
                    lane.progressed = true;
                    break;
                }
                Ok(Outcome::Unreachable(why)) => {
                    recorded(&mut records).await?;
                    tracing::warn!(chat_id = row.chat_id, %why, "chat unreachable; no more messages to it");
                    self.store
                        .mark_unreachable(row.chat_id, &why, Utc::now())
                        .await?;
                    self.store.outbox_failed(row.id, &why).await?;
                    // mark_unreachable failed the chat's other rows too.
                    lane.progressed = true;
                    break;
                }
                Ok(Outcome::Failed(why)) | Err(why) => {
                    tracing::error!(outbox_id = row.id, chat_id = row.chat_id, %why, "delivery failed for good");
                    self.store.outbox_failed(row.id, &why).await?;
                    lane.progressed = true;
                }
            }
        }
        recorded(&mut records).await?;
        Ok(lane)
    }

    /// Waits for the pacer to let a message to `chat` go, if the wait is short (the
    /// overall pace: a slot every 1/28.8 s); a longer one (the chat's own limit) is
    /// returned, and the chat gives up its turn until a later pass. Waiting in the lane
    /// keeps the sends to other chats going: over a network, each send waits a round
    /// trip for its answer, and one at a time would fall far short of 30 a second.
    async fn slot(&self, chat: i64) -> Result<(), Duration> {
        loop {
            let slot = self
                .pacer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take(chat, std::time::Instant::now());
            match slot {
                Ok(()) => return Ok(()),
                Err(_) if !self.pacing.load(std::sync::atomic::Ordering::Relaxed) => {
                    return Ok(());
                }
                Err(wait) if wait <= SHORT_WAIT => tokio::time::sleep(wait).await,
                Err(wait) => return Err(wait),
            }
        }
    }

    /// Wake the background worker (after a commit that enqueued something).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// The background worker: flushes when woken, when the pacer allows more, and every
    /// second, until `shutdown`.
    pub async fn run(self: Arc<Self>, bot: Bot, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.flush_inner(&bot).await {
                Ok((_, Some(wait))) => wait.min(Duration::from_secs(1)),
                Ok((_, None)) => Duration::from_secs(1),
                Err(e) => {
                    tracing::error!(error = %e, "outbox flush failed");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
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
                let mut req = bot.send_message(chat, fit(text, TEXT_LIMIT));
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
                    req = req.caption(fit(c, CAPTION_LIMIT));
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
                        p = p.caption(fit(c, CAPTION_LIMIT));
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
                let mut req = bot.edit_message_text(chat, message_id, fit(text, TEXT_LIMIT));
                if let Some(b) = buttons {
                    req = req.reply_markup(b.markup());
                }
                match req.await {
                    Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(vec![message_id]),
                    other => other.map(|m| vec![m.id]),
                }
            }
            Outgoing::Document {
                file,
                file_name,
                caption,
                ..
            } => {
                let Some(input) = self.input_file(*file, file_name).await? else {
                    return Ok(Outcome::Failed(format!("outbox file {file} is gone")));
                };
                let mut req = bot.send_document(chat, input);
                if let Some(c) = caption {
                    req = req.caption(fit(c, CAPTION_LIMIT));
                }
                req.await.map(|m| vec![m.id])
            }
            Outgoing::PhotoFile {
                file,
                file_name,
                caption,
                ..
            } => {
                let Some(input) = self.input_file(*file, file_name).await? else {
                    return Ok(Outcome::Failed(format!("outbox file {file} is gone")));
                };
                let mut req = bot.send_photo(chat, input);
                if let Some(c) = caption {
                    req = req.caption(fit(c, CAPTION_LIMIT));
                }
                req.await.map(|m| vec![m.id])
            }
        };
        Ok(classify(result))
    }

    /// The bytes of an outbox file as an upload named `file_name`, if still kept.
    async fn input_file(&self, file: i64, file_name: &str) -> Result<Option<InputFile>, String> {
        let bytes = self
            .store
            .outbox_file(file)
            .await
            .map_err(|e| e.to_string())?;
        Ok(bytes.map(|b| InputFile::memory(b).file_name(file_name.to_owned())))
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

/// Waits until the "sent" records being written are written.
async fn recorded(
    records: &mut Vec<tokio::task::JoinHandle<Result<(), crate::store::Error>>>,
) -> Result<(), crate::store::Error> {
    for record in records.drain(..) {
        record
            .await
            .map_err(|e| crate::store::Error::Batch(format!("recording a sent message: {e}")))??;
    }
    Ok(())
}

/// Rows by chat, each chat's in the order given; chats in the order of their first row.
fn by_chat(rows: Vec<OutboxRow>) -> Vec<Vec<OutboxRow>> {
    let mut lanes: Vec<Vec<OutboxRow>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for row in rows {
        let i = *index.entry(row.chat_id).or_insert_with(|| {
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[i].push(row);
    }
    lanes
}

/// 1, 2, 4 … seconds after each failed attempt, at most a minute.
fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 6)).min(Duration::from_secs(60))
}

/// Telegram's limits, in UTF-16 code units.
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;

/// A text Telegram accepts: within `limit` and never empty.
fn fit(text: &str, limit: usize) -> String {
    if text.trim().is_empty() {
        return "…".to_owned();
    }
    crate::domain::text::fit_utf16(text, limit)
}

fn classify(result: Result<Vec<MessageId>, RequestError>) -> Outcome {
    match result {
        Ok(ids) => Outcome::Sent(ids),
        Err(RequestError::RetryAfter(secs)) => {
            Outcome::RetryAfter(secs.duration(), "429 retry_after".into())
        }
        Err(RequestError::MigrateToChatId(to)) => Outcome::Migrated(to.0),
        Err(e @ (RequestError::Network(_) | RequestError::Io(_))) => {
            Outcome::Transient(e.to_string())
        }
        Err(RequestError::Api(
            e @ (ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound),
        )) => Outcome::Unreachable(e.to_string()),
        Err(RequestError::Api(ApiError::Unknown(text))) if looks_unreachable(&text) => {
            Outcome::Unreachable(text)
        }
        Err(RequestError::Api(ApiError::Unknown(text))) if looks_transient(&text) => {
            Outcome::Transient(text)
        }
        Err(RequestError::InvalidJson { raw, .. }) => {
            // A proxy's HTML error page during an outage, not Telegram's answer.
            Outcome::Transient(format!(
                "invalid answer: {}",
                crate::domain::text::shorten(&raw, 80)
            ))
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Answers teloxide has no variant for, seen from Telegram.
fn looks_unreachable(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.starts_with("forbidden:")
        && (t.contains("kicked")
            || t.contains("blocked")
            || t.contains("can't initiate")
            || t.contains("not a member")
            || t.contains("deactivated"))
}

fn looks_transient(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "internal server error",
        "bad gateway",
        "gateway",
        "service unavailable",
        "too many requests",
        "timeout",
        "restart",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// Telegram's sending limits, as token buckets: about 30 messages a second overall, one a
/// second per chat (with a small burst, so an answer and a card go out together), and 20
/// a minute per group.
///
/// The overall limit is counted over any second, so the overall bucket has next to no
/// burst: a bucket lets through its capacity *plus* a second's refill within one second,
/// and a full bucket of 30 meant 60 in the first second of a broadcast, then 429s. At
/// 28.8 a second with room for 1.2, any second holds at most 30, and 31 messages span at
/// least (31 − 1.2) / 28.8 = 1.035 s: the way to Telegram may bunch them by 35 ms (a busy
/// machine, the network) before a second holds 31. The 0.2 over one token lets a lane
/// that wakes a little late keep the pace: 96 % of the allowance is used. (At 29 with
/// room for 1.3 the margin was 24 ms, and one broadcast in five met a 429 on a loaded
/// machine; with room for exactly one, late wake-ups cost the pace 3 %.)
const OVERALL_PER_SECOND: f64 = 28.8;

struct Pacer {
    global: Bucket,
    chats: std::collections::HashMap<i64, (Bucket, Option<Bucket>)>,
}

struct Bucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    at: std::time::Instant,
}

impl Bucket {
    fn new(capacity: f64, per_second: f64, now: std::time::Instant) -> Self {
        Self {
            tokens: capacity,
            capacity,
            per_second,
            at: now,
        }
    }

    fn refill(&mut self, now: std::time::Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.at = now;
    }

    /// Time until one token is there (zero if there is one now).
    fn wait(&self) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }
}

impl Pacer {
    fn telegram() -> Self {
        Self {
            global: Bucket::new(1.2, OVERALL_PER_SECOND, std::time::Instant::now()),
            chats: Default::default(),
        }
    }

    /// Takes a sending slot for `chat`, or says how long to wait for one.
    fn take(&mut self, chat: i64, now: std::time::Instant) -> Result<(), Duration> {
        if self.chats.len() > 10_000 {
            // Forget chats whose buckets are full again: they are as good as new.
            self.chats.retain(|_, (c, g)| {
                c.refill(now);
                if let Some(g) = g.as_mut() {
                    g.refill(now);
                }
                c.tokens < c.capacity || g.as_ref().is_some_and(|g| g.tokens < g.capacity)
            });
        }
        let (per_chat, per_group) = self.chats.entry(chat).or_insert_with(|| {
            // Group and supergroup ids are negative.
            // A burst of 10 and 10 more over a minute: never over 20 in any minute.
            let group = (chat < 0).then(|| Bucket::new(10.0, 10.0 / 60.0, now));
            (Bucket::new(3.0, 1.0, now), group)
        });
        self.global.refill(now);
        per_chat.refill(now);
        if let Some(g) = per_group.as_mut() {
            g.refill(now);
        }
        let wait = self
            .global
            .wait()
            .max(per_chat.wait())
            .max(per_group.as_ref().map_or(Duration::ZERO, Bucket::wait));
        if wait > Duration::ZERO {
            return Err(wait);
        }
        self.global.tokens -= 1.0;
        per_chat.tokens -= 1.0;
        if let Some(g) = per_group.as_mut() {
            g.tokens -= 1.0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

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

    #[test]
    fn a_chat_gets_a_short_burst_then_one_message_a_second() {
        let mut p = Pacer::telegram();
        let t0 = Instant::now();
        // Overall, one message every 1/28.8 s.
        let step = Duration::from_millis(35);
        assert!((0..3).all(|i| p.take(1, t0 + step * i).is_ok()));
        let wait = p.take(1, t0 + step * 3).unwrap_err();
        assert!(
            wait > Duration::from_millis(850) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            p.take(2, t0 + step * 4).is_ok(),
            "another chat is not held up"
        );
        assert!(p.take(1, t0 + step * 3 + wait).is_ok());
    }

    #[test]
    fn no_second_holds_more_than_thirty_messages_overall() {
        let mut p = Pacer::telegram();
        let t0 = Instant::now();
        // Every chat new, every millisecond for five seconds: only the overall limit bites.
        let mut sent = Vec::new();
        let mut chat = 1000;
        for ms in 0..5_000u64 {
            let now = t0 + Duration::from_millis(ms);
            while p.take(chat, now).is_ok() {
                sent.push(ms);
                chat += 1;
            }
        }
        let busiest = sent
            .iter()
            .map(|start| {
                sent.iter()
                    .filter(|t| (*start..start + 1000).contains(*t))
                    .count()
            })
            .max()
            .unwrap();
        assert!(busiest <= 30, "{busiest} in one second");
        // …yet close to the allowance: at least 95 % of 30 a second.
        assert!(sent.len() >= 143, "{} in five seconds", sent.len());
    }

    #[test]
    fn a_group_gets_twenty_a_minute() {
        let mut p = Pacer::telegram();
        let t0 = Instant::now();
        let sent = (0..60)
            .filter(|s| p.take(-5, t0 + Duration::from_secs(*s)).is_ok())
            .count();
        assert!((19..=20).contains(&sent), "{sent} in a minute");
    }

    #[test]
    fn transient_faults_back_off_up_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn texts_are_fitted_to_telegrams_limits() {
        assert_eq!(fit("", TEXT_LIMIT), "…");
        assert_eq!(fit("  ", TEXT_LIMIT), "…");
        let long = "a".repeat(5000);
        assert_eq!(fit(&long, TEXT_LIMIT).encode_utf16().count(), TEXT_LIMIT);
    }

    #[test]
    fn errors_are_sorted_into_retry_unreachable_and_failed() {
        let kicked = Err(RequestError::Api(ApiError::Unknown(
            "Forbidden: bot was kicked from the group chat".into(),
        )));
        assert!(matches!(classify(kicked), Outcome::Unreachable(_)));
        assert!(matches!(
            classify(Err(RequestError::Api(ApiError::BotBlocked))),
            Outcome::Unreachable(_)
        ));
        let gateway = Err(RequestError::Api(ApiError::Unknown("Bad Gateway".into())));
        assert!(matches!(classify(gateway), Outcome::Transient(_)));
        let retry = Err(RequestError::RetryAfter(
            teloxide::types::Seconds::from_seconds(7),
        ));
        assert!(
            matches!(classify(retry), Outcome::RetryAfter(d, _) if d == Duration::from_secs(7))
        );
        assert!(matches!(
            classify(Err(RequestError::MigrateToChatId(ChatId(-100123)))),
            Outcome::Migrated(-100123)
        ));
        let bad = Err(RequestError::Api(ApiError::MessageTextIsEmpty));
        assert!(matches!(classify(bad), Outcome::Failed(_)));
    }
}
