//! Scheduled messages, driven by time rather than by updates.
//!
//! Two kinds of job:
//!
//! - **Calendar jobs** ([`Job::MorningGreeting`], [`Job::DailySummary`]) fire at the times of
//!   a cron expression from the configuration (seconds first), read as wall-clock times in
//!   the configured time zone. Each time is *claimed* in `job_runs` (`INSERT OR IGNORE`) in
//!   the transaction that writes the job's outbox rows, so it fires once: if Butler dies
//!   before the commit nothing happened and the time is still due; after it, the outbox
//!   delivers. Two processes on one database cannot both win the claim.
//! - **Sweeps** ([`Job::SlaWatch`] every minute, [`Job::RatingReminders`] every ten minutes)
//!   look at the tickets and send what has become due. Every alert they send is recorded
//!   per ticket in the same transaction, so a sweep may run any number of times, after
//!   any downtime, and still sends each alert once. [`Job::Retention`] (every ten
//!   minutes) sends nothing: it prunes old handled updates and sent messages.
//!
//! After a restart, the scheduler looks back from the latest claimed time of each calendar
//! job. The most recent missed time still within `schedule.catch_up_minutes` runs at once;
//! a missed time older than that is skipped, logged and recorded as skipped. A job that
//! has never fired looks back over the catch-up window only.
//!
//! On the days the clocks change, a wall-clock time fires once: a time that happens twice
//! fires at its first occurrence, a time the clocks jump over fires at the jump (see
//! [`crate::domain::daily::first_instant_at`]).
//!
//! [`Scheduler::tick`] does all of this for one instant and is what tests drive;
//! [`run_scheduler`] calls it in a loop with [`App::now`].

pub mod greeting;
pub mod rating;
pub mod retention;
pub mod sla;
pub mod summary;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::app::{App, AppRef};
use crate::config::CronSpec;
use crate::domain::daily::{first_instant_at, local_date};
use crate::outbox::Outgoing;
use crate::store::{self, JobOutcome};

/// A time is "on time", not missed, when the scheduler is at most this late for it, even
/// with `catch_up_minutes = 0`.
const ON_TIME: Duration = Duration::seconds(60);

/// The longest the loop sleeps, so that a changed clock is noticed soon.
const MAX_PAUSE: StdDuration = StdDuration::from_secs(5);
/// The shortest, so that a job that keeps failing cannot spin the loop.
const MIN_PAUSE: StdDuration = StdDuration::from_millis(100);

/// When the sweeps run (in UTC: they keep their rhythm when the clocks change).
const SLA_WATCH_CRON: &str = "0 * * * * *";
const RATING_REMINDERS_CRON: &str = "0 */10 * * * *";
/// Five minutes after the rating reminders, so the two do not meet.
const RETENTION_CRON: &str = "0 5/10 * * * *";

/// Everything the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// `schedule.morning_greeting`: each active owner group.
    MorningGreeting,
    /// `schedule.daily_summary`: the staff chat.
    DailySummary,
    /// `schedule.monthly_report`: the staff chat and each manager.
    MonthlyReport,
    /// Every minute: SLA alerts.
    SlaWatch,
    /// Every ten minutes: rating reminders and expiry.
    RatingReminders,
    /// Every ten minutes: old handled updates and sent messages pruned.
    Retention,
}

impl Job {
    pub const CALENDAR: [Job; 3] = [Job::MorningGreeting, Job::DailySummary, Job::MonthlyReport];
    pub const SWEEPS: [Job; 3] = [Job::SlaWatch, Job::RatingReminders, Job::Retention];

