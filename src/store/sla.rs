//! The SLA deadlines kept on each ticket (the `sla_policy` migration), and the tickets
//! the SLA sweep finds past them: a repair not taken, silent since taken, unresolved; a
//! complaint unanswered or not closed; a ticket whose owner may now hurry it up.
//!
//! Each query compares the stored deadline, pushed back by the ticket's paused seconds,
//! with `now`; the sweep checks the exact paused time of a clock started at the take.

use chrono::{DateTime, Utc};

use super::jobs::AlertKind;
use super::tickets::{fetch_ticket, fetch_tickets};
use super::{Result, Sql, Store, Tx, query, query_as, query_scalar};
use crate::domain::sla::Dues;
use crate::domain::{EventKind, Ticket, TicketId};

/// Most tickets one sweep handles per kind; the next sweep goes on with the rest.
const SWEEP_LIMIT: i64 = 200;

/// `due` (a column) plus the ticket's paused seconds has passed at `?1`, in SQLite's
/// words or (`postgres`) PostgreSQL's.
fn passed(due: &str, postgres: bool) -> String {
    if postgres {
        format!(
            "{due} IS NOT NULL AND {due} <= ?1 AND EXTRACT(EPOCH FROM (?1 - {due})) >= t.paused_secs"
        )
    } else {
        format!(
            "{due} IS NOT NULL AND {due} <= ?1 AND (julianday(?1) - julianday({due})) * 86400.0 >= t.paused_secs"
        )
    }
}

