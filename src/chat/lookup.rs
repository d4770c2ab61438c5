//! Looking tickets up, for staff and managers in the staff chat or privately: `/ticket N`
//! tells one ticket's story (with a button that sends its photos), `/find` searches.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Message;

use super::commands::LookupCommand;
use super::{AppRef, BotError, HandlerResult, answer, reply_text};
use crate::domain::{CardAction, Error, SearchQuery, TicketId};
use crate::i18n::{self, Locale, t};
use crate::messages::{self, story};
use crate::outbox::{Buttons, Outgoing, Target};
use crate::store::BotMessageKind;

/// Matches `/find` lists.
pub const FIND_LIMIT: i64 = 10;

/// `/ticket` and `/find`; the caller's branch has put the answer's language in.
pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .filter_command::<LookupCommand>()
        .endpoint(command)
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: LookupCommand,
    locale: Locale,
) -> HandlerResult {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    // Owners' words and photos: staff and managers only, wherever asked.
    if !app.is_staff(&bot, user.id.0).await {
        tracing::info!(user = user.id.0, "lookup refused: not on the staff");
        return super::refuse(&app, &bot, &msg, locale, &Error::NotStaff).await;
    }
    match cmd {
        LookupCommand::Ticket(args) => ticket(bot, app, msg, args, locale).await,
        LookupCommand::Find(args) => find(bot, app, msg, args, locale).await,
    }
}

/// `/ticket N`: the story in one message or a few, the last with "Show photos" when there
/// are photos.
async fn ticket(
    bot: Bot,
    app: AppRef,
    msg: Message,
    args: String,
    locale: Locale,
) -> HandlerResult {
    if args.trim().is_empty() {
        return app
            .send(&bot, vec![answer(&msg, locale, "usage.ticket", &[])])
            .await;
    }
    let id = match args.trim().parse::<TicketId>() {
        Ok(id) => id,
        Err(e) => return super::refuse(&app, &bot, &msg, locale, &e).await,
    };
    let Some(found) = app.store.ticket(id).await? else {
        let e = Error::UnknownTicket(id.0);
        return super::refuse(&app, &bot, &msg, locale, &e).await;
    };
    // A complaint may be about staff: its story is the managers'.
    let manager = msg
        .from
        .as_ref()
        .is_some_and(|u| app.settings.is_manager(u.id.0));
    if let (false, Err(e)) = (manager, found.staff_work()) {
        return super::refuse(&app, &bot, &msg, locale, &e).await;
    }
    let told = app.store.story(id).await?;
    let texts = story::story(&found, &told, locale, app.settings.timezone);
    let last = texts.len().saturating_sub(1);
    let out = texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let with_button = i == last && !told.photos.is_empty();
            let buttons = with_button.then(|| {
                let label = t(locale, "button.show_photos", &[]);
                Buttons(vec![vec![(label, CardAction::Photos(id).encode())]])
            });
            Outgoing::Text {
                chat_id: msg.chat.id.0,
                text,
                reply_to: Some(Target::Message(msg.id.0)),
                buttons,
                remember: with_button
                    .then(|| messages::remember(id, BotMessageKind::Story, None))
                    .flatten(),
            }
        })
        .collect();
    app.send(&bot, out).await
}

/// `/find <words or a unit>`: the best matches.
async fn find(bot: Bot, app: AppRef, msg: Message, args: String, locale: Locale) -> HandlerResult {
    let Some(query) = SearchQuery::parse(&args, i18n::parse_category) else {
        return app
            .send(&bot, vec![answer(&msg, locale, "usage.find", &[])])
            .await;
    };
    let mut tickets = app.store.search_tickets(&query, FIND_LIMIT).await?;
    // Complaints and suggestions are found by managers only.
    if !msg
        .from
        .as_ref()
        .is_some_and(|u| app.settings.is_manager(u.id.0))
    {
        tickets.retain(|t| t.kind.is_staff_work());
    }
    let text = story::found(&tickets, args.trim(), locale);
    app.send(&bot, vec![reply_text(&msg, text)]).await
}
