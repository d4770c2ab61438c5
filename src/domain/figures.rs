//! The satisfaction figures of the design, as values: what each one counts and over which
//! tickets. The store computes them in SQL; the chat layer, the export and the chart only
//! show them.
//!
//! For a [`Period`] `[from, to)`, of repairs (complaints and suggestions have figures of
//! their own, [`super::kind_figures`]):
//!
//! - **satisfaction rate** = ratings of 4 or 5 given in the period ÷ all ratings given in
//!   the period. Every round counts: a re-rating adds a rating, it never replaces the
//!   first one, so a low score is never hidden.
//! - **average score**: of the same ratings.
//! - **rating coverage** = tickets done in the period that the owner rated (so far) ÷
//!   tickets done in the period. "Done in the period": at least one `done` event in it.
//! - **on-time take rate** = tickets first taken in the period by their take time (kept
//!   on the ticket: its urgency's policy, over business hours when set) ÷ (tickets first taken in the period + tickets still untaken, not
//!   closed, whose take time passed in the period). A ticket nobody takes is late, not
//!   left out; it counts in the period its take time passed in, and once taken, in the
//!   period of its take (so each ticket counts once in any sum of periods).
//! - **time to take**: report → first `taken`, for tickets first taken in the period.
//! - **time to done**: report → the last `done` in the period, for tickets done in it,
//!   less the time the ticket spent paused before then (`/pause`: waiting for a part).
//!   Time to take needs no such care: a ticket can only be paused once taken.
//! - **paused time**: of the tickets done in the period, those paused before that
//!   completion: how many, their paused time in all, and the median and 90th percentile
//!   per paused ticket.
//! - **first-time fix rate** = tickets done in the period that were never reopened ÷
//!   tickets done in the period.
//! - **follow-ups**: opened in the period, closed in the period, and low scores *raised*:
//!   a low-score follow-up whose ticket's next rating, given in the period, is 4 or 5.
//!
//! Percentiles use the nearest rank: the p-th percentile of n durations is the
//! ⌈p·n/100⌉-th smallest, so the median of 1, 2, 3, 4 minutes is 2 minutes and "90 %
//! within" is a duration that really occurred.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::Category;

/// A stretch of time, from `from` (included) to `to` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// `from` must not be after `to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Self> {
        (from <= to).then_some(Self { from, to })
    }

    /// The `days` days up to `now`.
    pub fn last_days(now: DateTime<Utc>, days: u32) -> Self {
        Self {
            from: now - Duration::days(i64::from(days)),
            to: now,
        }
    }

    /// Whole local days `first..=last` in `tz`.
    pub fn local_days(first: NaiveDate, last: NaiveDate, tz: Tz) -> Option<Self> {
        Self::new(
            local_midnight(first, tz),
            local_midnight(last.succ_opt()?, tz),
        )
    }

    /// The calendar month `months_back` months before the one `now` falls in (in `tz`):
    /// 1 is last month.
    pub fn month_before(now: DateTime<Utc>, tz: Tz, months_back: u32) -> Self {
        let local = now.with_timezone(&tz).date_naive();
        let first_of_this = local.with_day(1).unwrap_or(local);
        let first = first_of_this
            .checked_sub_months(chrono::Months::new(months_back))
            .unwrap_or(first_of_this);
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        Self {
            from: local_midnight(first, tz),
            to: local_midnight(next, tz),
        }
    }

    /// The last `count` calendar weeks (Monday to Sunday in `tz`), oldest first; the last
    /// one is the week `now` falls in, up to `now`.
    pub fn weeks_back(now: DateTime<Utc>, tz: Tz, count: u32) -> Vec<(NaiveDate, Period)> {
        let today = now.with_timezone(&tz).date_naive();
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        (0..count)
            .rev()
            .map(|back| {
                let start = monday - Duration::weeks(i64::from(back));
                let from = local_midnight(start, tz);
                let to = if back == 0 {
                    now
                } else {
                    local_midnight(start + Duration::weeks(1), tz)
                };
                (start, Period { from, to })
            })
            .collect()
    }

    /// The first and last local day of the period, for headings.
    pub fn local_dates(&self, tz: Tz) -> (NaiveDate, NaiveDate) {
        let first = self.from.with_timezone(&tz).date_naive();
        let last = (self.to - Duration::milliseconds(1))
            .with_timezone(&tz)
            .date_naive();
        (first, last.max(first))
    }
}

/// How many days back `/stats` and `/export` look: 1 to 366, 30 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(u32);

