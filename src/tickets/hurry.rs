//! The owner's confirmation under their report, and its **Hurry up / 催一下** button:
//! once the take or resolve time of a repair (a complaint's first response or reply)
//! has passed and the ticket is still open and not paused, the SLA sweep edits the
//! confirmation to carry it (beside Cancel). Only the reporter may press it; a press
//! pings whoever works on it — the holder (privately when they have a private chat with
//! Butler, else by name under the card), the ticket's staff chat when nobody holds it, the
//! managers for a complaint — and is counted as a `hurried` event, at most once an hour
//! per ticket.

use chrono::{DateTime, Utc};

use super::{Result, fetch};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, CardAction, EventKind, Kind, Ticket, TicketId, TicketStatus, Urgency};
use crate::i18n::{self, Locale, t};
use crate::messages::{self, remember};
use crate::outbox::{Buttons, Outgoing, Target};
use crate::store::{AlertKind, BotMessageKind, Tx};

/// The text of the owner's confirmation of `ticket` (a repair or a complaint), in
/// `locale`, with the promise the policy makes.
pub(super) fn confirmation_text(settings: &Settings, ticket: &Ticket, locale: Locale) -> String {
    let id = ticket.id.to_string();
    let promise = super::deadlines::promise(settings, ticket, locale);
    match ticket.kind {
        Kind::Suggestion => t(locale, "suggestion.confirmation", &[("id", &id)]),
        Kind::Complaint => t(
            locale,
            "complaint.confirmation",
            &[("id", &id), ("minutes", &promise)],
        ),
        Kind::Repair => {
            let mut text = t(
                locale,
                "report.confirmation",
                &[
                    ("id", &id),
                    ("category", &i18n::category_name(locale, ticket.category)),
                    ("promise", &promise),
                ],
            );
            if ticket.urgency == Urgency::A {
                text.push('\n');
                text.push_str(&t(locale, "report.urgent", &[]));
            }
            if ticket.unit.is_none() {
                text.push('\n');
                text.push_str(&t(locale, "report.unit_hint", &[]));
            }
            text
        }
    }
}

/// The buttons under the confirmation: a repair's Cancel, and Hurry up once offered.
pub(super) fn confirmation_buttons(
    ticket: &Ticket,
    locale: Locale,
    hurry: bool,
) -> Option<Buttons> {
    let mut row = Vec::new();
    if hurry {
        row.push((
            t(locale, "button.hurry", &[]),
            CardAction::Hurry(ticket.id).encode(),
        ));
    }
    if ticket.kind == Kind::Repair {
        row.push((
            t(locale, "button.cancel", &[]),
            CardAction::Cancel(ticket.id).encode(),
        ));
    }
    (!row.is_empty()).then(|| Buttons(vec![row]))
}

/// The confirmation as a new message under the report (`origin_message` in `chat_id`).
pub(super) fn confirmation(
    settings: &Settings,
    ticket: &Ticket,
    chat_id: i64,
    origin_message: i32,
    locale: Locale,
) -> Outgoing {
    Outgoing::Text {
        chat_id,
        text: confirmation_text(settings, ticket, locale),
        reply_to: Some(Target::Message(origin_message)),
        buttons: confirmation_buttons(ticket, locale, false),
        remember: remember(ticket.id, BotMessageKind::Confirmation, None),
    }
}

/// The SLA sweep at `now`: when `ticket`'s owner may now hurry it up and has not been
/// offered the button yet, the edit of their confirmation that adds it (recorded once).
pub async fn offer_hurry(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    now: DateTime<Utc>,
) -> Result<Option<Outgoing>> {
    let answered = tx
        .last_event_at(ticket.id, EventKind::Answered)
        .await?
        .is_some();
    if !ticket.hurry_offered(now, answered)
        || !tx
            .record_alert(ticket.id, AlertKind::HurryOffer, 0, now)
            .await?
        // The confirmation is in the chat the group was before it became a supergroup.
        || ticket.report_in_group().is_none()
    {
        return Ok(None);
    }
    let locale = messages::owner_locale(settings, ticket);
    Ok(Some(Outgoing::Edit {
        chat_id: ticket.group_chat_id,
        target: Target::Latest {
            ticket_id: ticket.id.0,
            kind: BotMessageKind::Confirmation,
        },
        text: confirmation_text(settings, ticket, locale),
        buttons: confirmation_buttons(ticket, locale, true),
    }))
}

/// `owner` presses Hurry up on ticket `id`: the ping goes out and a `hurried` event is
/// written; refused (nothing written) for anyone but the reporter, a finished or paused
/// ticket, before a deadline passed, and within an hour of the previous press.
pub async fn hurry(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    let answered = tx.last_event_at(id, EventKind::Answered).await?.is_some();
    let last = tx.last_event_at(id, EventKind::Hurried).await?;
    ticket.hurry(owner.id, now, answered, last)?;
    tx.add_event(id, EventKind::Hurried, owner, None, now)
        .await?;
    let out = ping(tx, settings, &ticket, now).await?;
    tx.enqueue_all(&out, now).await?;
    Ok(ticket)
}

/// Who hears of a press: the holder privately (or by name under the card), the staff
/// chat under the card when nobody holds it, the managers for a complaint.
async fn ping(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    now: DateTime<Utc>,
) -> Result<Vec<Outgoing>> {
    let id = ticket.id.to_string();
    let open = now - ticket.created_at - ticket.paused_time(now);
    if ticket.kind == Kind::Complaint {
        let chats = super::request_chats(tx, settings).await?;
        return Ok(chats
            .into_iter()
            .map(|(chat, locale)| {
                let waited = i18n::duration(locale, open);
                let text = t(
                    locale,
                    "hurry.managers",
                    &[
                        ("id", &id),
                        ("waited", &waited),
                        ("owner", &ticket.owner_name),
                    ],
                );
                Outgoing::text(chat, text)
            })
            .collect());
    }
    let staff = messages::staff_locale(settings);
    let waited = i18n::duration(staff, open);
    let holder = match (&ticket.taken_by, ticket.status) {
        (Some(holder), TicketStatus::Taken) => Some(holder.clone()),
        _ => None,
    };
    Ok(vec![match holder {
        Some((holder, _)) if tx.has_private_chat(holder).await? => {
            let text = t(
                staff,
                "hurry.private",
                &[
                    ("id", &id),
                    ("waited", &waited),
                    ("group", &ticket.group_name),
                    ("unit", ticket.unit.as_deref().unwrap_or("—")),
                    ("text", &shorten(&ticket.text, 1000)),
                ],
            );
            Outgoing::text(holder as i64, text)
        }
        Some((_, name)) => messages::to_card(
            settings,
            ticket,
            t(
                staff,
                "hurry.holder",
                &[("id", &id), ("waited", &waited), ("by", &name)],
            ),
        ),
        None => messages::to_card(
            settings,
            ticket,
            t(staff, "hurry.staff", &[("id", &id), ("waited", &waited)]),
        ),
    }])
}
