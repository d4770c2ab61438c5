//! One ticket's story (`/ticket N`) and the `/find` list, as texts within Telegram's
//! limits. Every event kind is told through [`event_text`]'s one exhaustive match: a new
//! kind does not build until it is told here.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::render::{stars, status_name};
use crate::domain::text::shorten;
use crate::domain::{Category, EventKind, Story, StoryEvent, Ticket, TicketStatus};
use crate::i18n::{self, Locale, t};

/// A story message's budget, in UTF-16 units: under Telegram's 4,096, with room to spare.
pub const STORY_MESSAGE_UNITS: usize = 3800;
/// A story takes at most this many messages; events from its middle are left out first.
pub const STORY_MAX_MESSAGES: usize = 3;
/// How much of the report and of each event's detail a story shows.
const STORY_TEXT_CHARS: usize = 1000;
const DETAIL_CHARS: usize = 300;
/// Events a trimmed story keeps from its start (the rest it keeps are the latest).
const HEAD_EVENTS: usize = 5;

fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%m-%d %H:%M").to_string()
}

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// What an event says, and the detail it shows. One arm per kind.
pub fn event_text(e: &StoryEvent, locale: Locale) -> String {
    let detail = e.detail.as_deref();
    let (key, shown): (&str, Option<String>) = match e.kind {
        EventKind::Reported => ("story.reported", None),
        EventKind::Detail => ("story.detail", detail.map(str::to_owned)),
        EventKind::Edited => ("story.edited", None),
        EventKind::Category => (
            "story.category",
            detail.map(|c| {
                Category::from_code(c)
                    .map_or_else(|| c.to_owned(), |c| i18n::category_name(locale, c))
            }),
        ),
        EventKind::Note => ("story.note", detail.map(str::to_owned)),
        EventKind::Taken => ("story.taken", None),
        EventKind::Progress => ("story.progress", detail.map(str::to_owned)),
        EventKind::Done => ("story.done", detail.map(str::to_owned)),
        EventKind::Reopened => ("story.reopened", detail.map(str::to_owned)),
        EventKind::Rated => ("story.rated", detail.map(|s| format!("{s}/5"))),
        EventKind::LowScoreComment => ("story.low_score_comment", detail.map(str::to_owned)),
        EventKind::RatingExpired => ("story.rating_expired", None),
        EventKind::FollowUpClosed => ("story.follow_up_closed", detail.map(str::to_owned)),
        EventKind::RerateAsked => ("story.rerate_asked", None),
        EventKind::Assigned => ("story.assigned", detail.map(str::to_owned)),
        EventKind::Transferred => ("story.transferred", detail.map(str::to_owned)),
        EventKind::Returned => ("story.returned", detail.map(str::to_owned)),
        EventKind::Paused => ("story.paused", detail.map(str::to_owned)),
        EventKind::Resumed => ("story.resumed", None),
        EventKind::Answered => ("story.answered", detail.map(str::to_owned)),
        EventKind::Closed => ("story.closed", None),
        EventKind::Urgency => ("story.urgency", detail.map(str::to_owned)),
        EventKind::Cancelled => ("story.cancelled", None),
        EventKind::Hurried => ("story.hurried", None),
    };
    let what = t(locale, key, &[]);
    match shown.filter(|s| !s.trim().is_empty()) {
        Some(s) => format!("{what}: {}", shorten(&s.replace('\n', " "), DETAIL_CHARS)),
        None => what,
    }
}

fn event_line(e: &StoryEvent, locale: Locale, tz: Tz) -> String {
    t(
        locale,
        "story.line",
        &[
            ("time", &local_time(e.at, tz)),
            ("who", &e.actor),
            ("what", &event_text(e, locale)),
        ],
    )
}

/// The head of a story: the ticket, where and who, the report.
fn head(ticket: &Ticket, locale: Locale) -> Vec<String> {
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => t(locale, "card.status_taken", &[("by", by)]),
        (_, s) => status_name(locale, s),
    };
    vec![
        t(
            locale,
            "story.title",
            &[
                ("id", &ticket.id.to_string()),
                ("category", &i18n::category_name(locale, ticket.category)),
                ("status", &status),
            ],
        ),
        t(
            locale,
            "card.where",
            &[
                ("group", &ticket.group_name),
                ("unit", ticket.unit.as_deref().unwrap_or("—")),
                ("owner", &ticket.owner_name),
            ],
        ),
        shorten(&ticket.text, STORY_TEXT_CHARS),
        String::new(),
    ]
}