impl Days {
    pub const DEFAULT: Days = Days(30);
    pub const MAX: u32 = 366;

    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::str::FromStr for Days {
    type Err = super::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self::DEFAULT);
        }
        match s.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(super::Error::BadDays(s.to_owned())),
        }
    }
}

/// What `/stats` asks for: the figures of the last days, or the weekly chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsRequest {
    Figures(Days),
    Chart,
}

impl std::str::FromStr for StatsRequest {
    type Err = super::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "chart" | "图表" => Ok(Self::Chart),
            other => other.parse().map(Self::Figures),
        }
    }
}

/// Midnight at the start of `day` in `tz`, in UTC (the first valid instant on a day
/// whose midnight a clock change skips).
pub fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

/// Which tickets the figures are about: all, or narrowed by owner group, category and the
/// staff member who took them (any combination).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    pub group: Option<i64>,
    pub category: Option<Category>,
    pub staff: Option<u64>,
}

impl Scope {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn group(chat_id: i64) -> Self {
        Self {
            group: Some(chat_id),
            ..Self::default()
        }
    }

    pub fn category(category: Category) -> Self {
        Self {
            category: Some(category),
            ..Self::default()
        }
    }

    pub fn staff(user_id: u64) -> Self {
        Self {
            staff: Some(user_id),
            ..Self::default()
        }
    }
}

/// A share: `part` of `whole`. No value when there is nothing to divide by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    pub part: i64,
    pub whole: i64,
}

impl Ratio {
    pub fn new(part: i64, whole: i64) -> Self {
        Self { part, whole }
    }

    /// 0.0 to 1.0, or None for an empty whole.
    pub fn value(self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }

    /// The percentage with one decimal, e.g. `87.5%`, or None for an empty whole.
    pub fn percent(self) -> Option<String> {
        self.value().map(|v| format_percent(v * 100.0))
    }
}

fn format_percent(p: f64) -> String {
    let rounded = (p * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}%")
    } else {
        format!("{rounded:.1}%")
    }
}

/// A set of durations: how many, the median and the 90th percentile (nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durations {
    pub count: i64,
    pub median: Option<Duration>,
    pub p90: Option<Duration>,
}

impl Durations {
    /// The count, median and 90th percentile of `seconds`, in any order (sorts them).
    pub fn from_seconds<T: Copy + Ord + Into<i64>>(seconds: &mut [T]) -> Self {
        seconds.sort_unstable();
        Self::from_sorted_runs(&[seconds])
    }

    /// The same of several runs of seconds taken together, each sorted, without merging
    /// them: the whole scope's figures from each staff member's. Nearest rank: the p-th
    /// percentile of n values is the ⌈p·n/100⌉-th smallest.
    pub fn from_sorted_runs<T: Copy + Into<i64>>(runs: &[&[T]]) -> Self {
        let n: usize = runs.iter().map(|r| r.len()).sum();
        let rank = |p: usize| {
            (n > 0).then(|| Duration::seconds(nth_smallest(runs, (n * p).div_ceil(100))))
        };
        Durations {
            count: n as i64,
            median: rank(50),
            p90: rank(90),
        }
    }
}

