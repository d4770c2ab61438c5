//! The satisfaction figures (see `domain::figures` for what each one counts), computed
//! from each ticket's milestones (first take, latest completion, reopened, rated: kept on
//! the ticket by triggers on the event log, see the `milestones` migration) and the
//! ratings. Each figure reads its period's range of one index: the ticket figures from
//! covering indexes alone (never the wide rows with the owners' text), the ratings and
//! follow-ups with a lookup of their ticket's scope.
//!
//! The period's rows come back as columns: one row per query whose fields are JSON arrays
//! built by the database (SQLite's `json_group_array`, PostgreSQL's `json_agg` ordered by
//! the rows' key, see `dialect`), one element per ticket or rating. Moving a month
//! of tickets as one row costs a few milliseconds; as 60,000 rows it costs a trip between
//! threads for every few dozen of them, which on two cores was most of the time. Counts,
//! medians and 90th percentiles of the whole scope and of each staff member are then
//! added up here in one pass, so `/stats` reads the period once, not once per person.
//!
//! Every query binds `?1` from, `?2` to (times, see `db`) and the
//! scope as `?3` group, `?4` category, `?5` staff (NULL: any).

use std::collections::HashMap;

use super::db::{Conn, Texts};
use super::dialect::Dialect;
use super::{Error, Result, Sql, Store, Tx, decode, query, query_as};
use crate::domain::figures::{
    CategoryCount, Durations, Figures, PausedTime, Period, RatingRow, Ratio, Scope, StaffFigures,
    TicketRow, WeekPoint,
};
use crate::domain::{Category, EventKind, Kind, TicketStatus, Urgency};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

/// The longest part of a period read at once, in days (see [`Tx::tallies`]).
const PART_DAYS: i64 = 31;

/// The scope as a filter on `tickets t`.
pub(super) const SCOPE: &str = "(?3 IS NULL OR t.group_chat_id = ?3)
    AND (?4 IS NULL OR t.category = ?4)
    AND (?5 IS NULL OR t.taken_by = ?5)";

/// Repairs reported in the period (complaints and suggestions have their own figures,
/// see `kind_figures`): `k` taker, `c` category.
fn reported_sql(d: Dialect) -> String {
    let agg = |x| d.agg(x, "t.id");
    format!(
        "SELECT {k} AS k, {c} AS c
         FROM tickets t WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.kind = 'repair'
           AND {SCOPE}",
        k = agg("t.taken_by"),
        c = agg("t.category"),
    )
}

/// Ratings given in the period: `k` taker of the rated ticket, `s` score.
fn ratings_sql(d: Dialect) -> String {
    let agg = |x| d.agg(x, "r.ticket_id, r.round");
    format!(
        "SELECT {k} AS k, {s} AS s
         FROM ratings r JOIN tickets t ON t.id = r.ticket_id
         WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE}",
        k = agg("t.taken_by"),
        s = agg("r.score"),
    )
}

/// Tickets first taken in the period: `k` taker, `s` seconds from report to take, `o`
/// 1 when taken by the take time stored on the ticket (its urgency's, over business
/// hours), 0 when later, null for a ticket without one (then `sla.take_minutes` decides).
fn take_sql(d: Dialect) -> String {
    let agg = |x: &str| d.agg(x, "t.id");
    let on_time = format!(
        "CASE WHEN t.take_due_at IS NULL THEN NULL
                                      ELSE {} END",
        d.flag("t.first_taken_at <= t.take_due_at")
    );
    format!(
        "SELECT {k} AS k, {s} AS s,
                {o} AS o
         FROM tickets t WHERE t.first_taken_at >= ?1 AND t.first_taken_at < ?2 AND {SCOPE}",
        k = agg("t.taken_by"),
        s = agg(&d.seconds("t.created_at", "t.first_taken_at")),
        o = agg(&on_time),
    )
}

