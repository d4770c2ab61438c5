//! Tickets, their audit trail (`ticket_events`) and their photos.

use chrono::{DateTime, Utc};

use super::db::Conn;
use super::{Error, Result, Sql, Store, Tx, decode, query, query_as, query_scalar};
use crate::domain::{
    Actor, Category, EventKind, Kind, Score, Ticket, TicketId, TicketStatus, Unit, Urgency,
};

/// A new ticket as the owner reported it.
pub struct NewTicket<'a> {
    pub group_chat_id: i64,
    pub report_message_id: i32,
    pub owner_id: u64,
    pub unit: Option<&'a Unit>,
    pub category: Category,
    pub text: &'a str,
    pub priority: bool,
    pub kind: Kind,
    pub urgency: Urgency,
    /// The earlier finished repair this one repeats, if any.
    pub repeat_of: Option<TicketId>,
    /// When the owner sent the report, as Telegram dated it.
    pub reported_at: DateTime<Utc>,
    /// The route's staff chat the card goes to; `None`: the main staff chat.
    pub staff_chat: Option<i64>,
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

/// A ticket's row as [`fetch_ticket`] reads it, before its codes are parsed.
#[derive(sqlx::FromRow)]
struct TicketRecord {
    id: i64,
    group_chat_id: i64,
    group_name: String,
    report_chat_id: i64,
    report_message_id: i32,
    #[sqlx(try_from = "i64")]
    owner_id: u64,
    owner_name: String,
    unit: Option<String>,
    category: String,
    text: String,
    status: String,
    priority: bool,
    taken_by: Option<i64>,
    taken_by_name: Option<String>,
    rating_round: i64,
    created_at: DateTime<Utc>,
    photo_count: i64,
    score: Option<i64>,
    owner_locale: Option<String>,
    kind: String,
    urgency: String,
    repeat_of: Option<i64>,
    staff_chat_id: Option<i64>,
    paused_at: Option<DateTime<Utc>>,
    pause_reason: Option<String>,
    paused_secs: i64,
    take_due_at: Option<DateTime<Utc>>,
    first_update_due_at: Option<DateTime<Utc>>,
    resolve_due_at: Option<DateTime<Utc>>,
    response_due_at: Option<DateTime<Utc>>,
}

/// A stored unit, as the domain type (stored ones were parsed before they were written).
pub(super) fn parse_unit(unit: Option<String>) -> Result<Option<Unit>> {
    unit.map(|u| {
        u.parse::<Unit>()
            .map_err(|_| Error::Corrupt(format!("unit {u:?}")))
    })
    .transpose()
}

/// A stored score (the schema keeps it within 1..=5).
pub(super) fn parse_score(score: i64) -> Result<Score> {
    u8::try_from(score)
        .ok()
        .and_then(|s| Score::try_from(s).ok())
        .ok_or_else(|| Error::Corrupt(format!("score {score}")))
}

impl TryFrom<TicketRecord> for Ticket {
    type Error = Error;
    fn try_from(r: TicketRecord) -> Result<Self> {
        Ok(Ticket {
            id: TicketId(r.id),
            group_chat_id: r.group_chat_id,
            group_name: r.group_name,
            report_chat_id: r.report_chat_id,
            report_message_id: r.report_message_id,
            owner_id: r.owner_id,
            owner_name: r.owner_name,
            unit: parse_unit(r.unit)?,
            category: decode("category", &r.category, Category::from_code)?,
            text: r.text,
            status: decode("status", &r.status, TicketStatus::from_code)?,
            priority: r.priority,
            taken_by: r
                .taken_by
                .map(|id| (id as u64, r.taken_by_name.unwrap_or_default())),
            rating_round: r.rating_round,
            created_at: r.created_at,
            photo_count: r.photo_count,
            score: r.score.map(parse_score).transpose()?,
            owner_locale: crate::i18n::Locale::from_telegram(r.owner_locale.as_deref()),
            kind: decode("kind", &r.kind, Kind::from_code)?,
            urgency: decode("urgency", &r.urgency, Urgency::from_code)?,
            repeat_of: r.repeat_of.map(TicketId),
            staff_chat: r.staff_chat_id,
            paused: r.paused_at.map(|since| crate::domain::pause::Pause {
                since,
                reason: r.pause_reason.unwrap_or_default(),
            }),
            paused_secs: r.paused_secs,
            due: crate::domain::sla::Dues {
                take: r.take_due_at,
                first_update: r.first_update_due_at,
                resolve: r.resolve_due_at,
                response: r.response_due_at,
            },
        })
    }
}

pub(super) async fn fetch_ticket(conn: &mut Conn<'_>, id: TicketId) -> Result<Option<Ticket>> {
    let row: Option<TicketRecord> = query_as(
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
    row.map(Ticket::try_from).transpose()
}

/// The tickets of `ids` that exist, in that order.
pub(super) async fn fetch_tickets(conn: &mut Conn<'_>, ids: Vec<i64>) -> Result<Vec<Ticket>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(t) = fetch_ticket(&mut *conn, TicketId(id)).await? {
            out.push(t);
        }
    }
    Ok(out)
}

