//! Chat life: the bot removed from or added back to a group, a group that became a
//! supergroup, a person who blocked the bot and came back.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberUpdated, Message};

use super::{AppRef, BotError, HandlerResult};

/// Service messages and membership changes; tried before everything else.
pub fn branch() -> UpdateHandler<BotError> {
    dptree::entry()
        .branch(Update::filter_my_chat_member().endpoint(membership))
        .branch(Update::filter_chat_member().endpoint(member_changed))
        .branch(
            Update::filter_message()
                .filter_map(|msg: Message| migration(&msg))
                .endpoint(migrated),
        )
}

/// (old id, new id) of a group that became a supergroup, from either service message.
fn migration(msg: &Message) -> Option<(i64, i64)> {
    if let Some(to) = msg.migrate_to_chat_id() {
        return Some((msg.chat.id.0, to.0));
    }
    msg.migrate_from_chat_id()
        .map(|from| (from.0, msg.chat.id.0))
}

async fn migrated(app: AppRef, ids: (i64, i64)) -> HandlerResult {
    let (from, to) = ids;
    tracing::warn!(from, to, "group became a supergroup; its tickets follow");
    if app.settings.is_staff_chat(from) {
        tracing::error!(
            from,
            to,
            "a staff chat became a supergroup: set its staff_chat_id = {to} in the configuration"
        );
    }
    app.store.move_chat(from, to).await?;
    app.outbox.notify();
    Ok(())
}

/// Someone joined, left, was kicked, restricted or promoted in a chat: in the staff chat,
/// what Butler remembered of them is dropped (Telegram sends these only to an
/// administrator).
async fn member_changed(app: AppRef, update: ChatMemberUpdated) -> HandlerResult {
    let chat = update.chat.id.0;
    if app.settings.is_staff_chat(chat) {
        let user = update.new_chat_member.user.id.0;
        tracing::info!(user, chat, "staff chat membership changed");
        app.forget_member(chat, Some(user));
    }
    Ok(())
}

async fn membership(app: AppRef, update: ChatMemberUpdated) -> HandlerResult {
    let chat = update.chat.id.0;
    if app.settings.is_staff_chat(chat) {
        if !update.new_chat_member.kind.is_privileged() {
            tracing::warn!(
                chat,
                "Butler is not an administrator of the staff chat: it cannot see members leave, \
                 so a departed member counts as staff for up to a minute"
            );
        }
        app.forget_member(chat, None);
    }
    if update.new_chat_member.is_present() {
        if app.store.mark_reachable(chat).await? {
            tracing::info!(chat, "bot is back in the chat");
            app.outbox.notify();
        }
    } else {
        tracing::warn!(chat, "bot was removed from the chat, or blocked");
        app.store
            .mark_unreachable(chat, "bot removed from the chat", app.now())
            .await?;
    }
    Ok(())
}

/// Any message means the chat can hear the bot again (a person who unblocked it and
/// wrote, a group the bot was added back to).
pub async fn heard_from(app: AppRef, msg: Message) -> bool {
    if let Err(e) = app.store.mark_reachable(msg.chat.id.0).await {
        tracing::error!(error = %e, "clearing the unreachable mark failed");
    }
    true
}
