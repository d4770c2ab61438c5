//! The messages Butler builds in more than one place — the staff card and its edits, a
//! word to the owner under their report, a note under the card, the rating question, the
//! follow-up card — as outbox rows ([`Outgoing`]), and in [`render`] the texts they carry.
//!
//! Builders take the [`Settings`] (staff chat, default language, time zone) and the
//! ticket; they use `domain`, `i18n`, `config`, the outbox's message model and the store's
//! message kinds. Nothing here reads or writes the store, and nothing knows who asked:
//! the use cases (`tickets`), the jobs and the chat handlers all call these.

pub mod render;
pub mod story;

use crate::config::Settings;
use crate::domain::{Ticket, TicketId};
use crate::i18n::{self, Locale};
use crate::outbox::{Outgoing, Remember, Target};
use crate::store::BotMessageKind;

/// The language of the staff chat (and of managers' private chats).
pub fn staff_locale(settings: &Settings) -> Locale {
    settings.default_locale
}

/// The language of the owner of `ticket`.
pub fn owner_locale(settings: &Settings, ticket: &Ticket) -> Locale {
    ticket.owner_locale.unwrap_or(settings.default_locale)
}

/// The staff chat `ticket`'s card lives in: its route's, else the main one.
pub fn staff_chat(settings: &Settings, ticket: &Ticket) -> i64 {
    ticket.staff_chat_or(settings.staff_chat_id)
}

/// `text` in `chat_id`, as a reply to message `message_id` there.
pub fn reply(chat_id: i64, message_id: i32, text: String) -> Outgoing {
    Outgoing::Text {
        chat_id,
        text,
        reply_to: Some(Target::Message(message_id)),
        buttons: None,
        remember: None,
    }
}

/// The reply to the report, the staff card, a relay or a question: where Butler's messages
/// about a ticket sit in the owner group.
fn under_report(ticket: &Ticket) -> Option<Target> {
    ticket.report_in_group().map(Target::Message)
}

/// Remembers a sent message as `kind` for `ticket`.
pub fn remember(ticket: TicketId, kind: BotMessageKind, ref_id: Option<i64>) -> Option<Remember> {
    Some(Remember {
        ticket_id: ticket.0,
        kind,
        ref_id,
    })
}

/// The latest staff card of `ticket`.
pub fn card_of(ticket: TicketId) -> Target {
    Target::Latest {
        ticket_id: ticket.0,
        kind: BotMessageKind::Card,
    }
}

/// A new staff card for a new ticket, remembered as its card.
pub fn new_card(settings: &Settings, ticket: &Ticket) -> Outgoing {
    let (text, buttons) = render::card(ticket, staff_locale(settings), settings.timezone);
    Outgoing::Text {
        chat_id: staff_chat(settings, ticket),
        text,
        reply_to: None,
        buttons,
        remember: remember(ticket.id, BotMessageKind::Card, None),
    }
}

/// An edit of the ticket's staff card to its current state.
pub fn card_edit(settings: &Settings, ticket: &Ticket) -> Outgoing {
    let (text, buttons) = render::card(ticket, staff_locale(settings), settings.timezone);
    Outgoing::Edit {
        chat_id: staff_chat(settings, ticket),
        target: card_of(ticket.id),
        text,
        buttons,
    }
}

/// A message to the owner group, under the owner's report.
pub fn to_owner(
    settings: &Settings,
    ticket: &Ticket,
    key: &str,
    args: &[(&str, &str)],
) -> Outgoing {
    Outgoing::Text {
        chat_id: ticket.group_chat_id,
        text: i18n::t(owner_locale(settings, ticket), key, args),
        reply_to: under_report(ticket),
        buttons: None,
        remember: None,
    }
}

/// `text` to the owner group under the owner's report, remembered as a relay so that the
/// owner's reply to it reaches the ticket.
pub fn relay(ticket: &Ticket, text: String) -> Outgoing {
    Outgoing::Text {
        chat_id: ticket.group_chat_id,
        text,
        reply_to: under_report(ticket),
        buttons: None,
        remember: remember(ticket.id, BotMessageKind::Relay, None),
    }
}

/// A photo (with `caption`) to the owner group under the report, remembered as a relay.
pub fn relay_photo(ticket: &Ticket, file_id: String, caption: String) -> Vec<Outgoing> {
    Outgoing::photos(
        ticket.group_chat_id,
        &[file_id],
        Some(caption),
        under_report(ticket),
        remember(ticket.id, BotMessageKind::Relay, None),
    )
}

/// A message to the ticket's staff chat, under its card.
pub fn to_card(settings: &Settings, ticket: &Ticket, text: String) -> Outgoing {
    Outgoing::Text {
        chat_id: staff_chat(settings, ticket),
        text,
        reply_to: Some(card_of(ticket.id)),
        buttons: None,
        remember: None,
    }
}

/// The edit of a card in `old_chat` whose ticket moved to another staff chat, named
/// `to`: it says where the ticket went, and loses its buttons.
pub fn card_moved(settings: &Settings, ticket: &Ticket, old_chat: i64, to: &str) -> Outgoing {
    let locale = staff_locale(settings);
    let (text, _) = render::card(ticket, locale, settings.timezone);
    let moved = i18n::t(
        locale,
        "route.card_moved",
        &[("id", &ticket.id.to_string()), ("chat", to)],
    );
    Outgoing::Edit {
        chat_id: old_chat,
        target: card_of(ticket.id),
        text: crate::domain::text::shorten(&format!("{moved}\n\n{text}"), 4000),
        buttons: None,
    }
}

/// The name of staff chat `chat` as people read it: the route's name, or the main
/// staff chat's localized name.
pub fn staff_chat_name(settings: &Settings, chat: i64) -> String {
    match settings.staff_chat_name(chat) {
        Some(name) => name.to_owned(),
        None => i18n::t(staff_locale(settings), "route.main_chat", &[]),
    }
}

/// The rating question for round `round`, under the owner's report.
pub fn rating_question(settings: &Settings, ticket: &Ticket, round: i64) -> Outgoing {
    let (text, buttons) = render::rating_question(ticket, round, owner_locale(settings, ticket));
    Outgoing::Text {
        chat_id: ticket.group_chat_id,
        text,
        reply_to: under_report(ticket),
        buttons: Some(buttons),
        remember: remember(ticket.id, BotMessageKind::Rating, Some(round)),
    }
}

/// The managers' card of follow-up `follow_up`, under the ticket's card, remembered so
/// that a manager's reply to it closes the follow-up.
pub fn follow_up_card(settings: &Settings, ticket: &Ticket, follow_up: i64) -> Outgoing {
    Outgoing::Text {
        chat_id: staff_chat(settings, ticket),
        text: render::follow_up_text(ticket, follow_up, staff_locale(settings), None),
        reply_to: Some(card_of(ticket.id)),
        buttons: None,
        remember: remember(ticket.id, BotMessageKind::FollowUp, Some(follow_up)),
    }
}

/// A complaint's or suggestion's card for the managers in `chat_id` (a manager's private
/// chat or the complaints chat), remembered so that a reply to it answers the owner.
pub fn request_card(
    settings: &Settings,
    ticket: &Ticket,
    chat_id: i64,
    locale: Locale,
) -> Outgoing {
    let (text, buttons) = render::request_card(ticket, locale, settings.timezone, None);
    Outgoing::Text {
        chat_id,
        text,
        reply_to: None,
        buttons,
        remember: remember(ticket.id, BotMessageKind::RequestCard, None),
    }
}
