//! The satisfaction figures (see `domain::figures` for what each one counts), computed in
//! SQL from the event log and the ratings: counts, sums and nearest-rank percentiles by
//! window functions, so a month's figures never load the month's tickets into memory.
//! Only the export reads rows, one per ticket or rating of the period.
//!
//! Every query binds `?1` from, `?2` to (RFC 3339 text, which compares as time) and the
//! scope as `?3` group, `?4` category, `?5` staff (NULL: any).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite};

use super::{Error, Result, Store, Tx, parse_ts, ts};
use crate::domain::figures::{
    CategoryCount, Durations, Figures, Period, RatingRow, Ratio, Scope, StaffFigures, TicketRow,
    WeekPoint,
};
use crate::domain::{Category, TicketStatus};

/// The scope as a filter on `tickets t`.
const SCOPE: &str = "(?3 IS NULL OR t.group_chat_id = ?3)
    AND (?4 IS NULL OR t.category = ?4)
    AND (?5 IS NULL OR t.taken_by = ?5)";

/// Whole seconds from `a` to `b`, both RFC 3339 text.
fn seconds(a: &str, b: &str) -> String {
    format!("CAST(ROUND((julianday({b}) - julianday({a})) * 86400.0) AS INTEGER)")
}

/// Whose figures a query computes: the scope's as a whole, or each staff member's
/// within it (the tickets they took). One query serves all staff members at once: a query
/// per person reads the period's events once per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    All,
    Staff,
}

impl By {
    /// The grouping key, column `k` of every figures query.
    fn key(self) -> &'static str {
        match self {
            By::All => "NULL",
            By::Staff => "t.taken_by",
        }
    }
}

/// Per key `k`: count, median and 90th percentile (nearest rank: the ⌈p·n/100⌉-th
/// smallest) of the `secs` column of the CTE `d`, plus whatever `extra` columns sum over
/// it.
fn percentiles(extra: &str) -> String {
    "r AS (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY k ORDER BY secs) AS rn,
                  COUNT(*) OVER (PARTITION BY k) AS n FROM d)
     SELECT k, COUNT(*) AS n,
            MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN secs END) AS p50,
            MAX(CASE WHEN rn = (n * 90 + 99) / 100 THEN secs END) AS p90
            {extra}
     FROM r GROUP BY k"
        .replace("{extra}", extra)
}

fn reported_sql(by: By) -> String {
    format!(
        "SELECT {k} AS k, COUNT(*) AS n FROM tickets t
         WHERE t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE} GROUP BY 1",
        k = by.key()
    )
}

fn ratings_sql(by: By) -> String {
    format!(
        "SELECT {k} AS k, COUNT(*) AS n,
                COALESCE(SUM(r.score >= 4), 0) AS satisfied,
                COALESCE(SUM(r.score), 0) AS score_sum,
                COALESCE(SUM(r.score = 5), 0) AS praise
         FROM ratings r JOIN tickets t ON t.id = r.ticket_id
         WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE} GROUP BY 1",
        k = by.key()
    )
}

fn take_sql(by: By) -> String {
    format!(
        "WITH d AS (
            SELECT {k} AS k, {secs} AS secs
            FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE e.kind = 'taken' AND e.at >= ?1 AND e.at < ?2 AND {SCOPE}
              AND NOT EXISTS (SELECT 1 FROM ticket_events p
                              WHERE p.ticket_id = e.ticket_id AND p.kind = 'taken'
                                AND (p.at < e.at OR (p.at = e.at AND p.id < e.id)))
         ),
         {tail}",
        k = by.key(),
        secs = seconds("t.created_at", "e.at"),
        tail = percentiles(", COALESCE(SUM(secs <= ?6), 0) AS on_time"),
    )
}

fn done_sql(by: By) -> String {
    format!(
        "WITH done AS (
            SELECT e.ticket_id, {k} AS k, MAX(e.at) AS at, t.created_at
            FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
            WHERE e.kind = 'done' AND e.at >= ?1 AND e.at < ?2 AND {SCOPE}
            GROUP BY e.ticket_id
         ),
         d AS (
            SELECT k, {secs} AS secs,
                   EXISTS (SELECT 1 FROM ratings x WHERE x.ticket_id = done.ticket_id) AS rated,
                   NOT EXISTS (SELECT 1 FROM ticket_events x
                               WHERE x.ticket_id = done.ticket_id AND x.kind = 'reopened') AS first_time
            FROM done
         ),
         {tail}",
        k = by.key(),
        secs = seconds("done.created_at", "done.at"),
        tail = percentiles(
            ", COALESCE(SUM(rated), 0) AS rated, COALESCE(SUM(first_time), 0) AS first_time"
        ),
    )
}

