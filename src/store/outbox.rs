//! Rows of the outbox (`outbox`), the chats that take no messages (`unreachable_chats`)
//! and the files Butler made for upload (`outbox_files`).
//!
//! A row's payload is the outbox's own text (the JSON of `outbox::Outgoing`): written as
//! given and handed back as it is; the store never reads inside it.

use chrono::{DateTime, Utc};

use super::bot_messages::BotMessage;
use super::{Result, Sql, Store, Tx, query, query_as, query_scalar};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub chat_id: i64,
    pub payload: String,
    /// Delivery attempts so far (for the retry back-off).
    pub attempts: i64,
    /// Why the chat takes no messages from the bot, if it does not (blocked, removed).
    pub unreachable: Option<String>,
}

/// A row as [`Store::outbox_due`] reads it: with the time it may leave.
#[derive(sqlx::FromRow)]
struct DueRecord {
    #[sqlx(flatten)]
    row: OutboxRow,
    not_before: Option<DateTime<Utc>>,
}

/// A sent outbox row: its id, when, and the messages to remember it by.
pub(super) struct Sent {
    row_id: i64,
    at: String,
    /// (chat, message, ticket, kind, ref), one per message sent.
    messages: Vec<(i64, i32, i64, &'static str, Option<i64>)>,
}

impl Tx<'_> {
    /// Puts a message (its payload, for `chat_id`) in the outbox; it leaves once this
    /// transaction commits. `bulk`: a broadcast-like message, which waits for those that
    /// answer a person (see [`Store::outbox_due_chats`]).
    pub async fn enqueue_payload(
        &mut self,
        chat_id: i64,
        payload: &str,
        bulk: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("INSERT INTO outbox (chat_id, payload, bulk, created_at) VALUES (?, ?, ?, ?)")
            .bind(chat_id)
            .bind(payload)
            .bind(bulk)
            .bind(now)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// Puts messages (chat, payload) in the outbox, in this order, all of one class
    /// (`bulk` or not); one statement for up to 100.
    pub async fn enqueue_payloads(
        &mut self,
        rows: &[(i64, String)],
        bulk: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        for chunk in rows.chunks(100) {
            // Rows of one INSERT take ascending ids in the order of its VALUES.
            let values = vec!["(?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut insert = query(format!(
                "INSERT INTO outbox (chat_id, payload, bulk, created_at) VALUES {values}"
            ));
            for (chat_id, payload) in chunk {
                insert = insert
                    .bind(*chat_id)
                    .bind(payload.as_str())
                    .bind(bulk)
                    .bind(now);
            }
            insert.execute(&mut self.0).await?;
        }
        Ok(())
    }

    /// Keeps the bytes of a file for a later outbox row to upload; returns its id. Files
    /// a week old that no unsent row needs are dropped on the way.
    pub async fn add_outbox_file(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<i64> {
        query(Sql::each(
            "DELETE FROM outbox_files WHERE created_at < ? AND id NOT IN (
                 SELECT json_extract(payload, '$.file') FROM outbox
                 WHERE sent_at IS NULL AND failed IS NULL
                   AND json_extract(payload, '$.file') IS NOT NULL)",
            "DELETE FROM outbox_files WHERE created_at < ? AND id NOT IN (
                 SELECT (payload::jsonb ->> 'file')::bigint FROM outbox
                 WHERE sent_at IS NULL AND failed IS NULL
                   AND payload::jsonb ->> 'file' IS NOT NULL)",
        ))
        .bind(now - chrono::Duration::days(7))
        .execute(&mut self.0)
        .await?;
        Ok(
            query_scalar("INSERT INTO outbox_files (bytes, created_at) VALUES (?, ?) RETURNING id")
                .bind(bytes)
                .bind(now)
                .fetch_one(&mut self.0)
                .await?,
        )
    }
}

/// A chat with messages due, as the delivery worker sees it at the start of a turn.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueChat {
    pub chat_id: i64,
    /// The row that goes next: its first unsent one that answers a person, else its
    /// first unsent one.
    pub head: i64,
    /// Whether one of its unsent rows answers a person (not bulk).
    pub urgent: bool,
}

