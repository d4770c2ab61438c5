//! Ratings (`ratings`, every score of every round) and the managers' follow-ups
//! (`follow_ups`).

use chrono::{DateTime, Utc};

use super::{Result, Sql, Store, Tx, query, query_as, query_scalar};
use crate::domain::TicketId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUp {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub ticket_id: TicketId,
    pub round: i64,
    pub closed: bool,
    /// Who closed it (their name then) and the note, once closed.
    pub closed_by_name: Option<String>,
    pub closed_note: Option<String>,
    /// The manager who told the owner the outcome, if one did.
    pub owner_told_by: Option<String>,
}

impl FollowUp {
    /// Who closed it and how, for its card; `None` while open.
    pub fn closing(&self) -> Option<(&str, &str)> {
        Some((
            self.closed_by_name.as_deref().unwrap_or("—"),
            self.closed_note.as_deref()?,
        ))
    }
}

/// One follow-up by id, outside a change ([`Store::follow_up`]) or in one ([`Tx::follow_up`]).
const FOLLOW_UP: &str =
    "SELECT id, ticket_id, round, closed_at IS NOT NULL AS closed, closed_by_name, closed_note,
            owner_told_by
     FROM follow_ups WHERE id = ?";

impl Store {
    pub async fn follow_up(&self, id: i64) -> Result<Option<FollowUp>> {
        Ok(query_as(FOLLOW_UP)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every score given for a ticket, by round.
    pub async fn ratings(&self, ticket_id: TicketId) -> Result<Vec<(i64, u8)>> {
        let rows: Vec<(i64, i64)> =
            query_as("SELECT round, score FROM ratings WHERE ticket_id = ? ORDER BY round")
                .bind(ticket_id.0)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(round, score)| Ok((round, super::tickets::parse_score(score)?.get())))
            .collect()
    }
}

impl Tx<'_> {
    /// A follow-up, read inside this change.
    pub async fn follow_up(&mut self, id: i64) -> Result<Option<FollowUp>> {
        Ok(query_as(FOLLOW_UP)
            .bind(id)
            .fetch_optional(&mut self.0)
            .await?)
    }

    /// Opens the next rating round; returns its number.
    pub async fn next_rating_round(&mut self, ticket: TicketId) -> Result<i64> {
        Ok(query_scalar("UPDATE tickets SET rating_round = rating_round + 1 WHERE id = ? RETURNING rating_round")
            .bind(ticket.0)
            .fetch_one(&mut self.0)
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
        let r = query(
            "INSERT INTO ratings (ticket_id, round, owner_id, score, at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(ticket_id, round) DO NOTHING",
        )
        .bind(ticket.0)
        .bind(round)
        .bind(owner as i64)
        .bind(score as i64)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn set_rating_comment(
        &mut self,
        ticket: TicketId,
        round: i64,
        comment: &str,
    ) -> Result<()> {
        query(Sql::each(
            "UPDATE ratings SET comment = COALESCE(comment || char(10), '') || ? WHERE ticket_id = ? AND round = ?",
            "UPDATE ratings SET comment = COALESCE(comment || chr(10), '') || ? WHERE ticket_id = ? AND round = ?",
        ))
            .bind(comment)
            .bind(ticket.0)
            .bind(round)
            .execute(&mut self.0)
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
        Ok(query_scalar(
            "INSERT INTO follow_ups (ticket_id, reason, round, opened_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(ticket_id, round, reason) DO NOTHING RETURNING id",
        )
        .bind(ticket.0)
        .bind(reason)
        .bind(round)
        .bind(now)
        .fetch_optional(&mut self.0)
        .await?)
    }

    /// Closes a follow-up with a note; false if it was already closed.
    pub async fn close_follow_up(
        &mut self,
        id: i64,
        by: (u64, &str),
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = query(
            "UPDATE follow_ups SET closed_by = ?, closed_by_name = ?, closed_note = ?, closed_at = ?
             WHERE id = ? AND closed_at IS NULL",
        )
        .bind(by.0 as i64)
        .bind(by.1)
        .bind(note)
        .bind(now)
        .bind(id)
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Records that `by` told the owner the outcome of closed follow-up `id`; false if it
    /// is not closed or the owner was told already.
    pub async fn mark_owner_told(&mut self, id: i64, by: &str, now: DateTime<Utc>) -> Result<bool> {
        let r = query(
            "UPDATE follow_ups SET owner_told_by = ?, owner_told_at = ?
             WHERE id = ? AND closed_at IS NOT NULL AND owner_told_at IS NULL",
        )
        .bind(by)
        .bind(now)
        .bind(id)
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The open follow-up of a ticket's round, if any.
    pub async fn open_follow_up_of(&mut self, ticket: TicketId, round: i64) -> Result<Option<i64>> {
        Ok(query_scalar(
            "SELECT id FROM follow_ups WHERE ticket_id = ? AND round = ? AND closed_at IS NULL",
        )
        .bind(ticket.0)
        .bind(round)
        .fetch_optional(&mut self.0)
        .await?)
    }
}