fn follow_sql(by: By) -> String {
    format!(
        "SELECT k, COALESCE(SUM(what = 'opened'), 0) AS opened,
                COALESCE(SUM(what = 'closed'), 0) AS closed,
                COALESCE(SUM(what = 'raised'), 0) AS raised
         FROM (
            SELECT {k} AS k, 'opened' AS what FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
            WHERE f.opened_at >= ?1 AND f.opened_at < ?2 AND {SCOPE}
            UNION ALL
            SELECT {k}, 'closed' FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
            WHERE f.closed_at >= ?1 AND f.closed_at < ?2 AND {SCOPE}
            UNION ALL
            SELECT {k}, 'raised' FROM ratings r
            JOIN follow_ups f ON f.ticket_id = r.ticket_id AND f.reason = 'low_score'
            JOIN tickets t ON t.id = r.ticket_id
            WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE} AND r.score >= 4
              AND r.round = (SELECT MIN(n.round) FROM ratings n
                             WHERE n.ticket_id = f.ticket_id AND n.round > f.round)
         ) GROUP BY k",
        k = by.key()
    )
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

fn scoped<'q>(sql: &'q str, period: Period, scope: Scope) -> Query<'q> {
    sqlx::query(sql)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind(scope.group)
        .bind(scope.category.map(Category::code))
        .bind(scope.staff.map(|s| s as i64))
}

fn durations(r: &sqlx::sqlite::SqliteRow) -> Durations {
    let secs = |col: &str| r.get::<Option<i64>, _>(col).map(chrono::Duration::seconds);
    Durations {
        count: r.get("n"),
        median: secs("p50"),
        p90: secs("p90"),
    }
}

fn category(code: &str) -> Result<Category> {
    Category::from_code(code).ok_or_else(|| Error::Corrupt(format!("category {code:?}")))
}

fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

