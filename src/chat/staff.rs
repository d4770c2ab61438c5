//! The staff chat: ticket lists, take / done / reopen, categories and notes, progress
//! relayed to owners by replying to a card, and follow-ups closed by managers. The
//! handlers parse and answer; the changes are `tickets`' use cases.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, Message};

use super::commands::{ManagerCommand, Place, StaffCommand, fallback};
use super::{App, AppRef, BotError, HandlerResult, change, origin, photo_of, text_of};
use crate::domain::{Actor, Error, TicketId};
use crate::i18n::{self, Locale};
use crate::messages::render;
use crate::store::{BotMessage, BotMessageKind};
use crate::tickets;

const LIST_LIMIT: i64 = 200;

pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .map(|app: AppRef| app.staff_locale())
        .branch(dptree::filter_async(outsider).endpoint(refuse_outsider))
        .inspect_async(super::dispatch::seen_in_staff_chat)
        .branch(
            dptree::entry()
                .filter_command::<StaffCommand>()
                .endpoint(command),
        )
        .branch(super::lookup::branch())
        .branch(
            dptree::entry()
                .filter_command::<ManagerCommand>()
                .endpoint(super::manager::command),
        )
        .branch(super::dispatch::branch())
        .branch(dptree::filter_map_async(super::replied_bot_message).endpoint(reply_to_card))
        .endpoint(
            |bot: Bot, app: AppRef, msg: Message, me: Me, locale: Locale| async move {
                fallback(bot, app, msg, me, Place::StaffChat, locale).await
            },
        )
}

/// Whether the sender is not on the staff of this staff chat now (not a current member
/// of it, nor a manager): whatever they send is not acted on.
async fn outsider(bot: Bot, app: AppRef, msg: Message) -> bool {
    match &msg.from {
        Some(user) => !app.is_member_of(&bot, msg.chat.id.0, user.id.0).await,
        None => true,
    }
}

/// A command or a reply from someone not on the staff is refused politely; anything else
/// they say is left alone.
async fn refuse_outsider(bot: Bot, app: AppRef, msg: Message, locale: Locale) -> HandlerResult {
    let command = text_of(&msg).is_some_and(|t| t.starts_with('/'));
    if !command && msg.reply_to_message().is_none() {
        return Ok(());
    }
    tracing::info!(
        user = msg.from.as_ref().map(|u| u.id.0),
        "refused: not on the staff"
    );
    super::refuse(&app, &bot, &msg, locale, &Error::NotStaff).await
}

