//! The staff's work on a ticket: take it, relay progress, finish it, reopen it, set its
//! category, note something for the record.

use chrono::{DateTime, Utc};

use super::{Origin, Photo, Result, fetch, record_photo};
use crate::config::Settings;
use crate::domain::text::shorten;
use crate::domain::{Actor, Category, Error, EventKind, Ticket, TicketId, TicketStatus};
use crate::i18n::{self, t};
use crate::messages;
use crate::store::{PhotoKind, Tx};

/// `actor` takes ticket `id`: the card is edited, the owner told who is coming.
pub async fn take(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    fetch(tx, id).await?.take(actor)?;
    tx.set_taken(id, actor, now).await?;
    super::deadlines::set_taken_due(tx, settings, id, now).await?;
    tx.add_event(id, EventKind::Taken, actor, None, now).await?;
    let fresh = fetch(tx, id).await?;
    let out = [
        messages::card_edit(settings, &fresh),
        messages::to_owner(
            settings,
            &fresh,
            "owner.taken",
            &[("id", &id.to_string()), ("by", &actor.name)],
        ),
    ];
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// Done, from the card's button or `/done N [note]`.
pub struct Finish<'a> {
    pub id: TicketId,
    /// Told to the owner and kept with the event.
    pub note: Option<&'a str>,
    /// A completion photo sent with `/done` as its caption: recorded first (so it counts
    /// when photos are required) and shown to the owner.
    pub photo: Option<Photo>,
}