/// The `r`-th smallest (from 1) of sorted runs with at least `r` values in all: the
/// least value that at least `r` values are at most, found by halving the range.
fn nth_smallest<T: Copy + Into<i64>>(runs: &[&[T]], r: usize) -> i64 {
    let firsts = runs.iter().filter_map(|s| s.first().map(|&x| x.into()));
    let lasts = runs.iter().filter_map(|s| s.last().map(|&x| x.into()));
    let (mut lo, mut hi) = (firsts.min().unwrap_or(0), lasts.max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let at_most: usize = runs
            .iter()
            .map(|s| s.partition_point(|&x| x.into() <= mid))
            .sum();
        if at_most >= r {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Time spent paused: per paused ticket (how many, median, 90th percentile) and in all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PausedTime {
    pub per_ticket: Durations,
    pub total: Duration,
}

impl PausedTime {
    /// Of sorted runs of paused seconds (one per staff member), each above zero.
    pub fn from_sorted_runs<T: Copy + Into<i64>>(runs: &[&[T]]) -> Self {
        let total: i64 = runs.iter().flat_map(|r| r.iter()).map(|&s| s.into()).sum();
        Self {
            per_ticket: Durations::from_sorted_runs(runs),
            total: Duration::seconds(total),
        }
    }

    /// How many tickets were paused.
    pub fn tickets(&self) -> i64 {
        self.per_ticket.count
    }
}

/// Every figure of the design for one period and scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Repairs reported in the period (complaints and suggestions are counted apart, see
    /// [`super::kind_figures`]).
    pub reported: i64,
    /// Ratings of 4 or 5 of all ratings given in the period.
    pub satisfaction: Ratio,
    /// The sum of those ratings' scores (for the average).
    pub score_sum: i64,
    /// Ratings of 5 given in the period ("praise").
    pub praise: i64,
    /// Rated tickets of the tickets done in the period.
    pub coverage: Ratio,
    /// Tickets taken within the SLA of the tickets first taken in the period.
    pub on_time_take: Ratio,
    pub time_to_take: Durations,
    pub time_to_done: Durations,
    /// The paused time of the tickets done in the period that were paused.
    pub paused: PausedTime,
    /// Never-reopened tickets of the tickets done in the period.
    pub first_time_fix: Ratio,
    pub follow_ups_opened: i64,
    pub follow_ups_closed: i64,
    /// Low scores raised to 4 or 5 by the ticket's next rating, given in the period.
    pub low_scores_raised: i64,
}

impl Figures {
    /// How many ratings were given.
    pub fn ratings(&self) -> i64 {
        self.satisfaction.whole
    }

    /// Tickets first taken in the period.
    pub fn taken(&self) -> i64 {
        self.time_to_take.count
    }

    /// Tickets done in the period.
    pub fn done(&self) -> i64 {
        self.coverage.whole
    }

    /// The average score, or None without ratings.
    pub fn average_score(&self) -> Option<f64> {
        Ratio::new(self.score_sum, self.ratings()).value()
    }
}

/// A staff member's figures for a period (scope: the tickets they took).
#[derive(Debug, Clone, PartialEq)]
pub struct StaffFigures {
    pub user_id: u64,
    pub name: String,
    pub figures: Figures,
}

/// Tickets reported in a period per category, most first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryCount {
    pub category: Category,
    pub reported: i64,
}

/// One week of the trend chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekPoint {
    /// The Monday the week starts on.
    pub start: NaiveDate,
    pub reported: i64,
    pub satisfaction: Ratio,
}

/// A ticket as the export lists it (tickets reported in the period).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: i64,
    pub reported_at: DateTime<Utc>,
    pub group: String,
    pub unit: Option<String>,
    pub owner: String,
    pub category: Category,
    pub status: super::TicketStatus,
    pub taken_by: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    /// The last time it was done.
    pub done_at: Option<DateTime<Utc>>,
    pub reopened: i64,
    /// The latest score.
    pub score: Option<u8>,
    /// The time spent in pauses that have ended (one in progress is not counted).
    pub paused: Duration,
    /// The paused time before the last completion (left out of the time to done).
    pub paused_before_done: Duration,
    /// A repair or a suggestion (complaints are not listed, see `Tx::ticket_rows`).
    pub kind: super::Kind,
    pub urgency: super::Urgency,
    /// The earlier finished repair this one repeats.
    pub repeat_of: Option<i64>,
    /// Times the owner pressed Hurry up.
    pub hurry_ups: i64,
    pub text: String,
}

/// A rating as the export lists it (ratings given in the period).
#[derive(Debug, Clone, PartialEq)]
pub struct RatingRow {
    pub ticket_id: i64,
    pub round: i64,
    pub score: u8,
    pub at: DateTime<Utc>,
    pub group: String,
    pub owner: String,
    pub category: Category,
    pub taken_by: Option<String>,
    pub comment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_nearest_rank() {
        let d = Durations::from_seconds(&mut [50, 10, 40, 30, 20, 100, 90, 80, 70, 60]);
        assert_eq!(d.count, 10);
        // ⌈0.5·10⌉ = 5th smallest, ⌈0.9·10⌉ = 9th smallest.
        assert_eq!(d.median, Some(Duration::seconds(50)));
        assert_eq!(d.p90, Some(Duration::seconds(90)));
        let one = Durations::from_seconds(&mut [7]);
        assert_eq!(
            (one.median, one.p90),
            (Some(Duration::seconds(7)), Some(Duration::seconds(7)))
        );
        // ⌈0.5·3⌉ = 2nd, ⌈0.9·3⌉ = 3rd.
        let three = Durations::from_seconds(&mut [3, 1, 2]);
        assert_eq!(
            (three.median, three.p90),
            (Some(Duration::seconds(2)), Some(Duration::seconds(3)))
        );
        assert_eq!(
            Durations::from_seconds::<i64>(&mut []),
            Durations::default()
        );
    }

