//! SQL of the scheduled jobs: claims (`job_runs`), the alerts the sweeps send once
//! (`ticket_alerts`), the tickets they look for, private chats Butler may write to, and
//! notices waiting for confirmation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::tickets::fetch_ticket;
use super::{Error, Result, Store, Tx, decode, query, query_as, query_scalar};
use crate::domain::{EventKind, Ticket, TicketId};

/// How a scheduled time of a job was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Its messages were written to the outbox.
    Ran,
    /// Missed while Butler was down, outside the catch-up window: not sent.
    Skipped,
}

impl JobOutcome {
    fn code(self) -> &'static str {
        match self {
            JobOutcome::Ran => "ran",
            JobOutcome::Skipped => "skipped",
        }
    }
}

/// An alert or reminder sent at most once per ticket (and rating round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Not taken within `sla.take_minutes`.
    Take,
    /// No progress within `sla.first_update_minutes` of being taken.
    FirstUpdate,
    /// Still open after `sla.resolve_hours`.
    Resolve,
    /// The owner was reminded to rate.
    RatingReminder,
    /// The rating question closed unanswered.
    RatingExpired,
    /// A complaint no manager answered within `sla.complaint.first_response_minutes`.
    Response,
    /// A complaint not closed within `sla.complaint.reply_hours`.
    Reply,
    /// The owner's Hurry up button was put under their confirmation.
    HurryOffer,
}

impl AlertKind {
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Take => "take",
            AlertKind::FirstUpdate => "first_update",
            AlertKind::Resolve => "resolve",
            AlertKind::RatingReminder => "rating_reminder",
            AlertKind::RatingExpired => "rating_expired",
            AlertKind::Response => "response",
            AlertKind::Reply => "reply",
            AlertKind::HurryOffer => "hurry_offer",
        }
    }
}

/// A ticket whose rating question is still unanswered, and when it was asked.
#[derive(Debug, Clone)]
pub struct Unrated {
    pub ticket: Ticket,
    pub round: i64,
    pub asked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    Pending,
    Sent,
    Cancelled,
}

impl NoticeStatus {
    fn code(self) -> &'static str {
        match self {
            NoticeStatus::Pending => "pending",
            NoticeStatus::Sent => "sent",
            NoticeStatus::Cancelled => "cancelled",
        }
    }

    fn from_code(s: &str) -> Option<Self> {
        [
            NoticeStatus::Pending,
            NoticeStatus::Sent,
            NoticeStatus::Cancelled,
        ]
        .into_iter()
        .find(|n| n.code() == s)
    }
}

/// A manager's `/notice`, waiting for (or past) its author's Send or Cancel.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub text: String,
    #[sqlx(try_from = "i64")]
    pub asked_by: u64,
    /// The chat /notice was sent in, and that message: the confirmation replies to it.
    pub chat_id: i64,
    pub command_message_id: i32,
    #[sqlx(try_from = "String")]
    pub status: NoticeStatus,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<String> for NoticeStatus {
    type Error = Error;
    fn try_from(code: String) -> Result<Self> {
        decode("notice status", &code, NoticeStatus::from_code)
    }
}

/// A ticket a sweep found, with the time that made it due (and its rating round).
#[derive(sqlx::FromRow)]
struct DueTicket {
    id: i64,
    at: DateTime<Utc>,
    #[sqlx(default)]
    round: i64,
}

/// Most tickets one sweep handles per kind; the next sweep goes on with the rest.
const SWEEP_LIMIT: i64 = 200;

