//! A ticket's staff chat (routing) and its pauses: the columns of
//! `20261129000400_routes_pause.sql`, and the lists per staff chat.

use chrono::{DateTime, Utc};

use super::tickets::fetch_tickets;
use super::{Result, Store, Tx, query, query_as, query_scalar};
use crate::domain::{EventKind, TicketId};

/// Which tickets a day's figures count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketScope {
    /// Every ticket (no routes configured).
    All,
    /// The tickets of one staff chat: a route's, or (`None`) the main one.
    StaffChat(Option<i64>),
}

impl TicketScope {
    /// As bound in SQL: whether to filter, and the route chat (NULL: the main one).
    pub(super) fn binds(self) -> (i64, Option<i64>) {
        match self {
            TicketScope::All => (0, None),
            TicketScope::StaffChat(chat) => (1, chat),
        }
    }
}

/// Which tickets a staff chat sees: `staff_chat_id IS NULL` is the main chat.
fn chat_clause() -> &'static str {
    "(CASE WHEN ?1 IS NULL THEN t.staff_chat_id IS NULL ELSE t.staff_chat_id = ?1 END)"
}

impl Store {
    /// Open repairs of one staff chat (`None`: the main one), oldest first, priority
    /// ones ahead, then urgency A before B and C, at most `limit`.
    pub async fn open_tickets_in(
        &self,
        chat: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::domain::Ticket>> {
        let sql = format!(
            "SELECT t.id FROM tickets t
             WHERE t.status IN ('reported','taken') AND t.kind = 'repair' AND {}
             ORDER BY t.priority DESC, t.urgency, t.id LIMIT ?2",
            chat_clause()
        );
        let ids: Vec<i64> = query_scalar(&sql)
            .bind(chat)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut conn = self.begin_read().await?;
        fetch_tickets(&mut conn.0, ids).await
    }
}

impl Tx<'_> {
    /// Moves the ticket to staff chat `chat` (`None`: the main one).
    pub async fn set_staff_chat(&mut self, ticket: TicketId, chat: Option<i64>) -> Result<()> {
        query("UPDATE tickets SET staff_chat_id = ? WHERE id = ?")
            .bind(chat)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// Pauses the ticket from `now`, for `reason`.
    pub async fn set_paused(
        &mut self,
        ticket: TicketId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET paused_at = ?, pause_reason = ?, updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(reason)
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// Ends the ticket's pause, adding `paused_secs` (the pause's length) to its sum.
    pub async fn set_resumed(
        &mut self,
        ticket: TicketId,
        paused_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query(
            "UPDATE tickets SET paused_at = NULL, pause_reason = NULL,
                    paused_secs = paused_secs + ?, updated_at = ? WHERE id = ?",
        )
        .bind(paused_secs.max(0))
        .bind(now)
        .bind(ticket.0)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// The ticket's pauses as (paused, resumed) times, oldest first; the one in progress
    /// has no end.
    pub async fn pause_spans(
        &mut self,
        ticket: TicketId,
    ) -> Result<Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>> {
        let events: Vec<(String, DateTime<Utc>)> = query_as(
            "SELECT kind, at FROM ticket_events WHERE ticket_id = ? AND kind IN (?, ?) ORDER BY id",
        )
        .bind(ticket.0)
        .bind(EventKind::Paused.as_str())
        .bind(EventKind::Resumed.as_str())
        .fetch_all(&mut self.0)
        .await?;
        let mut spans: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
        for (kind, at) in events {
            if kind == EventKind::Paused.as_str() {
                spans.push((at, None));
            } else if let Some(last) = spans.last_mut()
                && last.1.is_none()
            {
                last.1 = Some(at);
            }
        }
        Ok(spans)
    }
}
