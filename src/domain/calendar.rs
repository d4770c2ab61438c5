//! Business hours (`[business_hours]`): the working days, the opening hours and the
//! holidays (the dates of `[holidays]`), and the clock arithmetic over them: a deadline
//! `d` of working time after a start counts only the time the office is open.
//!
//! Pure and zone-aware: the hours are local times in the configured zone, so a day of a
//! daylight-saving change is as long as the clock on the wall says (a local time that
//! does not exist that day is taken as the first moment after the gap).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Working days and hours. `close` is after `open` on the same day (no night shifts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday first.
    pub days: [bool; 7],
    pub open: NaiveTime,
    pub close: NaiveTime,
}

/// The three-letter day names `[business_hours] days` takes, Monday first.
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl BusinessHours {
    /// `days` as names (`"mon"` … `"sun"`, any case), `open` and `close` as `"HH:MM"`.
    /// The error says what is wrong, for the configuration's message.
    pub fn parse(days: &[String], open: &str, close: &str) -> Result<Self, String> {
        let mut set = [false; 7];
        for day in days {
            let d = day.trim().to_lowercase();
            let i = DAY_NAMES
                .iter()
                .position(|n| *n == d)
                .ok_or_else(|| format!("days: {day:?} is not a day (mon, tue, … sun)"))?;
            set[i] = true;
        }
        if !set.contains(&true) {
            return Err("days: name at least one working day".into());
        }
        let time = |key: &str, s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("{key}: {s:?} is not a time as \"HH:MM\" (e.g. \"08:30\")"))
        };
        let (open, close) = (time("open", open)?, time("close", close)?);
        if close <= open {
            return Err(format!(
                "close ({close}) must be after open ({open}) on the same day",
                close = close.format("%H:%M"),
                open = open.format("%H:%M")
            ));
        }
        Ok(Self {
            days: set,
            open,
            close,
        })
    }

    /// The working days as names, Monday first.
    pub fn day_names(&self) -> Vec<String> {
        DAY_NAMES
            .iter()
            .zip(self.days)
            .filter(|(_, on)| *on)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }

    fn works_on(&self, day: Weekday) -> bool {
        self.days[day.num_days_from_monday() as usize]
    }
}

/// When the office is open: business hours (none: always), holidays, the zone.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    pub hours: Option<&'a BusinessHours>,
    /// `"MM-DD"` (every year) or `"YYYY-MM-DD"` keys; the office is closed on them.
    pub holidays: &'a BTreeMap<String, String>,
    pub zone: Tz,
}

/// How many days ahead an open day is looked for before giving up (a calendar with
/// every working day a holiday): then the time runs day and night.
const SEARCH_DAYS: i64 = 400;

impl Calendar<'_> {
    /// Whether the office works on `date` (a working day that is no holiday).
    pub fn is_open_day(&self, date: NaiveDate) -> bool {
        let Some(hours) = self.hours else {
            return true;
        };
        let exact = date.format("%Y-%m-%d").to_string();
        let yearly = format!("{:02}-{:02}", date.month(), date.day());
        hours.works_on(date.weekday())
            && !self.holidays.contains_key(&exact)
            && !self.holidays.contains_key(&yearly)
    }

    /// `work` of working time after `start`: with no business hours, `start + work`; else
    /// the moment the office has been open for `work` since `start` (a start outside the
    /// hours counts from the next opening). Never before `start`.
    pub fn add(&self, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        let Some(hours) = self.hours else {
            return start + work;
        };
        let mut left = work.max(Duration::zero());
        let mut cursor = start;
        let mut date = start.with_timezone(&self.zone).date_naive();
        for _ in 0..SEARCH_DAYS {
            if self.is_open_day(date) {
                let open = local(self.zone, date, hours.open);
                let close = local(self.zone, date, hours.close);
                cursor = cursor.max(open);
                if cursor < close {
                    let available = close - cursor;
                    if left <= available {
                        return cursor + left;
                    }
                    left -= available;
                }
            }
            date = date.succ_opt().unwrap_or(date);
            cursor = cursor.max(local(self.zone, date, NaiveTime::MIN));
        }
        start + work
    }
}