/// `actor` closes a ticket: refused without a photo since Take when photos are
/// required; the owner is told (with the photo, if any) and asked for a rating.
pub async fn finish(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    req: Finish<'_>,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let id = req.id;
    if let Some(photo) = &req.photo {
        fetch(tx, id).await?;
        // A completion photo is kept without its album: later photos of it do not add to
        // the ticket.
        let (chat_id, message_id) = photo.source;
        let kind = PhotoKind::Completion;
        tx.add_photo(
            id,
            &photo.file_id,
            kind,
            actor.id,
            chat_id,
            message_id,
            None,
            now,
        )
        .await?;
    }
    let ticket = fetch(tx, id).await?;
    let photos = tx.photos_since_taken(id).await?;
    ticket.finish(actor, photos, settings.rating.require_completion_photo)?;
    // Finished while paused: the pause ends here.
    super::pause::end_pause(tx, &ticket, actor, now).await?;
    tx.set_status(id, TicketStatus::Done, now).await?;
    tx.add_event(id, EventKind::Done, actor, req.note, now)
        .await?;
    let round = tx.next_rating_round(id).await?;
    let fresh = fetch(tx, id).await?;
    let locale = messages::owner_locale(settings, &fresh);
    let by = fresh.taken_by.as_ref().map_or(&actor.name, |(_, n)| n);
    let mut done = t(locale, "owner.done", &[("id", &id.to_string()), ("by", by)]);
    if let Some(note) = req.note {
        done.push('\n');
        done.push_str(&shorten(note, 900));
    }
    let mut out = vec![messages::card_edit(settings, &fresh)];
    match req.photo {
        Some(photo) => out.extend(messages::relay_photo(
            &fresh,
            photo.file_id,
            shorten(&done, 1000),
        )),
        None => out.push(messages::relay(&fresh, done)),
    }
    out.push(messages::rating_question(settings, &fresh, round));
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// Back to work (same taker), asked for by staff or a manager: the owner is told, and the
/// staff chat under the card.
pub async fn reopen(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    reopen_for(tx, settings, actor, id, reason, false, now).await
}

/// [`reopen`], or the owner's "not fixed" (`by_owner`): then only the staff are told.
pub(super) async fn reopen_for(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    reason: Option<&str>,
    by_owner: bool,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let ticket = fetch(tx, id).await?;
    ticket.reopen(actor, by_owner)?;
    let status = if ticket.taken_by.is_some() {
        TicketStatus::Taken
    } else {
        TicketStatus::Reported
    };
    tx.set_status(id, status, now).await?;
    tx.add_event(id, EventKind::Reopened, actor, reason, now)
        .await?;
    let fresh = fetch(tx, id).await?;
    let id_s = id.to_string();
    let staff = messages::staff_locale(settings);
    let mut out = vec![messages::card_edit(settings, &fresh)];
    if by_owner {
        let text = t(staff, "reopen.by_owner", &[("id", &id_s)]);
        out.push(messages::to_card(settings, &fresh, text));
    } else {
        let args = [("id", id_s.as_str())];
        out.push(messages::to_owner(
            settings,
            &fresh,
            "owner.reopened",
            &args,
        ));
        let args = [("id", id_s.as_str()), ("by", actor.name.as_str())];
        let text = t(staff, "reopen.by_staff", &args);
        out.push(messages::to_card(settings, &fresh, text));
    }
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// A staff member's reply to a card: text or a photo relayed to the owner.
pub struct Progress {
    pub id: TicketId,
    /// The reply; "relayed" is answered under it.
    pub origin: Origin,
    /// Its text or caption, trimmed, if not empty.
    pub text: Option<String>,
    pub photo: Option<Photo>,
}

/// Relays progress to the owner, under their report; a photo also changes the card's
/// count. Refused without text or photo, and once the ticket is closed. False when this
/// message was handled before.
pub async fn progress(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    req: Progress,
    now: DateTime<Utc>,
) -> Result<bool> {
    let id = req.id;
    let ticket = fetch(tx, id).await?;
    ticket.accepts_progress()?;
    let id_s = id.to_string();
    let locale = messages::owner_locale(settings, &ticket);
    let head = t(
        locale,
        "owner.progress",
        &[("id", &id_s), ("by", &actor.name)],
    );
    let text = req.text.as_deref();
    let body = match text {
        Some(text) => format!("{head}\n{text}"),
        None => head,
    };
    let mut out = Vec::new();
    if let Some(photo) = req.photo {
        if !record_photo(tx, id, &photo, PhotoKind::Progress, actor.id, now).await? {
            return Ok(false); // this message was handled before
        }
        let detail = Some(text.unwrap_or("photo"));
        tx.add_event(id, EventKind::Progress, actor, detail, now)
            .await?;
        let caption = shorten(&body, 1000);
        out.extend(messages::relay_photo(&ticket, photo.file_id, caption));
        out.push(messages::card_edit(settings, &fetch(tx, id).await?));
    } else if let Some(text) = text {
        let source = req.origin.source();
        if !tx
            .add_event_from(id, EventKind::Progress, actor, Some(text), source, now)
            .await?
        {
            return Ok(false); // this message was handled before
        }
        out.push(messages::relay(&ticket, body));
    } else {
        return Err(Error::EmptyNote.into());
    }
    out.push(req.origin.answer("progress.relayed", &[("id", &id_s)]));
    tx.enqueue_all(&out, now).await?;
    Ok(true)
}

/// `/category N <category>`: the card shows the new category; an open ticket whose new
/// category is routed to another staff chat moves there (see [`super::routing`]).
pub async fn set_category(
    tx: &mut Tx<'_>,
    settings: &Settings,
    actor: &Actor,
    id: TicketId,
    category: Category,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Ticket> {
    let before = fetch(tx, id).await?;
    before.staff_work()?;
    tx.set_category(id, category, now).await?;
    tx.add_event(id, EventKind::Category, actor, Some(category.code()), now)
        .await?;
    let name = i18n::category_name(origin.locale, category);
    let args = [("id", id.to_string()), ("category", name)];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (fresh, out) = match super::routing::move_card(tx, settings, &before, category).await? {
        Some((fresh, moved)) => {
            let chat = messages::staff_chat_name(settings, messages::staff_chat(settings, &fresh));
            let mut with_chat = args.clone();
            with_chat.push(("chat", &chat));
            let answer = origin.answer("category.set_moved", &with_chat);
            (fresh, [moved, vec![answer]].concat())
        }
        None => {
            let fresh = fetch(tx, id).await?;
            let out = vec![
                messages::card_edit(settings, &fresh),
                origin.answer("category.set", &args),
            ];
            (fresh, out)
        }
    };
    tx.enqueue_all(&out, now).await?;
    Ok(fresh)
}

/// `/note N <text>`: a note in the ticket's record, for staff only. Refused when empty.
/// False when this message was handled before.
pub async fn add_note(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: TicketId,
    note: &str,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<bool> {
    if note.is_empty() {
        return Err(Error::EmptyNote.into());
    }
    fetch(tx, id).await?.staff_work()?;
    let source = origin.source();
    if !tx
        .add_event_from(id, EventKind::Note, actor, Some(note), source, now)
        .await?
    {
        return Ok(false); // this message was handled before
    }
    let answer = origin.answer("note.added", &[("id", &id.to_string())]);
    tx.enqueue(&answer, now).await?;
    Ok(true)
}
