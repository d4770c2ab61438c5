//! All SQL lives here. The rest of Butler sees typed rows and intent-named functions;
//! a PostgreSQL store can stand beside this one later.
//!
//! Reads that need no consistency with a change go through [`Store`]; a change and the
//! messages it causes are written through one [`Tx`] and committed together.

mod batch;
mod daily;
mod jobs;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use teloxide::types::MessageId;

use crate::domain::{Category, Ticket, TicketId, TicketStatus};
use crate::outbox::Outgoing;
use batch::Batched;

mod seed;
pub use seed::{DEMO_STAFF, Seeded};
mod figures;
pub use figures::OverviewParts;
pub use jobs::{AlertKind, JobOutcome, Notice, NoticeStatus, Unrated};

/// A store failure: logged with its cause chain, never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database holds an unreadable value: {0}")]
    Corrupt(String),
    #[error("database: a write made together with others failed: {0}")]
    Batch(String),
}

pub type Result<T> = std::result::Result<T, Error>;

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
}

impl BotMessageKind {
    fn code(self) -> &'static str {
        match self {
            BotMessageKind::Card => "card",
            BotMessageKind::CardPhotos => "card_photos",
            BotMessageKind::Confirmation => "confirmation",
            BotMessageKind::Rating => "rating",
            BotMessageKind::LowScoreQuestion => "low_score_question",
            BotMessageKind::FollowUp => "follow_up",
            BotMessageKind::Relay => "relay",
            BotMessageKind::WatchAlert => "watch_alert",
        }
    }

    fn from_code(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub chat_id: i64,
    pub name: String,
    pub locale: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: u64,
    pub name: String,
    pub unit: Option<String>,
    pub locale: Option<String>,
    pub watched: bool,
}

/// A message of Butler's that someone replied to or pressed a button under.
#[derive(Debug, Clone)]
pub struct BotMessage {
    pub ticket_id: TicketId,
    pub kind: BotMessageKind,
    pub ref_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct FollowUp {
    pub id: i64,
    pub ticket_id: TicketId,
    pub round: i64,
    pub closed: bool,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub chat_id: i64,
    pub payload: String,
    /// Delivery attempts so far (for the retry back-off).
    pub attempts: i64,
    /// Why the chat takes no messages from the bot, if it does not (blocked, removed).
    pub unreachable: Option<String>,
}

/// A new ticket as the owner reported it.
pub struct NewTicket<'a> {
    pub group_chat_id: i64,
    pub report_message_id: i32,
    pub owner_id: u64,
    pub unit: Option<&'a str>,
    pub category: Category,
    pub text: &'a str,
    pub priority: bool,
}

/// Someone who did something, for the audit trail.
pub struct Who<'a> {
    pub id: u64,
    pub name: &'a str,
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("time {s:?}: {e}")))
}

#[derive(Clone)]
pub struct Store {
    /// Reads, on several connections at once (WAL lets them run beside a writer).
    pool: SqlitePool,
    /// Writes, on one connection. SQLite has one write lock per file: a second writer of
    /// ours would only find it taken and sleep (1, 2, 5, 10 … ms) before trying again,
    /// leaving the lock idle meanwhile; waiting for this connection instead, writers
    /// queue in order and each gets the lock the moment the last one is done. Another
    /// process on the same file still meets SQLite's busy timeout.
    writer: SqlitePool,
    /// "Handled" marks of updates, written together (see [`batch`]).
    handled: Arc<Batched<(i32, DateTime<Utc>)>>,
    /// "Sent" marks and message ids of outbox rows, written together.
    sent: Arc<Batched<Sent>>,
}

