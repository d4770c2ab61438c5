//! A delivery pass: the due rows by chat, each chat a lane that sends its rows in order,
//! one at a time, while different chats are sent to at once; what each row came to is
//! recorded (sent, deferred, failed, the chat unreachable or moved).

use std::ops::ControlFlow;
use std::time::Duration;

use chrono::Utc;
use teloxide::prelude::*;
use teloxide::types::MessageId;
use tokio::task::JoinHandle;

use super::Outbox;
use super::errors::{Outcome, backoff};
use super::model::Outgoing;
use crate::store::{self, OutboxRow, Store};

/// Rows looked at in one pass of [`Outbox::flush`].
const BATCH: i64 = 200;
/// Chats a pass sends to at once.
const LANES: usize = 16;

/// What a pass did for one chat.
#[derive(Default)]
struct Lane {
    sent: usize,
    progressed: bool,
    /// The pacer holds the chat's next row back for this long.
    wait: Option<Duration>,
}

impl Outbox {
    /// Passes over the due rows until one makes no progress. In a pass, each chat's rows
    /// go in order, one at a time, while different chats are sent to at once (up to
    /// [`LANES`]): a chat waits for its own messages only. Returns how many rows were
    /// sent and how long until the pacer lets the next waiting row go.
    pub(super) async fn flush_locked(
        &self,
        bot: &Bot,
        _pass: tokio::sync::MutexGuard<'_, ()>,
    ) -> Result<(usize, Option<Duration>), store::Error> {
        use futures::StreamExt;
        let mut sent = 0;
        loop {
            let rows = self.store.outbox_due(Utc::now(), BATCH).await?;
            if rows.is_empty() {
                return Ok((sent, None));
            }
            let lanes: Vec<Result<Lane, store::Error>> = futures::stream::iter(by_chat(rows))
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
    async fn deliver_lane(&self, bot: &Bot, rows: Vec<OutboxRow>) -> Result<Lane, store::Error> {
        let mut lane = Lane::default();
        // "Sent" records being written while the next row goes out: the lane does not
        // wait for one before sending on, only before a row that looks one up, and
        // before it ends (a later pass must not find the rows due again).
        let mut records = Records::default();
        for row in rows {
            if let Err(wait) = self.pacing.slot(row.chat_id).await {
                lane.wait = Some(wait);
                break;
            }
            let msg = Outgoing::from_payload(&row.payload);
            if msg.as_ref().is_ok_and(Outgoing::refers_to_sent) {
                records.written().await?;
            }
            let outcome = match (&row.unreachable, msg) {
                (Some(why), _) => Ok(Outcome::Failed(format!("chat unreachable: {why}"))),
                (None, Err(e)) => Err(format!("unreadable outbox row: {e}")),
                (None, Ok(msg)) => self.deliver(bot, row.chat_id, &msg).await,
            };
            let next = self.settle(row, outcome, &mut records, &mut lane).await?;
            if next.is_break() {
                break;
            }
        }
        records.written().await?;
        Ok(lane)
    }

    /// Records what sending `row` came to; breaks when the lane must stop for this pass.
    async fn settle(
        &self,
        row: OutboxRow,
        outcome: Result<Outcome, String>,
        records: &mut Records,
        lane: &mut Lane,
    ) -> Result<ControlFlow<()>, store::Error> {
        match outcome {
            Ok(Outcome::Sent(ids)) => {
                tracing::debug!(outbox_id = row.id, chat_id = row.chat_id, "sent");
                records.sent(&self.store, row, ids);
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
                records.written().await?;
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
                records.written().await?;
                tracing::warn!(chat_id = row.chat_id, %why, "chat unreachable; no more messages to it");
                self.store
                    .mark_unreachable(row.chat_id, &why, Utc::now())
                    .await?;
                self.store.outbox_failed(row.id, &why).await?;
                // mark_unreachable failed the chat's other rows too.
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

/// A lane's "sent" records, written in the background while it sends on.
#[derive(Default)]
struct Records(Vec<JoinHandle<Result<(), store::Error>>>);

impl Records {
    /// Starts recording that `row` was sent as the messages `ids`.
    fn sent(&mut self, store: &Store, row: OutboxRow, ids: Vec<MessageId>) {
        let store = store.clone();
        let now = Utc::now();
        self.0.push(tokio::spawn(async move {
            store.outbox_sent(&row, &ids, now).await
        }));
    }

    /// Waits until the "sent" records being written are written.
    async fn written(&mut self) -> Result<(), store::Error> {
        for record in self.0.drain(..) {
            record
                .await
                .map_err(|e| store::Error::Batch(format!("recording a sent message: {e}")))??;
        }
        Ok(())
    }
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
