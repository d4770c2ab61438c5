//! The figures of kinds, urgency and the owner's side (issue 15), as values beside the
//! repairs' ones in [`super::figures`]: the store reads the rows, this says what counts.
//!
//! For a [`Period`] `[from, to)`, with deadlines passed up to `until` (the period's end,
//! or the moment the figures are made if that is sooner):
//!
//! - **complaints**, **suggestions**: reported in the period. Neither counts among the
//!   repairs' "reported".
//! - **first response on time** = complaints whose first response came in the period
//!   within `sla.complaint.first_response_minutes` of the complaint ÷ (complaints first
//!   responded to in the period + complaints still without a response, not withdrawn,
//!   whose deadline passed in the period). The response is a manager's first answer to
//!   the owner, or the close when nothing was answered before it (closing tells the owner
//!   too). As with the take rate, a complaint nobody answers is late, not left out; it
//!   counts in the period its deadline passed in, and once answered, in the period of the
//!   answer (so each complaint counts once in any sum of periods).
//! - **closed on time**: the same, with the close and `sla.complaint.reply_hours`.
//! - **urgent (A) repairs**: reported in the period, and how many of those nobody has
//!   taken yet (not withdrawn); **time to take** of A repairs first taken in the period
//!   (median and 90th percentile, nearest rank, as [`Durations`]).
//! - **hurry-ups**: Hurry up presses counted in the period (`hurried` events).
//! - **withdrawn**: tickets cancelled by their owner in the period.
//! - **repeat-repair rate** = repairs reported in the period that repeat an earlier
//!   finished one (二次返修) ÷ repairs reported in the period.

use chrono::{DateTime, Duration, Utc};

use super::figures::{Durations, Period, Ratio};

/// A deadline's clock: started at `start`, met at `end` (if it has been), `withdrawn`
/// when the owner cancelled before it was met (nothing is owed any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub withdrawn: bool,
}

/// How a clock counts in a period's on-time rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Met in the period, within the limit.
    OnTime,
    /// Met in the period after the limit, or not met and its deadline passed in the
    /// period (before `until`).
    Late,
    /// Not this period's: met in another, or still running, or withdrawn unmet.
    Elsewhere,
}

impl Clock {
    /// How this clock counts in `period`, with `limit` from start to deadline and
    /// deadlines passed up to `until`.
    pub fn verdict(&self, limit: Duration, period: Period, until: DateTime<Utc>) -> Verdict {
        let within = |at: DateTime<Utc>| at >= period.from && at < period.to;
        match self.end {
            Some(end) if within(end) && end - self.start <= limit => Verdict::OnTime,
            Some(end) if within(end) => Verdict::Late,
            Some(_) => Verdict::Elsewhere,
            None if self.withdrawn => Verdict::Elsewhere,
            None => {
                let due = self.start + limit;
                if within(due) && due < until {
                    Verdict::Late
                } else {
                    Verdict::Elsewhere
                }
            }
        }
    }
}

/// The share of `clocks` met on time in `period`, of those that count in it.
pub fn on_time(
    clocks: impl IntoIterator<Item = Clock>,
    limit: Duration,
    period: Period,
    until: DateTime<Utc>,
) -> Ratio {
    let mut ratio = Ratio::default();
    for clock in clocks {
        match clock.verdict(limit, period, until) {
            Verdict::OnTime => {
                ratio.part += 1;
                ratio.whole += 1;
            }
            Verdict::Late => ratio.whole += 1,
            Verdict::Elsewhere => {}
        }
    }
    ratio
}

/// A complaint as its clocks read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintRow {
    pub reported_at: DateTime<Utc>,
    /// The first answer to the owner, or the close if that came first.
    pub responded_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Withdrawn by the owner.
    pub withdrawn: bool,
}

/// A complaint's two limits: the first response, and the reply that closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintLimits {
    pub first_response: Duration,
    pub reply: Duration,
}

impl ComplaintLimits {
    pub fn new(first_response_minutes: u32, reply_hours: u32) -> Self {
        Self {
            first_response: Duration::minutes(first_response_minutes.into()),
            reply: Duration::hours(reply_hours.into()),
        }
    }

