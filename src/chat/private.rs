//! Private chats: a greeting, help for what the caller may use, and their own tickets.
//!
//! Anyone on Telegram can write here, so every answer is bounded (see
//! [`crate::limiter`]): chatter and misused commands get one hint per
//! `limits.hint_minutes`, and help or a list asked for again is not repeated within
//! `limits.repeat_minutes`. A flood of messages from one person yields a handful of
//! answers.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, Message};

use super::commands::{ManagerCommand, Place, PrivateCommand, fallback};
use super::{AppRef, BotError, HandlerResult, answer_once, hint};
use crate::i18n::Locale;

pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .inspect_async(remember_private_chat)
        .map(|app: AppRef, msg: Message| app.user_locale(msg.from.as_ref()))
        .branch(
            dptree::entry()
                .filter_command::<PrivateCommand>()
                .endpoint(command),
        )
        .branch(super::lookup::branch())
        .branch(
            dptree::entry()
                .filter_command::<ManagerCommand>()
                .endpoint(super::manager::command),
        )
        // A manager answers a complaint or suggestion by replying to its card.
        .branch(
            dptree::filter_map_async(super::requests::request_replied)
                .endpoint(super::requests::reply),
        )
        .branch(super::dispatch::branch())
        .endpoint(
            |bot: Bot, app: AppRef, msg: Message, me: Me, locale: Locale| async move {
                if msg.text().is_some_and(|t| t.starts_with('/')) {
                    fallback(bot, app, msg, me, Place::Private, locale).await
                } else {
                    hint(&app, &bot, &msg, locale, "private.hint", &[]).await
                }
            },
        )
}

/// Whoever writes to Butler privately can be written to later (SLA escalations to
/// managers need this: Telegram lets a bot open no private chat itself).
async fn remember_private_chat(app: AppRef, msg: Message) {
    let Some(user) = msg.from.as_ref() else {
        return;
    };
    let now = app.now();
    let result = async {
        let mut tx = app.store.begin().await?;
        tx.remember_private_chat(user.id.0, user.language_code.as_deref(), now)
            .await?;
        tx.commit().await
    };
    if let Err(e) = result.await {
        tracing::warn!(error = %e, user_id = user.id.0, "recording a private chat failed");
    }
}

async fn command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: PrivateCommand,
    locale: Locale,
) -> HandlerResult {
    let is_manager = msg
        .from
        .as_ref()
        .is_some_and(|u| app.settings.is_manager(u.id.0));
    match cmd {
        PrivateCommand::Start | PrivateCommand::Help => {
            let key = if is_manager {
                "help.private_manager"
            } else {
                "help.private"
            };
            answer_once(&app, &bot, &msg, locale, key, &[]).await
        }
        PrivateCommand::My => super::owner::my_tickets(bot, app, msg, locale, false).await,
    }
}
