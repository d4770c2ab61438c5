//! What Butler's messages say and which buttons they carry: card, list, rating question,
//! follow-up card and date texts. Texts come from `locales/`; this module only puts them
//! together and keeps them within Telegram's limits. Uses `domain`, `i18n` and the
//! outbox's `Buttons`; no store, no teloxide.

use chrono_tz::Tz;

use crate::domain::text::shorten;
use crate::domain::{CardAction, Kind, Ticket, TicketStatus, Urgency};
use crate::i18n::{self, Locale, t};
use crate::outbox::Buttons;

/// How much of an owner's text a card or list shows; the whole text stays in the store.
pub const CARD_TEXT_CHARS: usize = 3000;
pub const LIST_TEXT_CHARS: usize = 40;
/// Lines in a ticket list before "and N more".
pub const LIST_MAX: usize = 30;

pub fn status_name(locale: Locale, status: TicketStatus) -> String {
    t(locale, &format!("status.{}", status.code()), &[])
}

fn local_time(at: chrono::DateTime<chrono::Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%m-%d %H:%M").to_string()
}

/// The staff card of a ticket, and its buttons while there is work to do.
pub fn card(ticket: &Ticket, locale: Locale, tz: Tz) -> (String, Option<Buttons>) {
    let id = ticket.id.to_string();
    let mut lines = vec![t(
        locale,
        "card.title",
        &[
            ("id", &id),
            ("category", &i18n::category_name(locale, ticket.category)),
        ],
    )];
    lines.extend(card_flags(ticket, locale));
    lines.extend(where_and_when(ticket, locale, tz));
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => t(locale, "card.status_taken", &[("by", by)]),
        (Some((_, by)), TicketStatus::Done) => t(locale, "card.status_done", &[("by", by)]),
        (_, TicketStatus::Rated) => match ticket.score {
            Some(score) => t(
                locale,
                "card.status_rated",
                &[("score", &score.to_string())],
            ),
            None => status_name(locale, TicketStatus::Rated),
        },
        // Only the owner withdraws a report.
        (_, TicketStatus::Cancelled) => t(locale, "card.status_cancelled", &[]),
        (_, s) => status_name(locale, s),
    };
    lines.push(t(locale, "card.status", &[("status", &status)]));
    if let Some(pause) = &ticket.paused {
        lines.push(t(
            locale,
            "card.paused",
            &[
                ("time", &local_time(pause.since, tz)),
                ("reason", &shorten(&pause.reason, 200)),
            ],
        ));
    }
    if ticket.photo_count > 0 {
        lines.push(t(
            locale,
            "card.photos",
            &[("count", &ticket.photo_count.to_string())],
        ));
    }
    lines.push(String::new());
    lines.push(shorten(&ticket.text, CARD_TEXT_CHARS));
    (lines.join("\n"), card_buttons(ticket, locale))
}

/// A card's "where" line (group, unit, owner) and "reported at" line.
fn where_and_when(ticket: &Ticket, locale: Locale, tz: Tz) -> [String; 2] {
    [
        t(
            locale,
            "card.where",
            &[
                ("group", &ticket.group_name),
                ("unit", ticket.unit.as_deref().unwrap_or("—")),
                ("owner", &ticket.owner_name),
            ],
        ),
        t(
            locale,
            "card.reported_at",
            &[("time", &local_time(ticket.created_at, tz))],
        ),
    ]
}

/// A card's buttons while there is work to do: only those that can work now (Done waits
/// until someone took it).
fn card_buttons(ticket: &Ticket, locale: Locale) -> Option<Buttons> {
    match ticket.status {
        TicketStatus::Reported => Some(Buttons(vec![vec![
            (
                t(locale, "button.take", &[]),
                CardAction::Take(ticket.id).encode(),
            ),
            (
                t(locale, "button.assign", &[]),
                CardAction::Assign(ticket.id).encode(),
            ),
        ]])),
        TicketStatus::Taken => Some(Buttons(vec![vec![(
            t(locale, "button.done", &[]),
            CardAction::Done(ticket.id).encode(),
        )]])),
        _ => None,
    }
}

/// The lines under a card's title: the watch list, the urgency, a repeat repair.
fn card_flags(ticket: &Ticket, locale: Locale) -> Vec<String> {
    let mut lines = Vec::new();
    if ticket.priority {
        lines.push(t(locale, "card.priority", &[]));
    }
    lines.push(urgency_line(ticket.urgency, locale));
    if let Some(of) = ticket.repeat_of {
        lines.push(t(locale, "card.repeat", &[("of", &of.to_string())]));
    }
    lines
}

