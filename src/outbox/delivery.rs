//! One chat's turn: a few of its due rows, in order, one at a time, until the chat's own
//! pace holds it, a row has to wait, or the turn is used up; and what each row came to,
//! recorded (sent, deferred, failed, the chat unreachable or moved). A "sent" mark that
//! cannot be written is kept in memory and retried (see [`Marks`]): the row is never
//! sent again meanwhile.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use teloxide::prelude::*;
use teloxide::types::MessageId;
use tokio::task::JoinHandle;

use super::Outbox;
use super::errors::{Outcome, backoff};
use super::model::Outgoing;
use crate::store::{self, BotMessage, DueChat, OutboxRow, Store};

/// Rows a chat sends in one turn at most. With Telegram's limits kept, the chat's own
/// pace ends a turn sooner (one a second).
const TURN: i64 = 20;

/// What one turn did for a chat.
#[derive(Default)]
pub(super) struct Lane {
    pub(super) sent: usize,
    pub(super) progressed: bool,
    /// The pacer holds the chat's next row back for this long.
    pub(super) wait: Option<Duration>,
    /// The turn was used up with rows perhaps left: the chat wants another.
    pub(super) more: bool,
    /// A "sent" mark could not be written: the chat waits until it is.
    pub(super) marks_pending: bool,
}

impl Outbox {
    /// Sends up to [`TURN`] of `chat`'s due rows in order, until one has to wait (the
    /// pacer, a 429, a passing fault) or the chat is gone or moved. An urgent chat (one
    /// with a message that answers a person) goes before bulk ones at the pacer.
    pub(super) async fn take_turn(&self, bot: &Bot, chat: DueChat) -> Result<Lane, store::Error> {
        let rows = self
            .store
            .outbox_chat_due(chat.chat_id, Utc::now(), TURN)
            .await?;
        let mut lane = Lane {
            more: rows.len() as i64 == TURN,
            ..Lane::default()
        };
        // "Sent" records being written while the next row goes out: the lane does not
        // wait for one before sending on, only before a row that looks one up, and
        // before it ends (a later turn must not find the rows due again).
        let mut records = Records::default();
        for row in rows {
            if let Err(wait) = self.pacing.slot(row.chat_id, chat.urgent).await {
                lane.wait = Some(wait);
                lane.more = false;
                break;
            }
            let msg = Outgoing::from_payload(&row.payload);
            if msg.as_ref().is_ok_and(Outgoing::refers_to_sent) && !records.written().await {
                lane.marks_pending = true;
                break;
            }
            let remember = msg.as_ref().ok().and_then(Outgoing::remembered);
            let outcome = match (&row.unreachable, msg) {
                (Some(why), _) => Ok(Outcome::Failed(format!("chat unreachable: {why}"))),
                (None, Err(e)) => Err(format!("unreadable outbox row: {e}")),
                (None, Ok(msg)) => self.deliver(bot, row.chat_id, &msg).await,
            };
            let next = self
                .settle(row, remember, outcome, &mut records, &mut lane)
                .await?;
            if next.is_break() {
                lane.more = false;
                break;
            }
        }
        if !records.written().await {
            lane.marks_pending = true;
        }
        if lane.marks_pending {
            lane.more = false;
        }
        Ok(lane)
    }

    /// Records what sending `row` (to be remembered as `remember`) came to; breaks when
    /// the lane must stop for this pass.
    async fn settle(
        &self,
        row: OutboxRow,
        remember: Option<BotMessage>,
        outcome: Result<Outcome, String>,
        records: &mut Records,
        lane: &mut Lane,
    ) -> Result<ControlFlow<()>, store::Error> {
        match outcome {
            Ok(Outcome::Sent(ids)) => {
                tracing::debug!(outbox_id = row.id, chat_id = row.chat_id, "sent");
                records.sent(&self.store, &self.marks, row, remember, ids);
                lane.sent += 1;
                lane.progressed = true;
                Ok(ControlFlow::Continue(()))
            }
            Ok(Outcome::RetryAfter(after, why)) => {
                self.defer(&row, after, &why).await?;
                Ok(ControlFlow::Break(()))
            }
            Ok(Outcome::Transient(why)) => {
                self.defer(&row, backoff(row.attempts), &why).await?;
                Ok(ControlFlow::Break(()))
            }
            Ok(Outcome::Migrated(to)) => {
                // Records of messages already sent name the old chat: moved with it.
                lane.marks_pending |= !records.written().await;
                tracing::warn!(
                    from = row.chat_id,
                    to,
                    "group became a supergroup; moving it"
                );
                self.store.move_chat(row.chat_id, to).await?;
                // The chat's rows now wait under the new id, for the next pass.
                lane.progressed = true;
                Ok(ControlFlow::Break(()))
            }
            Ok(Outcome::Unreachable(why)) => {
                lane.marks_pending |= !records.written().await;
                let wait = self.keeps(row.chat_id);
                if wait {
                    tracing::warn!(chat_id = row.chat_id, %why, "chat unreachable; its messages wait until it is back");
                } else {
                    tracing::warn!(chat_id = row.chat_id, %why, "chat unreachable; no more messages to it");
                }
                self.store
                    .mark_unreachable(row.chat_id, &why, wait, Utc::now())
                    .await?;
                if !wait {
                    // mark_unreachable failed the chat's other rows; this one too.
                    self.store.outbox_failed(row.id, &why).await?;
                }
                lane.progressed = true;
                Ok(ControlFlow::Break(()))
            }
            Ok(Outcome::Failed(why)) | Err(why) => {
                tracing::error!(outbox_id = row.id, chat_id = row.chat_id, %why, "delivery failed for good");
                self.store.outbox_failed(row.id, &why).await?;
                lane.progressed = true;
                Ok(ControlFlow::Continue(()))
            }
        }
    }