impl Tx<'_> {
    /// Sets the deadlines of the report (take, resolve, response); the first update's
    /// stays as it is.
    pub async fn set_dues(&mut self, ticket: TicketId, dues: &Dues) -> Result<()> {
        query(
            "UPDATE tickets SET take_due_at = ?, resolve_due_at = ?, response_due_at = ? WHERE id = ?",
        )
        .bind(dues.take)
        .bind(dues.resolve)
        .bind(dues.response)
        .bind(ticket.0)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Sets the first-update deadline of a ticket just taken.
    pub async fn set_first_update_due(
        &mut self,
        ticket: TicketId,
        due: DateTime<Utc>,
    ) -> Result<()> {
        query("UPDATE tickets SET first_update_due_at = ? WHERE id = ?")
            .bind(due)
            .bind(ticket.0)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }

    /// When `kind` last happened to the ticket, if ever.
    pub async fn last_event_at(
        &mut self,
        ticket: TicketId,
        kind: EventKind,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(
            query_scalar("SELECT MAX(at) FROM ticket_events WHERE ticket_id = ? AND kind = ?")
                .bind(ticket.0)
                .bind(kind.as_str())
                .fetch_one(&mut self.0)
                .await?,
        )
    }

    /// Repairs waiting to be taken past their take time at `now`, not paused, without
    /// `alert` (round 0) yet.
    pub async fn untaken_past(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        self.open_past(
            now,
            "t.status = 'reported' AND t.kind = 'repair'",
            "take_due_at",
            AlertKind::Take,
        )
        .await
    }

    /// Open repairs past their resolve time, not escalated yet.
    pub async fn unresolved_past(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        self.open_past(
            now,
            "t.status IN ('reported','taken') AND t.kind = 'repair'",
            "resolve_due_at",
            AlertKind::Resolve,
        )
        .await
    }

    /// Open complaints no manager has answered past their first-response time.
    pub async fn unanswered_past(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        self.open_past(
            now,
            "t.status IN ('reported','taken') AND t.kind = 'complaint'
             AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = '{answered}')"
                .replace("{answered}", EventKind::Answered.as_str()),
            "response_due_at",
            AlertKind::Response,
        )
        .await
    }

    /// Open complaints past their reply (closing) time.
    pub async fn unreplied_past(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        self.open_past(
            now,
            "t.status IN ('reported','taken') AND t.kind = 'complaint'",
            "resolve_due_at",
            AlertKind::Reply,
        )
        .await
    }

    /// Open repairs and complaints, not paused, past the deadline the owner may hurry up
    /// after (a waiting repair's take time, a complaint's first response while
    /// unanswered, else the resolve time), whose owner has not been offered Hurry up yet.
    /// The caller checks the exact deadline ([`Ticket::hurry_offered`]).
    pub async fn hurry_candidates(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        let sql = |pg| {
            format!(
                "SELECT t.id FROM tickets t
             WHERE t.status IN ('reported','taken') AND t.kind IN ('repair','complaint')
               AND t.paused_at IS NULL
               AND ((t.status = 'reported' AND {take})
                    OR ({response} AND NOT EXISTS (SELECT 1 FROM ticket_events e
                                    WHERE e.ticket_id = t.id AND e.kind = '{answered}'))
                    OR ({resolve}))
               AND NOT EXISTS (SELECT 1 FROM ticket_alerts a
                               WHERE a.ticket_id = t.id AND a.kind = ?2)
             ORDER BY t.id LIMIT ?3",
                take = passed("t.take_due_at", pg),
                resolve = passed("t.resolve_due_at", pg),
                response = passed("t.response_due_at", pg),
                answered = EventKind::Answered.as_str(),
            )
        };
        let ids: Vec<i64> = query_scalar(Sql::each(sql(false), sql(true)))
            .bind(now)
            .bind(AlertKind::HurryOffer.code())
            .bind(SWEEP_LIMIT)
            .fetch_all(&mut self.0)
            .await?;
        fetch_tickets(&mut self.0, ids).await
    }

    /// Urgent (A) repairs still waiting, past their take time, not paused: their take
    /// alert repeats.
    pub async fn urgent_untaken_past(&mut self, now: DateTime<Utc>) -> Result<Vec<Ticket>> {
        let sql = |pg| {
            format!(
                "SELECT t.id FROM tickets t
             WHERE t.status = 'reported' AND t.kind = 'repair' AND t.urgency = 'A'
               AND t.paused_at IS NULL AND {take}
             ORDER BY t.id LIMIT ?2",
                take = passed("t.take_due_at", pg),
            )
        };
        let ids: Vec<i64> = query_scalar(Sql::each(sql(false), sql(true)))
            .bind(now)
            .bind(SWEEP_LIMIT)
            .fetch_all(&mut self.0)
            .await?;
        fetch_tickets(&mut self.0, ids).await
    }

    /// Taken repairs, not paused now, past their first-update time (before any paused
    /// time since the take, which is the caller's to add), with no progress since the
    /// latest take, not reminded yet; with the time of that take.
    pub async fn silent_past(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Ticket, DateTime<Utc>)>> {
        let rows: Vec<(i64, DateTime<Utc>)> = query_as(
            "WITH taken AS (
                 SELECT t.id, (SELECT MAX(e.at) FROM ticket_events e
                               WHERE e.ticket_id = t.id AND e.kind = ?2) AS taken_at
                 FROM tickets t
                 WHERE t.status = 'taken' AND t.kind = 'repair' AND t.paused_at IS NULL
                   AND t.first_update_due_at IS NOT NULL AND t.first_update_due_at <= ?1)
             SELECT id, taken_at FROM taken
             WHERE taken_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = taken.id
                               AND e.kind = ?3 AND e.at >= taken.taken_at)
               AND NOT EXISTS (SELECT 1 FROM ticket_alerts a
                               WHERE a.ticket_id = taken.id AND a.kind = ?4)
             ORDER BY id LIMIT ?5",
        )
        .bind(now)
        .bind(EventKind::Taken.as_str())
        .bind(EventKind::Progress.as_str())
        .bind(AlertKind::FirstUpdate.code())
        .bind(SWEEP_LIMIT)
        .fetch_all(&mut self.0)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, taken_at) in rows {
            if let Some(t) = fetch_ticket(&mut self.0, TicketId(id)).await? {
                out.push((t, taken_at));
            }
        }
        Ok(out)
    }

    /// Open tickets matching `filter`, not paused, past `due`, without `alert` yet.
    async fn open_past(
        &mut self,
        now: DateTime<Utc>,
        filter: impl AsRef<str>,
        due: &str,
        alert: AlertKind,
    ) -> Result<Vec<Ticket>> {
        let due = format!("t.{due}");
        let sql = |pg| {
            format!(
                "SELECT t.id FROM tickets t
             WHERE {filter} AND t.paused_at IS NULL AND {passed}
               AND NOT EXISTS (SELECT 1 FROM ticket_alerts a
                               WHERE a.ticket_id = t.id AND a.kind = ?2)
             ORDER BY t.id LIMIT ?3",
                filter = filter.as_ref(),
                passed = passed(&due, pg),
            )
        };
        let ids: Vec<i64> = query_scalar(Sql::each(sql(false), sql(true)))
            .bind(now)
            .bind(alert.code())
            .bind(SWEEP_LIMIT)
            .fetch_all(&mut self.0)
            .await?;
        fetch_tickets(&mut self.0, ids).await
    }
}

impl Store {
    /// Gives repairs without deadlines (`seed-demo`'s, written in SQL) the flat policy:
    /// taken `take_minutes` and resolved `resolve_hours` after the report, day and night.
    pub async fn set_flat_dues(&self, take_minutes: u32, resolve_hours: u32) -> Result<u64> {
        let r = query(Sql::each(
            "UPDATE tickets SET
                 take_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+' || ?1 || ' minutes'),
                 resolve_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+' || ?2 || ' hours')
             WHERE take_due_at IS NULL AND resolve_due_at IS NULL AND kind IN ('repair')",
            "UPDATE tickets SET
                 take_due_at = created_at + ?1 * INTERVAL '1 minute',
                 resolve_due_at = created_at + ?2 * INTERVAL '1 hour'
             WHERE take_due_at IS NULL AND resolve_due_at IS NULL AND kind IN ('repair')",
        ))
        .bind(i64::from(take_minutes))
        .bind(i64::from(resolve_hours))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }
}
