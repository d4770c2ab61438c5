//! An owner reports (a new ticket) and corrects the report.

use chrono::{DateTime, Utc};

use super::{Origin, Photo, Result, fetch, record_photo};
use crate::config::Settings;
use crate::domain::kind::REPEAT_WINDOW_DAYS;
use crate::domain::text::shorten;
use crate::domain::{Actor, Category, EventKind, Kind, ReportText, Ticket, TicketId, Urgency};
use crate::i18n::{self, t};
use crate::messages::{self, card_of, remember};
use crate::outbox::Outgoing;
use crate::store::{BotMessageKind, NewTicket, PhotoKind, Tx};

/// `/repair <text>` in an owner group, or a photo captioned so; `/complain` and
/// `/suggest` likewise.
pub struct Report<'a> {
    /// A repair, a complaint or a suggestion.
    pub kind: Kind,
    /// The report message in the owner group; the confirmation answers under it.
    pub origin: Origin,
    /// The owner's Telegram language, remembered for when the group has none.
    pub language: Option<&'a str>,
    pub text: &'a ReportText,
    pub photo: Option<Photo>,
    /// When the owner sent it, as Telegram dated the message (the flood limit counts
    /// reports by this date).
    pub sent_at: DateTime<Utc>,
}

/// A new ticket. A repair: its confirmation under the report, its card (and photo) in
/// the staff chat, a word to managers for a watch-listed owner or an urgent (A) report.
/// A complaint or suggestion: see [`super::requests`]. `None` when this report message
/// already made a ticket (a redelivered update).
pub async fn report(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    req: Report<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>> {
    let known = tx
        .touch_owner(owner.id, &owner.name, req.language, now)
        .await?;
    let text = req.text.as_ref();
    let category = Category::guess(text, i18n::category_keywords);
    let (urgency, repeat_of) = match (req.kind, &known.unit) {
        (Kind::Repair, Some(unit)) => {
            let since = now - chrono::Duration::days(REPEAT_WINDOW_DAYS);
            let group = req.origin.chat_id;
            let earlier = tx.repeat_candidate(group, unit, category, since).await?;
            (Urgency::guess(text, i18n::urgency_keywords), earlier)
        }
        (Kind::Repair, None) => (Urgency::guess(text, i18n::urgency_keywords), None),
        _ => (Urgency::B, None),
    };
    let new = NewTicket {
        group_chat_id: req.origin.chat_id,
        report_message_id: req.origin.message_id,
        owner_id: owner.id,
        unit: known.unit.as_ref(),
        category,
        text,
        priority: known.watched,
        kind: req.kind,
        urgency,
        repeat_of,
        reported_at: req.sent_at,
        staff_chat: super::routing::route_of(settings, category),
    };
    // The same report delivered twice makes one ticket.
    let Some(id) = tx.insert_ticket(&new, now).await? else {
        return Ok(None);
    };
    tx.add_event(id, EventKind::Reported, owner, None, now)
        .await?;
    if let Some(photo) = &req.photo {
        record_photo(tx, id, photo, PhotoKind::Report, owner.id, now).await?;
    }
    let ticket = fetch(tx, id).await?;
    let ticket = super::deadlines::set_report_dues(tx, settings, &ticket).await?;
    let out = if ticket.kind.is_staff_work() {
        repair_messages(tx, settings, &ticket, req.origin, req.photo).await?
    } else {
        super::requests::reported(tx, settings, &ticket, req.origin, req.photo).await?
    };
    tx.enqueue_all(&out, now).await?;
    Ok(Some(ticket))
}

/// A new repair's messages: the confirmation, the staff card (and photo), and the
/// managers' word about a watch-listed owner or an urgent report.
async fn repair_messages(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    origin: Origin,
    photo: Option<Photo>,
) -> Result<Vec<Outgoing>> {
    let confirmation = super::hurry::confirmation(
        settings,
        ticket,
        origin.chat_id,
        origin.message_id,
        origin.locale,
    );
    let mut out = vec![confirmation];
    out.push(messages::new_card(settings, ticket));
    if let Some(photo) = photo {
        out.extend(card_photo(settings, ticket, photo.file_id));
    }
    if ticket.priority {
        out.extend(watch_alerts(settings, ticket));
    }
    if ticket.urgency == Urgency::A {
        out.extend(super::requests::urgent_alerts(tx, settings, ticket).await?);
    }
    Ok(out)
}

/// The report's photo under the new card.
fn card_photo(settings: &Settings, ticket: &Ticket, file_id: String) -> Vec<Outgoing> {
    let staff = messages::staff_locale(settings);
    let id = ticket.id;
    Outgoing::photos(
        messages::staff_chat(settings, ticket),
        &[file_id],
        Some(t(staff, "card.photo_caption", &[("id", &id.to_string())])),
        Some(card_of(id)),
        remember(id, BotMessageKind::CardPhotos, None),
    )
}

/// A word to each manager about a report of a watch-listed owner.
fn watch_alerts(settings: &Settings, ticket: &Ticket) -> Vec<Outgoing> {
    let staff = messages::staff_locale(settings);
    let text = t(
        staff,
        "watch.alert",
        &[
            ("id", &ticket.id.to_string()),
            ("owner", &ticket.owner_name),
            ("unit", ticket.unit.as_deref().unwrap_or("—")),
            ("group", &ticket.group_name),
            ("text", &shorten(&ticket.text, 500)),
        ],
    );
    settings
        .managers
        .iter()
        .map(|&manager| Outgoing::text(manager as i64, text.clone()))
        .collect()
}

/// The owner edited their report: the ticket takes the new text while it is open, and
/// staff are told under the card. `None` when nothing changed (not the owner's ticket,
/// closed, or the same text).
pub async fn edit_report(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    id: TicketId,
    text: &ReportText,
    now: DateTime<Utc>,
) -> Result<Option<Ticket>> {
    let before = fetch(tx, id).await?;
    if before.owner_id != owner.id || !before.status.is_open() || before.text == text.as_ref() {
        return Ok(None);
    }
    tx.set_text(id, text.as_ref(), now).await?;
    tx.add_event(id, EventKind::Edited, owner, Some(&before.text), now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let staff = messages::staff_locale(settings);
    let out = [
        messages::card_edit(settings, &fresh),
        messages::to_card(
            settings,
            &fresh,
            t(
                staff,
                "detail.staff_edited",
                &[
                    ("id", &id.to_string()),
                    ("text", &shorten(text.as_ref(), 3500)),
                ],
            ),
        ),
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(Some(fresh))
}