    /// The longer of the two: how far before a period a complaint may have been made and
    /// still fall due in it.
    pub fn longest(&self) -> Duration {
        self.first_response.max(self.reply)
    }
}

/// The figures of kinds, urgency and the owner's side for one period (see the module
/// docs for what each counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindFigures {
    pub complaints: i64,
    pub first_response: Ratio,
    pub reply: Ratio,
    pub suggestions: i64,
    /// Urgent (A) repairs reported in the period.
    pub urgent: i64,
    /// Of those, still waiting to be taken.
    pub urgent_waiting: i64,
    /// Urgent (A) repairs first taken in the period: report to first take.
    pub urgent_take: Durations,
    pub hurry_ups: i64,
    pub cancelled: i64,
    pub repeats: Ratio,
}

impl KindFigures {
    /// The complaints' on-time rates from their rows (see [`ComplaintRow`]).
    pub fn set_complaint_clocks(
        &mut self,
        rows: &[ComplaintRow],
        limits: ComplaintLimits,
        period: Period,
        until: DateTime<Utc>,
    ) {
        let clock = |end: fn(&ComplaintRow) -> Option<DateTime<Utc>>| {
            rows.iter().map(move |r| Clock {
                start: r.reported_at,
                end: end(r),
                withdrawn: r.withdrawn,
            })
        };
        self.first_response = on_time(
            clock(|r| r.responded_at),
            limits.first_response,
            period,
            until,
        );
        self.reply = on_time(clock(|r| r.closed_at), limits.reply, period, until);
    }

    /// The median time to take of urgent repairs, from seconds in any order.
    pub fn set_urgent_take(&mut self, seconds: &mut [i64]) {
        self.urgent_take = Durations::from_seconds(seconds);
    }

    /// Whether anything of a complaint happened or fell due in the period.
    pub fn has_complaints(&self) -> bool {
        self.complaints > 0 || self.first_response.whole > 0 || self.reply.whole > 0
    }

    /// Whether an urgent repair was reported or taken in the period.
    pub fn has_urgent(&self) -> bool {
        self.urgent > 0 || self.urgent_take.count > 0
    }