/// An event as the audit trail holds it: its kind, who, and the detail.
#[derive(sqlx::FromRow)]
struct EventRecord {
    kind: String,
    actor_name: String,
    detail: Option<String>,
}

impl Store {
    pub async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        let mut conn = self.begin_read().await?;
        fetch_ticket(&mut conn.0, id).await
    }

    /// Open tickets, oldest first (priority ones ahead), at most `limit`.
    pub async fn open_tickets(&self, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = query_scalar(
            "SELECT id FROM tickets WHERE status IN ('reported','taken') AND kind = 'repair'
             ORDER BY priority DESC, urgency, id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }

    /// Open tickets taken by `user_id`.
    pub async fn tickets_taken_by(&self, user_id: u64, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = query_scalar(
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
        let ids: Vec<i64> =
            query_scalar("SELECT id FROM tickets WHERE owner_id = ? ORDER BY id DESC LIMIT ?")
                .bind(owner_id as i64)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        self.tickets(ids).await
    }

    /// An owner's latest tickets in owner group `chat_id`, newest first.
    pub async fn owner_tickets_in_group(
        &self,
        owner_id: u64,
        chat_id: i64,
        limit: i64,
    ) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = query_scalar(
            "SELECT id FROM tickets WHERE owner_id = ? AND group_chat_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(owner_id as i64)
        .bind(chat_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }

    pub(super) async fn tickets(&self, ids: Vec<i64>) -> Result<Vec<Ticket>> {
        let mut conn = self.begin_read().await?;
        fetch_tickets(&mut conn.0, ids).await
    }

    /// The ticket (and photo kind) an album's earlier item went to, in this chat.
    pub async fn ticket_by_media_group(
        &self,
        chat_id: i64,
        media_group_id: &str,
    ) -> Result<Option<(TicketId, PhotoKind)>> {
        let row: Option<(i64, String)> = query_as("SELECT ticket_id, kind FROM photos WHERE chat_id = ? AND media_group_id = ? ORDER BY id LIMIT 1")
            .bind(chat_id)
            .bind(media_group_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(ticket_id, kind)| {
            Ok((
                TicketId(ticket_id),
                decode("photo kind", &kind, PhotoKind::from_code)?,
            ))
        })
        .transpose()
    }

    /// How many tickets an owner reported in messages dated after `after`, up to `until`.
    pub async fn reports_dated(
        &self,
        owner_id: u64,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE owner_id = ? AND reported_at > ? AND reported_at <= ?",
        )
        .bind(owner_id as i64)
        .bind(after)
        .bind(until)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The ticket an owner's report message opened.
    pub async fn ticket_by_report(
        &self,
        chat_id: i64,
        message_id: i32,
    ) -> Result<Option<TicketId>> {
        let id: Option<i64> = query_scalar(
            "SELECT id FROM tickets WHERE report_chat_id = ? AND report_message_id = ?",
        )
        .bind(chat_id)
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(TicketId))
    }

    /// The events of a ticket as (kind, actor name, detail), oldest first.
    pub async fn events(
        &self,
        ticket_id: TicketId,
    ) -> Result<Vec<(EventKind, String, Option<String>)>> {
        let rows: Vec<EventRecord> = query_as(
            "SELECT kind, actor_name, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id",
        )
        .bind(ticket_id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let kind = r
                    .kind
                    .parse::<EventKind>()
                    .map_err(|e| Error::Corrupt(e.to_string()))?;
                Ok((kind, r.actor_name, r.detail))
            })
            .collect()
    }

    /// File ids of a ticket's photos of one kind, oldest first.
    pub async fn photos(&self, ticket_id: TicketId, kind: PhotoKind) -> Result<Vec<String>> {
        Ok(
            query_scalar("SELECT file_id FROM photos WHERE ticket_id = ? AND kind = ? ORDER BY id")
                .bind(ticket_id.0)
                .bind(kind.code())
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

impl Tx<'_> {
    pub async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>> {
        fetch_ticket(&mut self.0, id).await
    }

    /// Creates the ticket, or returns None when this report message already has one.
    pub async fn insert_ticket(
        &mut self,
        t: &NewTicket<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketId>> {
        let id: Option<i64> = query_scalar(
            "INSERT INTO tickets (group_chat_id, report_chat_id, report_message_id, owner_id, unit, category, text, status,
                                  priority, created_at, updated_at, staff_chat_id, reported_at, kind, urgency, repeat_of)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, 'reported', ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(report_chat_id, report_message_id) DO NOTHING RETURNING id",
        )
        .bind(t.group_chat_id)
        .bind(t.report_message_id)
        .bind(t.owner_id as i64)
        .bind(t.unit.map(|u| &**u))
        .bind(t.category.code())
        .bind(t.text)
        .bind(t.priority)
        .bind(now)
        .bind(t.staff_chat)
        .bind(t.reported_at)
        .bind(t.kind.code())
        .bind(t.urgency.code())
        .bind(t.repeat_of.map(|r| r.0))
        .fetch_optional(&mut self.0)
        .await?;
        Ok(id.map(TicketId))
    }

    pub async fn add_event(
        &mut self,
        ticket: TicketId,
        kind: EventKind,
        who: &Actor,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query(
            "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(ticket.0)
        .bind(kind.as_str())
        .bind(who.id as i64)
        .bind(&who.name)
        .bind(detail)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// An event caused by the message `source` (chat, message id): false, and nothing
    /// written, if that message already caused this kind of event.
    pub async fn add_event_from(
        &mut self,
        ticket: TicketId,
        kind: EventKind,
        who: &Actor,
        detail: Option<&str>,
        source: (i64, i32),
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = query(
            "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, detail, at, source_chat, source_message)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(ticket.0)
        .bind(kind.as_str())
        .bind(who.id as i64)
        .bind(&who.name)
        .bind(detail)
        .bind(now)
        .bind(source.0)
        .bind(source.1)
        .execute(&mut self.0)
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
        let r = query(
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
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Photos added since the ticket was last taken or reopened.
    pub async fn photos_since_taken(&mut self, ticket: TicketId) -> Result<i64> {
        // Never taken nor reopened: every photo counts (SQLite compares with the empty
        // text, PostgreSQL with the earliest time).
        Ok(query_scalar(Sql::each(
            "SELECT COUNT(*) FROM photos WHERE ticket_id = ?1 AND kind != ?2 AND at >= COALESCE(
                 (SELECT MAX(at) FROM ticket_events WHERE ticket_id = ?1 AND kind IN (?3, ?4)), '')",
            "SELECT COUNT(*) FROM photos WHERE ticket_id = ?1 AND kind != ?2 AND at >= COALESCE(
                 (SELECT MAX(at) FROM ticket_events WHERE ticket_id = ?1 AND kind IN (?3, ?4)),
                 '-infinity'::timestamptz)",
        ))
        .bind(ticket.0)
        .bind(PhotoKind::Report.code())
        .bind(EventKind::Taken.as_str())
        .bind(EventKind::Reopened.as_str())
        .fetch_one(&mut self.0)
        .await?)
    }

    pub async fn set_taken(
        &mut self,
        ticket: TicketId,
        by: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET status = 'taken', taken_by = ?, taken_by_name = ?, updated_at = ? WHERE id = ?")
            .bind(by.id as i64)
            .bind(&by.name)
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    pub async fn set_status(
        &mut self,
        ticket: TicketId,
        status: TicketStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.code())
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
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
        query("UPDATE tickets SET text = ?, updated_at = ? WHERE id = ?")
            .bind(text)
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    pub async fn set_category(
        &mut self,
        ticket: TicketId,
        category: Category,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET category = ?, updated_at = ? WHERE id = ?")
            .bind(category.code())
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind the migrations match on `ticket_events.kind` (the milestones' triggers
    /// and backfill), as written there: `kind = '…'`.
    fn kinds_named_in_migrations() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut kinds = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let sql = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (_, rest) in sql
                .match_indices("kind = '")
                .map(|(i, _)| sql.split_at(i + 8))
            {
                kinds.push(rest[..rest.find('\'').unwrap()].to_owned());
            }
        }
        kinds
    }

    #[test]
    fn every_kind_the_migrations_name_is_an_event_kind() {
        let kinds = kinds_named_in_migrations();
        assert!(kinds.len() >= 3, "{kinds:?}");
        for kind in kinds {
            assert!(
                kind.parse::<EventKind>().is_ok(),
                "{kind:?} is no EventKind"
            );
        }
    }

    #[tokio::test]
    async fn every_event_kind_round_trips_through_the_event_log() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::database_url(dir.path()).await;
        let store = Store::open(&url).await.unwrap();
        let now = Utc::now();
        let who = Actor::butler();
        let mut tx = store.begin().await.unwrap();
        tx.register_group(-1, "G", 9, now).await.unwrap();
        tx.touch_owner(7, "O", None, now).await.unwrap();
        let id = tx
            .insert_ticket(
                &NewTicket {
                    group_chat_id: -1,
                    report_message_id: 1,
                    owner_id: 7,
                    unit: None,
                    category: Category::Other,
                    text: "t",
                    priority: false,
                    kind: Kind::Repair,
                    urgency: Urgency::B,
                    repeat_of: None,
                    reported_at: now,
                    staff_chat: None,
                },
                now,
            )
            .await
            .unwrap()
            .unwrap();
        for kind in EventKind::ALL {
            tx.add_event(id, kind, &who, None, now).await.unwrap();
        }
        tx.commit().await.unwrap();
        let read: Vec<EventKind> = store
            .events(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(read, EventKind::ALL);
    }
}