/// Tickets never taken (nor closed) whose take time passed in the period: the take time
/// stored on the ticket, or for a ticket without one (written before deadlines were kept,
/// or by hand) `take_minutes` after the report, read over the period moved back by that
/// much. `k` taker (an assignee, if any).
fn overdue_sql(d: Dialect, take_minutes: u32) -> String {
    format!(
        "SELECT {k} AS k FROM (
             SELECT t.taken_by AS k FROM tickets t
             WHERE t.take_due_at >= ?1 AND t.take_due_at < ?2
               AND t.first_taken_at IS NULL AND t.status = 'reported' AND t.kind = 'repair' AND {SCOPE}
             UNION ALL
             SELECT t.taken_by FROM tickets t
             WHERE t.created_at >= {from}
               AND t.created_at < {to}
               AND t.take_due_at IS NULL
               AND t.first_taken_at IS NULL AND t.status = 'reported' AND t.kind = 'repair' AND {SCOPE}){u}",
        k = d.agg("k", "k"),
        from = d.minutes_before("?1", take_minutes),
        to = d.minutes_before("?2", take_minutes),
        u = d.subquery_alias(),
    )
}

/// Tickets whose latest completion falls in the period: `k` taker, `s` seconds from the
/// report to that completion less the time paused before it, `p` that paused time, `f`
/// flags: 1 ever rated, 2 ever reopened.
fn done_sql(d: Dialect) -> String {
    let agg = |x: &str| d.agg(x, "t.id");
    let secs = format!(
        "{} - t.done_paused_secs",
        d.seconds("t.created_at", "t.done_at")
    );
    format!(
        "SELECT {k} AS k,
                {s} AS s,
                {p} AS p,
                {f} AS f
         FROM tickets t WHERE t.done_at >= ?1 AND t.done_at < ?2 AND {SCOPE}",
        k = agg("t.taken_by"),
        s = agg(&d.greatest("0", &secs)),
        p = agg("t.done_paused_secs"),
        f = agg("CASE WHEN t.rated THEN 1 ELSE 0 END
                                 + 2 * CASE WHEN t.reopened THEN 1 ELSE 0 END"),
    )
}

/// Per taker: follow-ups opened and closed in the period, and low scores raised to 4 or
/// 5 by the ticket's next rating (a second round or later) given in the period.
fn follow_sql(d: Dialect) -> String {
    format!(
        "SELECT k, {opened} AS opened,
                {closed} AS closed,
                {raised} AS raised
         FROM (
            SELECT t.taken_by AS k, 'opened' AS what FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
            WHERE f.opened_at >= ?1 AND f.opened_at < ?2 AND {SCOPE}
            UNION ALL
            SELECT t.taken_by, 'closed' FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
            WHERE f.closed_at >= ?1 AND f.closed_at < ?2 AND {SCOPE}
            UNION ALL
            SELECT t.taken_by, 'raised' FROM ratings r
            JOIN follow_ups f ON f.ticket_id = r.ticket_id AND f.reason = 'low_score'
            JOIN tickets t ON t.id = r.ticket_id
            WHERE r.at >= ?1 AND r.at < ?2 AND r.round > 1 AND r.score >= 4 AND {SCOPE}
              AND r.round = (SELECT MIN(n.round) FROM ratings n
                             WHERE n.ticket_id = f.ticket_id AND n.round > f.round)
         ){u} GROUP BY k",
        opened = d.count_if("what = 'opened'"),
        closed = d.count_if("what = 'closed'"),
        raised = d.count_if("what = 'raised'"),
        u = d.subquery_alias(),
    )
}

pub(super) type Query<'q> = super::db::Query<'q>;

pub(super) fn scoped<'q>(
    sql: impl Into<super::Sql<'q>>,
    period: Period,
    scope: Scope,
) -> Query<'q> {
    query(sql)
        .bind(period.from)
        .bind(period.to)
        .bind(scope.group)
        .bind(scope.category.map(Category::code))
        .bind(scope.staff.map(|s| s as i64))
}

/// The period's rows of a columns query (see the module docs): its one row.
async fn columns(
    conn: &mut Conn<'_>,
    sql: impl Fn(Dialect) -> String,
    period: Period,
    scope: Scope,
) -> Result<Texts> {
    Ok(scoped(Dialect::both(sql), period, scope)
        .fetch_texts(conn)
        .await?)
}

/// The rows of [`follow_sql`].
async fn follows(conn: &mut Conn<'_>, period: Period, scope: Scope) -> Result<Vec<FollowCounts>> {
    Ok(scoped(Dialect::both(follow_sql), period, scope)
        .into_as::<FollowCounts>()
        .fetch_all(conn)
        .await?)
}