/// The foot of a story: photos, the rating, the follow-ups.
fn foot(ticket: &Ticket, story: &Story, locale: Locale, tz: Tz) -> Vec<String> {
    let mut lines = vec![String::new()];
    let count = story.photos.len().to_string();
    lines.push(t(locale, "story.photos", &[("count", &count)]));
    if let Some(score) = ticket.score {
        let s = score.to_string();
        let stars = stars(score.get());
        lines.push(t(
            locale,
            "story.rating",
            &[("stars", &stars), ("score", &s)],
        ));
    }
    for fu in &story.follow_ups {
        let key = match (fu.low_score, fu.closed_at) {
            (true, None) => "story.follow_up_low_open",
            (true, Some(_)) => "story.follow_up_low_closed",
            (false, None) => "story.follow_up_unrated_open",
            (false, Some(_)) => "story.follow_up_unrated_closed",
        };
        let closed = fu.closed_at.map(|c| local_time(c, tz)).unwrap_or_default();
        let args = [
            ("fu", fu.id.to_string()),
            ("opened", local_time(fu.opened_at, tz)),
            ("closed", closed),
        ];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lines.push(t(locale, key, &args));
    }
    lines
}

/// The story of `ticket` as messages, each within [`STORY_MESSAGE_UNITS`], at most
/// [`STORY_MAX_MESSAGES`]: a story too long keeps its first and latest events and says
/// how many it left out between them.
pub fn story(ticket: &Ticket, story: &Story, locale: Locale, tz: Tz) -> Vec<String> {
    let head = head(ticket, locale);
    let foot = foot(ticket, story, locale, tz);
    let events: Vec<String> = story
        .events
        .iter()
        .map(|e| event_line(e, locale, tz))
        .collect();
    // Lines are not split, so a message may end up to a line short of its budget.
    let budget = (STORY_MESSAGE_UNITS - 500) * STORY_MAX_MESSAGES;
    let fixed: usize = head.iter().chain(&foot).map(|l| units(l) + 1).sum();
    let mut lines = head;
    lines.extend(fit_events(
        events,
        budget.saturating_sub(fixed + 200),
        locale,
    ));
    lines.extend(foot);
    let mut messages = pack(lines, STORY_MESSAGE_UNITS);
    messages.truncate(STORY_MAX_MESSAGES);
    messages
}

/// The events within `budget` units: all, or the first few, a line saying how many were
/// left out, and the latest that fit.
fn fit_events(events: Vec<String>, budget: usize, locale: Locale) -> Vec<String> {
    let total: usize = events.iter().map(|l| units(l) + 1).sum();
    if total <= budget {
        return events;
    }
    let mut used = 0;
    let mut first = Vec::new();
    for line in events.iter().take(HEAD_EVENTS) {
        if used + units(line) + 1 > budget / 2 {
            break;
        }
        used += units(line) + 1;
        first.push(line.clone());
    }
    let mut last = Vec::new();
    for line in events[first.len()..].iter().rev() {
        if used + units(line) + 1 > budget {
            break;
        }
        used += units(line) + 1;
        last.push(line.clone());
    }
    last.reverse();
    let left_out = (events.len() - first.len() - last.len()).to_string();
    first.push(t(locale, "story.left_out", &[("count", &left_out)]));
    first.extend(last);
    first
}

/// Lines packed into messages of at most `limit` units each, a line never split (each is
/// far shorter than a message).
pub fn pack(lines: Vec<String>, limit: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let line = crate::domain::text::fit_utf16(&line, limit);
        if !current.is_empty() && units(&current) + 1 + units(&line) > limit {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// `/find`'s answer: the matches, one line each with the unit, or that there are none.
pub fn found(tickets: &[Ticket], query: &str, locale: Locale) -> String {
    let query = shorten(query, 60);
    if tickets.is_empty() {
        return t(locale, "find.empty", &[("query", &query)]);
    }
    let count = tickets.len().to_string();
    let mut lines = vec![t(
        locale,
        "find.heading",
        &[("query", &query), ("count", &count)],
    )];
    for ticket in tickets {
        let unit = ticket.unit.as_deref().unwrap_or("—");
        let line = super::render::ticket_line(ticket, locale);
        lines.push(match line.split_once(" · ") {
            Some((id, rest)) => format!("{id} · {unit} · {rest}"),
            None => line,
        });
    }
    lines.push(t(locale, "find.hint", &[]));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_lines_stay_within_the_limit_and_keep_their_order() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("{i:03} {}", "x".repeat(96)))
            .collect();
        let msgs = pack(lines, 1000);
        assert!(msgs.len() >= 10);
        for m in &msgs {
            assert!(units(m) <= 1000, "{}", units(m));
        }
        assert!(msgs[0].starts_with("000 "));
        assert!(msgs.last().unwrap().contains("099 "));
    }

    #[test]
    fn a_story_too_long_keeps_its_first_and_latest_events() {
        let events: Vec<String> = (0..1000)
            .map(|i| format!("event {i} {}", "y".repeat(50)))
            .collect();
        let kept = fit_events(events, 5000, Locale::En);
        assert!(kept[0].starts_with("event 0 "));
        assert!(kept.last().unwrap().starts_with("event 999 "));
        assert!(kept.iter().any(|l| l.contains("left out")), "{kept:?}");
        let total: usize = kept.iter().map(|l| units(l) + 1).sum();
        assert!(total <= 5000 + 100);
    }
}
