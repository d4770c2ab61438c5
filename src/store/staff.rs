//! The staff roster (`staff`, `staff_chats`): who Butler has seen in a staff chat, their
//! trades and open tickets; the holder changes of dispatch; the dispatch figures.

use chrono::{DateTime, Utc};

use super::{Result, Store, Tx, decode, query, query_as, query_scalar};
use crate::domain::dispatch::StaffDispatch;
use crate::domain::figures::Period;
use crate::domain::{Category, EventKind, Ticket, TicketId};

/// A person on the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub user_id: u64,
    pub name: String,
    /// Without `@`, lowercase.
    pub username: Option<String>,
    pub trades: Vec<Category>,
    /// Tickets they hold now.
    pub open: i64,
    /// Whether they have written to Butler privately (so Butler can write to them).
    pub reachable: bool,
}

#[derive(sqlx::FromRow)]
struct StaffRecord {
    user_id: i64,
    name: String,
    username: Option<String>,
    trades: String,
    open: i64,
    reachable: bool,
}

impl TryFrom<StaffRecord> for StaffMember {
    type Error = super::Error;
    fn try_from(r: StaffRecord) -> Result<Self> {
        let trades = r
            .trades
            .split_whitespace()
            .map(|c| decode("trade", c, Category::from_code))
            .collect::<Result<Vec<_>>>()?;
        Ok(StaffMember {
            user_id: r.user_id as u64,
            name: r.name,
            username: r.username,
            trades,
            open: r.open,
            reachable: r.reachable,
        })
    }
}

const MEMBER_SQL: &str = "SELECT s.user_id, s.name, s.username, s.trades,
        (SELECT COUNT(*) FROM tickets t WHERE t.status = 'taken' AND t.taken_by = s.user_id) AS open,
        EXISTS (SELECT 1 FROM private_chats p WHERE p.user_id = s.user_id) AS reachable
     FROM staff s";

/// Which open tickets `/open` lists (all `None`/false: every open ticket of the main
/// staff chat).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenQuery {
    /// The staff chat asking: a route's, or (`None`) the main one; each sees its own.
    pub route: Option<i64>,
    pub category: Option<Category>,
    pub holder: Option<u64>,
    pub unassigned: bool,
    pub paused: bool,
}