/// The card's urgency line: A stands out (🔴), B and C are plain.
pub fn urgency_line(urgency: Urgency, locale: Locale) -> String {
    match urgency {
        Urgency::A => t(locale, "card.urgent", &[]),
        level => t(locale, "card.urgency", &[("level", level.code())]),
    }
}

/// The managers' card of a complaint or suggestion, and its Close button while open.
/// `closed_by` names the manager who closed it.
pub fn request_card(
    ticket: &Ticket,
    locale: Locale,
    tz: Tz,
    closed_by: Option<&str>,
) -> (String, Option<Buttons>) {
    let id = ticket.id.to_string();
    let title = match ticket.kind {
        Kind::Suggestion => "request.title_suggestion",
        _ => "request.title_complaint",
    };
    let mut lines = vec![t(locale, title, &[("id", &id)])];
    if ticket.priority {
        lines.push(t(locale, "card.priority", &[]));
    }
    lines.extend(where_and_when(ticket, locale, tz));
    if let Some(by) = closed_by {
        let status = t(locale, "request.closed_by", &[("by", by)]);
        lines.push(t(locale, "card.status", &[("status", &status)]));
    }
    if ticket.photo_count > 0 {
        let count = ticket.photo_count.to_string();
        lines.push(t(locale, "card.photos", &[("count", &count)]));
    }
    lines.push(String::new());
    lines.push(shorten(&ticket.text, CARD_TEXT_CHARS));
    if closed_by.is_some() || !ticket.status.is_open() {
        return (lines.join("\n"), None);
    }
    lines.push(String::new());
    lines.push(t(locale, "request.how_to", &[]));
    let close = CardAction::Close(ticket.id).encode();
    let buttons = Buttons(vec![vec![(t(locale, "button.close", &[]), close)]]);
    (lines.join("\n"), Some(buttons))
}

/// What a ticket is about in an owner's list: its category for a repair, its kind for a
/// complaint or suggestion.
fn subject(ticket: &Ticket, locale: Locale) -> String {
    match ticket.kind {
        Kind::Repair => i18n::category_name(locale, ticket.category),
        kind => t(locale, &format!("kind.{}", kind.code()), &[]),
    }
}

/// One line of a ticket list: `#42 · Plumbing · taken (Wang) · leak under…`.
pub fn ticket_line(ticket: &Ticket, locale: Locale) -> String {
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => {
            format!("{} ({by})", status_name(locale, TicketStatus::Taken))
        }
        (_, s) => status_name(locale, s),
    };
    let flag = match (ticket.priority, ticket.urgency) {
        (_, Urgency::A) => "🔴 ",
        (true, _) => "⚠️ ",
        _ => "",
    };
    let paused = if ticket.paused.is_some() { " ⏸" } else { "" };
    format!(
        "{flag}#{} · {} · {}{paused} · {}",
        ticket.id,
        i18n::category_name(locale, ticket.category),
        status,
        shorten(&ticket.text.replace('\n', " "), LIST_TEXT_CHARS)
    )
}

/// A list under a heading, or the empty-list text.
pub fn ticket_list(
    tickets: &[Ticket],
    locale: Locale,
    heading_key: &str,
    empty_key: &str,
) -> String {
    if tickets.is_empty() {
        return t(locale, empty_key, &[]);
    }
    let mut out = vec![t(
        locale,
        heading_key,
        &[("count", &tickets.len().to_string())],
    )];
    out.extend(
        tickets
            .iter()
            .take(LIST_MAX)
            .map(|tk| ticket_line(tk, locale)),
    );
    if tickets.len() > LIST_MAX {
        out.push(t(
            locale,
            "list.more",
            &[("count", &(tickets.len() - LIST_MAX).to_string())],
        ));
    }
    out.join("\n")
}

/// How much of an owner's text their private `/my` shows per ticket.
pub const OWNER_DETAIL_CHARS: usize = 200;

/// One line of an owner's own list: number, category and status, never the watch-list
/// flag. `detailed` (their private chat) adds the group and their text; an owner group
/// sees no text.
pub fn owner_ticket_line(ticket: &Ticket, locale: Locale, detailed: bool) -> String {
    let status = match (&ticket.taken_by, ticket.status) {
        (Some((_, by)), TicketStatus::Taken) => {
            format!("{} ({by})", status_name(locale, TicketStatus::Taken))
        }
        (_, s) => status_name(locale, s),
    };
    let line = format!("#{} · {} · {}", ticket.id, subject(ticket, locale), status);
    if !detailed {
        return line;
    }
    let text = shorten(&ticket.text.replace('\n', " "), OWNER_DETAIL_CHARS);
    format!("{line} · {}\n{text}", ticket.group_name)
}