impl Tx<'_> {
    /// Every figure for `period` and `scope`; `take_minutes` is the SLA for taking.
    pub async fn figures(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Figures> {
        let mut all = self
            .figures_by(By::All, period, scope, take_minutes)
            .await?;
        Ok(all.remove(&None).unwrap_or_default())
    }

    /// The figures of each key of `by` that has any (a key without rows has none: zero
    /// counts, no durations, as [`Figures::default`]).
    async fn figures_by(
        &mut self,
        by: By,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<HashMap<Option<i64>, Figures>> {
        let conn = &mut *self.0;
        let mut out: HashMap<Option<i64>, Figures> = HashMap::new();
        let key = |r: &sqlx::sqlite::SqliteRow| r.get::<Option<i64>, _>("k");

        for r in scoped(&reported_sql(by), period, scope)
            .fetch_all(&mut *conn)
            .await?
        {
            out.entry(key(&r)).or_default().reported = r.get("n");
        }

        for r in scoped(&ratings_sql(by), period, scope)
            .fetch_all(&mut *conn)
            .await?
        {
            let f = out.entry(key(&r)).or_default();
            f.satisfaction = Ratio::new(r.get("satisfied"), r.get("n"));
            f.score_sum = r.get("score_sum");
            f.praise = r.get("praise");
        }

        // A ticket's first `taken` event, if it falls in the period.
        for r in scoped(&take_sql(by), period, scope)
            .bind(i64::from(take_minutes) * 60)
            .fetch_all(&mut *conn)
            .await?
        {
            let f = out.entry(key(&r)).or_default();
            f.time_to_take = durations(&r);
            f.on_time_take = Ratio::new(r.get("on_time"), f.time_to_take.count);
        }

        // Tickets with a `done` event in the period, timed to the last one in it.
        for r in scoped(&done_sql(by), period, scope)
            .fetch_all(&mut *conn)
            .await?
        {
            let f = out.entry(key(&r)).or_default();
            f.time_to_done = durations(&r);
            f.coverage = Ratio::new(r.get("rated"), f.time_to_done.count);
            f.first_time_fix = Ratio::new(r.get("first_time"), f.time_to_done.count);
        }

        for r in scoped(&follow_sql(by), period, scope)
            .fetch_all(&mut *conn)
            .await?
        {
            let f = out.entry(key(&r)).or_default();
            f.follow_ups_opened = r.get("opened");
            f.follow_ups_closed = r.get("closed");
            f.low_scores_raised = r.get("raised");
        }
        Ok(out)
    }

    /// The figures of each staff member who took, finished or was rated for a ticket in
    /// the period (within `scope`), by name.
    pub async fn staff_figures(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Vec<StaffFigures>> {
        let sql = format!(
            "SELECT t.taken_by AS id, MAX(t.taken_by_name) AS name FROM tickets t
             WHERE t.id IN (SELECT ticket_id FROM ticket_events
                            WHERE kind IN ('taken', 'done') AND at >= ?1 AND at < ?2
                            UNION
                            SELECT ticket_id FROM ratings WHERE at >= ?1 AND at < ?2)
               AND t.taken_by IS NOT NULL AND {SCOPE}
             GROUP BY t.taken_by ORDER BY name, id"
        );
        let people: Vec<(i64, Option<String>)> = scoped(&sql, period, scope)
            .fetch_all(&mut *self.0)
            .await?
            .iter()
            .map(|r| (r.get("id"), r.get("name")))
            .collect();
        let mut figures = self
            .figures_by(By::Staff, period, scope, take_minutes)
            .await?;
        Ok(people
            .into_iter()
            .map(|(id, name)| StaffFigures {
                user_id: id as u64,
                name: name.unwrap_or_else(|| id.to_string()),
                figures: figures.remove(&Some(id)).unwrap_or_default(),
            })
            .collect())
    }

    /// Tickets reported in the period per category, most first, at most `limit`.
    pub async fn top_categories(
        &mut self,
        period: Period,
        scope: Scope,
        limit: i64,
    ) -> Result<Vec<CategoryCount>> {
        let sql = format!(
            "SELECT t.category, COUNT(*) AS n FROM tickets t
             WHERE t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}
             GROUP BY t.category ORDER BY n DESC, t.category LIMIT ?6"
        );
        scoped(&sql, period, scope)
            .bind(limit)
            .fetch_all(&mut *self.0)
            .await?
            .iter()
            .map(|r| {
                Ok(CategoryCount {
                    category: category(&r.get::<String, _>("category"))?,
                    reported: r.get("n"),
                })
            })
            .collect()
    }

    /// Tickets reported and the satisfaction rate, week by week.
    pub async fn weekly(
        &mut self,
        weeks: &[(chrono::NaiveDate, Period)],
        scope: Scope,
    ) -> Result<Vec<WeekPoint>> {
        let sql = format!(
            "SELECT
                (SELECT COUNT(*) FROM tickets t
                 WHERE t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}) AS reported,
                (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                 WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE}) AS ratings,
                (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                 WHERE r.at >= ?1 AND r.at < ?2 AND r.score >= 4 AND {SCOPE}) AS satisfied"
        );
        let mut out = Vec::with_capacity(weeks.len());
        for (start, period) in weeks {
            let r = scoped(&sql, *period, scope).fetch_one(&mut *self.0).await?;
            out.push(WeekPoint {
                start: *start,
                reported: r.get("reported"),
                satisfaction: Ratio::new(r.get("satisfied"), r.get("ratings")),
            });
        }
        Ok(out)
    }

    /// The tickets reported in the period, for the export, by number.
    pub async fn ticket_rows(&mut self, period: Period, scope: Scope) -> Result<Vec<TicketRow>> {
        let sql = format!(
            "SELECT t.id, t.created_at, g.name AS group_name, t.unit, o.name AS owner_name,
                    t.category, t.status, t.taken_by_name, t.text,
                    (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'taken') AS taken_at,
                    (SELECT MAX(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'done') AS done_at,
                    (SELECT COUNT(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'reopened') AS reopened,
                    (SELECT r.score FROM ratings r WHERE r.ticket_id = t.id ORDER BY r.round DESC LIMIT 1) AS score
             FROM tickets t
             JOIN owner_groups g ON g.chat_id = t.group_chat_id
             JOIN owners o ON o.user_id = t.owner_id
             WHERE t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}
             ORDER BY t.id"
        );
        let rows = scoped(&sql, period, scope).fetch_all(&mut *self.0).await?;
        rows.iter()
            .map(|r| {
                let status: String = r.get("status");
                Ok(TicketRow {
                    id: r.get("id"),
                    reported_at: parse_ts(&r.get::<String, _>("created_at"))?,
                    group: r.get("group_name"),
                    unit: r.get("unit"),
                    owner: r.get("owner_name"),
                    category: category(&r.get::<String, _>("category"))?,
                    status: TicketStatus::from_code(&status)
                        .ok_or_else(|| Error::Corrupt(format!("status {status:?}")))?,
                    taken_by: r.get("taken_by_name"),
                    taken_at: opt_ts(r.get("taken_at"))?,
                    done_at: opt_ts(r.get("done_at"))?,
                    reopened: r.get("reopened"),
                    score: r.get::<Option<i64>, _>("score").map(|s| s as u8),
                    text: r.get("text"),
                })
            })
            .collect()
    }

    /// The ratings given in the period, for the export, oldest first.
    pub async fn rating_rows(&mut self, period: Period, scope: Scope) -> Result<Vec<RatingRow>> {
        let sql = format!(
            "SELECT r.ticket_id, r.round, r.score, r.at, r.comment, g.name AS group_name,
                    o.name AS owner_name, t.category, t.taken_by_name
             FROM ratings r
             JOIN tickets t ON t.id = r.ticket_id
             JOIN owner_groups g ON g.chat_id = t.group_chat_id
             JOIN owners o ON o.user_id = r.owner_id
             WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE}
             ORDER BY r.at, r.ticket_id, r.round"
        );
        let rows = scoped(&sql, period, scope).fetch_all(&mut *self.0).await?;
        rows.iter()
            .map(|r| {
                Ok(RatingRow {
                    ticket_id: r.get("ticket_id"),
                    round: r.get("round"),
                    score: r.get::<i64, _>("score") as u8,
                    at: parse_ts(&r.get::<String, _>("at"))?,
                    group: r.get("group_name"),
                    owner: r.get("owner_name"),
                    category: category(&r.get::<String, _>("category"))?,
                    taken_by: r.get("taken_by_name"),
                    comment: r.get("comment"),
                })
            })
            .collect()
    }

    /// Keeps the bytes of a file for a later outbox row to upload; returns its id. Files
    /// a week old that no unsent row needs are dropped on the way.
    pub async fn add_outbox_file(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<i64> {
        sqlx::query(
            "DELETE FROM outbox_files WHERE created_at < ? AND id NOT IN (
                 SELECT json_extract(payload, '$.file') FROM outbox
                 WHERE sent_at IS NULL AND failed IS NULL
                   AND json_extract(payload, '$.file') IS NOT NULL)",
        )
        .bind(ts(now - chrono::Duration::days(7)))
        .execute(&mut *self.0)
        .await?;
        let r = sqlx::query("INSERT INTO outbox_files (bytes, created_at) VALUES (?, ?)")
            .bind(bytes)
            .bind(ts(now))
            .execute(&mut *self.0)
            .await?;
        Ok(r.last_insert_rowid())
    }
}

