//! The figures of one day for the morning greeting and the daily summary, computed from
//! the event log and the ratings. A day is `[from, to)` in UTC; the caller turns the
//! calendar day of the configured time zone into those bounds.

use chrono::{DateTime, Duration, Utc};

use super::{Result, TicketScope, Tx, query_as};
use crate::config::SlaSettings;
use crate::domain::EventKind;
use crate::domain::daily::{DaySummary, GroupDay, SATISFIED_SCORE, StaffDay};

/// The day's counts of [`DaySummary`], as one row.
#[derive(sqlx::FromRow)]
struct DayCounts {
    created: i64,
    done: i64,
    waiting: i64,
    in_progress: i64,
    overdue: i64,
    ratings: i64,
    satisfied: i64,
    follow_ups_open: i64,
}

/// One staff member's row of [`StaffDay`].
#[derive(sqlx::FromRow)]
struct StaffRecord {
    #[sqlx(try_from = "i64")]
    user_id: u64,
    name: String,
    taken: i64,
    done: i64,
    ratings: i64,
    score_sum: i64,
}

impl Tx<'_> {
    /// One owner group's record for `[from, to)`: reports received, tickets finished,
    /// ratings given and how many were satisfied (4–5).
    pub async fn group_day(
        &mut self,
        group_chat_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<GroupDay> {
        let (reported, done, ratings, satisfied): (i64, i64, i64, i64) = query_as(
            "SELECT
                 (SELECT COUNT(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                  WHERE t.group_chat_id = ?1 AND e.kind = ?5
                    AND e.at >= ?2 AND e.at < ?3) AS reported,
                 (SELECT COUNT(DISTINCT e.ticket_id) FROM ticket_events e
                  JOIN tickets t ON t.id = e.ticket_id
                  WHERE t.group_chat_id = ?1 AND e.kind = ?6
                    AND e.at >= ?2 AND e.at < ?3) AS done,
                 (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                  WHERE t.group_chat_id = ?1 AND r.at >= ?2 AND r.at < ?3) AS ratings,
                 (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                  WHERE t.group_chat_id = ?1 AND r.at >= ?2 AND r.at < ?3
                    AND r.score >= ?4) AS satisfied",
        )
        .bind(group_chat_id)
        .bind(from)
        .bind(to)
        .bind(SATISFIED_SCORE as i64)
        .bind(EventKind::Reported.as_str())
        .bind(EventKind::Done.as_str())
        .fetch_one(&mut self.0)
        .await?;
        Ok(GroupDay {
            reported,
            done,
            ratings,
            satisfied,
        })
    }

    /// The staff chat's summary of `[from, to)`, with the open and overdue tickets as of
    /// `now` under the deadlines in `sla`.
    pub async fn day_summary(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
        sla: &SlaSettings,
        scope: TicketScope,
    ) -> Result<DaySummary> {
        let (scoped, chat) = scope.binds();
        let take_cutoff = now - Duration::minutes(sla.take_minutes.into());
        let update_cutoff = now - Duration::minutes(sla.first_update_minutes.into());
        let resolve_cutoff = now - Duration::hours(sla.resolve_hours.into());
        let r: DayCounts = query_as(
            "WITH scope AS (SELECT t.id FROM tickets t WHERE
                 CASE WHEN ?12 IS NULL THEN t.staff_chat_id IS NULL ELSE t.staff_chat_id = ?12 END),
             open AS (
                 SELECT t.id, t.status, t.created_at, t.paused_at,
                        (SELECT MAX(e.at) FROM ticket_events e
                         WHERE e.ticket_id = t.id AND e.kind = ?7) AS taken_at
                 FROM tickets t WHERE t.status IN ('reported','taken') AND t.kind = 'repair'
                   AND (?11 = 0 OR t.id IN scope))
             SELECT
                 (SELECT COUNT(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                  WHERE e.kind = ?8 AND e.at >= ?1 AND e.at < ?2 AND t.kind = 'repair'
                    AND (?11 = 0 OR e.ticket_id IN scope)) AS created,
                 (SELECT COUNT(DISTINCT ticket_id) FROM ticket_events
                  WHERE kind = ?9 AND at >= ?1 AND at < ?2
                    AND (?11 = 0 OR ticket_id IN scope)) AS done,
                 (SELECT COUNT(*) FROM open WHERE status = 'reported') AS waiting,
                 (SELECT COUNT(*) FROM open WHERE status = 'taken') AS in_progress,
                 (SELECT COUNT(*) FROM open o WHERE o.paused_at IS NULL AND (
                      (o.status = 'reported' AND o.created_at <= ?3)
                   OR o.created_at <= ?5
                   OR (o.status = 'taken' AND o.taken_at <= ?4
                       AND NOT EXISTS (SELECT 1 FROM ticket_events e
                                       WHERE e.ticket_id = o.id AND e.kind = ?10
                                         AND e.at >= o.taken_at)))) AS overdue,
                 (SELECT COUNT(*) FROM ratings WHERE at >= ?1 AND at < ?2
                    AND (?11 = 0 OR ticket_id IN scope)) AS ratings,
                 (SELECT COUNT(*) FROM ratings
                  WHERE at >= ?1 AND at < ?2 AND score >= ?6
                    AND (?11 = 0 OR ticket_id IN scope)) AS satisfied,
                 (SELECT COUNT(*) FROM follow_ups WHERE closed_at IS NULL
                    AND (?11 = 0 OR ticket_id IN scope)) AS follow_ups_open",
        )
        .bind(from)
        .bind(to)
        .bind(take_cutoff)
        .bind(update_cutoff)
        .bind(resolve_cutoff)
        .bind(SATISFIED_SCORE as i64)
        .bind(EventKind::Taken.as_str())
        .bind(EventKind::Reported.as_str())
        .bind(EventKind::Done.as_str())
        .bind(EventKind::Progress.as_str())
        .bind(scoped)
        .bind(chat)
        .fetch_one(&mut self.0)
        .await?;
        let staff = self.staff_days(from, to, scope).await?;
        Ok(DaySummary {
            created: r.created,
            done: r.done,
            waiting: r.waiting,
            in_progress: r.in_progress,
            overdue: r.overdue,
            ratings: r.ratings,
            satisfied: r.satisfied,
            follow_ups_open: r.follow_ups_open,
            staff,
        })
    }

    /// Per staff member in `[from, to)`: tickets taken, tickets finished (credited to
    /// whoever had taken them) and the scores given for their tickets. Busiest first.
    async fn staff_days(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: TicketScope,
    ) -> Result<Vec<StaffDay>> {
        let (scoped, chat) = scope.binds();
        let rows: Vec<StaffRecord> = query_as(
            "WITH
             scope AS (SELECT t.id FROM tickets t WHERE
                 CASE WHEN ?6 IS NULL THEN t.staff_chat_id IS NULL ELSE t.staff_chat_id = ?6 END),
             taken AS (SELECT actor_id AS user_id, MAX(actor_name) AS name, COUNT(*) AS n
                       FROM ticket_events WHERE kind = ?3 AND at >= ?1 AND at < ?2
                         AND (?5 = 0 OR ticket_id IN scope)
                       GROUP BY actor_id),
             done AS (SELECT t.taken_by AS user_id, MAX(t.taken_by_name) AS name,
                             COUNT(DISTINCT e.ticket_id) AS n
                      FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                      WHERE e.kind = ?4 AND e.at >= ?1 AND e.at < ?2
                        AND t.taken_by IS NOT NULL AND (?5 = 0 OR t.id IN scope)
                      GROUP BY t.taken_by),
             rated AS (SELECT t.taken_by AS user_id, MAX(t.taken_by_name) AS name,
                              COUNT(*) AS n, SUM(r.score) AS total
                       FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                       WHERE r.at >= ?1 AND r.at < ?2 AND t.taken_by IS NOT NULL
                         AND (?5 = 0 OR t.id IN scope)
                       GROUP BY t.taken_by),
             people AS (SELECT user_id FROM taken UNION SELECT user_id FROM done
                        UNION SELECT user_id FROM rated)
             SELECT p.user_id, COALESCE(tk.name, d.name, r.name, '') AS name,
                    COALESCE(tk.n, 0) AS taken, COALESCE(d.n, 0) AS done,
                    COALESCE(r.n, 0) AS ratings, COALESCE(r.total, 0) AS score_sum
             FROM people p
             LEFT JOIN taken tk ON tk.user_id = p.user_id
             LEFT JOIN done d ON d.user_id = p.user_id
             LEFT JOIN rated r ON r.user_id = p.user_id
             ORDER BY COALESCE(tk.n, 0) + COALESCE(d.n, 0) DESC, 2, p.user_id",
        )
        .bind(from)
        .bind(to)
        .bind(EventKind::Taken.as_str())
        .bind(EventKind::Done.as_str())
        .bind(scoped)
        .bind(chat)
        .fetch_all(&mut self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StaffDay {
                user_id: r.user_id,
                name: r.name,
                taken: r.taken,
                done: r.done,
                ratings: r.ratings,
                score_sum: r.score_sum,
            })
            .collect())
    }
}