impl Store {
    /// The chats whose next message may go now: the first unsent row of the chat is not
    /// put off past `now`, and the chat is not waiting to be reachable again. Chats with
    /// a message that answers a person first, then by their first row.
    ///
    /// One entry per chat, read from the index of unsent rows (`outbox_due_chats`).
    pub async fn outbox_due_chats(&self, now: DateTime<Utc>) -> Result<Vec<DueChat>> {
        Ok(query_as(
            "SELECT h.chat_id, h.head, h.urgent FROM (
                 SELECT chat_id, COALESCE(MIN(CASE WHEN bulk = FALSE THEN id END), MIN(id)) AS head,
                        MIN(CASE WHEN bulk THEN 1 ELSE 0 END) = 0 AS urgent
                 FROM outbox WHERE sent_at IS NULL AND failed IS NULL GROUP BY chat_id) h
             JOIN outbox o ON o.id = h.head
             LEFT JOIN unreachable_chats u ON u.chat_id = h.chat_id
             WHERE (o.not_before IS NULL OR o.not_before <= ?) AND COALESCE(u.waiting, FALSE) = FALSE
             ORDER BY h.urgent DESC, h.head",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` of one chat's unsent rows in the order they go: those that answer a
    /// person first (a confirmation does not wait behind the group's greeting), then the
    /// bulk ones, each in the order written; up to the first one put off past `now`
    /// (which holds back the rest).
    pub async fn outbox_chat_due(
        &self,
        chat_id: i64,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let rows: Vec<DueRecord> = query_as(
            "SELECT o.id, o.chat_id, o.payload, o.not_before, o.attempts, u.reason AS unreachable
             FROM outbox o LEFT JOIN unreachable_chats u ON u.chat_id = o.chat_id
             WHERE o.chat_id = ? AND o.sent_at IS NULL AND o.failed IS NULL
             ORDER BY o.bulk, o.id LIMIT ?",
        )
        .bind(chat_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .take_while(|r| r.not_before.as_ref().is_none_or(|nb| *nb <= now))
            .map(|r| r.row)
            .collect())
    }

    /// Rows not yet sent nor failed whose time has come, oldest first, each with the
    /// reason its chat is unreachable, if it is.
    pub async fn outbox_due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows: Vec<DueRecord> = query_as(
            "SELECT o.id, o.chat_id, o.payload, o.not_before, o.attempts, u.reason AS unreachable
             FROM outbox o LEFT JOIN unreachable_chats u ON u.chat_id = o.chat_id
             WHERE o.sent_at IS NULL AND o.failed IS NULL ORDER BY o.id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        // A chat with a row still waiting holds back its later rows: order per chat.
        let mut waiting = std::collections::HashSet::new();
        let mut out = Vec::new();
        for DueRecord { row, not_before } in rows {
            if waiting.contains(&row.chat_id) {
                continue;
            }
            if not_before.is_some_and(|nb| nb > now) {
                waiting.insert(row.chat_id);
                continue;
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Marks a row sent and, if it is to be remembered (`remember`), records the message
    /// ids it produced as that; returns once both are written. Rows sent meanwhile by
    /// other lanes are written in the same trip (see [`super::batch`]).
    ///
    /// The ids are written first and the mark second, in one round trip but not one
    /// transaction: a crash between the two leaves the row due, so the message is sent
    /// again (the outbox's at-least-once promise) and both copies are known; never a sent
    /// message Butler cannot recognise.
    pub async fn outbox_sent(
        &self,
        row: &OutboxRow,
        remember: Option<&BotMessage>,
        message_ids: &[i32],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let messages = match remember {
            Some(r) => message_ids
                .iter()
                .map(|&id| (row.chat_id, id, r.ticket_id.0, r.kind.code(), r.ref_id))
                .collect(),
            None => Vec::new(),
        };
        let sent = Sent {
            row_id: row.id,
            at: super::ts_text(now),
            messages,
        };
        self.sent.write(self, sent).await
    }

    /// A round of "sent" marks in one trip: first every message id, then every mark.
    pub(super) async fn write_sent(self, sent: Vec<Sent>) -> Result<()> {
        let json = |v: serde_json::Value| v.to_string();
        let messages: Vec<serde_json::Value> = sent
            .iter()
            .flat_map(|s| {
                s.messages
                    .iter()
                    .map(|(chat, message, ticket, kind, ref_id)| {
                        serde_json::json!([chat, message, ticket, kind, ref_id, s.at])
                    })
            })
            .collect();
        let marks: Vec<serde_json::Value> = sent
            .iter()
            .map(|s| serde_json::json!([s.row_id, s.at]))
            .collect();
        let (messages, marks) = (json(messages.into()), json(marks.into()));
        if !self.writer.is_postgres() {
            query(
                "INSERT OR REPLACE INTO bot_messages (chat_id, message_id, ticket_id, kind, ref_id, at)
                     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5
                     FROM json_each(?1);
                 UPDATE outbox SET sent_at = m.value ->> 1, attempts = attempts + 1
                     FROM json_each(?2) AS m WHERE outbox.id = m.value ->> 0",
            )
            .bind(messages)
            .bind(marks)
            .execute(&self.writer)
            .await?;
            return Ok(());
        }
        // PostgreSQL takes one statement a trip: both in one transaction.
        let mut tx = self.write_tx().await?;
        query(
            "INSERT INTO bot_messages (chat_id, message_id, ticket_id, kind, ref_id, at)
                 SELECT (v ->> 0)::bigint, (v ->> 1)::integer, (v ->> 2)::bigint, v ->> 3,
                        (v ->> 4)::bigint, (v ->> 5)::timestamptz
                 FROM jsonb_array_elements(?::jsonb) AS v
             ON CONFLICT (chat_id, message_id) DO UPDATE SET ticket_id = excluded.ticket_id,
                 kind = excluded.kind, ref_id = excluded.ref_id, at = excluded.at",
        )
        .bind(messages)
        .execute(&mut tx)
        .await?;
        query(
            "UPDATE outbox SET sent_at = (m ->> 1)::timestamptz, attempts = attempts + 1
                 FROM jsonb_array_elements(?::jsonb) AS m WHERE outbox.id = (m ->> 0)::bigint",
        )
        .bind(marks)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn outbox_defer(&self, id: i64, until: DateTime<Utc>, why: &str) -> Result<()> {
        query("UPDATE outbox SET not_before = ?, attempts = attempts + 1, last_error = ? WHERE id = ?")
            .bind(until)
            .bind(why)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn outbox_failed(&self, id: i64, why: &str) -> Result<()> {
        query("UPDATE outbox SET failed = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(why)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// (sent, failed, pending) counts, for tests and health checks.
    pub async fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let (sent, failed, pending): (i64, i64, Option<i64>) = query_as(
            "SELECT COUNT(sent_at) AS sent, COUNT(failed) AS failed,
                    SUM(CASE WHEN sent_at IS NULL AND failed IS NULL THEN 1 ELSE 0 END) AS pending
             FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((sent, failed, pending.unwrap_or(0)))
    }

    /// The bytes of an outbox file, if still kept.
    pub async fn outbox_file(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(query_scalar("SELECT bytes FROM outbox_files WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Why a chat takes no messages from the bot, if it does not.
    pub async fn chat_unreachable(&self, chat_id: i64) -> Result<Option<String>> {
        Ok(
            query_scalar("SELECT reason FROM unreachable_chats WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The chat blocked the bot or removed it: no more messages to it until it is heard
    /// from. With `wait`, what is queued for it (and what is queued meanwhile) waits for
    /// that; without, it is dropped (failed).
    pub async fn mark_unreachable(
        &self,
        chat_id: i64,
        reason: &str,
        wait: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        query("INSERT INTO unreachable_chats (chat_id, reason, since, waiting) VALUES (?, ?, ?, ?) ON CONFLICT(chat_id) DO NOTHING")
            .bind(chat_id)
            .bind(reason)
            .bind(now)
            .bind(wait)
            .execute(&mut tx)
            .await?;
        if wait {
            tx.commit().await?;
            return Ok(());
        }
        query(
            "UPDATE outbox SET failed = ? WHERE chat_id = ? AND sent_at IS NULL AND failed IS NULL",
        )
        .bind(format!("chat unreachable: {reason}"))
        .bind(chat_id)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The chat was heard from (a message, the bot re-added): it can be written to again.
    /// `None` if it was not marked unreachable; else how many messages waited for it.
    pub async fn mark_reachable(&self, chat_id: i64) -> Result<Option<i64>> {
        // Called for every message, and nearly every chat is reachable: look first, and
        // take the write lock only when there is a mark to clear.
        let marked: Option<i64> =
            query_scalar("SELECT chat_id FROM unreachable_chats WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?;
        if marked.is_none() {
            return Ok(None);
        }
        let mut tx = self.write_tx().await?;
        let r = query("DELETE FROM unreachable_chats WHERE chat_id = ?")
            .bind(chat_id)
            .execute(&mut tx)
            .await?;
        let waited: i64 = query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND sent_at IS NULL AND failed IS NULL",
        )
        .bind(chat_id)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        Ok((r.rows_affected() > 0).then_some(waited))
    }
}