impl Store {
    /// The bytes of an outbox file, if still kept.
    pub async fn outbox_file(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT bytes FROM outbox_files WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for `sql`, one line per step.
    async fn plan(store: &Store, sql: &str) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query(&explain);
        for _ in 0..6 {
            q = q.bind(Option::<i64>::None);
        }
        q.fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect()
    }

    #[tokio::test]
    async fn the_figures_read_the_big_tables_through_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.unwrap();
        for sql in [By::All, By::Staff].into_iter().flat_map(|by| {
            [
                reported_sql(by),
                ratings_sql(by),
                take_sql(by),
                done_sql(by),
                follow_sql(by),
            ]
        }) {
            let steps = plan(&store, &sql).await;
            // Tables are searched through an index or the primary key; the only scans
            // are of the period's own rows: the CTEs (`done`, `r`), their subqueries,
            // and the one constant row of the follow-up counts.
            let scans: Vec<&String> = steps
                .iter()
                .filter(|s| s.starts_with("SCAN "))
                .filter(|s| {
                    !(["SCAN r", "SCAN done", "SCAN CONSTANT ROW"].contains(&s.as_str())
                        || s.starts_with("SCAN (subquery-"))
                })
                .collect();
            assert!(
                scans.is_empty(),
                "full scans {scans:?} in {steps:#?}\n{sql}"
            );
            assert!(
                steps.iter().any(|s| s.contains("USING INDEX")),
                "{steps:#?}"
            );
        }
    }
}