    /// The name in `job_runs` and in log lines.
    pub fn name(self) -> &'static str {
        match self {
            Job::MorningGreeting => "morning_greeting",
            Job::DailySummary => "daily_summary",
            Job::MonthlyReport => "monthly_report",
            Job::SlaWatch => "sla_watch",
            Job::RatingReminders => "rating_reminders",
            Job::Retention => "retention",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A job that could not run (logged; a calendar job is tried again at the next tick).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Figures(#[from] crate::figures::Error),
}

/// What one [`Scheduler::tick`] did.
#[derive(Debug, Default, Clone)]
pub struct TickReport {
    /// Calendar jobs with the scheduled time they ran for; sweeps with the tick's time.
    pub ran: Vec<(Job, DateTime<Utc>)>,
    /// Calendar times missed outside the catch-up window.
    pub skipped: Vec<(Job, DateTime<Utc>)>,
    /// Outbox rows written.
    pub messages: usize,
    /// Jobs that failed (logged; a calendar job is tried again at the next tick).
    pub failures: Vec<(Job, String)>,
}

/// The first instant after `after` at which `spec` fires, reading its times as wall-clock
/// times in `tz`.
pub fn next_due(spec: &CronSpec, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // The cron crate walks wall-clock times (given as UTC, which has no clock changes);
    // each is mapped to the instant it fires at. That mapping never goes backwards, and a
    // wall-clock time not later than the wall clock at `after` fires at or before `after`,
    // so the first one past `after` is the answer.
    let wall_after = after.with_timezone(&tz).naive_local().and_utc();
    spec.schedule()
        .after(&wall_after)
        .map(|wall| first_instant_at(wall.naive_utc(), tz))
        .find(|t| *t > after)
}

/// The instants in `(after, until]` at which `spec` fires in `tz`, each once, in order.
pub fn due_times(
    spec: &CronSpec,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut cursor = after;
    while let Some(t) = next_due(spec, tz, cursor).filter(|t| *t <= until) {
        out.push(t);
        cursor = t;
    }
    out
}

/// The last instant at or before `at` at which `spec` fires in `tz`.
pub fn latest_due(spec: &CronSpec, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Going back from a little after the wall clock at `at` (the clocks may have gone
    // back up to a few hours), the first wall-clock time that fires by `at` is the latest.
    let start = at.with_timezone(&tz).naive_local().and_utc() + Duration::hours(3);
    spec.schedule()
        .after(&start)
        .rev()
        .map(|wall| first_instant_at(wall.naive_utc(), tz))
        .find(|t| *t <= at)
}

/// The scheduler's memory between ticks: when each sweep last ran. Calendar jobs keep
/// theirs in the database.
pub struct Scheduler {
    sla_watch: CronSpec,
    rating_reminders: CronSpec,
    retention: CronSpec,
    swept: HashMap<Job, DateTime<Utc>>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    pub fn new() -> Self {
        let spec = |s| CronSpec::parse(s).expect("the sweeps' cron expressions are valid");
        Self {
            sla_watch: spec(SLA_WATCH_CRON),
            rating_reminders: spec(RATING_REMINDERS_CRON),
            retention: spec(RETENTION_CRON),
            swept: HashMap::new(),
        }
    }

    /// The cron expression and time zone of a job.
    fn schedule<'a>(&'a self, app: &'a App, job: Job) -> (&'a CronSpec, Tz) {
        match job {
            Job::MorningGreeting => (
                &app.settings.schedule.morning_greeting,
                app.settings.timezone,
            ),
            Job::DailySummary => (&app.settings.schedule.daily_summary, app.settings.timezone),
            Job::MonthlyReport => (&app.settings.schedule.monthly_report, app.settings.timezone),
            Job::SlaWatch => (&self.sla_watch, Tz::UTC),
            Job::RatingReminders => (&self.rating_reminders, Tz::UTC),
            Job::Retention => (&self.retention, Tz::UTC),
        }
    }

    /// Runs everything due at `now`: calendar times not yet claimed (or records them as
    /// skipped), and the sweeps whose time has come since they last ran (all of them on
    /// the first tick). Failures are logged and reported, never fatal.
    pub async fn tick(&mut self, app: &App, now: DateTime<Utc>) -> TickReport {
        let mut report = TickReport::default();
        for job in Job::CALENDAR {
            if let Err(e) = self.calendar_job(app, job, now, &mut report).await {
                tracing::error!(%job, error = %e, "scheduled job failed; trying again shortly");
                report.failures.push((job, e.to_string()));
            }
        }
        for job in Job::SWEEPS {
            let (spec, tz) = self.schedule(app, job);
            let due = match self.swept.get(&job) {
                None => true,
                // A clock set back runs the sweep rather than waiting for the old time.
                Some(&last) => last > now || next_due(spec, tz, last).is_some_and(|t| t <= now),
            };
            if !due {
                continue;
            }
            // Recorded even on failure: the next regular time tries again.
            self.swept.insert(job, now);
            let result = match job {
                Job::SlaWatch => sla::sweep(app, now).await,
                Job::Retention => retention::sweep(app, now).await.map(|_| 0),
                _ => rating::sweep(app, now).await,
            };
            match result {
                Ok(n) => {
                    report.ran.push((job, now));
                    report.messages += n;
                }
                Err(e) => {
                    tracing::error!(%job, error = %e, "sweep failed");
                    report.failures.push((job, e.to_string()));
                }
            }
        }
        report
    }

    async fn calendar_job(
        &self,
        app: &App,
        job: Job,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), Error> {
        let (spec, tz) = self.schedule(app, job);
        let catch_up = Duration::minutes(app.settings.schedule.catch_up_minutes.into());
        let window_start = now - catch_up.max(ON_TIME);
        let last = app.store.last_job_time(job.name()).await?;
        if last.is_some_and(|l| l >= now) {
            return Ok(());
        }
        // Missed while Butler was down, too long ago to be worth sending: skipped once,
        // with a log line, and recorded so that the next start does not look again.
        if let Some(last) = last.filter(|l| *l < window_start)
            && let Some(missed) = latest_due(spec, tz, window_start).filter(|m| *m > last)
        {
            let mut tx = app.store.begin().await?;
            if tx
                .claim_job(job.name(), missed, JobOutcome::Skipped, now)
                .await?
            {
                tracing::warn!(
                    %job,
                    scheduled_for = %missed.with_timezone(&tz),
                    catch_up_minutes = app.settings.schedule.catch_up_minutes,
                    "missed while Butler was down, longer ago than the catch-up window: skipped"
                );
                report.skipped.push((job, missed));
            }
            tx.commit().await?;
        }
        let from = last.map_or(window_start, |l| l.max(window_start));
        let due = due_times(spec, tz, from, now);
        let Some((&latest, earlier)) = due.split_last() else {
            return Ok(());
        };
        for t in earlier {
            tracing::info!(%job, scheduled_for = %t.with_timezone(&tz), "superseded by a later time of the same job: not sent");
        }
        if let Some(n) = run_calendar_job(app, job, latest, now).await? {
            if latest < now - ON_TIME {
                tracing::info!(%job, scheduled_for = %latest.with_timezone(&tz), "caught up after a restart");
            }
            report.ran.push((job, latest));
            report.messages += n;
        }
        Ok(())
    }

    /// When the next job falls due after `now` (the loop sleeps until then, or less).
    pub fn next_wake(&self, app: &App, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let calendar = Job::CALENDAR.into_iter().filter_map(|job| {
            let (spec, tz) = self.schedule(app, job);
            next_due(spec, tz, now)
        });
        let sweeps = Job::SWEEPS.into_iter().filter_map(|job| {
            let (spec, tz) = self.schedule(app, job);
            next_due(spec, tz, self.swept.get(&job).copied().unwrap_or(now))
        });
        calendar.chain(sweeps).min()
    }
}

/// Claims `scheduled_for` of a calendar job and, only if this call won the claim, writes
/// its messages in the same transaction. The number of messages, or `None` when the
/// time was already handled (by an earlier run, another process, or before a restart).
pub async fn run_calendar_job(
    app: &App,
    job: Job,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<usize>, Error> {
    let mut tx = app.store.begin().await?;
    if !tx
        .claim_job(job.name(), scheduled_for, JobOutcome::Ran, now)
        .await?
    {
        return Ok(None); // dropped: rolled back
    }
    let date = local_date(scheduled_for, app.settings.timezone);
    let msgs: Vec<Outgoing> = match job {
        Job::MorningGreeting => greeting::messages(app, &mut tx, date).await?,
        Job::DailySummary => {
            // Each staff chat (the main one, each route's) gets its own tickets' summary.
            let mut msgs = Vec::new();
            for chat in app.settings.staff_chats() {
                let texts = summary::texts(app, &mut tx, date, now, chat).await?;
                msgs.extend(texts.into_iter().map(|text| Outgoing::text(chat, text)));
            }
            msgs
        }
        Job::MonthlyReport => {
            // Text, chart and workbook, written straight into this transaction.
            let written =
                crate::figures::enqueue_monthly_report(&app.store, &app.settings, &mut tx, now)
                    .await?;
            tx.commit().await?;
            tracing::info!(%job, scheduled_for = %scheduled_for, messages = written, "scheduled job ran");
            return Ok(Some(written));
        }
        Job::SlaWatch | Job::RatingReminders | Job::Retention => Vec::new(),
    };
    tx.enqueue_bulk(&msgs, now).await?;
    tx.commit().await?;
    tracing::info!(%job, scheduled_for = %scheduled_for, messages = msgs.len(), "scheduled job ran");
    Ok(Some(msgs.len()))
}

/// The scheduler's loop: ticks with [`App::now`], wakes the outbox when a tick wrote
/// messages, and sleeps until the next job is due (at most a few seconds) or until
/// [`App::scheduler_wake`] is notified, until `shutdown` completes. Spawned by
/// [`crate::run`] beside the outbox worker.
pub async fn run_scheduler(app: AppRef, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut scheduler = Scheduler::new();
    for job in Job::CALENDAR {
        let (spec, tz) = scheduler.schedule(&app, job);
        let next = next_due(spec, tz, app.now()).map(|t| t.with_timezone(&tz).to_string());
        tracing::info!(%job, cron = %spec, next = next.as_deref().unwrap_or("never"), "scheduled");
    }
    tracing::info!(timezone = %app.settings.timezone, "scheduler started");
    loop {
        let now = app.now();
        let report = scheduler.tick(&app, now).await;
        if report.messages > 0 {
            app.outbox.notify();
        }
        let pause = scheduler
            .next_wake(&app, now)
            .and_then(|next| (next - app.now()).to_std().ok())
            .unwrap_or(MAX_PAUSE)
            .clamp(MIN_PAUSE, MAX_PAUSE);
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(pause) => {}
            _ = app.scheduler_wake.notified() => {}
        }
    }
    tracing::info!("scheduler stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> CronSpec {
        CronSpec::parse(s).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_daily_time_is_due_once_a_day_in_the_configured_zone() {
        // 08:00 in Shanghai is 00:00 UTC; the 23rd's is the start of the interval, so out.
        let times = due_times(
            &spec("0 0 8 * * *"),
            Tz::Asia__Shanghai,
            at("2026-11-23T00:00:00Z"),
            at("2026-11-26T00:00:00Z"),
        );
        assert_eq!(
            times,
            vec![
                at("2026-11-24T00:00:00Z"),
                at("2026-11-25T00:00:00Z"),
                at("2026-11-26T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn the_interval_is_open_at_the_start_and_closed_at_the_end() {
        let s = spec("0 0 8 * * *");
        let eight = at("2026-11-24T00:00:00Z");
        assert!(due_times(&s, Tz::Asia__Shanghai, eight, eight).is_empty());
        assert_eq!(
            due_times(&s, Tz::Asia__Shanghai, eight - Duration::seconds(1), eight),
            vec![eight]
        );
        assert_eq!(
            next_due(&s, Tz::Asia__Shanghai, eight),
            Some(eight + Duration::days(1))
        );
        assert_eq!(latest_due(&s, Tz::Asia__Shanghai, eight), Some(eight));
        assert_eq!(
            latest_due(&s, Tz::Asia__Shanghai, eight - Duration::seconds(1)),
            Some(eight - Duration::days(1))
        );
    }

    /// Every time `spec` fires in `tz` from noon UTC the day before `day` to the end of
    /// `day` in UTC, as local wall-clock text.
    fn fires_around(s: &str, tz: Tz, day: &str) -> Vec<String> {
        let from = at(&format!("{day}T00:00:00Z")) - Duration::hours(12);
        let to = from + Duration::hours(36);
        due_times(&spec(s), tz, from, to)
            .into_iter()
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
            .collect()
    }

    #[test]
    fn berlin_spring_forward_fires_a_skipped_0230_once_at_the_jump() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
        assert_eq!(
            fires_around("0 30 2 * * *", Tz::Europe__Berlin, "2026-03-29"),
            vec!["2026-03-29 03:00 CEST"]
        );
    }

    #[test]
    fn berlin_fall_back_fires_a_repeated_0230_once() {
        // 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        assert_eq!(
            fires_around("0 30 2 * * *", Tz::Europe__Berlin, "2026-10-25"),
            vec!["2026-10-25 02:30 CEST"]
        );
    }

    #[test]
    fn new_york_spring_forward_fires_a_skipped_0230_once() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            fires_around("0 30 2 * * *", Tz::America__New_York, "2026-03-08"),
            vec!["2026-03-08 03:00 EDT"]
        );
    }

    #[test]
    fn new_york_fall_back_fires_a_repeated_0130_once() {
        // 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:30 happens twice.
        let fires = fires_around("0 30 1 * * *", Tz::America__New_York, "2026-11-01");
        assert_eq!(fires, vec!["2026-11-01 01:30 EDT"]);
    }

    #[test]
    fn checking_every_minute_through_a_fall_back_night_finds_each_time_once() {
        let s = spec("0 30 1 * * *");
        let tz = Tz::America__New_York;
        let mut t = at("2026-11-01T00:00:00Z");
        let mut fired = Vec::new();
        while t < at("2026-11-01T12:00:00Z") {
            let next = t + Duration::minutes(1);
            fired.extend(due_times(&s, tz, t, next));
            t = next;
        }
        assert_eq!(fired, vec![at("2026-11-01T05:30:00Z")]);
    }

    #[test]
    fn every_minute_keeps_its_rhythm_in_utc_through_a_clock_change() {
        let s = spec(SLA_WATCH_CRON);
        let from = at("2026-10-25T00:00:00Z");
        assert_eq!(
            due_times(&s, Tz::UTC, from, from + Duration::hours(3)).len(),
            180
        );
    }

    #[test]
    fn the_latest_time_before_a_repeated_hour_is_its_first_occurrence() {
        let s = spec("0 30 1 * * *");
        let tz = Tz::America__New_York;
        // 01:45 EST, in the repeated hour: the latest 01:30 is the EDT one.
        assert_eq!(
            latest_due(&s, tz, at("2026-11-01T06:45:00Z")),
            Some(at("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn a_time_that_never_comes_is_never_due() {
        let s = spec("0 0 8 1 1 * 2020");
        assert_eq!(next_due(&s, Tz::UTC, at("2026-01-01T00:00:00Z")), None);
        assert!(
            due_times(
                &s,
                Tz::UTC,
                at("2019-06-01T00:00:00Z"),
                at("2026-01-01T00:00:00Z")
            )
            .len()
                == 1
        );
    }
}
