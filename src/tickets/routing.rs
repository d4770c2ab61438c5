//! Routing to trade chats: which staff chat a ticket is worked in, and moving its card
//! when its category changes to one routed elsewhere.

use super::{Result, fetch};
use crate::config::Settings;
use crate::domain::{Actor, Category, Ticket, TicketId};
use crate::messages;
use crate::outbox::Outgoing;
use crate::store::Tx;

/// The route chat that takes `category`, as stored on a ticket: `None` for the main chat.
pub fn route_of(settings: &Settings, category: Category) -> Option<i64> {
    let chat = settings.staff_chat_for(category);
    (chat != settings.staff_chat_id).then_some(chat)
}

/// Refuses `actor`, writing in staff chat `chat`, a ticket that lives in another staff
/// chat (a manager may act anywhere).
pub async fn check_place(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    chat: i64,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.worked_from(chat, settings.staff_chat_id, actor, |home| {
        messages::staff_chat_name(settings, home)
    })?;
    Ok(ticket)
}

/// After `before`'s category changed (`fresh` is the ticket now): an open ticket whose new
/// category is routed to another staff chat moves there. The old card says where it
/// went, a new card opens in the new chat (and is the card from then on). `None` when it
/// stays.
pub async fn move_card(
    tx: &mut Tx<'_>,
    settings: &Settings,
    before: &Ticket,
    category: Category,
) -> Result<Option<(Ticket, Vec<Outgoing>)>> {
    let to = route_of(settings, category);
    if !before.status.is_open() || to == before.staff_chat {
        return Ok(None);
    }
    tx.set_staff_chat(before.id, to).await?;
    let fresh = fetch(tx, before.id).await?;
    let old_chat = messages::staff_chat(settings, before);
    let new_chat = messages::staff_chat(settings, &fresh);
    let name = messages::staff_chat_name(settings, new_chat);
    let out = vec![
        messages::card_moved(settings, &fresh, old_chat, &name),
        messages::new_card(settings, &fresh),
    ];
    Ok(Some((fresh, out)))
}
