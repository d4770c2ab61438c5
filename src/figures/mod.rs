//! Figures for managers: the `/stats` text, the weekly [`chart`], the [`export`] and the
//! monthly report. The numbers come from the store (`Tx::figures` and friends, all SQL);
//! this module only chooses periods and puts the numbers into words, sheets and pictures.

pub mod chart;
pub mod export;
pub mod kinds;

use chrono::{DateTime, Duration, Utc};

use crate::config::Settings;
use crate::domain::dispatch::StaffDispatch;
use crate::domain::figures::{
    CategoryCount, Durations, Figures, PausedTime, Period, Ratio, Scope, StaffFigures,
};
use crate::domain::text::fit_utf16;
use crate::i18n::{self, Locale, t};
use crate::outbox::Outgoing;
use crate::store::{self, Store, Tx};

/// Weeks on the trend chart.
pub const CHART_WEEKS: u32 = 12;
/// Categories named in the headline.
const TOP_CATEGORIES: usize = 5;
/// Staff lines in a message before "and N more".
const STAFF_LINES: usize = 40;
/// Telegram's limits: a message's text and a caption, in UTF-16 units.
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;

/// Something that went wrong while making figures: ours to log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("chart: {0}")]
    Chart(#[from] chart::ChartError),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The figures of one period: the headline, the categories and the staff.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub period: Period,
    pub figures: Figures,
    pub categories: Vec<CategoryCount>,
    pub staff: Vec<StaffFigures>,
    /// Each staff member's takes by themselves, assignments, transfers and returns.
    pub dispatch: Vec<StaffDispatch>,
}

/// Reads the overview of `period` (for `/stats` and the monthly report), outside any
/// transaction: a month's figures on two connections at once (see `Store::overview`).
pub async fn overview(
    store: &Store,
    period: Period,
    settings: &Settings,
) -> Result<Overview, store::Error> {
    overview_of(store, period, Scope::all(), settings).await
}

/// [`overview`] of the tickets in `scope` (an owner group, a category, a staff member:
/// the console's figures); the dispatch lines only for all tickets.
pub async fn overview_of(
    store: &Store,
    period: Period,
    scope: Scope,
    settings: &Settings,
) -> Result<Overview, store::Error> {
    let read = store
        .overview(period, scope, settings.sla.take_minutes, TOP_CATEGORIES)
        .await?;
    let mut overview = Overview::of(period, read);
    if scope == Scope::all() {
        overview.dispatch = store.dispatch_figures(period).await?;
    }
    Ok(overview)
}

impl Overview {
    fn of(period: Period, (figures, staff, categories): store::OverviewParts) -> Self {
        Overview {
            period,
            figures,
            categories,
            staff,
            dispatch: Vec::new(),
        }
    }
}

/// A duration as people read it ([`crate::i18n::duration`]), or a dash when there is none.
pub fn duration_text(d: Option<Duration>, locale: Locale) -> String {
    match d {
        Some(d) => crate::i18n::duration(locale, d),
        None => t(locale, "stats.none", &[]),
    }
}

fn rate(r: Ratio, locale: Locale) -> String {
    r.percent().unwrap_or_else(|| t(locale, "stats.none", &[]))
}

fn average(f: &Figures, locale: Locale) -> String {
    f.average_score()
        .map_or_else(|| t(locale, "stats.none", &[]), |a| format!("{a:.1}"))
}

fn ratio_line(key: &str, r: Ratio, locale: Locale, extra: &[(&str, &str)]) -> String {
    let (part, whole) = (r.part.to_string(), r.whole.to_string());
    let mut args = vec![("rate", rate(r, locale)), ("part", part), ("whole", whole)];
    args.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t(locale, key, &args)
}

fn durations_line(key: &str, d: &Durations, locale: Locale) -> String {
    t(
        locale,
        key,
        &[
            ("median", &duration_text(d.median, locale)),
            ("p90", &duration_text(d.p90, locale)),
        ],
    )
}

/// The paused time, when any ticket done was paused (most offices rarely pause).
fn paused_line(p: &PausedTime, locale: Locale) -> Option<String> {
    (p.tickets() > 0).then(|| {
        t(
            locale,
            "stats.paused",
            &[
                ("total", &duration_text(Some(p.total), locale)),
                ("median", &duration_text(p.per_ticket.median, locale)),
                ("p90", &duration_text(p.per_ticket.p90, locale)),
                ("count", &p.tickets().to_string()),
            ],
        )
    })
}

