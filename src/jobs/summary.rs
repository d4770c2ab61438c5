//! The daily summary for the staff chat: repairs created and done today, still open,
//! overdue, today's ratings and satisfaction, open follow-ups, today's figures of kinds
//! (urgent repairs, complaints and suggestions, hurry-ups and withdrawals, repeats), and
//! per staff member taken / done / average score. Never over Telegram's 4,096 characters: a long summary is split between
//! lines into several messages, each headed so that it reads on its own.

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::App;
use crate::domain::daily::{DaySummary, day_bounds, satisfaction_percent};
use crate::domain::figures::{Period, Scope};
use crate::domain::text::{shorten, split_lines_utf16};
use crate::figures;
use crate::i18n::{Locale, t};
use crate::messages::render;
use crate::store::{self, TicketScope, Tx};

/// Telegram's limit for a message, in UTF-16 code units.
pub const MESSAGE_LIMIT: usize = 4096;
/// Staff lines shown before "… and N more".
const STAFF_LINES: usize = 300;
/// A staff member's name is shown at most this long.
const NAME_CHARS: usize = 64;

/// The summary of local day `date` as of `now` for staff chat `chat`, as one or more
/// message texts. With routes, each staff chat's summary counts its own tickets (the
/// main chat those no route claims); without, the one staff chat's counts all.
pub async fn texts(
    app: &App,
    tx: &mut Tx<'_>,
    date: NaiveDate,
    now: DateTime<Utc>,
    chat: i64,
) -> Result<Vec<String>, store::Error> {
    let (from, to) = day_bounds(date, app.settings.timezone);
    let settings = &app.settings;
    let scope = if settings.routes.is_empty() {
        TicketScope::All
    } else {
        TicketScope::StaffChat((chat != settings.staff_chat_id).then_some(chat))
    };
    let summary = tx.day_summary(from, to, now, &settings.sla, scope).await?;
    let day = Period { from, to };
    let limits = figures::kinds::limits(&settings.sla);
    let kinds = tx
        .kind_figures(day, Scope::all(), scope, limits, now)
        .await?;
    let locale = app.staff_locale();
    let lines = figures::kinds::lines(&kinds, &figures::kinds::SUMMARY, locale, settings);
    Ok(render_summary(locale, date, &summary, &lines))
}

/// The words of a summary, with the lines of kinds after the figures, split into messages
/// of at most [`MESSAGE_LIMIT`].
pub fn render_summary(
    locale: Locale,
    date: NaiveDate,
    s: &DaySummary,
    kinds: &[String],
) -> Vec<String> {
    let count = |n: i64| n.to_string();
    let mut lines = vec![
        t(locale, "summary.created", &[("count", &count(s.created))]),
        t(locale, "summary.done", &[("count", &count(s.done))]),
        t(
            locale,
            "summary.open",
            &[
                ("count", &count(s.waiting + s.in_progress)),
                ("waiting", &count(s.waiting)),
                ("taken", &count(s.in_progress)),
            ],
        ),
        t(locale, "summary.overdue", &[("count", &count(s.overdue))]),
        match satisfaction_percent(s.satisfied, s.ratings) {
            Some(rate) => t(
                locale,
                "summary.ratings",
                &[("count", &count(s.ratings)), ("rate", &rate.to_string())],
            ),
            None => t(locale, "summary.no_ratings", &[]),
        },
        t(
            locale,
            "summary.follow_ups",
            &[("count", &count(s.follow_ups_open))],
        ),
    ];
    lines.extend(kinds.iter().cloned());
    lines.push(String::new());
    if s.staff.is_empty() {
        lines.push(t(locale, "summary.staff_none", &[]));
    } else {
        lines.push(t(locale, "summary.staff_heading", &[]));
        for person in s.staff.iter().take(STAFF_LINES) {
            let score = person
                .average_score()
                .map_or_else(|| "—".to_owned(), |a| format!("{a:.1}"));
            lines.push(t(
                locale,
                "summary.staff_line",
                &[
                    ("name", &shorten(&person.name, NAME_CHARS)),
                    ("taken", &count(person.taken)),
                    ("done", &count(person.done)),
                    ("score", &score),
                ],
            ));
        }
        if s.staff.len() > STAFF_LINES {
            lines.push(t(
                locale,
                "list.more",
                &[("count", &(s.staff.len() - STAFF_LINES).to_string())],
            ));
        }
    }
    let day = render::long_date(locale, date);
    let title = t(locale, "summary.title", &[("date", &day)]);
    let continued = t(locale, "summary.continued", &[("date", &day)]);
    let head_room = title
        .encode_utf16()
        .count()
        .max(continued.encode_utf16().count())
        + 1;
    split_lines_utf16(&lines.join("\n"), MESSAGE_LIMIT - head_room)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let head = if i == 0 { &title } else { &continued };
            format!("{head}\n{part}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::daily::StaffDay;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn a_summary_shows_every_figure() {
        let s = DaySummary {
            created: 5,
            done: 3,
            waiting: 1,
            in_progress: 2,
            overdue: 1,
            ratings: 4,
            satisfied: 3,
            follow_ups_open: 2,
            staff: vec![StaffDay {
                user_id: 1,
                name: "Wang".into(),
                taken: 2,
                done: 2,
                ratings: 2,
                score_sum: 9,
            }],
        };
        let parts = render_summary(Locale::En, date(), &s, &[]);
        assert_eq!(parts.len(), 1);
        let text = &parts[0];
        for expected in [
            "Daily summary, Tuesday, 24 November 2026",
            "New today: 5",
            "Done today: 3",
            "Still open: 3 (1 waiting to be taken, 2 in progress)",
            "Overdue (past an SLA): 1",
            "Ratings today: 4, satisfaction 75%",
            "Open follow-ups: 2",
            "Wang: 2 / 2 / 4.5",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in {text}");
        }
    }

    #[test]
    fn a_long_summary_is_split_into_messages_within_the_limit() {
        let staff = (0..300)
            .map(|i| StaffDay {
                user_id: i,
                name: format!("维修师傅{i}号 {}", "长名字".repeat(10)),
                taken: 1,
                done: 1,
                ratings: 0,
                score_sum: 0,
            })
            .collect::<Vec<_>>();
        let s = DaySummary {
            staff,
            ..Default::default()
        };
        let parts = render_summary(Locale::ZhCn, date(), &s, &[]);
        assert!(parts.len() > 1);
        for (i, p) in parts.iter().enumerate() {
            assert!(
                p.encode_utf16().count() <= MESSAGE_LIMIT,
                "part {i} too long"
            );
            assert!(p.starts_with("📊"), "each part is headed: {p:.40}");
        }
        let all = parts.join("\n");
        for i in 0..300 {
            assert!(all.contains(&format!("维修师傅{i}号 ")), "staff {i} lost");
        }
    }
}
