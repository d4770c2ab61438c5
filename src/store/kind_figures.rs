//! The figures of kinds, urgency and the owner's side (see `domain::kind_figures` for
//! what each counts): complaints and their clocks, suggestions, urgent (A) repairs,
//! hurry-ups, withdrawals and repeat repairs of a period.
//!
//! Every query binds the satisfaction figures' `?1` from, `?2` to and scope (`?3`
//! group, `?4` category, `?5` staff; see `figures`), then its own values; a day's
//! summary narrows the repairs' figures to one staff chat with one more, last. Each reads
//! an index range of its period: tickets reported through `tickets_kind_created` (covering
//! since the `kind_figures` migration), urgent ones taken through `tickets_urgent_taken`,
//! events through `ticket_events_kind_at`.

use super::db::Conn;
use super::dialect::Dialect;
use super::figures::{Query, SCOPE, scoped};
use super::{Result, Store, TicketScope, Tx};
use crate::domain::EventKind;
use crate::domain::figures::{Period, Ratio, Scope};
use crate::domain::kind_figures::{ComplaintLimits, ComplaintRow, KindFigures};
use chrono::{DateTime, Utc};

/// The repairs of one staff chat (`?n`, NULL: the main one), or every repair.
fn chat_filter(chat: TicketScope, n: u8) -> String {
    match chat {
        TicketScope::All => String::new(),
        TicketScope::StaffChat(_) => format!(
            " AND (CASE WHEN ?{n} IS NULL THEN t.staff_chat_id IS NULL
                   ELSE t.staff_chat_id = ?{n} END)"
        ),
    }
}

/// Binds the staff chat of [`chat_filter`], when there is one.
fn bind_chat(q: Query<'_>, chat: TicketScope) -> Query<'_> {
    match chat {
        TicketScope::All => q,
        TicketScope::StaffChat(id) => q.bind(id),
    }
}

/// Complaints and suggestions reported in the period.
fn requests_sql(d: Dialect) -> String {
    format!(
        "SELECT {complaints}, {suggestions}
         FROM tickets t WHERE t.kind IN ('complaint', 'suggestion')
           AND t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}",
        complaints = d.count_if("t.kind = 'complaint'"),
        suggestions = d.count_if("t.kind = 'suggestion'"),
    )
}

/// The complaints whose clocks may count in the period: made since `?8` (the period's
/// start less the longer limit) or answered (`?6`) or closed (`?7`) in the period; each
/// with its first response (an answer, or the close if nothing came before) and close.
fn complaints_sql() -> String {
    format!(
        "WITH c(id) AS (
             SELECT t.id FROM tickets t
             WHERE t.kind = 'complaint' AND t.created_at >= ?8 AND t.created_at < ?2
             UNION
             SELECT e.ticket_id FROM ticket_events e
             WHERE e.kind IN (?6, ?7) AND e.at >= ?1 AND e.at < ?2)
         SELECT t.created_at AS reported_at, t.status = 'cancelled' AS withdrawn,
                (SELECT MIN(e.at) FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.kind IN (?6, ?7)) AS responded_at,
                (SELECT MIN(e.at) FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.kind = ?7) AS closed_at
         FROM c JOIN tickets t ON t.id = c.id
         WHERE t.kind = 'complaint' AND {SCOPE}"
    )
}

/// Urgent (A) repairs reported in the period, and how many still wait to be taken.
fn urgent_sql(d: Dialect, chat: TicketScope) -> String {
    format!(
        "SELECT COUNT(*), {waiting} FROM tickets t
         WHERE t.kind = 'repair' AND t.urgency = 'A'
           AND t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}{chat}",
        waiting = d.count_if("t.status = 'reported'"),
        chat = chat_filter(chat, 6),
    )
}

/// Seconds from report to first take of the urgent (A) repairs first taken in the period.
/// (SQLite would rather find them among every repair ever, by kind: named, the index of
/// urgent tickets by their first take reads the period's few. PostgreSQL is not told.)
fn urgent_take_sql(d: Dialect, chat: TicketScope) -> String {
    format!(
        "SELECT {secs} FROM tickets t{indexed}
         WHERE t.kind = 'repair' AND t.urgency = 'A'
           AND t.first_taken_at >= ?1 AND t.first_taken_at < ?2 AND {SCOPE}{chat}",
        secs = d.seconds("t.created_at", "t.first_taken_at"),
        indexed = match d {
            Dialect::Sqlite => " INDEXED BY tickets_urgent_taken",
            Dialect::Postgres => "",
        },
        chat = chat_filter(chat, 6),
    )
}