/// A total paused time, or "—" for none.
fn paused_total(p: &PausedTime, locale: Locale) -> String {
    let none = p.tickets() == 0;
    duration_text((!none).then_some(p.total), locale)
}

/// The headline figures, one per line.
pub fn headline(f: &Figures, locale: Locale, take_minutes: u32) -> Vec<String> {
    let mut lines = vec![t(
        locale,
        "stats.volume",
        &[
            ("reported", &f.reported.to_string()),
            ("taken", &f.taken().to_string()),
            ("done", &f.done().to_string()),
        ],
    )];
    if f.ratings() == 0 {
        lines.push(t(locale, "stats.no_ratings", &[]));
    } else {
        lines.push(ratio_line(
            "stats.satisfaction",
            f.satisfaction,
            locale,
            &[("average", &average(f, locale))],
        ));
    }
    lines.push(ratio_line("stats.coverage", f.coverage, locale, &[]));
    lines.push(ratio_line(
        "stats.on_time",
        f.on_time_take,
        locale,
        &[(
            "minutes",
            &crate::i18n::minutes(locale, take_minutes.into()),
        )],
    ));
    lines.push(durations_line(
        "stats.time_to_take",
        &f.time_to_take,
        locale,
    ));
    lines.push(durations_line(
        "stats.time_to_done",
        &f.time_to_done,
        locale,
    ));
    lines.extend(paused_line(&f.paused, locale));
    lines.push(ratio_line(
        "stats.first_time_fix",
        f.first_time_fix,
        locale,
        &[],
    ));
    lines.push(t(
        locale,
        "stats.follow_ups",
        &[
            ("opened", &f.follow_ups_opened.to_string()),
            ("closed", &f.follow_ups_closed.to_string()),
            ("raised", &f.low_scores_raised.to_string()),
        ],
    ));
    lines
}

/// The top categories and the staff table.
fn breakdown(o: &Overview, locale: Locale) -> Vec<String> {
    let mut lines = Vec::new();
    if !o.categories.is_empty() {
        let list: Vec<String> = o
            .categories
            .iter()
            .map(|c| format!("{} {}", i18n::category_name(locale, c.category), c.reported))
            .collect();
        lines.push(t(
            locale,
            "stats.top_categories",
            &[(
                "list",
                &list.join(t(locale, "stats.separator", &[]).as_str()),
            )],
        ));
    }
    if !o.staff.is_empty() {
        lines.push(String::new());
        lines.push(t(locale, "stats.staff_heading", &[]));
        for s in o.staff.iter().take(STAFF_LINES) {
            let f = &s.figures;
            lines.push(t(
                locale,
                "stats.staff_line",
                &[
                    ("name", &s.name),
                    ("taken", &f.taken().to_string()),
                    ("done", &f.done().to_string()),
                    ("average", &average(f, locale)),
                    ("praise", &f.praise.to_string()),
                    ("paused", &paused_total(&f.paused, locale)),
                ],
            ));
        }
        if o.staff.len() > STAFF_LINES {
            lines.push(t(
                locale,
                "list.more",
                &[("count", &(o.staff.len() - STAFF_LINES).to_string())],
            ));
        }
    }
    lines
}

/// The dispatch table, when anyone was assigned, transferred or returned a ticket.
fn dispatch_lines(rows: &[StaffDispatch], locale: Locale) -> Vec<String> {
    if rows
        .iter()
        .all(|r| r.assigned + r.transferred + r.returned == 0)
    {
        return Vec::new();
    }
    let mut lines = vec![String::new(), t(locale, "stats.dispatch_heading", &[])];
    for r in rows.iter().take(STAFF_LINES) {
        lines.push(t(
            locale,
            "stats.dispatch_line",
            &[
                ("name", &r.name),
                ("own", &r.self_taken.to_string()),
                ("assigned", &r.assigned.to_string()),
                ("transferred", &r.transferred.to_string()),
                ("returned", &r.returned.to_string()),
            ],
        ));
    }
    lines
}