    /// Whether there is nothing to show at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        format!("2026-11-{s}:00Z")
            .replace(' ', "T")
            .parse()
            .unwrap()
    }

    fn day(d: &str) -> Period {
        Period::new(
            at(&format!("{d} 00:00")),
            at(&format!("{d} 23:59")) + Duration::minutes(1),
        )
        .unwrap()
    }

    fn clock(start: &str, end: Option<&str>) -> Clock {
        Clock {
            start: at(start),
            end: end.map(at),
            withdrawn: false,
        }
    }

    const TWO_HOURS: Duration = Duration::hours(2);

    #[test]
    fn a_clock_met_within_its_limit_is_on_time_in_the_period_it_was_met() {
        let c = clock("10 09:00", Some("10 11:00"));
        let until = at("12 00:00");
        // Exactly on the limit is on time.
        assert_eq!(c.verdict(TWO_HOURS, day("10"), until), Verdict::OnTime);
        assert_eq!(c.verdict(TWO_HOURS, day("09"), until), Verdict::Elsewhere);
        let late = clock("10 09:00", Some("10 11:01"));
        assert_eq!(late.verdict(TWO_HOURS, day("10"), until), Verdict::Late);
        // Met the next day: late there, nothing on the day it was due.
        let next = clock("10 23:00", Some("11 08:00"));
        assert_eq!(
            next.verdict(TWO_HOURS, day("10"), until),
            Verdict::Elsewhere
        );
        assert_eq!(next.verdict(TWO_HOURS, day("11"), until), Verdict::Late);
    }

    #[test]
    fn an_unmet_clock_is_late_once_its_deadline_passed_and_not_before() {
        let open = clock("10 09:00", None);
        // Due at 11:00 on the 10th.
        assert_eq!(
            open.verdict(TWO_HOURS, day("10"), at("11 00:00")),
            Verdict::Late
        );
        // The figures of the 10th made at 10:30: not due yet.
        assert_eq!(
            open.verdict(TWO_HOURS, day("10"), at("10 10:30")),
            Verdict::Elsewhere
        );
        // Due just before the end of a day: late that day; due after it: the next day.
        let evening = clock("10 22:30", None);
        assert_eq!(
            evening.verdict(TWO_HOURS, day("10"), at("12 00:00")),
            Verdict::Elsewhere
        );
        assert_eq!(
            evening.verdict(TWO_HOURS, day("11"), at("12 00:00")),
            Verdict::Late
        );
        // Withdrawn unmet: owed nothing.
        let withdrawn = Clock {
            withdrawn: true,
            ..open
        };
        assert_eq!(
            withdrawn.verdict(TWO_HOURS, day("10"), at("12 00:00")),
            Verdict::Elsewhere
        );
    }

    #[test]
    fn the_on_time_share_counts_each_clock_once_across_periods() {
        let clocks = [
            clock("10 08:00", Some("10 09:00")), // on time on the 10th
            clock("10 08:00", Some("10 12:00")), // late on the 10th
            clock("10 08:00", None),             // due 10:00 on the 10th: late
            clock("10 23:00", Some("11 00:30")), // on time on the 11th
            clock("11 23:30", None),             // due 01:30 on the 12th: not yet
        ];
        let until = at("12 00:00");
        let tenth = on_time(clocks, TWO_HOURS, day("10"), until);
        assert_eq!(tenth, Ratio::new(1, 3));
        let eleventh = on_time(clocks, TWO_HOURS, day("11"), until);
        assert_eq!(eleventh, Ratio::new(1, 1));
        let both = Period::new(at("10 00:00"), at("12 00:00")).unwrap();
        assert_eq!(on_time(clocks, TWO_HOURS, both, until), Ratio::new(2, 4));
        assert_eq!(
            on_time([], TWO_HOURS, both, until).percent(),
            None,
            "nothing to divide by: no rate"
        );
    }

    #[test]
    fn complaint_clocks_are_the_first_response_and_the_close() {
        let limits = ComplaintLimits::new(120, 48);
        assert_eq!(limits.longest(), Duration::hours(48));
        let rows = [
            // Answered after 1 h, closed after 30 h: both on time.
            ComplaintRow {
                reported_at: at("02 08:00"),
                responded_at: Some(at("02 09:00")),
                closed_at: Some(at("03 14:00")),
                withdrawn: false,
            },
            // Answered after 3 h (late), still open past 48 h (late).
            ComplaintRow {
                reported_at: at("04 08:00"),
                responded_at: Some(at("04 11:00")),
                closed_at: None,
                withdrawn: false,
            },
            // Never answered: late on both when due.
            ComplaintRow {
                reported_at: at("20 08:00"),
                responded_at: None,
                closed_at: None,
                withdrawn: false,
            },
        ];
        let november = Period::new(at("01 00:00"), at("30 23:59")).unwrap();
        let mut k = KindFigures::default();
        // As of the 21st 09:00: the third is past its first response (10:00 on the 20th)
        // but not past its reply (08:00 on the 22nd).
        k.set_complaint_clocks(&rows, limits, november, at("21 09:00"));
        assert_eq!(k.first_response, Ratio::new(1, 3));
        assert_eq!(k.reply, Ratio::new(1, 2));
        k.set_complaint_clocks(&rows, limits, november, november.to);
        assert_eq!(k.reply, Ratio::new(1, 3));
        assert!(k.has_complaints());
    }

    #[test]
    fn the_urgent_median_takes_the_nearest_rank() {
        let mut k = KindFigures::default();
        assert!(!k.has_urgent() && k.is_empty());
        // 4, 2, 30 and 6 minutes: ranks ⌈0.5·4⌉ = 2 and ⌈0.9·4⌉ = 4.
        k.set_urgent_take(&mut [240, 120, 1800, 360]);
        assert_eq!(k.urgent_take.count, 4);
        assert_eq!(k.urgent_take.median, Some(Duration::minutes(4)));
        assert_eq!(k.urgent_take.p90, Some(Duration::minutes(30)));
        assert!(k.has_urgent() && !k.is_empty());
    }
}