/// `time` on `date` in `zone`, as UTC: the earlier of two when the clock went back, the
/// first moment after the gap when it went forward.
fn local(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    for minutes in (0..=180).step_by(15) {
        if let Some(t) = zone
            .from_local_datetime(&(naive + Duration::minutes(minutes)))
            .earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&naive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hours() -> BusinessHours {
        let days: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat"]
            .map(String::from)
            .to_vec();
        BusinessHours::parse(&days, "08:30", "18:00").unwrap()
    }

    fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn calendar<'a>(
        hours: &'a BusinessHours,
        holidays: &'a BTreeMap<String, String>,
        zone: Tz,
    ) -> Calendar<'a> {
        Calendar {
            hours: Some(hours),
            holidays,
            zone,
        }
    }

    #[test]
    fn without_business_hours_time_runs_day_and_night() {
        let none = BTreeMap::new();
        let always = Calendar {
            hours: None,
            holidays: &none,
            zone: chrono_tz::Asia::Shanghai,
        };
        let start = shanghai(2026, 12, 4, 17, 55);
        assert_eq!(
            always.add(start, Duration::minutes(10)),
            start + Duration::minutes(10)
        );
    }

    #[test]
    fn within_the_hours_it_is_plain_addition() {
        let (h, none) = (hours(), BTreeMap::new());
        let c = calendar(&h, &none, chrono_tz::Asia::Shanghai);
        let start = shanghai(2026, 12, 1, 10, 0);
        assert_eq!(
            c.add(start, Duration::minutes(30)),
            shanghai(2026, 12, 1, 10, 30)
        );
    }

    #[test]
    fn friday_evening_carries_over_to_saturday_and_saturday_to_monday() {
        let (h, none) = (hours(), BTreeMap::new());
        let c = calendar(&h, &none, chrono_tz::Asia::Shanghai);
        // Friday 4 December 2026, 17:55: 5 minutes left that day, 5 more on Saturday.
        assert_eq!(
            c.add(shanghai(2026, 12, 4, 17, 55), Duration::minutes(10)),
            shanghai(2026, 12, 5, 8, 35)
        );
        // Saturday 17:00 with 2 hours: 1 hour Saturday, Sunday closed, 1 hour Monday.
        assert_eq!(
            c.add(shanghai(2026, 12, 5, 17, 0), Duration::hours(2)),
            shanghai(2026, 12, 7, 9, 30)
        );
    }

    #[test]
    fn a_night_start_counts_from_the_next_opening() {
        let (h, none) = (hours(), BTreeMap::new());
        let c = calendar(&h, &none, chrono_tz::Asia::Shanghai);
        assert_eq!(
            c.add(shanghai(2026, 12, 1, 2, 0), Duration::minutes(10)),
            shanghai(2026, 12, 1, 8, 40)
        );
        assert_eq!(
            c.add(shanghai(2026, 12, 1, 23, 0), Duration::minutes(10)),
            shanghai(2026, 12, 2, 8, 40)
        );
    }

    #[test]
    fn holidays_are_skipped_yearly_and_dated() {
        let h = hours();
        let mut holidays = BTreeMap::new();
        holidays.insert("01-01".to_owned(), "New Year".to_owned());
        holidays.insert("2027-01-02".to_owned(), "bridge day".to_owned());
        let c = calendar(&h, &holidays, chrono_tz::Asia::Shanghai);
        // Thursday 31 Dec 17:50 + 30 min: 10 that day, Fri 1 and Sat 2 closed, Sun closed.
        assert_eq!(
            c.add(shanghai(2026, 12, 31, 17, 50), Duration::minutes(30)),
            shanghai(2027, 1, 4, 8, 50)
        );
        assert!(!c.is_open_day(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()));
        assert!(c.is_open_day(NaiveDate::from_ymd_opt(2028, 1, 3).unwrap()));
    }

    #[test]
    fn a_day_of_the_dst_change_is_as_long_as_the_wall_clock_says() {
        // Europe/Berlin: clocks went forward at 02:00 on Sunday 29 March 2026.
        let days: Vec<String> = DAY_NAMES.map(String::from).to_vec();
        let h = BusinessHours::parse(&days, "01:00", "05:00").unwrap();
        let none = BTreeMap::new();
        let berlin = chrono_tz::Europe::Berlin;
        let c = calendar(&h, &none, berlin);
        let start = berlin
            .with_ymd_and_hms(2026, 3, 29, 1, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        // 01:00–05:00 local that day is 3 real hours; the fourth is Monday 01:00–02:00.
        let due = c.add(start, Duration::hours(4));
        assert_eq!(
            due,
            berlin
                .with_ymd_and_hms(2026, 3, 30, 2, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        let days = vec!["mon".to_owned()];
        assert!(BusinessHours::parse(&days, "18:00", "08:30").is_err());
        assert!(BusinessHours::parse(&days, "8h", "18:00").is_err());
        assert!(BusinessHours::parse(&["sunday".to_owned()], "08:00", "18:00").is_err());
        assert!(BusinessHours::parse(&[], "08:00", "18:00").is_err());
        assert_eq!(
            BusinessHours::parse(&["MON".to_owned(), "fri".to_owned()], "08:00", "18:00")
                .unwrap()
                .day_names(),
            vec!["mon", "fri"]
        );
    }

    /// Working time between `a` and `b` (a ≤ b), minute by minute.
    fn open_minutes(c: &Calendar<'_>, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        let h = c.hours.unwrap();
        let mut n = 0;
        let mut t = a;
        while t < b {
            let l = t.with_timezone(&c.zone);
            if c.is_open_day(l.date_naive()) && l.time() >= h.open && l.time() < h.close {
                n += 1;
            }
            t += Duration::minutes(1);
        }
        n
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_deadline_is_never_before_its_start_and_holds_exactly_the_work(
            start_min in 0i64..(60 * 24 * 400),
            work in 1i64..(60 * 30),
            berlin in any::<bool>(),
            saturday in any::<bool>(),
        ) {
            let mut days: Vec<String> = ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec();
            if saturday {
                days.push("sat".into());
            }
            let h = BusinessHours::parse(&days, "08:30", "18:00").unwrap();
            let mut holidays = BTreeMap::new();
            holidays.insert("10-01".to_owned(), "National Day".to_owned());
            holidays.insert("2026-03-30".to_owned(), "x".to_owned());
            let zone = if berlin { chrono_tz::Europe::Berlin } else { chrono_tz::Asia::Shanghai };
            let c = calendar(&h, &holidays, zone);
            let start = shanghai(2026, 1, 1, 0, 0) + Duration::minutes(start_min);
            let due = c.add(start, Duration::minutes(work));
            prop_assert!(due >= start + Duration::minutes(work));
            prop_assert_eq!(open_minutes(&c, start, due), work);
            // The deadline falls in the hours of an open day (its last minute).
            let l = (due - Duration::minutes(1)).with_timezone(&zone);
            prop_assert!(c.is_open_day(l.date_naive()));
            prop_assert!(l.time() >= h.open && l.time() < h.close);
        }
    }
}