/// Column `name` of a columns query's row, one element per row of the period.
fn column<T: DeserializeOwned>(row: &Texts, name: &str) -> Result<Vec<T>> {
    serde_json::from_str(row.get(name).unwrap_or("[]"))
        .map_err(|e| Error::Corrupt(format!("figures column {name}: {e}")))
}

fn category(code: &str) -> Result<Category> {
    decode("category", code, Category::from_code)
}

/// A row of [`follow_sql`]: one taker's follow-up counts.
#[derive(sqlx::FromRow)]
struct FollowCounts {
    k: Option<i64>,
    opened: i64,
    closed: i64,
    raised: i64,
}

/// A row of [`Tx::weekly`].
#[derive(sqlx::FromRow)]
struct WeekCounts {
    reported: i64,
    ratings: i64,
    satisfied: i64,
}

/// A row of [`Tx::ticket_rows`], before its codes are parsed.
#[derive(sqlx::FromRow)]
struct ExportedTicket {
    id: i64,
    created_at: DateTime<Utc>,
    group_name: String,
    unit: Option<String>,
    owner_name: String,
    category: String,
    status: String,
    taken_by_name: Option<String>,
    text: String,
    taken_at: Option<DateTime<Utc>>,
    done_at: Option<DateTime<Utc>>,
    reopened: i64,
    score: Option<i64>,
    paused_secs: i64,
    done_paused_secs: i64,
    kind: String,
    urgency: String,
    repeat_of: Option<i64>,
    hurry_ups: i64,
}

impl TryFrom<ExportedTicket> for TicketRow {
    type Error = Error;
    fn try_from(r: ExportedTicket) -> Result<Self> {
        Ok(TicketRow {
            id: r.id,
            reported_at: r.created_at,
            group: r.group_name,
            unit: r.unit,
            owner: r.owner_name,
            category: category(&r.category)?,
            status: decode("status", &r.status, TicketStatus::from_code)?,
            taken_by: r.taken_by_name,
            taken_at: r.taken_at,
            done_at: r.done_at,
            reopened: r.reopened,
            score: r
                .score
                .map(|s| super::tickets::parse_score(s).map(|s| s.get()))
                .transpose()?,
            paused: chrono::Duration::seconds(r.paused_secs),
            paused_before_done: chrono::Duration::seconds(r.done_paused_secs),
            kind: decode("kind", &r.kind, Kind::from_code)?,
            urgency: decode("urgency", &r.urgency, Urgency::from_code)?,
            repeat_of: r.repeat_of,
            hurry_ups: r.hurry_ups,
            text: r.text,
        })
    }
}

/// A row of [`Tx::rating_rows`], before its category is parsed.
#[derive(sqlx::FromRow)]
struct ExportedRating {
    ticket_id: i64,
    round: i64,
    #[sqlx(try_from = "i64")]
    score: u8,
    at: DateTime<Utc>,
    comment: Option<String>,
    group_name: String,
    owner_name: String,
    category: String,
    taken_by_name: Option<String>,
}

impl TryFrom<ExportedRating> for RatingRow {
    type Error = Error;
    fn try_from(r: ExportedRating) -> Result<Self> {
        Ok(RatingRow {
            ticket_id: r.ticket_id,
            round: r.round,
            score: r.score,
            at: r.at,
            group: r.group_name,
            owner: r.owner_name,
            category: category(&r.category)?,
            taken_by: r.taken_by_name,
            comment: r.comment,
        })
    }
}

/// The raw counts behind one set of [`Figures`].
#[derive(Debug, Default)]
struct Tally {
    reported: i64,
    ratings: i64,
    satisfied: i64,
    score_sum: i64,
    praise: i64,
    /// Seconds (68 years fit in an i32): a year of a million tickets takes 4 MB a list.
    take_secs: Vec<i32>,
    on_time: i64,
    /// Tickets still untaken whose take time passed in the period: late.
    overdue: i64,
    done_secs: Vec<i32>,
    /// The paused seconds of the done tickets that were paused (none of 0).
    paused_secs: Vec<i32>,
    rated: i64,
    first_time: i64,
    opened: i64,
    closed: i64,
    raised: i64,
}