fn date_range(period: Period, settings: &Settings) -> (String, String) {
    let (first, last) = period.local_dates(settings.timezone);
    (first.to_string(), last.to_string())
}

/// The `/stats` answer for the `days` days up to the overview's end; `extra` lines (the
/// repeat-repair rate, see [`kinds`]) go after the headline figures.
pub fn stats_text(
    o: &Overview,
    days: u32,
    locale: Locale,
    settings: &Settings,
    extra: &[String],
) -> String {
    let (from, to) = date_range(o.period, settings);
    let mut lines = vec![t(
        locale,
        "stats.heading",
        &[("from", &from), ("to", &to), ("days", &days.to_string())],
    )];
    if o.figures == Figures::default() {
        lines.push(t(locale, "stats.nothing", &[]));
    } else {
        lines.extend(headline(&o.figures, locale, settings.sla.take_minutes));
        lines.extend(extra.iter().cloned());
        lines.extend(breakdown(o, locale));
        lines.extend(dispatch_lines(&o.dispatch, locale));
    }
    fit_utf16(&lines.join("\n"), TEXT_LIMIT)
}

/// The weekly chart of the [`CHART_WEEKS`] weeks up to `now`, as PNG bytes.
pub async fn weekly_chart(
    tx: &mut Tx<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
    locale: Locale,
) -> Result<Vec<u8>, Error> {
    weekly_chart_of(tx, settings, now, locale, Scope::all()).await
}

/// [`weekly_chart`] of the tickets in `scope`.
pub async fn weekly_chart_of(
    tx: &mut Tx<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
    locale: Locale,
    scope: Scope,
) -> Result<Vec<u8>, Error> {
    let weeks = Period::weeks_back(now, settings.timezone, CHART_WEEKS);
    let points = tx.weekly(&weeks, scope).await?;
    Ok(chart::weekly_chart(&points, locale)?)
}

/// The XLSX export of `period` and its file name.
pub async fn xlsx_export(
    tx: &mut Tx<'_>,
    settings: &Settings,
    period: Period,
    locale: Locale,
) -> Result<(Vec<u8>, String), Error> {
    let sheets = export::sheets(
        tx,
        period,
        settings.sla.take_minutes,
        locale,
        settings.timezone,
    )
    .await?;
    Ok((
        export::xlsx(&sheets)?,
        export::file_name(period, settings.timezone, "xlsx"),
    ))
}