impl Store {
    /// Everyone on the roster, by name.
    pub async fn roster(&self) -> Result<Vec<StaffMember>> {
        let rows: Vec<StaffRecord> = query_as(format!("{MEMBER_SQL} ORDER BY s.name, s.user_id"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(StaffMember::try_from).collect()
    }

    /// The person on the roster with this username (lowercase, without `@`).
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffMember>> {
        let row: Option<StaffRecord> =
            query_as(format!("{MEMBER_SQL} WHERE s.username = ? LIMIT 1"))
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        row.map(StaffMember::try_from).transpose()
    }

    /// The person on the roster with this user id.
    pub async fn staff_member(&self, user_id: u64) -> Result<Option<StaffMember>> {
        let row: Option<StaffRecord> = query_as(format!("{MEMBER_SQL} WHERE s.user_id = ?"))
            .bind(user_id as i64)
            .fetch_optional(&self.pool)
            .await?;
        row.map(StaffMember::try_from).transpose()
    }

    /// [`Tx::dispatch_figures`], outside any transaction.
    pub async fn dispatch_figures(&self, period: Period) -> Result<Vec<StaffDispatch>> {
        let mut tx = self.begin_read().await?;
        tx.dispatch_figures(period).await
    }

    /// Open repairs narrowed by `q`, priority ones first, then urgency A before B and C,
    /// then oldest (complaints and suggestions are the managers', never listed here).
    pub async fn open_tickets_where(&self, q: OpenQuery, limit: i64) -> Result<Vec<Ticket>> {
        let ids: Vec<i64> = query_scalar(
            "SELECT id FROM tickets WHERE status IN ('reported','taken') AND kind = 'repair'
               AND (CASE WHEN ?5 IS NULL THEN staff_chat_id IS NULL ELSE staff_chat_id = ?5 END)
               AND (?1 IS NULL OR category = ?1)
               AND (?2 IS NULL OR (status = 'taken' AND taken_by = ?2))
               AND (NOT ?3 OR status = 'reported')
               AND (NOT ?6 OR paused_at IS NOT NULL)
             ORDER BY priority DESC, urgency, id LIMIT ?4",
        )
        .bind(q.category.map(Category::code))
        .bind(q.holder.map(|h| h as i64))
        .bind(q.unassigned)
        .bind(limit)
        .bind(q.route)
        .bind(q.paused)
        .fetch_all(&self.pool)
        .await?;
        self.tickets(ids).await
    }
}

impl Tx<'_> {
    /// Records that `user_id` was seen in staff chat `chat_id` (a message or a press):
    /// their name and username as Telegram gives them now.
    pub async fn see_staff(
        &mut self,
        user_id: u64,
        name: &str,
        username: Option<&str>,
        chat_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let username = username.map(str::to_lowercase);
        query(
            "INSERT INTO staff (user_id, name, username, last_seen_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(user_id) DO UPDATE SET name = excluded.name,
                 username = excluded.username, last_seen_at = excluded.last_seen_at",
        )
        .bind(user_id as i64)
        .bind(name)
        .bind(&username)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        // A username moves with its owner: nobody else keeps it.
        if let Some(u) = &username {
            query("UPDATE staff SET username = NULL WHERE username = ? AND user_id != ?")
                .bind(u)
                .bind(user_id as i64)
                .execute(&mut self.0)
                .await?;
        }
        query(
            "INSERT INTO staff_chats (user_id, chat_id, last_seen_at) VALUES (?, ?, ?)
             ON CONFLICT(user_id, chat_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(user_id as i64)
        .bind(chat_id)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Sets the trades of `user_id`; false if they are not on the roster.
    pub async fn set_trades(&mut self, user_id: u64, trades: &[Category]) -> Result<bool> {
        let codes: Vec<&str> = trades.iter().map(|c| c.code()).collect();
        let r = query("UPDATE staff SET trades = ? WHERE user_id = ?")
            .bind(codes.join(" "))
            .bind(user_id as i64)
            .execute(&mut self.0)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// How many tickets `user_id` holds now.
    pub async fn open_count(&mut self, user_id: u64) -> Result<i64> {
        Ok(
            query_scalar("SELECT COUNT(*) FROM tickets WHERE status = 'taken' AND taken_by = ?")
                .bind(user_id as i64)
                .fetch_one(&mut self.0)
                .await?,
        )
    }

    /// Whether `user_id` has written to Butler privately, so Butler may write to them.
    pub async fn has_private_chat(&mut self, user_id: u64) -> Result<bool> {
        Ok(
            query_scalar("SELECT EXISTS (SELECT 1 FROM private_chats WHERE user_id = ?)")
                .bind(user_id as i64)
                .fetch_one(&mut self.0)
                .await?,
        )
    }

    /// The ticket waits again for someone to take it.
    pub async fn set_returned(&mut self, ticket: TicketId, now: DateTime<Utc>) -> Result<()> {
        query(
            "UPDATE tickets SET status = 'reported', taken_by = NULL, taken_by_name = NULL,
                 updated_at = ? WHERE id = ?",
        )
        .bind(now)
        .bind(ticket.0)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Each staff member's takes (by themselves, assigned, transferred to them) and
    /// returns in `period`, most active first.
    pub async fn dispatch_figures(&mut self, period: Period) -> Result<Vec<StaffDispatch>> {
        let rows: Vec<(i64, String, i64, i64, i64, i64)> = query_as(
            "WITH e AS (
                 SELECT actor_id, kind, detail FROM ticket_events
                 WHERE kind IN (?3, ?4) AND at >= ?1 AND at < ?2)
             SELECT e.actor_id, COALESCE(s.name, n.name, '') AS name,
                    SUM(CASE WHEN e.kind = ?3 AND e.detail IS NULL THEN 1 ELSE 0 END),
                    SUM(CASE WHEN e.kind = ?3 AND e.detail = ?5 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN e.kind = ?3 AND e.detail = ?6 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN e.kind = ?4 THEN 1 ELSE 0 END)
             FROM e
             LEFT JOIN staff s ON s.user_id = e.actor_id
             LEFT JOIN staff_names n ON n.user_id = e.actor_id
             GROUP BY e.actor_id, s.name, n.name
             ORDER BY COUNT(*) DESC, 2, e.actor_id",
        )
        .bind(period.from)
        .bind(period.to)
        .bind(EventKind::Taken.as_str())
        .bind(EventKind::Returned.as_str())
        .bind(EventKind::Assigned.as_str())
        .bind(EventKind::Transferred.as_str())
        .fetch_all(&mut self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, own, assigned, transferred, returned)| StaffDispatch {
                    user_id: id as u64,
                    name,
                    self_taken: own,
                    assigned,
                    transferred,
                    returned,
                },
            )
            .collect())
    }
}
