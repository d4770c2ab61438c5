//! Owner groups: reports, details added by replying, units, "my tickets", withdrawing a
//! report.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, Message};

use super::commands::{OwnerCommand, Place, fallback};
use super::{
    App, AppRef, BotError, HandlerResult, answer, answer_once, change, display_name, origin,
    photo_of, refuse, say_once, text_of,
};
use crate::domain::{Kind, ReportText, TicketId, TicketStatus, Unit};
use crate::i18n::{Locale, t};
use crate::messages::render;
use crate::store::{BotMessage, BotMessageKind, Group};
use crate::tickets;

/// Most tickets `/my` lists.
const MY_LIMIT: i64 = 10;

pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .map(|app: AppRef, group: Group, msg: Message| app.group_locale(&group, msg.from.as_ref()))
        .branch(
            dptree::entry()
                .filter_command::<OwnerCommand>()
                .endpoint(command),
        )
        .branch(dptree::filter_map_async(super::replied_bot_message).endpoint(add_to_ticket))
        .branch(dptree::filter_map_async(album_item).endpoint(add_album_item))
        .endpoint(
            |bot: Bot, app: AppRef, msg: Message, me: Me, locale: Locale| async move {
                fallback(bot, app, msg, me, Place::OwnerGroup, locale).await
            },
        )
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: OwnerCommand,
    locale: Locale,
) -> HandlerResult {
    match cmd {
        OwnerCommand::Repair(text) | OwnerCommand::Report(text) => {
            report(bot, app, msg, text, Kind::Repair, locale).await
        }
        OwnerCommand::Complain(text) => report(bot, app, msg, text, Kind::Complaint, locale).await,
        OwnerCommand::Suggest(text) => report(bot, app, msg, text, Kind::Suggestion, locale).await,
        OwnerCommand::Unit(raw) => set_unit(bot, app, msg, raw, locale).await,
        OwnerCommand::My => my_tickets(bot, app, msg, locale, true).await,
        OwnerCommand::Cancel(raw) => cancel(bot, app, msg, raw, locale).await,
        OwnerCommand::Help => {
            let key = if app
                .settings
                .is_manager(msg.from.as_ref().map_or(0, |u| u.id.0))
            {
                "help.owner_group_manager"
            } else {
                "help.owner_group"
            };
            answer_once(&app, &bot, &msg, locale, key, &[]).await
        }
    }
}

/// `/repair <text>` (or `/complain`, `/suggest`: `kind`), or a photo captioned so: a new
/// ticket (see [`tickets::report`]), unless the owner reports too often.
async fn report(
    bot: Bot,
    app: AppRef,
    msg: Message,
    text: String,
    kind: Kind,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let photo = photo_of(&msg);
    if let Some(usage) = super::requests::usage(kind, &text, photo.is_some()) {
        return app.send(&bot, vec![answer(&msg, locale, usage, &[])]).await;
    }
    // A photo captioned just "/repair": the photo is the report.
    let raw = if text.trim().is_empty() && photo.is_some() {
        t(locale, "report.photo_only", &[])
    } else {
        text
    };
    let text = match ReportText::parse(&raw) {
        Ok(text) => text,
        Err(e) => return refuse(&app, &bot, &msg, locale, &e).await,
    };
    if flooded(&bot, &app, &msg, user.id.0, locale).await? {
        return Ok(());
    }
    let now = app.now();
    let owner = app.actor(&user);
    let req = tickets::Report {
        kind,
        origin: origin(&msg, locale),
        language: user.language_code.as_deref(),
        text: &text,
        photo,
        sent_at: msg.date,
    };
    change!(app, &bot, &msg, locale, |tx| {
        tickets::report(tx, &app.settings, &owner, req, now).await?;
        Ok(())
    })
}

/// Whether `owner` reports too often to take this report; warns them once a window. A
/// redelivered report is not a new one: only new reports count against the limit, and
/// they count by the date Telegram gave the message, so a backlog handled at once after
/// downtime is not a flood.
async fn flooded(
    bot: &Bot,
    app: &App,
    msg: &Message,
    owner: u64,
    locale: Locale,
) -> Result<bool, BotError> {
    if app
        .store
        .ticket_by_report(msg.chat.id.0, msg.id.0)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let Some(warn) = app.flood_check(owner, msg.date).await? else {
        return Ok(false);
    };
    tracing::warn!(owner, "report refused: too many in a short time");
    if warn {
        let minutes = crate::i18n::minutes(locale, crate::app::FLOOD_WINDOW_SECS / 60);
        let args = [("minutes", minutes.as_str())];
        app.send(bot, vec![answer(msg, locale, "report.too_many", &args)])
            .await?;
    }
    Ok(true)
}

