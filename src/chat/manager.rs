//! Managers: owner groups (/register, /unregister, /lang) and the watch list.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Message;

use super::commands::{GroupAdminCommand, ManagerCommand};
use super::{AppRef, BotError, HandlerResult, answer, change};
use crate::i18n::Locale;
use crate::store::Group;

/// `/register`, `/unregister`, `/lang` in any group, registered or not.
pub fn group_branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .filter_command::<GroupAdminCommand>()
        .endpoint(group_command)
}

async fn group_command(
    bot: Bot,
    app: AppRef,
    msg: Message,
    cmd: GroupAdminCommand,
) -> HandlerResult {
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let group = app.store.group(msg.chat.id.0).await?;
    let locale = match &group {
        Some(g) => app.group_locale(g, Some(&user)),
        None => app.user_locale(Some(&user)),
    };
    if msg.chat.id.0 == app.settings.staff_chat_id {
        return app
            .send(
                &bot,
                vec![answer(&msg, locale, "register.not_in_staff_chat", &[])],
            )
            .await;
    }
    if !app.settings.is_manager(user.id.0) {
        // Silence in unregistered groups would look broken; a polite word is better.
        return app
            .send(&bot, vec![answer(&msg, locale, "error.managers_only", &[])])
            .await;
    }
    match cmd {
        GroupAdminCommand::Register(name) => register(bot, app, msg, name, user.id.0, locale).await,
        GroupAdminCommand::Unregister => {
            let (chat_id, now) = (msg.chat.id.0, app.now());
            change!(app, &bot, &msg, locale, |tx| {
                let key = if tx.deactivate_group(chat_id).await? {
                    "unregister.done"
                } else {
                    "unregister.not_registered"
                };
                tx.enqueue(&answer(&msg, locale, key, &[]), now).await?;
                Ok(())
            })
        }
        GroupAdminCommand::Lang(code) => set_lang(bot, app, msg, group, code, locale).await,
    }
}

/// `/register [name]`: the group becomes an owner group, named `name` or its title.
async fn register(
    bot: Bot,
    app: AppRef,
    msg: Message,
    name: String,
    by: u64,
    locale: Locale,
) -> HandlerResult {
    let name = name.trim();
    let name = if name.is_empty() {
        msg.chat.title().unwrap_or("").trim().to_owned()
    } else {
        name.to_owned()
    };
    if name.is_empty() {
        return app
            .send(&bot, vec![answer(&msg, locale, "register.usage", &[])])
            .await;
    }
    let name = crate::domain::text::shorten(&name, 64);
    let (chat_id, now) = (msg.chat.id.0, app.now());
    change!(app, &bot, &msg, locale, |tx| {
        let new = tx.register_group(chat_id, &name, by, now).await?;
        let key = if new {
            "register.done"
        } else {
            "register.updated"
        };
        tx.enqueue(&answer(&msg, locale, key, &[("name", &name)]), now)
            .await?;
        Ok(())
    })
}

/// `/lang <code>` in a registered group: the language Butler speaks there.
async fn set_lang(
    bot: Bot,
    app: AppRef,
    msg: Message,
    group: Option<Group>,
    code: String,
    locale: Locale,
) -> HandlerResult {
    let Some(group) = group.filter(|g| g.active) else {
        return app
            .send(
                &bot,
                vec![answer(&msg, locale, "unregister.not_registered", &[])],
            )
            .await;
    };
    let Ok(new) = code.parse::<Locale>() else {
        return app
            .send(&bot, vec![answer(&msg, locale, "lang.usage", &[])])
            .await;
    };
    let now = app.now();
    change!(app, &bot, &msg, new, |tx| {
        tx.set_group_locale(group.chat_id, new.code()).await?;
        tx.enqueue(&answer(&msg, new, "lang.set", &[]), now).await?;
        Ok(())
    })
}

/// `/watch <user id>` and `/unwatch <user id>`, in the staff chat or privately; `/greet`,
/// `/summary` and `/notice` are [`super::announce`]'s.
pub async fn command(bot: Bot, app: AppRef, msg: Message, cmd: ManagerCommand) -> HandlerResult {
    if matches!(
        cmd,
        ManagerCommand::Greet | ManagerCommand::Summary | ManagerCommand::Notice(_)
    ) {
        return super::announce::command(bot, app, msg, cmd).await;
    }
    let Some(user) = msg.from.clone() else {
        return Ok(());
    };
    let locale = if msg.chat.is_private() {
        app.user_locale(Some(&user))
    } else {
        app.staff_locale()
    };
    if !app.settings.is_manager(user.id.0) {
        return app
            .send(&bot, vec![answer(&msg, locale, "error.managers_only", &[])])
            .await;
    }
    let (raw, watched) = match &cmd {
        ManagerCommand::Watch(raw) => (raw, true),
        ManagerCommand::Unwatch(raw) => (raw, false),
        _ => return Ok(()),
    };
    let Ok(owner_id) = raw.trim().parse::<u64>() else {
        return app
            .send(&bot, vec![answer(&msg, locale, "watch.usage", &[])])
            .await;
    };
    let now = app.now();
    change!(app, &bot, &msg, locale, |tx| {
        tx.set_watched(owner_id, watched, now).await?;
        let key = if watched {
            "watch.added"
        } else {
            "watch.removed"
        };
        tx.enqueue(
            &answer(&msg, locale, key, &[("user", &owner_id.to_string())]),
            now,
        )
        .await?;
        Ok(())
    })
}
