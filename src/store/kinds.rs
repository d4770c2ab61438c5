//! Kinds, urgency and repeat repairs on `tickets` (the `kinds` migration): the earlier
//! repair a report repeats, the urgency staff set, complaints and suggestions closed by
//! managers, A tickets still waiting, and the month's suggestions.

use chrono::{DateTime, Utc};

use super::tickets::fetch_tickets;
use super::{Result, Store, Tx, query, query_scalar};
use crate::domain::{Category, Kind, Ticket, TicketId, Unit, Urgency};

/// Most suggestions a monthly report lists.
pub const SUGGESTIONS_LISTED: i64 = 30;

impl Tx<'_> {
    /// The latest repair of `unit` in owner group `group` and `category` finished (done or
    /// rated, not reopened since) at `since` or later: the one a new report repeats.
    pub async fn repeat_candidate(
        &mut self,
        group: i64,
        unit: &Unit,
        category: Category,
        since: DateTime<Utc>,
    ) -> Result<Option<TicketId>> {
        let id: Option<i64> = query_scalar(
            "SELECT id FROM tickets
             WHERE group_chat_id = ? AND unit = ? AND category = ? AND kind = 'repair'
               AND done_at IS NOT NULL AND done_at >= ? AND status IN ('done','rated')
             ORDER BY done_at DESC LIMIT 1",
        )
        .bind(group)
        .bind(&**unit)
        .bind(category.code())
        .bind(since)
        .fetch_optional(&mut self.0)
        .await?;
        Ok(id.map(TicketId))
    }

    pub async fn set_urgency(
        &mut self,
        ticket: TicketId,
        urgency: Urgency,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET urgency = ?, updated_at = ? WHERE id = ?")
            .bind(urgency.code())
            .bind(now)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// A complaint or suggestion closed by a manager: done, never rated.
    pub async fn close_request(&mut self, ticket: TicketId, now: DateTime<Utc>) -> Result<()> {
        query(
            "UPDATE tickets SET status = 'done', updated_at = ? WHERE id = ? AND kind <> 'repair'",
        )
        .bind(now)
        .bind(ticket.0)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Suggestions made in `[from, to)`, oldest first, at most [`SUGGESTIONS_LISTED`];
    /// with how many there were in all.
    pub async fn suggestions_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Ticket>, i64)> {
        let ids: Vec<i64> = query_scalar(
            "SELECT id FROM tickets WHERE kind = ? AND created_at >= ? AND created_at < ?
             ORDER BY id",
        )
        .bind(Kind::Suggestion.code())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        let total = ids.len() as i64;
        let listed = ids.into_iter().take(SUGGESTIONS_LISTED as usize).collect();
        let mut conn = self.begin_read().await?;
        Ok((fetch_tickets(&mut conn.0, listed).await?, total))
    }
}
