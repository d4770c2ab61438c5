//! Complaints (投诉) and suggestions (建议): the owner's confirmation, the managers'
//! cards (each manager privately, or the complaints chat — never the staff chat, as a
//! complaint may be about staff), a manager's answer relayed to the owner, details the
//! owner adds, and closing. Also who is told privately at once about an urgent repair.
//!
//! A closed complaint or suggestion is `done` with a `closed` event and no rating
//! question: the owner is told it was closed; the return visit of a complaint belongs to
//! the complaint SLA (later).

use chrono::{DateTime, Utc};

use super::{Origin, Photo, Result, fetch, record_photo};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, EventKind, Kind, Ticket, TicketId};
use crate::i18n::{Locale, t};
use crate::messages::{self, remember, render};
use crate::outbox::{Outgoing, Target};
use crate::store::{BotMessageKind, PhotoKind, Tx};

/// The managers who can be written to privately (they have started a chat with Butler),
/// each with their language.
pub(super) async fn reachable_managers(
    tx: &mut Tx<'_>,
    settings: &Settings,
) -> Result<Vec<(i64, Locale)>> {
    let reachable = tx.private_chats(&settings.managers).await?;
    Ok(settings
        .managers
        .iter()
        .filter_map(|m| {
            let language = reachable.get(m)?;
            let locale =
                Locale::from_telegram(language.as_deref()).unwrap_or(settings.default_locale);
            Some((*m as i64, locale))
        })
        .collect())
}

/// Where complaints and suggestions go: the complaints chat when one is set, else each
/// manager who can be written to privately. Empty when neither: the request is kept and
/// the owner told as usual (Butler warns about this at start).
pub async fn request_chats(tx: &mut Tx<'_>, settings: &Settings) -> Result<Vec<(i64, Locale)>> {
    if settings.complaints_chat_id != 0 {
        return Ok(vec![(settings.complaints_chat_id, settings.default_locale)]);
    }
    reachable_managers(tx, settings).await
}

/// The messages of a new complaint or suggestion: the owner's confirmation (remembered,
/// so that replying to it adds details) and a card (and the photo) for the managers.
pub(super) async fn reported(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    origin: Origin,
    photo: Option<Photo>,
) -> Result<Vec<Outgoing>> {
    let mut out = vec![super::hurry::confirmation(
        settings,
        ticket,
        origin.chat_id,
        origin.message_id,
        origin.locale,
    )];
    let chats = request_chats(tx, settings).await?;
    if chats.is_empty() {
        tracing::warn!(
            ticket = ticket.id.0,
            "a complaint or suggestion has nowhere to go: no complaints_chat_id and no manager has started a private chat with the bot"
        );
    }
    for (chat_id, locale) in chats {
        out.push(messages::request_card(settings, ticket, chat_id, locale));
        if let Some(photo) = &photo {
            let caption = t(
                locale,
                "request.photo_caption",
                &[("id", &ticket.id.to_string())],
            );
            out.extend(request_photo(
                ticket.id,
                chat_id,
                photo.file_id.clone(),
                caption,
            ));
        }
    }
    Ok(out)
}

/// A photo for the managers, remembered as the request's so that a reply to it answers.
fn request_photo(id: TicketId, chat_id: i64, file_id: String, caption: String) -> Vec<Outgoing> {
    Outgoing::photos(
        chat_id,
        &[file_id],
        Some(caption),
        None,
        remember(id, BotMessageKind::RequestCard, None),
    )
}

/// The owner adds a detail to their open complaint or suggestion: it goes where the card
/// went. True when added; false when this message was handled before.
pub(super) async fn add_request_detail(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    ticket: &Ticket,
    req: super::Detail,
    now: DateTime<Utc>,
) -> Result<bool> {
    let id = ticket.id;
    let id_s = id.to_string();
    let chats = request_chats(tx, settings).await?;
    let mut out = Vec::new();
    if let Some(photo) = req.photo {
        if !record_photo(tx, id, &photo, PhotoKind::Report, owner.id, now).await? {
            return Ok(false);
        }
        let text = req.text.as_deref();
        tx.add_event(id, EventKind::Detail, owner, text.or(Some("photo")), now)
            .await?;
        for (chat_id, locale) in chats {
            let args = [("id", id_s.as_str()), ("text", text.unwrap_or(""))];
            let caption = t(locale, "detail.staff_photo", &args);
            out.extend(request_photo(id, chat_id, photo.file_id.clone(), caption));
        }
    } else if let Some(text) = &req.text {
        let source = req.origin.source();
        if !tx
            .add_event_from(id, EventKind::Detail, owner, Some(text), source, now)
            .await?
        {
            return Ok(false);
        }
        let quoted = shorten(text, 3500);
        for (chat_id, locale) in chats {
            let text = t(
                locale,
                "detail.staff_text",
                &[("id", &id_s), ("text", &quoted)],
            );
            out.push(Outgoing::Text {
                chat_id,
                text,
                reply_to: None,
                buttons: None,
                remember: remember(id, BotMessageKind::RequestCard, None),
            });
        }
    } else {
        return Err(crate::domain::Error::EmptyNote.into());
    }
    out.push(req.origin.answer("detail.added", &[("id", &id_s)]));
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}