    #[test]
    fn durations_of_several_runs_are_those_of_all_their_values() {
        let runs: [&[i64]; 4] = [&[-5, 3, 3, 40], &[], &[1, 2, 90, 1000], &[3]];
        let mut all: Vec<i64> = runs.concat();
        assert_eq!(
            Durations::from_sorted_runs(&runs),
            Durations::from_seconds(&mut all)
        );
        // 9 values: ranks ⌈4.5⌉ = 5 and ⌈8.1⌉ = 9 of -5 1 2 3 3 3 40 90 1000.
        let d = Durations::from_sorted_runs(&runs);
        assert_eq!(d.count, 9);
        assert_eq!(d.median, Some(Duration::seconds(3)));
        assert_eq!(d.p90, Some(Duration::seconds(1000)));
        assert_eq!(
            Durations::from_sorted_runs::<i32>(&[&[], &[]]),
            Durations::default()
        );
    }

    #[test]
    fn paused_time_is_per_ticket_and_in_all() {
        let runs: [&[i32]; 2] = [&[600, 3600], &[1800]];
        let p = PausedTime::from_sorted_runs(&runs);
        assert_eq!(p.tickets(), 3);
        assert_eq!(p.total, Duration::seconds(6000));
        assert_eq!(p.per_ticket.median, Some(Duration::seconds(1800)));
        assert_eq!(p.per_ticket.p90, Some(Duration::seconds(3600)));
        assert_eq!(
            PausedTime::from_sorted_runs::<i32>(&[&[]]),
            PausedTime::default()
        );
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn stats_arguments_are_days_or_chart() {
        assert_eq!("".parse(), Ok(StatsRequest::Figures(Days::DEFAULT)));
        assert_eq!(" 7 ".parse(), Ok(StatsRequest::Figures(Days(7))));
        assert_eq!("Chart".parse(), Ok(StatsRequest::Chart));
        assert_eq!("图表".parse(), Ok(StatsRequest::Chart));
        for bad in ["0", "367", "-3", "week"] {
            assert_eq!(
                bad.parse::<StatsRequest>(),
                Err(super::super::Error::BadDays(bad.to_owned()))
            );
        }
        assert_eq!("366".parse::<Days>().map(Days::get), Ok(366));
    }

    #[test]
    fn an_empty_ratio_has_no_value() {
        assert_eq!(Ratio::new(0, 0).value(), None);
        assert_eq!(Ratio::new(0, 0).percent(), None);
        assert_eq!(Ratio::new(7, 8).percent().as_deref(), Some("87.5%"));
        assert_eq!(Ratio::new(2, 3).percent().as_deref(), Some("66.7%"));
        assert_eq!(Ratio::new(3, 3).percent().as_deref(), Some("100%"));
        assert_eq!(Figures::default().average_score(), None);
    }

    #[test]
    fn last_month_is_the_calendar_month_in_the_time_zone() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // 1 December 09:00 in Shanghai.
        let now = utc("2026-12-01T01:00:00Z");
        let last = Period::month_before(now, tz, 1);
        assert_eq!(last.from, utc("2026-10-31T16:00:00Z"));
        assert_eq!(last.to, utc("2026-11-30T16:00:00Z"));
        let before = Period::month_before(now, tz, 2);
        assert_eq!(before.from, utc("2026-09-30T16:00:00Z"));
        assert_eq!(before.to, last.from);
        assert_eq!(
            last.local_dates(tz),
            (
                NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
            )
        );
        // January looks back into December of the year before.
        let jan = Period::month_before(utc("2027-01-01T02:00:00Z"), tz, 1);
        assert_eq!(jan.from, utc("2026-11-30T16:00:00Z"));
    }

    #[test]
    fn the_weeks_start_on_monday_and_the_last_ends_now() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // Thursday 26 November 2026, 10:00 in Shanghai.
        let now = utc("2026-11-26T02:00:00Z");
        let weeks = Period::weeks_back(now, tz, 12);
        assert_eq!(weeks.len(), 12);
        let (monday, this_week) = weeks[11];
        assert_eq!(monday, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(this_week.from, utc("2026-11-22T16:00:00Z"));
        assert_eq!(this_week.to, now);
        let (first, first_week) = weeks[0];
        assert_eq!(first, NaiveDate::from_ymd_opt(2026, 9, 7).unwrap());
        assert_eq!(first_week.to, weeks[1].1.from);
    }

    #[test]
    fn local_days_cover_whole_days() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let p = Period::local_days(
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            tz,
        )
        .unwrap();
        assert_eq!(p.from, utc("2026-10-31T16:00:00Z"));
        assert_eq!(p.to, utc("2026-11-30T16:00:00Z"));
    }
}