impl Tally {
    /// The figures, given the durations (of this tally's seconds or more).
    fn figures(&self, (time_to_take, time_to_done, paused): Spans) -> Figures {
        Figures {
            reported: self.reported,
            satisfaction: Ratio::new(self.satisfied, self.ratings),
            score_sum: self.score_sum,
            praise: self.praise,
            coverage: Ratio::new(self.rated, time_to_done.count),
            on_time_take: Ratio::new(self.on_time, time_to_take.count + self.overdue),
            time_to_take,
            time_to_done,
            paused,
            first_time_fix: Ratio::new(self.first_time, time_to_done.count),
            follow_ups_opened: self.opened,
            follow_ups_closed: self.closed,
            low_scores_raised: self.raised,
        }
    }

    /// Adds `other`'s counts (not its durations).
    fn add_counts(&mut self, other: &Tally) {
        self.reported += other.reported;
        self.ratings += other.ratings;
        self.satisfied += other.satisfied;
        self.score_sum += other.score_sum;
        self.praise += other.praise;
        self.on_time += other.on_time;
        self.overdue += other.overdue;
        self.rated += other.rated;
        self.first_time += other.first_time;
        self.opened += other.opened;
        self.closed += other.closed;
        self.raised += other.raised;
    }

    /// Whether the staff member took, finished or was rated for a ticket in the period
    /// (a follow-up alone changes none of their figures).
    fn acted(&self) -> bool {
        !self.take_secs.is_empty()
            || !self.done_secs.is_empty()
            || self.ratings > 0
            || self.overdue > 0
    }

    fn sort(&mut self) {
        self.take_secs.sort_unstable();
        self.done_secs.sort_unstable();
        self.paused_secs.sort_unstable();
    }
}

/// The durations of a [`Tally`] (or of several): to take, to done, paused.
type Spans = (Durations, Durations, PausedTime);

/// The durations of `tallies` taken together (each sorted), read from each, not copied.
fn spans<'a>(tallies: impl Iterator<Item = &'a Tally> + Clone) -> Spans {
    let runs = |secs: fn(&Tally) -> &[i32]| -> Vec<&[i32]> { tallies.clone().map(secs).collect() };
    (
        Durations::from_sorted_runs(&runs(|t| &t.take_secs)),
        Durations::from_sorted_runs(&runs(|t| &t.done_secs)),
        PausedTime::from_sorted_runs(&runs(|t| &t.paused_secs)),
    )
}

/// A period's figures before they are summed up: per taker (`None`: not taken), and the
/// tickets reported per category.
#[derive(Debug, Default)]
struct Tallies {
    by_taker: HashMap<Option<i64>, Tally>,
    categories: HashMap<String, i64>,
}

impl Tallies {
    fn of(&mut self, taker: Option<i64>) -> &mut Tally {
        self.by_taker.entry(taker).or_default()
    }

    /// The figures of the scope as a whole, and of each staff member who acted in it.
    /// The whole scope's durations are read from each taker's, sorted, not copied.
    fn sum_up(mut self) -> (Figures, Vec<(i64, Figures)>) {
        let mut staff = Vec::new();
        let mut all = Tally::default();
        for (taker, tally) in &mut self.by_taker {
            tally.sort();
            all.add_counts(tally);
            if let Some(id) = *taker
                && tally.acted()
            {
                staff.push((id, tally.figures(spans(std::iter::once(&*tally)))));
            }
        }
        (all.figures(spans(self.by_taker.values())), staff)
    }
}

/// One part of a period as the five figure queries return it (see the module docs).
struct PartRows {
    reported: Texts,
    take: Texts,
    overdue: Texts,
    done: Texts,
    ratings: Texts,
    follow: Vec<FollowCounts>,
}