/// A manager's reply to a complaint's or suggestion's card (text or a photo).
pub struct Answer {
    pub id: TicketId,
    /// The manager's message; the "sent" answer goes under it.
    pub origin: Origin,
    pub text: Option<String>,
    pub photo: Option<Photo>,
}

/// A manager answers the owner: relayed under the owner's report, remembered so that the
/// owner's reply to it reaches the managers again. False when this message was handled
/// before.
pub async fn answer_request(
    tx: &mut Tx<'_>,
    settings: &Settings,
    manager: &Actor,
    req: Answer,
    now: DateTime<Utc>,
) -> Result<bool> {
    let ticket = fetch(tx, req.id).await?;
    ticket.answerable(manager)?;
    let Some(text) = req
        .text
        .clone()
        .or(req.photo.as_ref().map(|_| String::new()))
    else {
        return Err(crate::domain::Error::EmptyNote.into());
    };
    let source = req.origin.source();
    let detail = if text.is_empty() {
        "photo"
    } else {
        text.as_str()
    };
    if !tx
        .add_event_from(
            ticket.id,
            EventKind::Answered,
            manager,
            Some(detail),
            source,
            now,
        )
        .await?
    {
        return Ok(false);
    }
    let owner = messages::owner_locale(settings, &ticket);
    let id_s = ticket.id.to_string();
    let mut out = Vec::new();
    match req.photo {
        Some(photo) => {
            let caption = t(
                owner,
                "request.answer_photo",
                &[("id", &id_s), ("text", &text)],
            );
            out.extend(messages::relay_photo(&ticket, photo.file_id, caption));
        }
        None => {
            let quoted = shorten(&text, 3500);
            let body = t(
                owner,
                "request.answer_owner",
                &[("id", &id_s), ("text", &quoted)],
            );
            out.push(messages::relay(&ticket, body));
        }
    }
    out.push(req.origin.answer("request.answered", &[("id", &id_s)]));
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}

/// A manager closes a complaint or suggestion (the Close button under `card`, as (chat,
/// message)): the owner is told, the card shows who closed it.
pub async fn close_request(
    tx: &mut Tx<'_>,
    settings: &Settings,
    manager: &Actor,
    id: TicketId,
    card: (i64, i32),
    locale: Locale,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.answerable(manager)?;
    tx.close_request(id, now).await?;
    tx.add_event(id, EventKind::Closed, manager, None, now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let key = match fresh.kind {
        Kind::Suggestion => "request.closed_suggestion",
        _ => "request.closed_complaint",
    };
    let (text, buttons) =
        render::request_card(&fresh, locale, settings.timezone, Some(&manager.name));
    let out = [
        messages::to_owner(settings, &fresh, key, &[("id", &id.to_string())]),
        Outgoing::Edit {
            chat_id: card.0,
            target: Target::Message(card.1),
            text,
            buttons,
        },
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// The managers' word that the owner withdrew complaint or suggestion `ticket`, under
/// its card wherever its card went (never the staff chat).
pub(super) async fn withdrawn(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
) -> Result<Vec<Outgoing>> {
    let id = ticket.id.to_string();
    let card = Target::Latest {
        ticket_id: ticket.id.0,
        kind: BotMessageKind::RequestCard,
    };
    Ok(request_chats(tx, settings)
        .await?
        .into_iter()
        .map(|(chat_id, locale)| Outgoing::Text {
            chat_id,
            text: t(
                locale,
                "cancel.request_line",
                &[("id", &id), ("owner", &ticket.owner_name)],
            ),
            reply_to: Some(card.clone()),
            buttons: None,
            remember: None,
        })
        .collect())
}

/// Each reachable manager, privately, about a new urgency A repair.
pub(super) async fn urgent_alerts(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
) -> Result<Vec<Outgoing>> {
    let managers = reachable_managers(tx, settings).await?;
    Ok(managers
        .into_iter()
        .map(|(chat_id, locale)| {
            let text = t(
                locale,
                "urgency.alert",
                &[
                    ("id", &ticket.id.to_string()),
                    ("group", &ticket.group_name),
                    ("unit", ticket.unit.as_deref().unwrap_or("—")),
                    ("owner", &ticket.owner_name),
                    ("text", &shorten(&ticket.text, 1000)),
                ],
            );
            Outgoing::text(chat_id, text)
        })
        .collect())
}