/// An owner's own tickets for `/my`: in an owner group (`detailed` false) short lines and
/// a pointer to the private chat; in the private chat the details. Staff-only facts (the
/// watch list, internal notes) are never in it.
pub fn owner_list(tickets: &[Ticket], locale: Locale, detailed: bool) -> String {
    if tickets.is_empty() {
        return t(locale, "my.empty", &[]);
    }
    let count = tickets.len().to_string();
    let mut out = vec![t(locale, "my.heading", &[("count", &count)])];
    out.extend(
        tickets
            .iter()
            .take(LIST_MAX)
            .map(|tk| owner_ticket_line(tk, locale, detailed)),
    );
    if !detailed {
        out.push(t(locale, "my.details_in_private", &[]));
    }
    out.join("\n")
}

/// The neutral 1–5 question, with a "not fixed" way out.
pub fn rating_question(ticket: &Ticket, round: i64, locale: Locale) -> (String, Buttons) {
    let id = ticket.id.to_string();
    let scores = (1..=5)
        .map(|score| {
            let rate = CardAction::Rate {
                ticket: ticket.id,
                round,
                score,
            };
            (score.to_string(), rate.encode())
        })
        .collect();
    let not_fixed = vec![(
        t(locale, "button.not_fixed", &[]),
        CardAction::NotFixed {
            ticket: ticket.id,
            round,
        }
        .encode(),
    )];
    let key = if round > 1 {
        "rating.question_again"
    } else {
        "rating.question"
    };
    (
        t(locale, key, &[("id", &id)]),
        Buttons(vec![scores, not_fixed]),
    )
}

pub fn stars(score: u8) -> String {
    let score = score.min(5) as usize;
    format!("{}{}", "★".repeat(score), "☆".repeat(5 - score))
}

/// A calendar date with its weekday, as people read it: "Tuesday, 24 November 2026",
/// "2026年11月24日 星期二".
pub fn long_date(locale: Locale, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    t(
        locale,
        "date.long",
        &[
            ("year", &date.year().to_string()),
            ("month", &t(locale, &format!("month.{}", date.month()), &[])),
            ("day", &date.day().to_string()),
            (
                "weekday",
                &t(
                    locale,
                    &format!("weekday.{}", date.weekday().number_from_monday()),
                    &[],
                ),
            ),
        ],
    )
}

/// The managers' follow-up card: why it was opened (a low score, or no score when the
/// rating question expired), and how it was closed.
pub fn follow_up_text(
    ticket: &Ticket,
    follow_up: i64,
    locale: Locale,
    closed: Option<(&str, &str)>,
) -> String {
    follow_up_body(ticket, follow_up, locale, closed, false)
}

/// The follow-up card as a manager gets it privately: it points to the card in the staff
/// chat, where the follow-up is closed.
pub fn follow_up_private_text(ticket: &Ticket, follow_up: i64, locale: Locale) -> String {
    follow_up_body(ticket, follow_up, locale, None, true)
}

fn follow_up_body(
    ticket: &Ticket,
    follow_up: i64,
    locale: Locale,
    closed: Option<(&str, &str)>,
    private: bool,
) -> String {
    let id_s = ticket.id.to_string();
    let key = if ticket.score.is_some() {
        "follow_up.card"
    } else {
        "follow_up.card_unrated"
    };
    let mut text = t(
        locale,
        key,
        &[
            ("fu", &follow_up.to_string()),
            ("id", &id_s),
            (
                "score",
                &ticket.score.map_or("—".to_owned(), |s| s.to_string()),
            ),
            ("owner", &ticket.owner_name),
            ("unit", ticket.unit.as_deref().unwrap_or("—")),
            ("group", &ticket.group_name),
            (
                "by",
                ticket.taken_by.as_ref().map_or("—", |(_, n)| n.as_str()),
            ),
            ("text", &shorten(&ticket.text, 1000)),
        ],
    );
    text.push('\n');
    match closed {
        None if private => text.push_str(&t(locale, "follow_up.how_to_close_private", &[])),
        None => text.push_str(&t(locale, "follow_up.how_to_close", &[])),
        Some((by, note)) => text.push_str(&t(
            locale,
            "follow_up.closed_by",
            &[("by", by), ("note", &shorten(note, 2000))],
        )),
    }
    text
}