/// Hurry-ups (`?6` events) in the period, and tickets withdrawn (`?7`) in it.
fn owner_side_sql(d: Dialect, chat: TicketScope) -> String {
    format!(
        "SELECT {hurry_ups},
                COUNT(DISTINCT CASE WHEN e.kind = ?7 THEN e.ticket_id END)
         FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE e.kind IN (?6, ?7) AND e.at >= ?1 AND e.at < ?2 AND {SCOPE}{chat}",
        hurry_ups = d.count_if("e.kind = ?6"),
        chat = chat_filter(chat, 8),
    )
}

/// Repairs reported in the period that repeat an earlier one, and all repairs reported.
fn repeats_sql(chat: TicketScope) -> String {
    let chat = chat_filter(chat, 6);
    format!(
        "SELECT
            (SELECT COUNT(*) FROM tickets t
             WHERE t.repeat_of IS NOT NULL AND t.kind = 'repair'
               AND t.created_at >= ?1 AND t.created_at < ?2 AND {SCOPE}{chat}),
            (SELECT COUNT(*) FROM tickets t
             WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.kind = 'repair'
               AND {SCOPE}{chat})"
    )
}

/// The one row of a query of two counts.
async fn pair(conn: &mut Conn<'_>, q: Query<'_>) -> Result<(i64, i64)> {
    Ok(q.into_as::<(i64, i64)>().fetch_one(conn).await?)
}

/// A row of [`complaints_sql`].
#[derive(sqlx::FromRow)]
struct ComplaintRecord {
    reported_at: DateTime<Utc>,
    withdrawn: bool,
    responded_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

impl From<ComplaintRecord> for ComplaintRow {
    fn from(r: ComplaintRecord) -> Self {
        ComplaintRow {
            reported_at: r.reported_at,
            responded_at: r.responded_at,
            closed_at: r.closed_at,
            withdrawn: r.withdrawn,
        }
    }
}

impl Tx<'_> {
    /// The figures of kinds for `period` and `scope`, with the complaints' `limits` and
    /// deadlines passed up to `until`. With a staff chat (`chat`, as a day's summary
    /// has it), the repairs' figures are that chat's; complaints and suggestions are the
    /// managers' and no route's, so they are counted for the main chat (or all) only.
    pub async fn kind_figures(
        &mut self,
        period: Period,
        scope: Scope,
        chat: TicketScope,
        limits: ComplaintLimits,
        until: DateTime<Utc>,
    ) -> Result<KindFigures> {
        let mut k = KindFigures::default();
        if !matches!(chat, TicketScope::StaffChat(Some(_))) {
            self.complaints_into(&mut k, period, scope, limits, until)
                .await?;
        }
        let sql = Dialect::both(|d| urgent_sql(d, chat));
        (k.urgent, k.urgent_waiting) =
            pair(&mut self.0, bind_chat(scoped(&sql, period, scope), chat)).await?;
        let sql = Dialect::both(|d| urgent_take_sql(d, chat));
        let mut secs: Vec<i64> = bind_chat(scoped(&sql, period, scope), chat)
            .into_scalar()
            .fetch_all(&mut self.0)
            .await?;
        k.set_urgent_take(&mut secs);
        let sql = Dialect::both(|d| owner_side_sql(d, chat));
        let q = scoped(&sql, period, scope)
            .bind(EventKind::Hurried.as_str())
            .bind(EventKind::Cancelled.as_str());
        (k.hurry_ups, k.cancelled) = pair(&mut self.0, bind_chat(q, chat)).await?;
        let sql = repeats_sql(chat);
        let (repeats, repairs) =
            pair(&mut self.0, bind_chat(scoped(&sql, period, scope), chat)).await?;
        k.repeats = Ratio::new(repeats, repairs);
        Ok(k)
    }