/// A sent outbox row: its id, when, and the messages to remember it by.
struct Sent {
    row_id: i64,
    at: String,
    /// (chat, message, ticket, kind, ref), one per message sent.
    messages: Vec<(i64, i32, i64, &'static str, Option<i64>)>,
}

/// How long a write waits for the write connection, as SQLite's busy timeout would.
const WRITE_WAIT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // A file in this process cannot hang up: pinging it on every acquire (sqlx's
        // default, meant for network databases) would double the trips to each
        // connection's thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_WAIT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            writer,
            handled: Batched::new(|store, marks| Box::pin(store.write_handled(marks))),
            sent: Batched::new(|store, sent| Box::pin(store.write_sent(sent))),
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction. It takes SQLite's write lock at once (BEGIN IMMEDIATE): a
    /// deferred one that reads and then writes fails with "database is locked" when
    /// another writer committed in between, and busy_timeout cannot help it.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A read-only view for long reads (figures, exports) that must not hold up writers.
    /// Writing through it may fail under contention: use [`Store::begin`] for changes.
    pub async fn begin_read(&self) -> Result<Tx<'static>> {
        Ok(Tx(self.pool.begin().await?))
    }

    /// Starts a change: state, events and messages, committed together.
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(Tx(self.write_tx().await?))
    }

    pub async fn group(&self, chat_id: i64) -> Result<Option<Group>> {
        let row =
            sqlx::query("SELECT chat_id, name, locale, active FROM owner_groups WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| Group {
            chat_id: r.get("chat_id"),
            name: r.get("name"),
            locale: r.get("locale"),
            active: r.get::<i64, _>("active") != 0,
        }))
    }

    pub async fn owner(&self, user_id: u64) -> Result<Option<Owner>> {
        let row = sqlx::query(
            "SELECT user_id, name, unit, locale, watched FROM owners WHERE user_id = ?",
        )
        .bind(user_id as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| owner_from_row(&r)))
    }

    pub async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        let mut conn = self.pool.acquire().await?;
        fetch_ticket(&mut conn, id).await
    }

    /// Open tickets, oldest first (priority ones ahead), at most `limit`.
    pub async fn open_tickets(&self, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE status IN ('reported','taken')
             ORDER BY priority DESC, id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }

    /// Open tickets taken by `user_id`.
    pub async fn tickets_taken_by(&self, user_id: u64, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE status = 'taken' AND taken_by = ? ORDER BY id LIMIT ?",
        )
        .bind(user_id as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }

    /// An owner's latest tickets, newest first.
    pub async fn owner_tickets(&self, owner_id: u64, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE owner_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(owner_id as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }

    async fn tickets(&self, ids: Vec<i64>) -> Result<Vec<Ticket>> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(t) = fetch_ticket(&mut conn, TicketId(id)).await? {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Which ticket a message of Butler's belongs to.
    pub async fn bot_message(&self, chat_id: i64, message_id: i32) -> Result<Option<BotMessage>> {
        let row = sqlx::query(
            "SELECT ticket_id, kind, ref_id FROM bot_messages WHERE chat_id = ? AND message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let kind: String = r.get("kind");
            Ok(BotMessage {
                ticket_id: TicketId(r.get("ticket_id")),
                kind: BotMessageKind::from_code(&kind)
                    .ok_or_else(|| Error::Corrupt(format!("bot message kind {kind:?}")))?,
                ref_id: r.get("ref_id"),
            })
        })
        .transpose()
    }

    /// The ticket (and photo kind) an album's earlier item went to, in this chat.
    pub async fn ticket_by_media_group(
        &self,
        chat_id: i64,
        media_group_id: &str,
    ) -> Result<Option<(TicketId, PhotoKind)>> {
        let row = sqlx::query("SELECT ticket_id, kind FROM photos WHERE chat_id = ? AND media_group_id = ? ORDER BY id LIMIT 1")
            .bind(chat_id)
            .bind(media_group_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let kind: String = r.get("kind");
            Ok((
                TicketId(r.get("ticket_id")),
                PhotoKind::from_code(&kind)
                    .ok_or_else(|| Error::Corrupt(format!("photo kind {kind:?}")))?,
            ))
        })
        .transpose()
    }

    /// How many tickets an owner opened since `since`.
    pub async fn reports_since(&self, owner_id: u64, since: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE owner_id = ? AND created_at >= ?",
        )
        .bind(owner_id as i64)
        .bind(ts(since))
        .fetch_one(&self.pool)
        .await?)
    }

    /// The ticket an owner's report message opened.
    pub async fn ticket_by_report(
        &self,
        chat_id: i64,
        message_id: i32,
    ) -> Result<Option<TicketId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM tickets WHERE report_chat_id = ? AND report_message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(TicketId))
    }

    pub async fn latest_bot_message(
        &self,
        ticket_id: i64,
        kind: BotMessageKind,
    ) -> Result<Option<i32>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM bot_messages WHERE ticket_id = ? AND kind = ? ORDER BY at DESC, message_id DESC LIMIT 1",
        )
        .bind(ticket_id)
        .bind(kind.code())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn follow_up_message(&self, follow_up_id: i64) -> Result<Option<i32>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM bot_messages WHERE kind = 'follow_up' AND ref_id = ? LIMIT 1",
        )
        .bind(follow_up_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn follow_up(&self, id: i64) -> Result<Option<FollowUp>> {
        let mut conn = self.pool.acquire().await?;
        fetch_follow_up(&mut conn, id).await
    }

    /// The events of a ticket as (kind, actor name, detail), oldest first.
    pub async fn events(
        &self,
        ticket_id: TicketId,
    ) -> Result<Vec<(String, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT kind, actor_name, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id",
        )
        .bind(ticket_id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("kind"), r.get("actor_name"), r.get("detail")))
            .collect())
    }

    /// Every score given for a ticket, by round.
    pub async fn ratings(&self, ticket_id: TicketId) -> Result<Vec<(i64, u8)>> {
        let rows =
            sqlx::query("SELECT round, score FROM ratings WHERE ticket_id = ? ORDER BY round")
                .bind(ticket_id.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("round"), r.get::<i64, _>("score") as u8))
            .collect())
    }

    /// File ids of a ticket's photos of one kind, oldest first.
    pub async fn photos(&self, ticket_id: TicketId, kind: PhotoKind) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT file_id FROM photos WHERE ticket_id = ? AND kind = ? ORDER BY id",
        )
        .bind(ticket_id.0)
        .bind(kind.code())
        .fetch_all(&self.pool)
        .await?)
    }

    // ---- inbox ----

    /// Writes a batch of updates as received; returns the ids that still need handling
    /// (new ones, and ones received before but never handled).
    pub async fn inbox_receive(
        &self,
        updates: &[(i32, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i32>> {
        let mut tx = self.write_tx().await?;
        let received = ts(now);
        let mut unhandled = std::collections::HashSet::new();
        // Two statements a chunk, not two an update (getUpdates gives at most 100).
        for chunk in updates.chunks(100) {
            let mut insert =
                sqlx::QueryBuilder::new("INSERT INTO inbox (update_id, payload, received_at) ");
            insert.push_values(chunk, |mut row, (id, payload)| {
                row.push_bind(*id)
                    .push_bind(payload.as_str())
                    .push_bind(received.as_str());
            });
            insert.push(" ON CONFLICT(update_id) DO NOTHING");
            insert.build().execute(&mut *tx).await?;
            let mut select = sqlx::QueryBuilder::new(
                "SELECT update_id FROM inbox WHERE handled_at IS NULL AND update_id IN (",
            );
            let mut ids = select.separated(", ");
            for (id, _) in chunk {
                ids.push_bind(*id);
            }
            ids.push_unseparated(")");
            let found: Vec<i32> = select.build_query_scalar().fetch_all(&mut *tx).await?;
            unhandled.extend(found);
        }
        tx.commit().await?;
        Ok(updates
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| unhandled.remove(id))
            .collect())
    }

    /// Updates received but not handled, oldest first.
    pub async fn inbox_unhandled(&self, limit: i64) -> Result<Vec<(i32, String)>> {
        let rows = sqlx::query("SELECT update_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("update_id"), r.get("payload")))
            .collect())
    }

    /// The highest update id ever received, if any.
    pub async fn inbox_last_id(&self) -> Result<Option<i32>> {
        Ok(sqlx::query_scalar("SELECT MAX(update_id) FROM inbox")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Marks an update handled (with the marks of handlers finishing meanwhile, see
    /// [`batch`]).
    pub async fn inbox_handled(&self, id: i32, now: DateTime<Utc>) -> Result<()> {
        self.handled.write(self, (id, now)).await
    }

    async fn write_handled(self, marks: Vec<(i32, DateTime<Utc>)>) -> Result<()> {
        let Some(now) = marks.iter().map(|(_, at)| *at).max() else {
            return Ok(());
        };
        let ids: Vec<i32> = marks.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "UPDATE inbox SET handled_at = ?
             WHERE handled_at IS NULL AND update_id IN (SELECT value FROM json_each(?))",
        )
        .bind(ts(now))
        .bind(serde_json::to_string(&ids).map_err(|e| Error::Corrupt(e.to_string()))?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// True if the update was received and handled (its mark written).
    pub async fn inbox_is_handled(&self, id: i32) -> Result<bool> {
        let handled: Option<Option<String>> =
            sqlx::query_scalar("SELECT handled_at FROM inbox WHERE update_id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(handled, Some(Some(_))))
    }

    /// A consistent copy of the database at `path`, taken while the bot runs.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- outbox ----

    /// Rows not yet sent nor failed whose time has come, oldest first, each with the
    /// reason its chat is unreachable, if it is.
    pub async fn outbox_due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
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
        let now = ts(now);
        for r in rows {
            let chat_id: i64 = r.get("chat_id");
            let not_before: Option<String> = r.get("not_before");
            if waiting.contains(&chat_id) {
                continue;
            }
            if not_before.is_some_and(|nb| nb > now) {
                waiting.insert(chat_id);
                continue;
            }
            out.push(OutboxRow {
                id: r.get("id"),
                chat_id,
                payload: r.get("payload"),
                attempts: r.get("attempts"),
                unreachable: r.get("unreachable"),
            });
        }
        Ok(out)
    }

    /// Marks a row sent and, if it asked to, remembers the message ids it produced;
    /// returns once both are written. Rows sent meanwhile by other lanes are written in
    /// the same trip (see [`batch`]).
    ///
    /// The ids are written first and the mark second, in one round trip but not one
    /// transaction: a crash between the two leaves the row due, so the message is sent
    /// again (the outbox's at-least-once promise) and both copies are known; never a sent
    /// message Butler cannot recognise.
    pub async fn outbox_sent(
        &self,
        row: &OutboxRow,
        ids: &[MessageId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let msg: Option<Outgoing> = serde_json::from_str(&row.payload).ok();
        let remember = match &msg {
            Some(
                Outgoing::Text { remember, .. }
                | Outgoing::Photo { remember, .. }
                | Outgoing::Album { remember, .. },
            ) => remember.clone(),
            _ => None,
        };
        let messages = match remember {
            Some(r) => ids
                .iter()
                .map(|id| (row.chat_id, id.0, r.ticket_id, r.kind.code(), r.ref_id))
                .collect(),
            None => Vec::new(),
        };
        let sent = Sent {
            row_id: row.id,
            at: ts(now),
            messages,
        };
        self.sent.write(self, sent).await
    }

    /// A round of "sent" marks in one trip: first every message id, then every mark.
    async fn write_sent(self, sent: Vec<Sent>) -> Result<()> {
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
        sqlx::query(
            "INSERT OR REPLACE INTO bot_messages (chat_id, message_id, ticket_id, kind, ref_id, at)
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5
                 FROM json_each(?1);
             UPDATE outbox SET sent_at = m.value ->> 1, attempts = attempts + 1
                 FROM json_each(?2) AS m WHERE outbox.id = m.value ->> 0",
        )
        .bind(json(messages.into()))
        .bind(json(marks.into()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn outbox_defer(&self, id: i64, until: DateTime<Utc>, why: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET not_before = ?, attempts = attempts + 1, last_error = ? WHERE id = ?")
            .bind(ts(until))
            .bind(why)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn outbox_failed(&self, id: i64, why: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET failed = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(why)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Why a chat takes no messages from the bot, if it does not.
    pub async fn chat_unreachable(&self, chat_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT reason FROM unreachable_chats WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The chat blocked the bot or removed it: no more messages to it, and what waits
    /// for it is dropped.
    pub async fn mark_unreachable(
        &self,
        chat_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO unreachable_chats (chat_id, reason, since) VALUES (?, ?, ?) ON CONFLICT(chat_id) DO NOTHING")
            .bind(chat_id)
            .bind(reason)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE outbox SET failed = ? WHERE chat_id = ? AND sent_at IS NULL AND failed IS NULL",
        )
        .bind(format!("chat unreachable: {reason}"))
        .bind(chat_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The chat was heard from (a message, the bot re-added): it can be written to again.
    /// True if it had been unreachable.
    pub async fn mark_reachable(&self, chat_id: i64) -> Result<bool> {
        // Called for every message, and nearly every chat is reachable: look first, and
        // take the write lock only when there is a mark to clear.
        let marked: Option<i64> =
            sqlx::query_scalar("SELECT chat_id FROM unreachable_chats WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&self.pool)
                .await?;
        if marked.is_none() {
            return Ok(false);
        }
        let r = sqlx::query("DELETE FROM unreachable_chats WHERE chat_id = ?")
            .bind(chat_id)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// A group became a supergroup: its tickets follow the new id (ON UPDATE CASCADE),
    /// and messages waiting for the old id go to the new one. Idempotent.
    pub async fn move_chat(&self, from: i64, to: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT chat_id FROM owner_groups WHERE chat_id = ?")
                .bind(to)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            sqlx::query("UPDATE owner_groups SET chat_id = ? WHERE chat_id = ?")
                .bind(to)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE outbox SET chat_id = ?1, payload = json_set(payload, '$.chat_id', ?1)
             WHERE chat_id = ?2 AND sent_at IS NULL AND failed IS NULL",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// (sent, failed, pending) counts, for tests and health checks.
    pub async fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        let r = sqlx::query(
            "SELECT COUNT(sent_at) AS sent, COUNT(failed) AS failed,
                    SUM(CASE WHEN sent_at IS NULL AND failed IS NULL THEN 1 ELSE 0 END) AS pending
             FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((
            r.get("sent"),
            r.get("failed"),
            r.get::<Option<i64>, _>("pending").unwrap_or(0),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    Report,
    Progress,
    Completion,
}

impl PhotoKind {
    fn code(self) -> &'static str {
        match self {
            PhotoKind::Report => "report",
            PhotoKind::Progress => "progress",
            PhotoKind::Completion => "completion",
        }
    }

    fn from_code(s: &str) -> Option<Self> {
        [
            PhotoKind::Report,
            PhotoKind::Progress,
            PhotoKind::Completion,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

fn owner_from_row(r: &SqliteRow) -> Owner {
    Owner {
        user_id: r.get::<i64, _>("user_id") as u64,
        name: r.get("name"),
        unit: r.get("unit"),
        locale: r.get("locale"),
        watched: r.get::<i64, _>("watched") != 0,
    }
}

async fn fetch_follow_up(conn: &mut sqlx::SqliteConnection, id: i64) -> Result<Option<FollowUp>> {
    let row = sqlx::query("SELECT id, ticket_id, round, closed_at FROM follow_ups WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| FollowUp {
        id: r.get("id"),
        ticket_id: TicketId(r.get("ticket_id")),
        round: r.get("round"),
        closed: r.get::<Option<String>, _>("closed_at").is_some(),
    }))
}

async fn fetch_ticket(conn: &mut sqlx::SqliteConnection, id: TicketId) -> Result<Option<Ticket>> {
    let row = sqlx::query(
        "SELECT t.*, g.name AS group_name, o.name AS owner_name,
                COALESCE(g.locale, o.locale) AS owner_locale,
                (SELECT COUNT(*) FROM photos p WHERE p.ticket_id = t.id) AS photo_count,
                (SELECT score FROM ratings r WHERE r.ticket_id = t.id AND r.round = t.rating_round) AS score
         FROM tickets t
         JOIN owner_groups g ON g.chat_id = t.group_chat_id
         JOIN owners o ON o.user_id = t.owner_id
         WHERE t.id = ?",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let category: String = r.get("category");
    let status: String = r.get("status");
    let taken_by: Option<i64> = r.get("taken_by");
    let taken_by_name: Option<String> = r.get("taken_by_name");
    Ok(Some(Ticket {
        id,
        group_chat_id: r.get("group_chat_id"),
        group_name: r.get("group_name"),
        report_chat_id: r.get("report_chat_id"),
        report_message_id: r.get("report_message_id"),
        owner_id: r.get::<i64, _>("owner_id") as u64,
        owner_name: r.get("owner_name"),
        unit: r.get("unit"),
        category: Category::from_code(&category)
            .ok_or_else(|| Error::Corrupt(format!("category {category:?}")))?,
        text: r.get("text"),
        status: TicketStatus::from_code(&status)
            .ok_or_else(|| Error::Corrupt(format!("status {status:?}")))?,
        priority: r.get::<i64, _>("priority") != 0,
        taken_by: taken_by.map(|id| (id as u64, taken_by_name.unwrap_or_default())),
        rating_round: r.get("rating_round"),
        created_at: parse_ts(&r.get::<String, _>("created_at"))?,
        photo_count: r.get("photo_count"),
        score: r.get::<Option<i64>, _>("score").map(|s| s as u8),
        owner_locale: crate::i18n::Locale::from_telegram(
            r.get::<Option<String>, _>("owner_locale").as_deref(),
        ),
    }))
}

/// A change in progress: state, events and outgoing messages, committed together.
pub struct Tx<'c>(Transaction<'c, Sqlite>);

impl Tx<'_> {
    pub async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }

    pub async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>> {
        fetch_ticket(&mut self.0, id).await
    }

    /// Puts a message in the outbox; it leaves once this transaction commits.
    pub async fn enqueue(&mut self, msg: &Outgoing, now: DateTime<Utc>) -> Result<()> {
        let payload = serde_json::to_string(msg).map_err(|e| Error::Corrupt(e.to_string()))?;
        sqlx::query("INSERT INTO outbox (chat_id, payload, created_at) VALUES (?, ?, ?)")
            .bind(msg.chat_id())
            .bind(payload)
            .bind(ts(now))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Puts messages in the outbox, in this order; one statement for up to 100.
    pub async fn enqueue_all(&mut self, msgs: &[Outgoing], now: DateTime<Utc>) -> Result<()> {
        let created = ts(now);
        for chunk in msgs.chunks(100) {
            let rows = chunk
                .iter()
                .map(|m| {
                    serde_json::to_string(m)
                        .map(|payload| (m.chat_id(), payload))
                        .map_err(|e| Error::Corrupt(e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            let mut insert =
                sqlx::QueryBuilder::new("INSERT INTO outbox (chat_id, payload, created_at) ");
            // Rows of one INSERT take ascending ids in the order of its VALUES.
            insert.push_values(&rows, |mut row, (chat_id, payload)| {
                row.push_bind(*chat_id)
                    .push_bind(payload.as_str())
                    .push_bind(created.as_str());
            });
            insert.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    // ---- groups and owners ----

    /// Registers (or re-activates and renames) an owner group. True if it was new.
    pub async fn register_group(
        &mut self,
        chat_id: i64,
        name: &str,
        by: u64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let existed: Option<i64> =
            sqlx::query_scalar("SELECT chat_id FROM owner_groups WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_optional(&mut *self.0)
                .await?;
        sqlx::query(
            "INSERT INTO owner_groups (chat_id, name, active, registered_by, registered_at) VALUES (?, ?, 1, ?, ?)
             ON CONFLICT(chat_id) DO UPDATE SET name = excluded.name, active = 1",
        )
        .bind(chat_id)
        .bind(name)
        .bind(by as i64)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok(existed.is_none())
    }

    /// True if the group was active.
    pub async fn deactivate_group(&mut self, chat_id: i64) -> Result<bool> {
        let r = sqlx::query("UPDATE owner_groups SET active = 0 WHERE chat_id = ? AND active = 1")
            .bind(chat_id)
            .execute(&mut *self.0)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn set_group_locale(&mut self, chat_id: i64, locale: &str) -> Result<()> {
        sqlx::query("UPDATE owner_groups SET locale = ? WHERE chat_id = ?")
            .bind(locale)
            .bind(chat_id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Records an owner as last seen (name and Telegram language).
    pub async fn touch_owner(
        &mut self,
        user_id: u64,
        name: &str,
        locale: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Owner> {
        let r = sqlx::query(
            "INSERT INTO owners (user_id, name, locale, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET name = excluded.name,
                 locale = COALESCE(excluded.locale, owners.locale), updated_at = excluded.updated_at
             RETURNING user_id, name, unit, locale, watched",
        )
        .bind(user_id as i64)
        .bind(name)
        .bind(locale)
        .bind(ts(now))
        .fetch_one(&mut *self.0)
        .await?;
        Ok(owner_from_row(&r))
    }

    pub async fn set_owner_unit(
        &mut self,
        user_id: u64,
        unit: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE owners SET unit = ?, updated_at = ? WHERE user_id = ?")
            .bind(unit)
            .bind(ts(now))
            .bind(user_id as i64)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Puts an owner on (or off) the watch list; an owner not seen yet is created.
    pub async fn set_watched(
        &mut self,
        user_id: u64,
        watched: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO owners (user_id, name, watched, updated_at) VALUES (?, '', ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET watched = excluded.watched, updated_at = excluded.updated_at",
        )
        .bind(user_id as i64)
        .bind(watched as i64)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    // ---- tickets ----

    /// Creates the ticket, or returns None when this report message already has one.
    pub async fn insert_ticket(
        &mut self,
        t: &NewTicket<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketId>> {
        let r = sqlx::query(
            "INSERT INTO tickets (group_chat_id, report_chat_id, report_message_id, owner_id, unit, category, text, status,
                                  priority, created_at, updated_at)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, 'reported', ?7, ?8, ?8)
             ON CONFLICT(report_chat_id, report_message_id) DO NOTHING",
        )
        .bind(t.group_chat_id)
        .bind(t.report_message_id)
        .bind(t.owner_id as i64)
        .bind(t.unit)
        .bind(t.category.code())
        .bind(t.text)
        .bind(t.priority as i64)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(TicketId(r.last_insert_rowid())))
    }

    pub async fn add_event(
        &mut self,
        ticket: TicketId,
        kind: &str,
        who: &Who<'_>,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(ticket.0)
        .bind(kind)
        .bind(who.id as i64)
        .bind(who.name)
        .bind(detail)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// An event caused by the message `source` (chat, message id): false, and nothing
    /// written, if that message already caused this kind of event.
    pub async fn add_event_from(
        &mut self,
        ticket: TicketId,
        kind: &str,
        who: &Who<'_>,
        detail: Option<&str>,
        source: (i64, i32),
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, detail, at, source_chat, source_message)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(ticket.0)
        .bind(kind)
        .bind(who.id as i64)
        .bind(who.name)
        .bind(detail)
        .bind(ts(now))
        .bind(source.0)
        .bind(source.1)
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Adds a photo; false if the message carrying it was already handled.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_photo(
        &mut self,
        ticket: TicketId,
        file_id: &str,
        kind: PhotoKind,
        by: u64,
        chat_id: i64,
        message_id: i32,
        media_group_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO photos (ticket_id, file_id, kind, added_by, chat_id, message_id, media_group_id, at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chat_id, message_id) DO NOTHING",
        )
        .bind(ticket.0)
        .bind(file_id)
        .bind(kind.code())
        .bind(by as i64)
        .bind(chat_id)
        .bind(message_id)
        .bind(media_group_id)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Photos added since the ticket was last taken or reopened.
    pub async fn photos_since_taken(&mut self, ticket: TicketId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM photos WHERE ticket_id = ?1 AND kind != 'report' AND at >= COALESCE(
                 (SELECT MAX(at) FROM ticket_events WHERE ticket_id = ?1 AND kind IN ('taken','reopened')), '')",
        )
        .bind(ticket.0)
        .fetch_one(&mut *self.0)
        .await?)
    }

    pub async fn set_taken(
        &mut self,
        ticket: TicketId,
        by: &Who<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET status = 'taken', taken_by = ?, taken_by_name = ?, updated_at = ? WHERE id = ?")
            .bind(by.id as i64)
            .bind(by.name)
            .bind(ts(now))
            .bind(ticket.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn set_status(
        &mut self,
        ticket: TicketId,
        status: TicketStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.code())
            .bind(ts(now))
            .bind(ticket.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// The owner corrected the report's text.
    pub async fn set_text(
        &mut self,
        ticket: TicketId,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET text = ?, updated_at = ? WHERE id = ?")
            .bind(text)
            .bind(ts(now))
            .bind(ticket.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn set_category(
        &mut self,
        ticket: TicketId,
        category: Category,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET category = ?, updated_at = ? WHERE id = ?")
            .bind(category.code())
            .bind(ts(now))
            .bind(ticket.0)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Opens the next rating round; returns its number.
    pub async fn next_rating_round(&mut self, ticket: TicketId) -> Result<i64> {
        Ok(sqlx::query_scalar("UPDATE tickets SET rating_round = rating_round + 1 WHERE id = ? RETURNING rating_round")
            .bind(ticket.0)
            .fetch_one(&mut *self.0)
            .await?)
    }

    /// Records a score; false if this round was already rated.
    pub async fn insert_rating(
        &mut self,
        ticket: TicketId,
        round: i64,
        owner: u64,
        score: u8,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO ratings (ticket_id, round, owner_id, score, at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(ticket_id, round) DO NOTHING",
        )
        .bind(ticket.0)
        .bind(round)
        .bind(owner as i64)
        .bind(score as i64)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn set_rating_comment(
        &mut self,
        ticket: TicketId,
        round: i64,
        comment: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE ratings SET comment = COALESCE(comment || char(10), '') || ? WHERE ticket_id = ? AND round = ?")
            .bind(comment)
            .bind(ticket.0)
            .bind(round)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Opens a follow-up; None if one is already open for this round and reason.
    pub async fn open_follow_up(
        &mut self,
        ticket: TicketId,
        reason: &str,
        round: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let r = sqlx::query(
            "INSERT INTO follow_ups (ticket_id, reason, round, opened_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(ticket_id, round, reason) DO NOTHING",
        )
        .bind(ticket.0)
        .bind(reason)
        .bind(round)
        .bind(ts(now))
        .execute(&mut *self.0)
        .await?;
        Ok((r.rows_affected() > 0).then(|| r.last_insert_rowid()))
    }

    /// Closes a follow-up with a note; false if it was already closed.
    pub async fn close_follow_up(
        &mut self,
        id: i64,
        by: u64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE follow_ups SET closed_by = ?, closed_note = ?, closed_at = ? WHERE id = ? AND closed_at IS NULL",
        )
        .bind(by as i64)
        .bind(note)
        .bind(ts(now))
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// A follow-up, read inside this change.
    pub async fn follow_up(&mut self, id: i64) -> Result<Option<FollowUp>> {
        fetch_follow_up(&mut self.0, id).await
    }

    /// The open follow-up of a ticket's round, if any.
    pub async fn open_follow_up_of(&mut self, ticket: TicketId, round: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM follow_ups WHERE ticket_id = ? AND round = ? AND closed_at IS NULL",
        )
        .bind(ticket.0)
        .bind(round)
        .fetch_optional(&mut *self.0)
        .await?)
    }
}