    /// Puts `row` off for `after`; the chat's later rows wait behind it.
    async fn defer(&self, row: &OutboxRow, after: Duration, why: &str) -> Result<(), store::Error> {
        tracing::warn!(outbox_id = row.id, chat_id = row.chat_id, ?after, %why, "delivery deferred");
        let at = Utc::now() + chrono::Duration::from_std(after).unwrap_or_default();
        self.store.outbox_defer(row.id, at, why).await
    }
}

/// A "sent" mark (and the message ids) of a row Telegram accepted, not written yet.
#[derive(Clone)]
pub(super) struct Mark {
    row: OutboxRow,
    remember: Option<BotMessage>,
    ids: Vec<i32>,
    at: DateTime<Utc>,
}

impl Mark {
    async fn write(&self, store: &Store) -> Result<(), store::Error> {
        store
            .outbox_sent(&self.row, self.remember.as_ref(), &self.ids, self.at)
            .await
    }
}

/// "Sent" marks that could not be written (a busy or full disk), kept in memory and
/// retried by the worker. Their chats take no turn meanwhile: the row is still unsent
/// on disk, and sending on could send it again, or send a reply to a message whose id
/// is not on record.
#[derive(Clone, Default)]
pub(super) struct Marks(Arc<Mutex<Vec<Mark>>>);

impl Marks {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Mark>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keep(&self, mark: Mark) {
        self.list().push(mark);
    }

    /// The chats with a mark not yet written.
    pub(super) fn chats(&self) -> std::collections::HashSet<i64> {
        self.list().iter().map(|m| m.row.chat_id).collect()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// Tries to write every kept mark again; keeps those that fail. True if none is left.
    pub(super) async fn retry(&self, store: &Store) -> bool {
        let marks = std::mem::take(&mut *self.list());
        let mut left = Vec::new();
        for mark in marks {
            match mark.write(store).await {
                Ok(()) => tracing::info!(outbox_id = mark.row.id, "sent mark written at last"),
                Err(e) => {
                    tracing::warn!(outbox_id = mark.row.id, error = %e, "sent mark still not written");
                    left.push(mark);
                }
            }
        }
        let mut list = self.list();
        list.extend(left);
        list.is_empty()
    }
}

/// A lane's "sent" records, written in the background while it sends on.
#[derive(Default)]
struct Records(Vec<JoinHandle<bool>>);

impl Records {
    /// Starts recording that `row` was sent as the messages `ids`, remembered as
    /// `remember` if it is to be; a record that cannot be written goes to `marks`.
    fn sent(
        &mut self,
        store: &Store,
        marks: &Marks,
        row: OutboxRow,
        remember: Option<BotMessage>,
        ids: Vec<MessageId>,
    ) {
        let store = store.clone();
        let marks = marks.clone();
        let mark = Mark {
            row,
            remember,
            ids: ids.iter().map(|id| id.0).collect(),
            at: Utc::now(),
        };
        self.0.push(tokio::spawn(async move {
            match mark.write(&store).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(outbox_id = mark.row.id, chat_id = mark.row.chat_id, error = %e,
                        "sent, but the sent mark could not be written; kept to retry, not sent again");
                    marks.keep(mark);
                    false
                }
            }
        }));
    }

    /// Waits until the "sent" records being written are written; false if one could
    /// not be (it is kept in [`Marks`]).
    async fn written(&mut self) -> bool {
        let mut all = true;
        for record in self.0.drain(..) {
            all &= record.await.unwrap_or(false);
        }
        all
    }
}