    /// The complaints' and suggestions' counts and the complaints' clocks.
    async fn complaints_into(
        &mut self,
        k: &mut KindFigures,
        period: Period,
        scope: Scope,
        limits: ComplaintLimits,
        until: DateTime<Utc>,
    ) -> Result<()> {
        let sql = Dialect::both(requests_sql);
        (k.complaints, k.suggestions) = pair(&mut self.0, scoped(&sql, period, scope)).await?;
        let sql = complaints_sql();
        let rows: Vec<ComplaintRow> = scoped(&sql, period, scope)
            .bind(EventKind::Answered.as_str())
            .bind(EventKind::Closed.as_str())
            .bind(period.from - limits.longest())
            .into_as::<ComplaintRecord>()
            .fetch_all(&mut self.0)
            .await?
            .into_iter()
            .map(ComplaintRow::from)
            .collect();
        k.set_complaint_clocks(&rows, limits, period, until);
        Ok(())
    }
}

impl Store {
    /// As [`Tx::kind_figures`], in a read transaction of its own.
    pub async fn kind_figures(
        &self,
        period: Period,
        scope: Scope,
        chat: TicketScope,
        limits: ComplaintLimits,
        until: DateTime<Utc>,
    ) -> Result<KindFigures> {
        let mut tx = self.begin_read().await?;
        tx.kind_figures(period, scope, chat, limits, until).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_figures_of_kinds_read_index_ranges_never_a_table() {
        if crate::store::testing::on_postgres() {
            return println!("SKIPPED: SQLite's query plans");
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.unwrap();
        let all = TicketScope::All;
        let d = Dialect::Sqlite;
        for (sql, index) in [
            (requests_sql(d), "COVERING INDEX tickets_kind_created "),
            (complaints_sql(), "INDEX ticket_events_kind_at "),
            (urgent_sql(d, all), "COVERING INDEX tickets_kind_created "),
            (
                urgent_take_sql(d, all),
                "COVERING INDEX tickets_urgent_taken ",
            ),
            (owner_side_sql(d, all), "INDEX ticket_events_kind_at "),
            (repeats_sql(all), "COVERING INDEX tickets_kind_created "),
        ] {
            let steps = crate::store::query_plan(&store, &sql, 8).await;
            let scans: Vec<&String> = steps
                .iter()
                .filter(|s| s.starts_with("SCAN "))
                .filter(|s| !matches!(s.as_str(), "SCAN c" | "SCAN CONSTANT ROW"))
                .collect();
            assert!(
                scans.is_empty(),
                "full scans {scans:?} in {steps:#?}\n{sql}"
            );
            assert!(
                steps.iter().any(|s| s.contains(index)),
                "{index}: {steps:#?}\n{sql}"
            );
        }
    }

    #[tokio::test]
    async fn on_postgres_too_the_figures_of_kinds_read_index_ranges() {
        use crate::store::dialect::{plan_args, postgres_plan, reads_an_index};
        use crate::store::testing;
        let Some(base) = testing::postgres_url() else {
            return println!("SKIPPED: no PostgreSQL ({})", testing::POSTGRES_ENV);
        };
        let store = Store::open(&testing::new_schema(&base).await)
            .await
            .unwrap();
        let (all, d) = (TicketScope::All, Dialect::Postgres);
        // After the period and the scope: the event kinds, and the complaints' start.
        let kinds = ["hurried", "cancelled"];
        let mut complaints = plan_args(&["answered", "closed"]);
        sqlx::Arguments::add(
            &mut complaints,
            "2026-10-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        )
        .unwrap();
        // Tables this empty leave the choice among indexes to chance: each table read
        // can go through one (sequential scans are priced out), not which.
        for (sql, args) in [
            (requests_sql(d), plan_args(&[])),
            (complaints_sql(), complaints),
            (urgent_sql(d, all), plan_args(&[])),
            (urgent_take_sql(d, all), plan_args(&[])),
            (owner_side_sql(d, all), plan_args(&kinds)),
            (repeats_sql(all), plan_args(&[])),
        ] {
            let steps = postgres_plan(&store, &sql, args).await;
            let scans: Vec<&String> = steps.iter().filter(|s| s.contains("Seq Scan")).collect();
            assert!(
                scans.is_empty(),
                "full scans {scans:?} in {steps:#?}\n{sql}"
            );
            assert!(reads_an_index(&steps), "{steps:#?}\n{sql}");
        }
    }
}