impl Store {
    /// The latest scheduled time of `job` that was handled (ran or skipped), if any.
    pub async fn last_job_time(&self, job: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(
            query_scalar("SELECT MAX(scheduled_for) FROM job_runs WHERE job = ?")
                .bind(job)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Every handled time of `job`, oldest first, with its outcome (`ran` / `skipped`).
    pub async fn job_runs(&self, job: &str) -> Result<Vec<(DateTime<Utc>, String)>> {
        Ok(query_as(
            "SELECT scheduled_for, outcome FROM job_runs WHERE job = ? ORDER BY scheduled_for",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The alerts sent for a ticket, as (kind, round), in the order sent.
    pub async fn ticket_alerts(&self, ticket: TicketId) -> Result<Vec<(String, i64)>> {
        Ok(query_as(
            "SELECT kind, round FROM ticket_alerts WHERE ticket_id = ? ORDER BY sent_at, kind",
        )
        .bind(ticket.0)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn notice(&self, id: i64) -> Result<Option<Notice>> {
        Ok(query_as(
            "SELECT id, text, asked_by, chat_id, command_message_id, status, created_at
             FROM notices WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }
}

impl Tx<'_> {
    /// Claims scheduled time `scheduled_for` of `job`: true if this caller is the one to
    /// handle it. Commit the claim with the messages it causes; dropped, it never happened.
    pub async fn claim_job(
        &mut self,
        job: &str,
        scheduled_for: DateTime<Utc>,
        outcome: JobOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = query(
            "INSERT INTO job_runs (job, scheduled_for, ran_at, outcome) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(job)
        .bind(scheduled_for)
        .bind(now)
        .bind(outcome.code())
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Records that `kind` was sent for the ticket (and rating round; 0 for SLA alerts).
    /// False if it already was: then it must not be sent again.
    pub async fn record_alert(
        &mut self,
        ticket: TicketId,
        kind: AlertKind,
        round: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = query(
            "INSERT INTO ticket_alerts (ticket_id, kind, round, sent_at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(ticket.0)
        .bind(kind.code())
        .bind(round)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Done tickets whose current rating question was asked at `cutoff` or earlier and is
    /// still unanswered, for which neither `kind` nor the expiry was recorded.
    pub async fn unrated_since(
        &mut self,
        cutoff: DateTime<Utc>,
        kind: AlertKind,
    ) -> Result<Vec<Unrated>> {
        let rows: Vec<DueTicket> = query_as(
            "WITH asked AS (
                 SELECT t.id, t.rating_round AS round,
                        (SELECT MAX(e.at) FROM ticket_events e
                         WHERE e.ticket_id = t.id AND e.kind = ?2) AS asked_at
                 FROM tickets t WHERE t.status = 'done' AND t.rating_round > 0)
             SELECT id, round, asked_at AS at FROM asked
             WHERE asked_at IS NOT NULL AND asked_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM ratings r
                               WHERE r.ticket_id = asked.id AND r.round = asked.round)
               AND NOT EXISTS (SELECT 1 FROM ticket_alerts a
                               WHERE a.ticket_id = asked.id AND a.round = asked.round
                                 AND a.kind IN (?3, ?4))
             ORDER BY id LIMIT ?5",
        )
        .bind(cutoff)
        .bind(EventKind::Done.as_str())
        .bind(kind.code())
        .bind(AlertKind::RatingExpired.code())
        .bind(SWEEP_LIMIT)
        .fetch_all(&mut self.0)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(ticket) = fetch_ticket(&mut self.0, TicketId(r.id)).await? {
                out.push(Unrated {
                    ticket,
                    round: r.round,
                    asked_at: r.at,
                });
            }
        }
        Ok(out)
    }

    /// Whether the rating question of this round closed unanswered.
    pub async fn rating_expired(&mut self, ticket: TicketId, round: i64) -> Result<bool> {
        Ok(query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ticket_alerts WHERE ticket_id = ? AND round = ? AND kind = ?)",
        )
        .bind(ticket.0)
        .bind(round)
        .bind(AlertKind::RatingExpired.code())
        .fetch_one(&mut self.0)
        .await?)
    }

    /// Records that `user_id` wrote to Butler privately, so Butler can write back.
    pub async fn remember_private_chat(
        &mut self,
        user_id: u64,
        locale: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        query(
            "INSERT INTO private_chats (user_id, locale, first_seen, last_seen) VALUES (?, ?, ?, ?)
             ON CONFLICT(user_id) DO UPDATE SET last_seen = excluded.last_seen,
                 locale = COALESCE(excluded.locale, private_chats.locale)",
        )
        .bind(user_id as i64)
        .bind(locale)
        .bind(now)
        .bind(now)
        .execute(&mut self.0)
        .await?;
        Ok(())
    }

    /// Of `users`, those who have a private chat with Butler, with their Telegram
    /// language code if known.
    pub async fn private_chats(&mut self, users: &[u64]) -> Result<HashMap<u64, Option<String>>> {
        let mut out = HashMap::new();
        for &user in users {
            let row: Option<Option<String>> =
                query_scalar("SELECT locale FROM private_chats WHERE user_id = ?")
                    .bind(user as i64)
                    .fetch_optional(&mut self.0)
                    .await?;
            if let Some(locale) = row {
                out.insert(user, locale);
            }
        }
        Ok(out)
    }

    /// Holds a notice for its author's confirmation; returns its id.
    pub async fn insert_notice(
        &mut self,
        text: &str,
        asked_by: u64,
        chat_id: i64,
        command_message_id: i32,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        Ok(query_scalar(
            "INSERT INTO notices (text, asked_by, chat_id, command_message_id, created_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(text)
        .bind(asked_by as i64)
        .bind(chat_id)
        .bind(command_message_id)
        .bind(now)
        .fetch_one(&mut self.0)
        .await?)
    }

    /// Sends or cancels a pending notice; false if it was no longer pending.
    pub async fn decide_notice(
        &mut self,
        id: i64,
        status: NoticeStatus,
        groups: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = query(
            "UPDATE notices SET status = ?, groups = ?, decided_at = ?
             WHERE id = ? AND status = ?",
        )
        .bind(status.code())
        .bind(groups)
        .bind(now)
        .bind(id)
        .bind(NoticeStatus::Pending.code())
        .execute(&mut self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }
}
