//! The owner withdraws a report that solved itself: `/cancel N`, or the Cancel button
//! under their confirmation.

use chrono::{DateTime, Utc};

use super::{Origin, Result, fetch};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, EventKind, Ticket, TicketId, TicketStatus};
use crate::i18n::t;
use crate::messages;
use crate::outbox::Outgoing;
use crate::store::Tx;

/// `owner` withdraws ticket `id` (their own, still open): it becomes `cancelled`, the
/// card says so and loses its buttons, the staff chat is told under the card (and the
/// holder privately, when they have a private chat with Butler), and the owner is
/// answered under `answer` (their `/cancel`), else under the report (a button press).
pub async fn cancel(
    tx: &mut Tx<'_>,
    settings: &Settings,
    owner: &Actor,
    id: TicketId,
    answer: Option<Origin>,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.cancel(owner.id)?;
    // Withdrawn while paused: the pause ends here.
    super::pause::end_pause(tx, &ticket, owner, now).await?;
    tx.set_status(id, TicketStatus::Cancelled, now).await?;
    tx.add_event(id, EventKind::Cancelled, owner, None, now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let mut out = if fresh.kind.is_staff_work() {
        staff_words(tx, settings, &ticket, &fresh).await?
    } else {
        // A complaint or suggestion has no card in the staff chat, and may be about
        // staff: the managers are told, where its card went.
        super::requests::withdrawn(tx, settings, &fresh).await?
    };
    let ids = id.to_string();
    out.push(match answer {
        Some(origin) => origin.answer("cancel.done", &[("id", &ids)]),
        None => messages::to_owner(settings, &fresh, "cancel.done", &[("id", &ids)]),
    });
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// What staff are told of a withdrawn repair (`ticket` as it was, `fresh` as it is now):
/// the card edited, a line under it, and the holder privately.
async fn staff_words(
    tx: &mut Tx<'_>,
    settings: &Settings,
    ticket: &Ticket,
    fresh: &Ticket,
) -> Result<Vec<Outgoing>> {
    let holder = match (&ticket.taken_by, ticket.status) {
        (Some(holder), TicketStatus::Taken) => Some(holder.clone()),
        _ => None,
    };
    let mut out = vec![
        messages::card_edit(settings, fresh),
        messages::to_card(settings, fresh, staff_line(settings, fresh, &holder)),
    ];
    if let Some((holder_id, _)) = &holder
        && tx.has_private_chat(*holder_id).await?
    {
        out.push(private_word(settings, fresh, *holder_id));
    }
    Ok(out)
}

/// "#5 was withdrawn by its reporter, Li." under the card, naming the holder if any.
fn staff_line(settings: &Settings, ticket: &Ticket, holder: &Option<(u64, String)>) -> String {
    let locale = messages::staff_locale(settings);
    let id = ticket.id.to_string();
    match holder {
        Some((_, name)) => t(
            locale,
            "cancel.staff_line_held",
            &[("id", &id), ("owner", &ticket.owner_name), ("holder", name)],
        ),
        None => t(
            locale,
            "cancel.staff_line",
            &[("id", &id), ("owner", &ticket.owner_name)],
        ),
    }
}

/// The holder's private word: which ticket they no longer need to go to.
fn private_word(settings: &Settings, ticket: &Ticket, holder: u64) -> Outgoing {
    let locale = messages::staff_locale(settings);
    let text = t(
        locale,
        "cancel.private",
        &[
            ("id", &ticket.id.to_string()),
            ("group", &ticket.group_name),
            ("unit", ticket.unit.as_deref().unwrap_or("—")),
            ("text", &shorten(&ticket.text, 1000)),
        ],
    );
    Outgoing::Text {
        chat_id: holder as i64,
        text,
        reply_to: None,
        buttons: None,
        remember: None,
    }
}