/// `/cancel N`: the owner withdraws their open report (see [`tickets::cancel`]).
async fn cancel(bot: Bot, app: AppRef, msg: Message, raw: String, locale: Locale) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    if raw.trim().is_empty() {
        return answer_once(&app, &bot, &msg, locale, "cancel.usage", &[]).await;
    }
    let id: TicketId = match raw.parse() {
        Ok(id) => id,
        Err(e) => return refuse(&app, &bot, &msg, locale, &e).await,
    };
    let now = app.now();
    let owner = app.actor(&user);
    let answer = Some(origin(&msg, locale));
    change!(app, &bot, &msg, locale, |tx| {
        tickets::cancel(tx, &app.settings, &owner, id, answer, now).await?;
        Ok(())
    })
}

async fn set_unit(
    bot: Bot,
    app: AppRef,
    msg: Message,
    raw: String,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    if raw.trim().is_empty() {
        return answer_once(&app, &bot, &msg, locale, "unit.usage", &[]).await;
    }
    let unit: Unit = match raw.parse() {
        Ok(u) => u,
        Err(e) => return refuse(&app, &bot, &msg, locale, &e).await,
    };
    let now = app.now();
    let name = display_name(&user);
    change!(app, &bot, &msg, locale, |tx| {
        tx.touch_owner(user.id.0, &name, user.language_code.as_deref(), now)
            .await?;
        tx.set_owner_unit(user.id.0, &unit, now).await?;
        tx.enqueue(
            &answer(&msg, locale, "unit.set", &[("unit", unit.as_ref())]),
            now,
        )
        .await?;
        Ok(())
    })
}

/// `/my`: in an owner group, the caller's tickets of that group in short (number,
/// category, status); in a private chat (`in_group` false), all their tickets with the
/// details. Neither shows staff-only facts (the watch list, notes).
pub async fn my_tickets(
    bot: Bot,
    app: AppRef,
    msg: Message,
    locale: Locale,
    in_group: bool,
) -> HandlerResult {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let tickets = if in_group {
        let chat = msg.chat.id.0;
        app.store
            .owner_tickets_in_group(user.id.0, chat, MY_LIMIT)
            .await?
    } else {
        app.store.owner_tickets(user.id.0, MY_LIMIT).await?
    };
    let text = render::owner_list(&tickets, locale, !in_group);
    say_once(&app, &bot, &msg, text).await
}

/// The owner adds a detail (text or photo) to their ticket, or answers "what went wrong".
async fn add_to_ticket(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let now = app.now();
    let owner = app.actor(&user);
    let req = tickets::Detail {
        ticket: target.ticket_id,
        origin: origin(&msg, locale),
        text: text_of(&msg),
        photo: photo_of(&msg),
    };
    let settings = &app.settings;
    change!(app, &bot, &msg, locale, |tx| {
        if target.kind == BotMessageKind::LowScoreQuestion {
            tickets::comment_low_score(tx, settings, &owner, req, now).await?;
        } else {
            tickets::add_detail(tx, settings, &owner, req, now).await?;
        }
        Ok(())
    })
}

/// A later photo of an album whose first item reported or added to a ticket (arrives only
/// when the bot can read the group's messages).
async fn album_item(app: AppRef, msg: Message) -> Option<BotMessage> {
    let group = msg.media_group_id()?.to_string();
    photo_of(&msg)?;
    let (ticket_id, _) = app
        .store
        .ticket_by_media_group(msg.chat.id.0, &group)
        .await
        .ok()
        .flatten()?;
    Some(BotMessage {
        ticket_id,
        kind: BotMessageKind::Confirmation,
        ref_id: None,
    })
}

async fn add_album_item(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let ticket = app.store.ticket(target.ticket_id).await?;
    if ticket.is_some_and(|t| t.status == TicketStatus::Reported || t.status == TicketStatus::Taken)
    {
        add_to_ticket(bot, app, msg, target, locale).await
    } else {
        Ok(())
    }
}

/// An owner edited their `/repair` message: the ticket takes the new text while it is
/// open, and staff are told under the card. Edits of other messages change nothing.
pub async fn edited(bot: Bot, app: AppRef, msg: Message, me: Me, group: Group) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let Some(raw) = msg.text().or(msg.caption()) else {
        return Ok(());
    };
    let Ok(OwnerCommand::Repair(text) | OwnerCommand::Report(text)) =
        <OwnerCommand as teloxide::utils::command::BotCommands>::parse(raw, me.username())
    else {
        return Ok(());
    };
    let Some(id) = app.store.ticket_by_report(msg.chat.id.0, msg.id.0).await? else {
        return Ok(());
    };
    let Ok(text) = ReportText::parse(&text) else {
        return Ok(());
    };
    let locale = app.group_locale(&group, Some(&user));
    let now = app.now();
    let owner = app.actor(&user);
    change!(app, &bot, &msg, locale, |tx| {
        tickets::edit_report(tx, &app.settings, &owner, id, &text, now).await?;
        Ok(())
    })
}
