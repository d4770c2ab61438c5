//! The morning greeting: every active owner group, in its language, gets the date, a
//! greeting (or the day's holiday text from `[holidays]`) and the group's record for
//! yesterday — reports received, repairs done, satisfaction — or a friendly line when
//! there was nothing. "Make the work visible."

use chrono::NaiveDate;

use crate::app::App;
use crate::domain::daily::{GroupDay, day_bounds, holiday, satisfaction_percent};
use crate::i18n::{Locale, t};
use crate::messages::render;
use crate::outbox::Outgoing;
use crate::store::{self, Group, Tx};

/// One greeting per active owner group for the morning of `date` (a local date).
pub async fn messages(
    app: &App,
    tx: &mut Tx<'_>,
    date: NaiveDate,
) -> Result<Vec<Outgoing>, store::Error> {
    let groups = tx.active_groups().await?;
    let mut out = Vec::with_capacity(groups.len());
    for group in &groups {
        out.push(Outgoing::text(
            group.chat_id,
            text(app, tx, group, date).await?,
        ));
    }
    Ok(out)
}

/// The greeting `group` reads on the morning of `date`, with its record of the day before.
pub async fn text(
    app: &App,
    tx: &mut Tx<'_>,
    group: &Group,
    date: NaiveDate,
) -> Result<String, store::Error> {
    let yesterday = date.pred_opt().unwrap_or(date);
    let (from, to) = day_bounds(yesterday, app.settings.timezone);
    let record = tx.group_day(group.chat_id, from, to).await?;
    Ok(render_greeting(
        app.group_locale(group, None),
        &group.name,
        date,
        holiday(&app.settings.holidays, date),
        &record,
    ))
}

/// The words of a greeting; `holiday` replaces the plain "good morning".
pub fn render_greeting(
    locale: Locale,
    group_name: &str,
    date: NaiveDate,
    holiday: Option<&str>,
    yesterday: &GroupDay,
) -> String {
    let mut lines = vec![
        match holiday {
            Some(text) => text.trim().to_owned(),
            None => t(locale, "greeting.hello", &[("group", group_name)]),
        },
        t(
            locale,
            "greeting.today",
            &[("date", &render::long_date(locale, date))],
        ),
        String::new(),
    ];
    if yesterday.is_quiet() {
        lines.push(t(locale, "greeting.quiet", &[]));
    } else {
        lines.push(t(
            locale,
            "greeting.yesterday",
            &[
                ("reported", &yesterday.reported.to_string()),
                ("done", &yesterday.done.to_string()),
            ],
        ));
        if let Some(rate) = satisfaction_percent(yesterday.satisfied, yesterday.ratings) {
            lines.push(t(
                locale,
                "greeting.satisfaction",
                &[
                    ("rate", &rate.to_string()),
                    ("satisfied", &yesterday.satisfied.to_string()),
                    ("ratings", &yesterday.ratings.to_string()),
                ],
            ));
        }
    }
    lines.push(t(locale, "greeting.how_to_report", &[]));
    crate::domain::text::fit_utf16(&lines.join("\n"), 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn a_greeting_shows_the_date_weekday_and_yesterdays_record() {
        let record = GroupDay {
            reported: 3,
            done: 2,
            ratings: 3,
            satisfied: 2,
        };
        let text = render_greeting(Locale::En, "Sunrise Garden", date(), None, &record);
        assert!(text.starts_with("Good morning, Sunrise Garden!"), "{text}");
        assert!(text.contains("Tuesday, 24 November 2026"), "{text}");
        assert!(
            text.contains("3 repair reports received, 2 repairs done"),
            "{text}"
        );
        assert!(text.contains("Satisfaction: 67%"), "{text}");
    }

    #[test]
    fn a_quiet_day_gets_a_friendly_line_and_no_zeros() {
        let text = render_greeting(Locale::ZhCn, "阳光花园", date(), None, &GroupDay::default());
        assert!(text.contains("2026年11月24日 星期二"), "{text}");
        let zeros = t(
            Locale::ZhCn,
            "greeting.yesterday",
            &[("reported", "0"), ("done", "0")],
        );
        assert!(!text.contains(&zeros), "{text}");
        assert!(
            text.contains(&t(Locale::ZhCn, "greeting.quiet", &[])),
            "{text}"
        );
    }

    #[test]
    fn a_holiday_text_replaces_the_plain_greeting() {
        let text = render_greeting(
            Locale::En,
            "Sunrise Garden",
            date(),
            Some("Happy Thanksgiving!"),
            &GroupDay::default(),
        );
        assert!(text.starts_with("Happy Thanksgiving!\n"), "{text}");
        assert!(!text.contains("Good morning"), "{text}");
    }

    #[test]
    fn without_ratings_no_satisfaction_is_claimed() {
        let record = GroupDay {
            reported: 1,
            ..Default::default()
        };
        let text = render_greeting(Locale::En, "G", date(), None, &record);
        assert!(!text.contains('%'), "{text}");
    }
}
