//! Private chats: a greeting, help for what the caller may use, their own tickets, and
//! the web console's sign-in link (`/console`).
//!
//! Anyone on Telegram can write here, so every answer is bounded (see
//! [`crate::limiter`]): chatter and misused commands get one hint per
//! `limits.hint_minutes`, and help or a list asked for again is not repeated within
//! `limits.repeat_minutes`. A flood of messages from one person yields a handful of
//! answers.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{Me, MenuButton, Message, WebAppInfo};

use super::commands::{ManagerCommand, Place, PrivateCommand, fallback};
use super::{AppRef, BotError, HandlerResult, answer_once, display_name, hint};
use crate::app::{CONSOLE_LINK_MINUTES, new_secret, secret_hash};
use crate::domain::Error;
use crate::i18n::{Locale, t};
use crate::store::ConsolePerson;

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
        PrivateCommand::Console => console_link(bot, app, msg, locale).await,
    }
}

/// `/console`: a one-time sign-in link to the web console, valid
/// [`CONSOLE_LINK_MINUTES`], for staff, dispatchers and managers. The link (its token's
/// hash) and the message carrying it are written in one transaction. Where Telegram can
/// open the console as a Mini App (an `https://` address), the chat's menu button opens it.
async fn console_link(bot: Bot, app: AppRef, msg: Message, locale: Locale) -> HandlerResult {
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let console = &app.settings.console;
    if !console.enabled() || app.console_role(&bot, user.id.0).await.is_none() {
        tracing::info!(user = user.id.0, "console link refused");
        return super::refuse(&app, &bot, &msg, locale, &Error::NotStaff).await;
    }
    let token = match new_secret() {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "no random token for a console link");
            return Ok(());
        }
    };
    let now = app.now();
    let person = ConsolePerson {
        user_id: user.id.0 as i64,
        name: display_name(user),
        locale: locale.code().to_owned(),
    };
    let expires = now + chrono::Duration::minutes(CONSOLE_LINK_MINUTES);
    let url = format!("{}/console/login?t={token}", console.base_url());
    let minutes = CONSOLE_LINK_MINUTES.to_string();
    let text = t(
        locale,
        "console.link",
        &[("url", &url), ("minutes", &minutes)],
    );
    let mut tx = app.store.begin().await?;
    tx.add_console_link(&secret_hash(&token), &person, now, expires)
        .await?;
    tx.enqueue(&super::reply_text(&msg, text), now).await?;
    app.commit(&bot, tx).await?;
    if console.is_https() {
        menu_button(&bot, msg.chat.id, &console.base_url(), locale).await;
    }
    Ok(())
}

/// The chat's menu button opens the console as a Mini App. Not a message: a failure is
/// logged, and the link still works.
async fn menu_button(bot: &Bot, chat: ChatId, base: &str, locale: Locale) {
    let Ok(url) = format!("{base}/console/app").parse() else {
        return;
    };
    let button = MenuButton::WebApp {
        text: t(locale, "console.menu_button", &[]),
        web_app: WebAppInfo { url },
    };
    if let Err(e) = bot
        .set_chat_menu_button()
        .chat_id(chat)
        .menu_button(button)
        .await
    {
        tracing::warn!(error = %e, "setChatMenuButton failed");
    }
}