impl PartRows {
    /// Reads the part in a transaction, one query after another: one snapshot.
    async fn read_in(
        conn: &mut Conn<'_>,
        part: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Self> {
        Ok(Self {
            reported: columns(&mut *conn, reported_sql, part, scope).await?,
            take: columns(&mut *conn, take_sql, part, scope).await?,
            overdue: columns(&mut *conn, |d| overdue_sql(d, take_minutes), part, scope).await?,
            done: columns(&mut *conn, done_sql, part, scope).await?,
            ratings: columns(&mut *conn, ratings_sql, part, scope).await?,
            follow: follows(&mut *conn, part, scope).await?,
        })
    }

    /// Reads the part on two connections at once (two cores, two chains of queries of
    /// about equal length), each chain from its own snapshot: a few milliseconds apart,
    /// which no figure can tell (each ratio comes from one query), for about half the
    /// wall time.
    async fn read_at_once(
        store: &Store,
        part: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Self> {
        let tickets = async {
            let mut tx = store.begin_read().await?;
            let conn = &mut tx.0;
            Ok::<_, Error>((
                columns(&mut *conn, reported_sql, part, scope).await?,
                columns(&mut *conn, take_sql, part, scope).await?,
                columns(&mut *conn, done_sql, part, scope).await?,
            ))
        };
        let ratings = async {
            let mut tx = store.begin_read().await?;
            let conn = &mut tx.0;
            Ok::<_, Error>((
                columns(&mut *conn, ratings_sql, part, scope).await?,
                follows(&mut *conn, part, scope).await?,
                columns(&mut *conn, |d| overdue_sql(d, take_minutes), part, scope).await?,
            ))
        };
        let ((reported, take, done), (ratings, follow, overdue)) =
            tokio::try_join!(tickets, ratings)?;
        Ok(Self {
            reported,
            take,
            overdue,
            done,
            ratings,
            follow,
        })
    }
}

/// The parts a period is read in: a long period a month at a time. Every figure counts
/// its rows by one time inside the period, so the parts add up, and a part's columns
/// stay near a megabyte however long the period.
fn parts(period: Period) -> impl Iterator<Item = Period> {
    std::iter::successors(Some(period.from), move |&from| {
        Some((from + chrono::Duration::days(PART_DAYS)).min(period.to))
    })
    .take_while(move |&from| from < period.to)
    .map(move |from| Period {
        from,
        to: (from + chrono::Duration::days(PART_DAYS)).min(period.to),
    })
}

impl Tallies {
    /// Adds a part's rows, per taker.
    fn add(&mut self, rows: PartRows, take_minutes: u32) -> Result<()> {
        // Category codes are plain ASCII: borrowed from the row, not copied per ticket.
        let categories: Vec<&str> = serde_json::from_str(rows.reported.get("c").unwrap_or("[]"))
            .map_err(|e| Error::Corrupt(format!("figures column c: {e}")))?;
        for (k, c) in column::<Option<i64>>(&rows.reported, "k")?
            .into_iter()
            .zip(categories)
        {
            self.of(k).reported += 1;
            match self.categories.get_mut(c) {
                Some(n) => *n += 1,
                None => {
                    self.categories.insert(c.to_owned(), 1);
                }
            }
        }

        let take_secs = i64::from(take_minutes) * 60;
        for ((k, secs), due_kept) in column::<Option<i64>>(&rows.take, "k")?
            .into_iter()
            .zip(column::<i32>(&rows.take, "s")?)
            .zip(column::<Option<u8>>(&rows.take, "o")?)
        {
            let t = self.of(k);
            let on_time = due_kept.map_or(i64::from(secs) <= take_secs, |o| o == 1);
            t.on_time += i64::from(on_time);
            t.take_secs.push(secs);
        }
        for k in column::<Option<i64>>(&rows.overdue, "k")? {
            self.of(k).overdue += 1;
        }

        let flags = column::<u8>(&rows.done, "f")?;
        let paused = column::<i32>(&rows.done, "p")?;
        for (((k, secs), f), paused) in column::<Option<i64>>(&rows.done, "k")?
            .into_iter()
            .zip(column::<i32>(&rows.done, "s")?)
            .zip(flags)
            .zip(paused)
        {
            let t = self.of(k);
            t.done_secs.push(secs);
            if paused > 0 {
                t.paused_secs.push(paused);
            }
            t.rated += i64::from(f & 1);
            t.first_time += i64::from(f & 2 == 0);
        }

        for (k, score) in column::<Option<i64>>(&rows.ratings, "k")?
            .into_iter()
            .zip(column::<i64>(&rows.ratings, "s")?)
        {
            let t = self.of(k);
            t.ratings += 1;
            t.satisfied += i64::from(score >= 4);
            t.score_sum += score;
            t.praise += i64::from(score == 5);
        }

        for r in &rows.follow {
            let t = self.of(r.k);
            t.opened += r.opened;
            t.closed += r.closed;
            t.raised += r.raised;
        }
        Ok(())
    }

    /// The tickets reported per category, most first, at most `top`.
    fn top_categories(&mut self, top: usize) -> Result<Vec<CategoryCount>> {
        let mut categories: Vec<(String, i64)> =
            std::mem::take(&mut self.categories).into_iter().collect();
        categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        categories
            .into_iter()
            .take(top)
            .map(|(code, reported)| {
                Ok(CategoryCount {
                    category: category(&code)?,
                    reported,
                })
            })
            .collect()
    }
}

/// The staff members' names as of their latest take, and their figures, by name.
async fn named(db: &mut Conn<'_>, staff: Vec<(i64, Figures)>) -> Result<Vec<StaffFigures>> {
    let ids: Vec<i64> = staff.iter().map(|(id, _)| *id).collect();
    let mut names: HashMap<i64, String> = query_as(Sql::each(
        "SELECT user_id, name FROM staff_names WHERE user_id IN (SELECT value FROM json_each(?))",
        "SELECT user_id, name FROM staff_names
         WHERE user_id IN (SELECT value::bigint FROM json_array_elements_text(?::json))",
    ))
    .bind(serde_json::to_string(&ids).map_err(|e| Error::Corrupt(e.to_string()))?)
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    let mut out: Vec<StaffFigures> = staff
        .into_iter()
        .map(|(id, figures)| StaffFigures {
            user_id: id as u64,
            name: names.remove(&id).unwrap_or_else(|| id.to_string()),
            figures,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    Ok(out)
}

/// What `/stats` shows: the figures of a scope, its staff's and its top categories.
pub type OverviewParts = (Figures, Vec<StaffFigures>, Vec<CategoryCount>);

impl Tx<'_> {
    /// Every figure for `period` and `scope`; `take_minutes` is the SLA for taking.
    pub async fn figures(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Figures> {
        Ok(self.tallies(period, scope, take_minutes).await?.sum_up().0)
    }

    /// The figures of each staff member who took, finished or was rated for a ticket in
    /// the period (within `scope`), by name.
    pub async fn staff_figures(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Vec<StaffFigures>> {
        Ok(self.figures_and_staff(period, scope, take_minutes).await?.1)
    }

    /// [`Tx::figures`] and [`Tx::staff_figures`] from one read of the period.
    pub async fn figures_and_staff(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<(Figures, Vec<StaffFigures>)> {
        let (all, staff) = self.tallies(period, scope, take_minutes).await?.sum_up();
        Ok((all, named(&mut self.0, staff).await?))
    }

    /// [`Tx::figures_and_staff`], and the tickets reported per category (most first, at
    /// most `top`), from one read of the period.
    pub async fn overview(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
        top: usize,
    ) -> Result<OverviewParts> {
        let mut tallies = self.tallies(period, scope, take_minutes).await?;
        let categories = tallies.top_categories(top)?;
        let (all, staff) = tallies.sum_up();
        Ok((all, named(&mut self.0, staff).await?, categories))
    }

    async fn tallies(
        &mut self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
    ) -> Result<Tallies> {
        let mut out = Tallies::default();
        for part in parts(period) {
            out.add(
                PartRows::read_in(&mut self.0, part, scope, take_minutes).await?,
                take_minutes,
            )?;
        }
        Ok(out)
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
                 WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.kind = 'repair'
                   AND {SCOPE}) AS reported,
                (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                 WHERE r.at >= ?1 AND r.at < ?2 AND {SCOPE}) AS ratings,
                (SELECT COUNT(*) FROM ratings r JOIN tickets t ON t.id = r.ticket_id
                 WHERE r.at >= ?1 AND r.at < ?2 AND r.score >= 4 AND {SCOPE}) AS satisfied"
        );
        let mut out = Vec::with_capacity(weeks.len());
        for (start, period) in weeks {
            let r: WeekCounts = scoped(&sql, *period, scope)
                .into_as()
                .fetch_one(&mut self.0)
                .await?;
            out.push(WeekPoint {
                start: *start,
                reported: r.reported,
                satisfaction: Ratio::new(r.satisfied, r.ratings),
            });
        }
        Ok(out)
    }

    /// The repairs and suggestions reported in the period, for the export, by number.
    /// Complaints are left out: they may be about staff, and `/export` answers in the
    /// staff chat; the workbook counts them among the figures of kinds.
    pub async fn ticket_rows(&mut self, period: Period, scope: Scope) -> Result<Vec<TicketRow>> {
        let sql = format!(
            "SELECT t.id, t.created_at, g.name AS group_name, t.unit, o.name AS owner_name,
                    t.category, t.status, t.taken_by_name, t.text,
                    t.first_taken_at AS taken_at, t.done_at, t.paused_secs, t.done_paused_secs,
                    t.kind, t.urgency, t.repeat_of,
                    (SELECT COUNT(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = ?6) AS reopened,
                    (SELECT COUNT(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = ?7) AS hurry_ups,
                    (SELECT r.score FROM ratings r WHERE r.ticket_id = t.id ORDER BY r.round DESC LIMIT 1) AS score
             FROM tickets t
             JOIN owner_groups g ON g.chat_id = t.group_chat_id
             JOIN owners o ON o.user_id = t.owner_id
             WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.kind <> 'complaint' AND {SCOPE}
             ORDER BY t.id"
        );
        let rows: Vec<ExportedTicket> = scoped(&sql, period, scope)
            .bind(EventKind::Reopened.as_str())
            .bind(EventKind::Hurried.as_str())
            .into_as()
            .fetch_all(&mut self.0)
            .await?;
        rows.into_iter().map(TicketRow::try_from).collect()
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
        let rows: Vec<ExportedRating> = scoped(&sql, period, scope)
            .into_as()
            .fetch_all(&mut self.0)
            .await?;
        rows.into_iter().map(RatingRow::try_from).collect()
    }
}

impl Store {
    /// As [`Tx::overview`]: what `/stats` reads. A period of one part (up to a month)
    /// is read on two connections at once (see [`PartRows::read_at_once`]); a longer one
    /// part by part in one transaction, as reading a year that way held more memory
    /// (each connection's thread keeps what it allocated) to save a fraction of a reply
    /// that takes seconds anyway.
    pub async fn overview(
        &self,
        period: Period,
        scope: Scope,
        take_minutes: u32,
        top: usize,
    ) -> Result<OverviewParts> {
        if parts(period).nth(1).is_some() {
            let mut tx = self.begin_read().await?;
            return tx.overview(period, scope, take_minutes, top).await;
        }
        let mut tallies = Tallies::default();
        for part in parts(period) {
            let rows = PartRows::read_at_once(self, part, scope, take_minutes).await?;
            tallies.add(rows, take_minutes)?;
        }
        let categories = tallies.top_categories(top)?;
        let (all, staff) = tallies.sum_up();
        let mut tx = self.begin_read().await?;
        Ok((all, named(&mut tx.0, staff).await?, categories))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    #[tokio::test]
    async fn the_figures_read_the_big_tables_through_indexes() {
        if testing::on_postgres() {
            return println!("SKIPPED: SQLite's query plans (see the PostgreSQL twin below)");
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.unwrap();
        let d = Dialect::Sqlite;
        for sql in [
            reported_sql(d),
            ratings_sql(d),
            take_sql(d),
            overdue_sql(d, 10),
            done_sql(d),
            follow_sql(d),
        ] {
            let steps = crate::store::query_plan(&store, &sql, 6).await;
            // Tables are searched through an index or the primary key; the only scans
            // are of the period's own rows (the follow-ups' union).
            let scans: Vec<&String> = steps
                .iter()
                .filter(|s| s.starts_with("SCAN "))
                .filter(|s| {
                    !(s.as_str() == "SCAN CONSTANT ROW" || s.starts_with("SCAN (subquery-"))
                })
                .collect();
            assert!(
                scans.is_empty(),
                "full scans {scans:?} in {steps:#?}\n{sql}"
            );
            assert!(steps.iter().any(|s| s.contains(" INDEX ")), "{steps:#?}");
        }
        // The period's tickets are read from the index entries alone, never the wide
        // rows with the owners' text.
        for (sql, index) in [
            (
                reported_sql(d),
                "USING COVERING INDEX tickets_kind_created ",
            ),
            (take_sql(d), "USING COVERING INDEX tickets_first_taken "),
            (done_sql(d), "USING COVERING INDEX tickets_done "),
            (ratings_sql(d), "USING COVERING INDEX ratings_at "),
        ] {
            let steps = crate::store::query_plan(&store, &sql, 6).await;
            assert!(steps.iter().any(|s| s.contains(index)), "{steps:#?}\n{sql}");
        }
    }

    #[tokio::test]
    async fn on_postgres_too_the_figures_read_the_big_tables_through_indexes() {
        use crate::store::dialect::{plan_args, postgres_plan, reads_an_index};
        let Some(base) = testing::postgres_url() else {
            return println!("SKIPPED: no PostgreSQL ({})", testing::POSTGRES_ENV);
        };
        let store = Store::open(&testing::new_schema(&base).await)
            .await
            .unwrap();
        let d = Dialect::Postgres;
        // Tables this empty leave the choice among indexes to chance: each table read
        // can go through one (sequential scans are priced out), not which.
        for sql in [
            reported_sql(d),
            ratings_sql(d),
            take_sql(d),
            overdue_sql(d, 10),
            done_sql(d),
            follow_sql(d),
        ] {
            let steps = postgres_plan(&store, &sql, plan_args(&[])).await;
            let scans: Vec<&String> = steps.iter().filter(|s| s.contains("Seq Scan")).collect();
            assert!(
                scans.is_empty(),
                "full scans {scans:?} in {steps:#?}\n{sql}"
            );
            assert!(reads_an_index(&steps), "{steps:#?}\n{sql}");
        }
    }

    #[tokio::test]
    async fn the_milestones_follow_the_event_log_and_the_ratings() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&testing::database_url(dir.path()).await)
            .await
            .unwrap();
        let at = |s: &str| -> DateTime<Utc> { format!("2026-11-0{s}Z").parse().unwrap() };
        let milestones = || async {
            query_as::<(Option<DateTime<Utc>>, Option<DateTime<Utc>>, bool, bool)>(
                "SELECT first_taken_at, done_at, reopened, rated FROM tickets WHERE id = 1",
            )
            .fetch_one(&store.pool)
            .await
            .unwrap()
        };
        let setup = [
            query(
                "INSERT INTO owner_groups (chat_id, name, registered_by, registered_at)
                 VALUES (-1, 'G', 9, ?)",
            )
            .bind(at("1T00:00:00")),
            query("INSERT INTO owners (user_id, name, updated_at) VALUES (7, 'O', ?)")
                .bind(at("1T00:00:00")),
            query(
                "INSERT INTO tickets (group_chat_id, report_chat_id, report_message_id, owner_id,
                                      category, text, status, created_at, updated_at)
                 VALUES (-1, -1, 1, 7, 'other', 'x', 'reported', ?1, ?1)",
            )
            .bind(at("1T08:00:00")),
        ];
        for q in setup {
            q.execute(&store.writer).await.unwrap();
        }
        assert_eq!(milestones().await, (None, None, false, false));
        let event = |kind: &'static str, when: DateTime<Utc>| {
            let store = &store;
            async move {
                query(
                    "INSERT INTO ticket_events (ticket_id, kind, actor_id, actor_name, at)
                     VALUES (1, ?, 9, 'S', ?)",
                )
                .bind(kind)
                .bind(when)
                .execute(&store.writer)
                .await
                .unwrap();
            }
        };
        event("taken", at("1T09:00:00")).await;
        event("taken", at("2T09:00:00")).await;
        event("done", at("3T09:00:00")).await;
        event("reopened", at("3T10:00:00")).await;
        event("done", at("4T09:00:00")).await;
        assert_eq!(
            milestones().await,
            (Some(at("1T09:00:00")), Some(at("4T09:00:00")), true, false)
        );
        query("INSERT INTO ratings (ticket_id, round, owner_id, score, at) VALUES (1, 1, 7, 5, ?)")
            .bind(at("4T10:00:00"))
            .execute(&store.writer)
            .await
            .unwrap();
        assert!(milestones().await.3);
    }
}