/// Each headline figure of a month and of the month before: (locale key, now, before).
fn comparison_rows(
    now: &Figures,
    before: &Figures,
    locale: Locale,
) -> [(&'static str, String, String); 13] {
    [
        (
            "figure.reported",
            now.reported.to_string(),
            before.reported.to_string(),
        ),
        (
            "figure.done",
            now.done().to_string(),
            before.done().to_string(),
        ),
        (
            "figure.satisfaction",
            rate(now.satisfaction, locale),
            rate(before.satisfaction, locale),
        ),
        (
            "figure.average_score",
            average(now, locale),
            average(before, locale),
        ),
        (
            "figure.coverage",
            rate(now.coverage, locale),
            rate(before.coverage, locale),
        ),
        (
            "figure.on_time_take",
            rate(now.on_time_take, locale),
            rate(before.on_time_take, locale),
        ),
        (
            "figure.median_take",
            duration_text(now.time_to_take.median, locale),
            duration_text(before.time_to_take.median, locale),
        ),
        (
            "figure.median_done",
            duration_text(now.time_to_done.median, locale),
            duration_text(before.time_to_done.median, locale),
        ),
        (
            "figure.p90_done",
            duration_text(now.time_to_done.p90, locale),
            duration_text(before.time_to_done.p90, locale),
        ),
        (
            "figure.paused",
            paused_total(&now.paused, locale),
            paused_total(&before.paused, locale),
        ),
        (
            "figure.first_time_fix",
            rate(now.first_time_fix, locale),
            rate(before.first_time_fix, locale),
        ),
        (
            "figure.follow_ups",
            format!("{}/{}", now.follow_ups_opened, now.follow_ups_closed),
            format!("{}/{}", before.follow_ups_opened, before.follow_ups_closed),
        ),
        (
            "figure.low_scores_raised",
            now.low_scores_raised.to_string(),
            before.low_scores_raised.to_string(),
        ),
    ]
}

/// One month's figures against the month before: each headline figure with the previous
/// value beside it.
fn comparison(now: &Figures, before: &Figures, before_label: &str, locale: Locale) -> Vec<String> {
    comparison_rows(now, before, locale)
        .iter()
        .map(|(key, value, previous)| {
            t(
                locale,
                "report.line",
                &[
                    ("figure", &t(locale, key, &[])),
                    ("value", value),
                    ("month", before_label),
                    ("previous", previous),
                ],
            )
        })
        .collect()
}

/// The monthly report's text: last month (before `now`, in the configured time zone)
/// against the month before, then last month's categories and staff.
pub async fn monthly_report_text(
    store: &Store,
    tx: &mut Tx<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
    locale: Locale,
) -> Result<String, store::Error> {
    let tz = settings.timezone;
    let last = Period::month_before(now, tz, 1);
    let before = Period::month_before(now, tz, 2);
    let o = overview(store, last, settings).await?;
    let previous = tx
        .figures(before, Scope::all(), settings.sla.take_minutes)
        .await?;
    let month = |p: Period| p.local_dates(tz).0.format("%Y-%m").to_string();
    let mut lines = vec![t(
        locale,
        "report.heading",
        &[("month", &month(last)), ("previous", &month(before))],
    )];
    if o.figures.ratings() == 0 {
        lines.push(t(locale, "stats.no_ratings", &[]));
    }
    lines.extend(comparison(&o.figures, &previous, &month(before), locale));
    lines.extend(breakdown(&o, locale));
    Ok(fit_utf16(&lines.join("\n"), TEXT_LIMIT))
}

/// Enqueues the monthly report — the text, the weekly chart and last month's XLSX — for
/// the staff chat and for each manager privately, in `tx`. The caller commits (with the
/// claim of the scheduled run) and wakes the outbox. Returns how many messages it wrote.
pub async fn enqueue_monthly_report(
    store: &Store,
    settings: &Settings,
    tx: &mut Tx<'_>,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let locale = settings.default_locale;
    let text = monthly_report_text(store, tx, settings, now, locale).await?;
    let png = weekly_chart(tx, settings, now, locale).await?;
    let last = Period::month_before(now, settings.timezone, 1);
    let (xlsx, file_name) = xlsx_export(tx, settings, last, locale).await?;
    let chart_file = tx.add_outbox_file(&png, now).await?;
    let xlsx_file = tx.add_outbox_file(&xlsx, now).await?;
    let (first, last_day) = date_range(last, settings);
    let caption = fit_utf16(
        &t(
            locale,
            "export.caption",
            &[("from", &first), ("to", &last_day)],
        ),
        CAPTION_LIMIT,
    );
    let chart_caption = t(
        locale,
        "chart.caption",
        &[("weeks", &CHART_WEEKS.to_string())],
    );
    let suggestions = kinds::suggestions_text(store, settings, now, locale).await?;
    let mut recipients = vec![settings.staff_chat_id];
    recipients.extend(settings.managers.iter().map(|m| *m as i64));
    recipients.dedup();
    let mut out = Vec::new();
    for chat_id in recipients {
        out.push(Outgoing::text(chat_id, text.clone()));
        // Suggestions are the managers' (see `tickets::requests`), never the staff chat's.
        if let Some(list) = suggestions
            .as_ref()
            .filter(|_| chat_id != settings.staff_chat_id)
        {
            out.push(Outgoing::text(chat_id, list.clone()));
        }
        out.push(Outgoing::PhotoFile {
            chat_id,
            file: chart_file,
            file_name: "chart.png".into(),
            caption: Some(chart_caption.clone()),
        });
        // The workbook holds owners' names, units and words: like `/export`, it is the
        // managers' unless the settings open exports to staff.
        if chat_id == settings.staff_chat_id && !settings.export.staff_may_export {
            continue;
        }
        out.push(Outgoing::Document {
            chat_id,
            file: xlsx_file,
            file_name: file_name.clone(),
            caption: Some(caption.clone()),
        });
    }
    tx.enqueue_bulk(&out, now).await?;
    Ok(out.len())
}