/// `N rest…` → (ticket, rest). In a reply to a ticket's message without a number first,
/// the ticket is the one replied to and all the words are the rest: a photo captioned
/// `/done replaced the cartridge` under the card closes that card's ticket with that note.
async fn ticket_and_rest(
    app: &App,
    msg: &Message,
    args: &str,
) -> Result<(TicketId, String), Error> {
    let args = args.trim();
    let (first, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    match first.parse::<TicketId>() {
        Ok(id) => Ok((id, rest.trim().to_owned())),
        Err(e) => match replied_ticket(app, msg).await {
            Some(id) => Ok((id, args.to_owned())),
            None if first.is_empty() => Err(Error::BadTicketId(String::new())),
            None => Err(e),
        },
    }
}

/// The ticket of the message of Butler's that `msg` replies to, if any.
async fn replied_ticket(app: &App, msg: &Message) -> Option<TicketId> {
    let replied = msg.reply_to_message()?;
    match app.store.bot_message(msg.chat.id.0, replied.id.0).await {
        Ok(found) => found.map(|bm| bm.ticket_id),
        Err(e) => {
            tracing::error!(error = %e, "looking up the replied message failed");
            None
        }
    }
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: StaffCommand,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let actor = app.actor(&user);
    match cmd {
        StaffCommand::Open(args) => super::dispatch::open(bot, app, msg, args, locale).await,
        StaffCommand::Mine => {
            let tickets = app.store.tickets_taken_by(actor.id, LIST_LIMIT).await?;
            let text = render::ticket_list(&tickets, locale, "mine.heading", "mine.empty");
            app.send(&bot, vec![super::reply_text(&msg, text)]).await
        }
        StaffCommand::Help => {
            let key = if actor.is_manager {
                "help.staff_manager"
            } else {
                "help.staff"
            };
            super::answer_once(&app, &bot, &msg, locale, key, &[]).await
        }
        StaffCommand::Stats(args) => super::stats::stats(bot, app, msg, args, locale).await,
        StaffCommand::Export(args) => super::stats::export(bot, app, msg, args, locale).await,
        StaffCommand::Take(ref args)
        | StaffCommand::Done(ref args)
        | StaffCommand::Reopen(ref args)
        | StaffCommand::Category(ref args)
        | StaffCommand::Pause(ref args)
        | StaffCommand::Resume(ref args)
        | StaffCommand::Urgency(ref args)
        | StaffCommand::Note(ref args) => {
            let usage = match &cmd {
                StaffCommand::Take(_) => "usage.take",
                StaffCommand::Done(_) => "usage.done",
                StaffCommand::Reopen(_) => "usage.reopen",
                StaffCommand::Category(_) => "usage.category",
                StaffCommand::Urgency(_) => "usage.urgency",
                StaffCommand::Pause(_) => "usage.pause",
                StaffCommand::Resume(_) => "usage.resume",
                _ => "usage.note",
            };
            let Some((id, rest)) = parse_args(&bot, &app, &msg, args, usage, locale).await? else {
                return Ok(());
            };
            if matches!(cmd, StaffCommand::Category(_)) && rest.is_empty() {
                let categories = i18n::category_list(locale);
                let args = [("categories", categories.as_str())];
                return super::answer_once(&app, &bot, &msg, locale, usage, &args).await;
            }
            if matches!(cmd, StaffCommand::Pause(_) | StaffCommand::Urgency(_)) && rest.is_empty() {
                return super::answer_once(&app, &bot, &msg, locale, usage, &[]).await;
            }
            ticket_command(&bot, &app, &msg, &cmd, id, rest, &actor, locale).await
        }
    }
}

/// The staff commands that act on one ticket; each is answered under the command (the
/// card it changes may be far up the chat).
#[allow(clippy::too_many_arguments)]
async fn ticket_command(
    bot: &Bot,
    app: &App,
    msg: &Message,
    cmd: &StaffCommand,
    id: TicketId,
    rest: String,
    actor: &Actor,
    locale: Locale,
) -> HandlerResult {
    let now = app.now();
    let settings = &app.settings;
    let note = (!rest.is_empty()).then_some(rest.as_str());
    let origin = origin(msg, locale);
    change!(app, bot, msg, locale, |tx| {
        tickets::check_place(tx, settings, actor, id, msg.chat.id.0).await?;
        match cmd {
            StaffCommand::Pause(_) => {
                tickets::pause(tx, settings, actor, id, &rest, Some(origin), now).await?;
            }
            StaffCommand::Resume(_) => {
                tickets::resume(tx, settings, actor, id, Some(origin), now).await?;
            }
            StaffCommand::Take(_) => {
                tickets::take(tx, settings, actor, id, now).await?;
                let answer = origin.answer("toast.taken", &[("id", &id.to_string())]);
                tx.enqueue(&answer, now).await?;
            }
            StaffCommand::Done(_) => {
                // `/done N` as a photo's caption: that photo is the completion photo.
                let photo = photo_of(msg);
                let req = tickets::Finish { id, note, photo };
                tickets::finish(tx, settings, actor, req, now).await?;
                let answer = origin.answer("toast.done", &[("id", &id.to_string())]);
                tx.enqueue(&answer, now).await?;
            }
            StaffCommand::Reopen(_) => {
                tickets::reopen(tx, settings, actor, id, note, now).await?;
                let answer = origin.answer("answer.reopened", &[("id", &id.to_string())]);
                tx.enqueue(&answer, now).await?;
            }
            StaffCommand::Category(_) => {
                let category = i18n::parse_category(&rest)
                    .ok_or_else(|| Error::UnknownCategory(rest.clone()))?;
                tickets::set_category(tx, settings, actor, id, category, origin, now).await?;
            }
            StaffCommand::Urgency(_) => {
                let level = rest.parse()?;
                tickets::set_urgency(tx, settings, actor, id, level, origin, now).await?;
            }
            _ => {
                tickets::add_note(tx, actor, id, &rest, origin, now).await?;
            }
        }
        Ok(())
    })
}

/// Parses `N rest`, or answers with the usage / the parse error and returns None.
async fn parse_args(
    bot: &Bot,
    app: &App,
    msg: &Message,
    args: &str,
    usage_key: &str,
    locale: Locale,
) -> Result<Option<(TicketId, String)>, BotError> {
    match ticket_and_rest(app, msg, args).await {
        Ok(x) => Ok(Some(x)),
        Err(Error::BadTicketId(s)) if s.is_empty() => {
            let categories = i18n::category_list(locale);
            let args = [("categories", categories.as_str())];
            super::answer_once(app, bot, msg, locale, usage_key, &args).await?;
            Ok(None)
        }
        Err(e) => {
            super::refuse(app, bot, msg, locale, &e).await?;
            Ok(None)
        }
    }
}

/// A reply to a card relays progress to the owner; a manager's reply to a follow-up card
/// closes it with that note.
async fn reply_to_card(
    bot: Bot,
    app: AppRef,
    msg: Message,
    target: BotMessage,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let actor = app.actor(&user);
    match target.kind {
        BotMessageKind::Card | BotMessageKind::CardPhotos => {
            progress(bot, app, msg, target.ticket_id, actor, locale).await
        }
        BotMessageKind::FollowUp => match target.ref_id {
            Some(fu) => close_follow_up(bot, app, msg, fu, actor, locale).await,
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

async fn progress(
    bot: Bot,
    app: AppRef,
    msg: Message,
    id: TicketId,
    actor: Actor,
    locale: Locale,
) -> HandlerResult {
    let now = app.now();
    let req = tickets::Progress {
        id,
        origin: origin(&msg, locale),
        text: text_of(&msg),
        photo: photo_of(&msg),
    };
    let chat = msg.chat.id.0;
    change!(app, &bot, &msg, locale, |tx| {
        tickets::check_place(tx, &app.settings, &actor, id, chat).await?;
        tickets::progress(tx, &app.settings, &actor, req, now).await?;
        Ok(())
    })
}

async fn close_follow_up(
    bot: Bot,
    app: AppRef,
    msg: Message,
    follow_up: i64,
    actor: Actor,
    locale: Locale,
) -> HandlerResult {
    let now = app.now();
    let note = msg.text().map(str::trim).filter(|s| !s.is_empty());
    let origin = origin(&msg, locale);
    change!(app, &bot, &msg, locale, |tx| {
        let origin = Some(origin);
        tickets::close_follow_up(tx, &app.settings, &actor, follow_up, note, origin, now).await?;
        Ok(())
    })
}
