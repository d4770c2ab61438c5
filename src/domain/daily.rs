//! The figures of one day that the morning greeting and the daily summary show, and the
//! calendar rules behind them: a day is a calendar day in the configured time zone.
//!
//! Kept to what those two messages need; a fuller figures module (/stats, exports) can
//! absorb these types later.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Scores at or above this count as satisfied (满意): 4 and 5.
pub const SATISFIED_SCORE: u8 = 4;

/// One owner group's record for one day, for the morning greeting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupDay {
    /// Tickets reported in the group that day.
    pub reported: i64,
    /// Tickets of the group finished that day.
    pub done: i64,
    /// Ratings given that day for the group's tickets.
    pub ratings: i64,
    /// Of those, scores of 4 or 5.
    pub satisfied: i64,
}

impl GroupDay {
    /// Nothing happened: the greeting says so kindly instead of showing zeros.
    pub fn is_quiet(&self) -> bool {
        self.reported == 0 && self.done == 0 && self.ratings == 0
    }
}

/// The staff chat's summary of one day, as of the moment it is computed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DaySummary {
    /// Repairs reported that day (complaints and suggestions have lines of their own).
    pub created: i64,
    /// Tickets finished that day.
    pub done: i64,
    /// Open tickets now: waiting to be taken, and taken.
    pub waiting: i64,
    pub in_progress: i64,
    /// Open tickets now past one of their SLA deadlines (take, first update, resolve).
    pub overdue: i64,
    /// Ratings given that day, and how many were 4 or 5.
    pub ratings: i64,
    pub satisfied: i64,
    /// Follow-ups (回访) not closed yet, of any day.
    pub follow_ups_open: i64,
    /// Everyone who took, finished or was rated for a ticket that day, by name.
    pub staff: Vec<StaffDay>,
}

/// One staff member's day: tickets taken, tickets finished (credited to whoever had
/// taken them) and the scores given that day for their tickets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffDay {
    pub user_id: u64,
    pub name: String,
    pub taken: i64,
    pub done: i64,
    pub ratings: i64,
    pub score_sum: i64,
}

impl StaffDay {
    /// The average score of the day's ratings, if there were any.
    pub fn average_score(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.score_sum as f64 / self.ratings as f64)
    }
}

/// Satisfaction rate (满意率) = ratings of 4 or 5 ÷ all ratings, as a whole percentage
/// (rounded half up); `None` when there were no ratings.
pub fn satisfaction_percent(satisfied: i64, ratings: i64) -> Option<u32> {
    if ratings <= 0 {
        return None;
    }
    let satisfied = satisfied.clamp(0, ratings);
    Some(((satisfied * 200 + ratings) / (ratings * 2)) as u32)
}

/// The calendar date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The instants `[start, end)` of calendar day `date` in `tz`, in UTC. A day is 23 or 25
/// hours long when the clocks change.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    (
        first_instant_at(date.and_time(chrono::NaiveTime::MIN), tz),
        first_instant_at(next.and_time(chrono::NaiveTime::MIN), tz),
    )
}

/// The first instant at which the wall clock in `tz` reads `wall` or later:
///
/// - a wall-clock time that happens once is that instant;
/// - one that happens twice (the clocks go back) is its first occurrence;
/// - one that never happens (the clocks jump over it) is the instant of the jump.
///
/// This is how a scheduled time is fired on the days the clocks change: once.
pub fn first_instant_at(wall: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Find the jump: the first instant whose wall clock reads `wall` or later.
            // Offsets lie within ±14 h, so the jump is inside this range.
            let reads_at_least = |t: i64| {
                DateTime::from_timestamp(t, 0)
                    .map(|u| u.with_timezone(&tz).naive_local() >= wall)
                    .unwrap_or(true)
            };
            let mut lo = wall.and_utc().timestamp() - 2 * 86_400; // reads earlier
            let mut hi = wall.and_utc().timestamp() + 86_400; // reads later
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if reads_at_least(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            DateTime::from_timestamp(hi, 0).unwrap_or_else(|| wall.and_utc())
        }
    }
}

/// The holiday text configured for `date`: a `"YYYY-MM-DD"` key wins over `"MM-DD"`.
pub fn holiday(holidays: &BTreeMap<String, String>, date: NaiveDate) -> Option<&str> {
    let exact = date.format("%Y-%m-%d").to_string();
    let yearly = format!("{:02}-{:02}", date.month(), date.day());
    holidays
        .get(&exact)
        .or_else(|| holidays.get(&yearly))
        .map(String::as_str)
        .filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn satisfaction_is_the_share_of_fours_and_fives_rounded() {
        assert_eq!(satisfaction_percent(0, 0), None);
        assert_eq!(satisfaction_percent(2, 3), Some(67));
        assert_eq!(satisfaction_percent(1, 3), Some(33));
        assert_eq!(satisfaction_percent(1, 2), Some(50));
        assert_eq!(satisfaction_percent(1, 8), Some(13), "12.5 rounds up");
        assert_eq!(satisfaction_percent(4, 4), Some(100));
    }

    #[test]
    fn a_day_is_bounded_by_local_midnights() {
        let (start, end) = day_bounds(date(2026, 11, 24), Tz::Asia__Shanghai);
        assert_eq!(start, at("2026-11-23T16:00:00Z"));
        assert_eq!(end, at("2026-11-24T16:00:00Z"));
    }

    #[test]
    fn days_when_the_clocks_change_are_23_and_25_hours_long() {
        let (s, e) = day_bounds(date(2026, 3, 29), Tz::Europe__Berlin);
        assert_eq!((e - s).num_hours(), 23);
        let (s, e) = day_bounds(date(2026, 10, 25), Tz::Europe__Berlin);
        assert_eq!((e - s).num_hours(), 25);
        let (s, e) = day_bounds(date(2026, 3, 8), Tz::America__New_York);
        assert_eq!(s, at("2026-03-08T05:00:00Z"));
        assert_eq!((e - s).num_hours(), 23);
    }

    #[test]
    fn a_wall_clock_time_the_clocks_jump_over_is_the_instant_of_the_jump() {
        let wall = date(2026, 3, 29).and_time(NaiveTime::from_hms_opt(2, 30, 0).unwrap());
        // 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        assert_eq!(
            first_instant_at(wall, Tz::Europe__Berlin),
            at("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn a_wall_clock_time_that_happens_twice_is_its_first_occurrence() {
        let wall = date(2026, 11, 1).and_time(NaiveTime::from_hms_opt(1, 30, 0).unwrap());
        // 01:30 EDT (UTC-4), not 01:30 EST (UTC-5).
        assert_eq!(
            first_instant_at(wall, Tz::America__New_York),
            at("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn a_dated_holiday_wins_over_a_yearly_one() {
        let mut h = BTreeMap::new();
        h.insert("01-01".to_owned(), "Happy New Year!".to_owned());
        h.insert("2027-01-01".to_owned(), "Happy 2027!".to_owned());
        assert_eq!(holiday(&h, date(2026, 1, 1)), Some("Happy New Year!"));
        assert_eq!(holiday(&h, date(2027, 1, 1)), Some("Happy 2027!"));
        assert_eq!(holiday(&h, date(2027, 1, 2)), None);
    }

    #[test]
    fn a_quiet_day_has_nothing_in_it() {
        assert!(GroupDay::default().is_quiet());
        assert!(
            !GroupDay {
                ratings: 1,
                satisfied: 1,
                ..Default::default()
            }
            .is_quiet()
        );
    }
}
