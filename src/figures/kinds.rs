//! Figures of kinds and repeats: the repeat-repair rate in `/stats`, and the month's
//! suggestions in the monthly report (to managers only: they hold owners' names and
//! words).

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::figures::{Period, Ratio};
use crate::domain::text::{fit_utf16, shorten};
use crate::i18n::{Locale, t};
use crate::store::{self, Store};

/// How much of a suggestion's text the monthly list shows.
const SUGGESTION_CHARS: usize = 120;

/// "Repeat repairs: 2 of 40 repairs (5.0 %)" for repairs reported in `period`; `None`
/// when there were none.
pub async fn repeats_line(
    store: &Store,
    period: Period,
    locale: Locale,
) -> Result<Option<String>, store::Error> {
    let (repeats, repairs) = store.repeat_repairs(period.from, period.to, None).await?;
    if repairs == 0 {
        return Ok(None);
    }
    let ratio = Ratio::new(repeats, repairs);
    Ok(Some(super::ratio_line("stats.repeats", ratio, locale, &[])))
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
