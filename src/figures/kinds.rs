//! Figures of kinds, urgency and the owner's side (see `domain::kind_figures`): their
//! lines in `/stats` and the daily summary, their rows in the monthly report, and the
//! month's suggestions in the monthly report (to managers only: they hold owners' names
//! and words).

use chrono::{DateTime, Utc};

use super::{duration_text, rate, ratio_line};
use crate::config::{Settings, SlaSettings};
use crate::domain::figures::{Period, Ratio};
use crate::domain::kind_figures::{ComplaintLimits, KindFigures};
use crate::domain::text::{fit_utf16, shorten};
use crate::i18n::{self, Locale, t};
use crate::store::{self, Store};

/// How much of a suggestion's text the monthly list shows.
const SUGGESTION_CHARS: usize = 120;

/// The complaint limits of `[sla.complaint]`.
pub fn limits(sla: &SlaSettings) -> ComplaintLimits {
    let c = sla.complaint;
    ComplaintLimits::new(c.first_response_minutes, c.reply_hours)
}

/// A share's value, part and whole as the arguments of a line, each name prefixed.
fn share(prefix: &str, r: Ratio, locale: Locale) -> [(String, String); 3] {
    [
        (format!("{prefix}_rate"), rate(r, locale)),
        (format!("{prefix}_part"), r.part.to_string()),
        (format!("{prefix}_whole"), r.whole.to_string()),
    ]
}

/// The locale keys of the lines of [`lines`], for one place.
#[derive(Debug, Clone, Copy)]
pub struct LineKeys {
    urgent: &'static str,
    complaints: &'static str,
    suggestions: &'static str,
    owner_side: &'static str,
    repeats: &'static str,
    /// Whether the repeat-repair rate shows when no repair was a repeat (`/stats` shows
    /// the rate; a day's summary only the day's repeats).
    repeats_when_none: bool,
}

/// The lines as `/stats` (and the monthly report's text) words them.
pub const STATS: LineKeys = LineKeys {
    urgent: "stats.urgent",
    complaints: "stats.complaints",
    suggestions: "stats.suggestions",
    owner_side: "stats.owner_side",
    repeats: "stats.repeats",
    repeats_when_none: true,
};

/// The lines as the daily summary words them ("today").
pub const SUMMARY: LineKeys = LineKeys {
    urgent: "summary.urgent",
    complaints: "summary.complaints",
    suggestions: "summary.suggestions",
    owner_side: "summary.owner_side",
    repeats: "summary.repeats",
    repeats_when_none: false,
};

/// The lines of `k`, each only when it has something to show (the repeat-repair rate
/// when repairs were reported, and for the summary when one was a repeat): nothing
/// divided by zero, no line of zeros.
pub fn lines(k: &KindFigures, keys: &LineKeys, locale: Locale, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if k.has_urgent() {
        out.push(t(
            locale,
            keys.urgent,
            &[
                ("count", &k.urgent.to_string()),
                ("waiting", &k.urgent_waiting.to_string()),
                ("taken", &k.urgent_take.count.to_string()),
                ("median", &duration_text(k.urgent_take.median, locale)),
                ("p90", &duration_text(k.urgent_take.p90, locale)),
            ],
        ));
    }
    if k.has_complaints() {
        let c = settings.sla.complaint;
        let mut args: Vec<(String, String)> = vec![
            ("count".into(), k.complaints.to_string()),
            (
                "first_limit".into(),
                i18n::minutes(locale, c.first_response_minutes.into()),
            ),
            (
                "reply_limit".into(),
                i18n::minutes(locale, i64::from(c.reply_hours) * 60),
            ),
        ];
        args.extend(share("first", k.first_response, locale));
        args.extend(share("reply", k.reply, locale));
        let args: Vec<(&str, &str)> = args.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        out.push(t(locale, keys.complaints, &args));
    }
    if k.suggestions > 0 {
        let count = k.suggestions.to_string();
        out.push(t(locale, keys.suggestions, &[("count", &count)]));
    }
    if k.hurry_ups > 0 || k.cancelled > 0 {
        out.push(t(
            locale,
            keys.owner_side,
            &[
                ("hurried", &k.hurry_ups.to_string()),
                ("cancelled", &k.cancelled.to_string()),
            ],
        ));
    }
    if k.repeats.whole > 0 && (keys.repeats_when_none || k.repeats.part > 0) {
        out.push(ratio_line(keys.repeats, k.repeats, locale, &[]));
    }
    out
}

/// The monthly report's rows of kinds: (locale key, this month, the month before).
pub fn comparison_rows(
    now: &KindFigures,
    before: &KindFigures,
    locale: Locale,
) -> Vec<(&'static str, String, String)> {
    let both = |f: &dyn Fn(&KindFigures) -> String| (f(now), f(before));
    let rows: [(&'static str, (String, String)); 9] = [
        ("figure.urgent", both(&|k| k.urgent.to_string())),
        (
            "figure.urgent_median_take",
            both(&|k| duration_text(k.urgent_take.median, locale)),
        ),
        ("figure.complaints", both(&|k| k.complaints.to_string())),
        (
            "figure.complaint_first_response",
            both(&|k| rate(k.first_response, locale)),
        ),
        ("figure.complaint_reply", both(&|k| rate(k.reply, locale))),
        ("figure.suggestions", both(&|k| k.suggestions.to_string())),
        ("figure.hurry_ups", both(&|k| k.hurry_ups.to_string())),
        ("figure.cancelled", both(&|k| k.cancelled.to_string())),
        ("figure.repeats", both(&|k| rate(k.repeats, locale))),
    ];
    rows.into_iter().map(|(key, (a, b))| (key, a, b)).collect()
}

/// Last month's suggestions (before `now`), one line each, for the managers' copy of the
/// monthly report; `None` when there were none.
pub async fn suggestions_text(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
    locale: Locale,
) -> Result<Option<String>, store::Error> {
    let last = Period::month_before(now, settings.timezone, 1);
    let (listed, total) = store.suggestions_between(last.from, last.to).await?;
    if total == 0 {
        return Ok(None);
    }
    let month = last
        .local_dates(settings.timezone)
        .0
        .format("%Y-%m")
        .to_string();
    let mut lines = vec![t(
        locale,
        "report.suggestions_heading",
        &[("month", &month), ("count", &total.to_string())],
    )];
    for s in &listed {
        lines.push(t(
            locale,
            "report.suggestion_line",
            &[
                ("id", &s.id.to_string()),
                ("group", &s.group_name),
                ("owner", &s.owner_name),
                (
                    "text",
                    &shorten(&s.text.replace('\n', " "), SUGGESTION_CHARS),
                ),
            ],
        ));
    }
    let more = total - listed.len() as i64;
    if more > 0 {
        let count = more.to_string();
        lines.push(t(locale, "report.suggestions_more", &[("count", &count)]));
    }
    Ok(Some(fit_utf16(&lines.join("\n"), super::TEXT_LIMIT)))
}
