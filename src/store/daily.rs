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
    /// `now`: overdue by the deadlines stored on each ticket (its urgency's, on the
    /// office's calendar), or, for a ticket written before deadlines were kept, by the flat
    /// ones in `sla`.
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
                 SELECT t.id, t.status, t.created_at, t.paused_at, t.take_due_at,
                        t.first_update_due_at, t.resolve_due_at,
                        (SELECT MAX(e.at) FROM ticket_events e
                         WHERE e.ticket_id = t.id AND e.kind = ?7) AS taken_at
                 FROM tickets t WHERE t.status IN ('reported','taken') AND t.kind = 'repair'
                   AND (?11 = 0 OR t.id IN (SELECT id FROM scope)))
             SELECT
                 (SELECT COUNT(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                  WHERE e.kind = ?8 AND e.at >= ?1 AND e.at < ?2 AND t.kind = 'repair'
                    AND (?11 = 0 OR e.ticket_id IN (SELECT id FROM scope))) AS created,
                 (SELECT COUNT(DISTINCT ticket_id) FROM ticket_events
                  WHERE kind = ?9 AND at >= ?1 AND at < ?2
                    AND (?11 = 0 OR ticket_id IN (SELECT id FROM scope))) AS done,
                 (SELECT COUNT(*) FROM open WHERE status = 'reported') AS waiting,
                 (SELECT COUNT(*) FROM open WHERE status = 'taken') AS in_progress,
                 (SELECT COUNT(*) FROM open o WHERE o.paused_at IS NULL AND (
                      (o.status = 'reported' AND COALESCE(o.take_due_at <= ?13, o.created_at <= ?3))
                   OR COALESCE(o.resolve_due_at <= ?13, o.created_at <= ?5)
                   OR (o.status = 'taken'
                       AND COALESCE(o.first_update_due_at <= ?13, o.taken_at <= ?4)
                       AND NOT EXISTS (SELECT 1 FROM ticket_events e
                                       WHERE e.ticket_id = o.id AND e.kind = ?10
                                         AND e.at >= o.taken_at)))) AS overdue,
                 (SELECT COUNT(*) FROM ratings WHERE at >= ?1 AND at < ?2
                    AND (?11 = 0 OR ticket_id IN (SELECT id FROM scope))) AS ratings,
                 (SELECT COUNT(*) FROM ratings
                  WHERE at >= ?1 AND at < ?2 AND score >= ?6
                    AND (?11 = 0 OR ticket_id IN (SELECT id FROM scope))) AS satisfied,
                 (SELECT COUNT(*) FROM follow_ups WHERE closed_at IS NULL
                    AND (?11 = 0 OR ticket_id IN (SELECT id FROM scope))) AS follow_ups_open",
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
        .bind(now)
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
                         AND (?5 = 0 OR ticket_id IN (SELECT id FROM scope))
                       GROUP BY actor_id),
             done AS (SELECT t.taken_by AS user_id, MAX(t.taken_by_name) AS name,
                             COUNT(DISTINCT e.ticket_id) AS n
                      FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                      WHERE e.kind = ?4 AND e.at >= ?1 AND e.at < ?2
                        AND t.taken_by IS NOT NULL AND (?5 = 0 OR t.id IN (SELECT id FROM scope))
                      GROUP BY t.taken_by),
             rated AS (SELECT t.taken_by AS user_id, MAX(t.taken_by_name) AS name,
                              COUNT(*) AS n, CAST(SUM(r.score) AS BIGINT) AS total
                       FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                       WHERE r.at >= ?1 AND r.at < ?2 AND t.taken_by IS NOT NULL
                         AND (?5 = 0 OR t.id IN (SELECT id FROM scope))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, query, testing};

    fn at(s: &str) -> DateTime<Utc> {
        format!("2026-11-{s}:00Z").parse().unwrap()
    }

    /// T1 reported on the 2nd 08:00, taken by Wang 09:00, done 10:00, rated 5 at 11:00,
    /// a follow-up open; T2 reported 09:00, waiting; T3 (staff chat 55) reported on the
    /// 1st, taken by Wang on the 2nd 08:30, no progress since.
    async fn day_of_three_tickets(store: &Store) {
        let setup = [
            query(
                "INSERT INTO owner_groups (chat_id, name, registered_by, registered_at)
                 VALUES (-1, 'G', 9, ?)",
            )
            .bind(at("01T00:00")),
            query("INSERT INTO owners (user_id, name, updated_at) VALUES (7, 'O', ?)")
                .bind(at("01T00:00")),
        ];
        for q in setup {
            q.execute(&store.writer).await.unwrap();
        }
        let tickets = [
            (1, "done", Some(9), None, "02T08:00"),
            (2, "reported", None, None, "02T09:00"),
            (3, "taken", Some(9), Some(55), "01T08:00"),
        ];
        for (id, status, taker, chat, reported) in tickets {
            query(
                "INSERT INTO tickets (id, group_chat_id, report_chat_id, report_message_id,
                     owner_id, category, text, status, taken_by, taken_by_name, staff_chat_id,
                     created_at, updated_at)
                 VALUES (?1, -1, -1, ?1, 7, 'other', 'x', ?2, ?3, 'Wang', ?4, ?5, ?5)",
            )
            .bind(id)
            .bind(status)
            .bind(taker)
            .bind(chat)
            .bind(at(reported))
            .execute(&store.writer)
            .await
            .unwrap();
        }
        let events = [
            (1, "reported", "02T08:00"),
            (1, "taken", "02T09:00"),
            (1, "done", "02T10:00"),
            (2, "reported", "02T09:00"),
            (3, "reported", "01T08:00"),
            (3, "taken", "02T08:30"),
        ];
        for (ticket, kind, when) in events {
            query(
                "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, at)
                 VALUES (?, ?, 9, 'Wang', ?)",
            )
            .bind(ticket)
            .bind(kind)
            .bind(at(when))
            .execute(&store.writer)
            .await
            .unwrap();
        }
        let rating = [
            query(
                "INSERT INTO ratings (ticket_id, round, owner_id, score, at) VALUES (1, 1, 7, 5, ?)",
            )
            .bind(at("02T11:00")),
            query(
                "INSERT INTO follow_ups (ticket_id, reason, round, opened_at)
                 VALUES (1, 'low_score', 1, ?)",
            )
            .bind(at("02T11:00")),
        ];
        for q in rating {
            q.execute(&store.writer).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_days_counts_and_staff_follow_the_event_log_in_each_scope() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&testing::database_url(dir.path()).await)
            .await
            .unwrap();
        day_of_three_tickets(&store).await;
        let (from, to, now) = (at("02T00:00"), at("03T00:00"), at("02T12:00"));
        let sla = SlaSettings::default();
        let mut tx = store.begin_read().await.unwrap();
        let group = tx.group_day(-1, from, to).await.unwrap();
        assert_eq!(
            (group.reported, group.done, group.ratings, group.satisfied),
            (2, 1, 1, 1)
        );
        // created, done, waiting, in progress, overdue (T2 untaken, T3 no update), ratings,
        // satisfied, follow-ups open; Wang's taken, done, ratings, score sum.
        for (scope, counts, wang) in [
            (TicketScope::All, [2, 1, 1, 1, 2, 1, 1, 1], (2, 1, 1, 5)),
            (
                TicketScope::StaffChat(None),
                [2, 1, 1, 0, 1, 1, 1, 1],
                (1, 1, 1, 5),
            ),
            (
                TicketScope::StaffChat(Some(55)),
                [0, 0, 0, 1, 1, 0, 0, 0],
                (1, 0, 0, 0),
            ),
        ] {
            let d = tx.day_summary(from, to, now, &sla, scope).await.unwrap();
            let got = [
                d.created,
                d.done,
                d.waiting,
                d.in_progress,
                d.overdue,
                d.ratings,
                d.satisfied,
                d.follow_ups_open,
            ];
            assert_eq!(got, counts, "{scope:?}");
            let staff: Vec<_> = d
                .staff
                .iter()
                .map(|s| {
                    (
                        s.user_id,
                        s.name.as_str(),
                        (s.taken, s.done, s.ratings, s.score_sum),
                    )
                })
                .collect();
            assert_eq!(staff, vec![(9, "Wang", wang)], "{scope:?}");
        }
    }

    /// Overdue is read from each ticket's own deadlines (an urgent one's 3 minutes, a
    /// slow one's 2 days), the flat `[sla]` ones only for a ticket that has none.
    #[tokio::test]
    async fn overdue_follows_each_tickets_stored_deadlines_before_the_flat_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&testing::database_url(dir.path()).await)
            .await
            .unwrap();
        day_of_three_tickets(&store).await;
        // T2 and T3 have no deadlines: T3 is overdue by the flat 30 minutes to an update.
        // T4: urgent, reported 11:55, to be taken by 11:58: overdue at 12:00.
        // T5: reported on the 1st, to be taken by the 4th: not overdue (flat: 10 minutes).
        // T6: taken 11:05, first update due 13:00: not overdue (flat: 30 minutes).
        let due = [
            (
                4,
                "reported",
                "02T11:55",
                Some("02T11:58"),
                None,
                "03T11:55",
            ),
            (
                5,
                "reported",
                "01T08:00",
                Some("04T08:00"),
                None,
                "05T08:00",
            ),
            (
                6,
                "taken",
                "02T11:00",
                Some("02T11:10"),
                Some("02T13:00"),
                "03T11:00",
            ),
        ];
        for (id, status, reported, take, update, resolve) in due {
            query(
                "INSERT INTO tickets (id, group_chat_id, report_chat_id, report_message_id,
                     owner_id, category, text, status, created_at, updated_at,
                     take_due_at, first_update_due_at, resolve_due_at)
                 VALUES (?1, -1, -1, ?1, 7, 'other', 'x', ?2, ?3, ?3, ?4, ?5, ?6)",
            )
            .bind(id)
            .bind(status)
            .bind(at(reported))
            .bind(take.map(at))
            .bind(update.map(at))
            .bind(at(resolve))
            .execute(&store.writer)
            .await
            .unwrap();
        }
        query(
            "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, at)
             VALUES (6, 'taken', 9, 'Wang', ?)",
        )
        .bind(at("02T11:05"))
        .execute(&store.writer)
        .await
        .unwrap();
        let (from, to, now) = (at("02T00:00"), at("03T00:00"), at("02T12:00"));
        let mut tx = store.begin_read().await.unwrap();
        let d = tx
            .day_summary(from, to, now, &SlaSettings::default(), TicketScope::All)
            .await
            .unwrap();
        // T2 (reported 09:00, flat 10 minutes), T3 and T4; not T5 nor T6.
        assert_eq!((d.waiting, d.in_progress, d.overdue), (3, 2, 3));
    }
}
