//! What happens to the bot in groups: removed, added back, the group migrated to a
//! supergroup; each as Telegram reports it (`my_chat_member`, service messages).

use serde_json::{Value, json};

use super::{BotStatus, ChatState, Draft, DriverError, State, unix_now};
use crate::model::{Chat, ChatKind, Service, User};

impl State {
    /// The bot is removed from a group by one of its members: a `my_chat_member` update,
    /// and later sends there answer 403.
    pub fn bot_removed_from(&mut self, chat: i64) -> Result<(), DriverError> {
        let (by, kind) = self.group_admin(chat)?;
        let bot = self.bot.clone();
        let c = self.chats.get_mut(&chat).expect("checked");
        let old = c.bot_status;
        c.bot_status = BotStatus::Kicked;
        let draft = Draft {
            service: Some(Service::LeftMember(bot.clone())),
            ..Draft::default()
        };
        self.store_message(chat, by.clone(), draft);
        let new_status = if kind == ChatKind::Supergroup {
            json!({ "user": bot.to_json(), "status": "kicked", "until_date": 0 })
        } else {
            json!({ "user": bot.to_json(), "status": "left" })
        };
        self.queue_update(
            "my_chat_member",
            json!({
                "chat": self.chats[&chat].chat.to_json(),
                "from": by.to_json(),
                "date": unix_now(),
                "old_chat_member": member_json(&bot, old),
                "new_chat_member": new_status,
            }),
        );
        Ok(())
    }

    /// The bot is added (back) to a group: `my_chat_member`, and the service message
    /// with the bot among `new_chat_members`.
    pub fn bot_added_to(&mut self, chat: i64) -> Result<(), DriverError> {
        let (by, _) = self.group_admin(chat)?;
        let bot = self.bot.clone();
        let c = self.chats.get_mut(&chat).expect("checked");
        let old = c.bot_status;
        c.bot_status = BotStatus::Member;
        self.queue_update(
            "my_chat_member",
            json!({
                "chat": self.chats[&chat].chat.to_json(),
                "from": by.to_json(),
                "date": unix_now(),
                "old_chat_member": member_json(&bot, old),
                "new_chat_member": member_json(&bot, BotStatus::Member),
            }),
        );
        let draft = Draft {
            service: Some(Service::NewMembers(vec![bot])),
            ..Draft::default()
        };
        let msg = self.store_message(chat, by, draft);
        let json = self.chats[&chat].render(&msg);
        self.queue_update("message", json);
        Ok(())
    }

    /// A basic group becomes a supergroup with a new id. Both chats get the service
    /// message; sends to the old id then answer 400 with `migrate_to_chat_id`.
    pub fn migrate_to_supergroup(&mut self, chat: i64) -> Result<i64, DriverError> {
        let (by, kind) = self.group_admin(chat)?;
        if kind != ChatKind::Group {
            return Err(DriverError::NotABasicGroup(chat));
        }
        let new_id = -1_000_000_000_000 - chat.abs();
        let old = self.chats.get_mut(&chat).expect("checked");
        old.migrated_to = Some(new_id);
        let mut fresh = ChatState::new(Chat {
            id: new_id,
            kind: ChatKind::Supergroup,
            title: old.chat.title.clone(),
            user: None,
        });
        fresh.members = old.members.clone();
        fresh.bot_status = old.bot_status;
        let bot_in = old.bot_status == BotStatus::Member;
        self.chats.insert(new_id, fresh);
        for (at, service) in [
            (chat, Service::MigrateTo(new_id)),
            (new_id, Service::MigrateFrom(chat)),
        ] {
            let draft = Draft {
                service: Some(service),
                ..Draft::default()
            };
            let msg = self.store_message(at, by.clone(), draft);
            if bot_in {
                let json = self.chats[&at].render(&msg);
                self.queue_update("message", json);
            }
        }
        Ok(new_id)
    }

    /// Someone who can manage the group (its first member), and its kind.
    fn group_admin(&mut self, chat: i64) -> Result<(User, ChatKind), DriverError> {
        let c = self
            .chats
            .get(&chat)
            .ok_or(DriverError::UnknownChat(chat))?;
        if !c.chat.kind.is_group() {
            return Err(DriverError::NotABasicGroup(chat));
        }
        if let Some(to) = c.migrated_to {
            return Err(DriverError::Migrated { chat, to });
        }
        let kind = c.chat.kind;
        let admin = c
            .members
            .iter()
            .next()
            .and_then(|m| self.users.get(m))
            .cloned();
        let admin = match admin {
            Some(a) => a,
            None => {
                let a = User::new(1, "Group Admin");
                self.users.entry(1).or_insert_with(|| a.clone());
                a
            }
        };
        Ok((admin, kind))
    }
}

fn member_json(bot: &User, status: BotStatus) -> Value {
    match status {
        BotStatus::Member => json!({ "user": bot.to_json(), "status": "member" }),
        BotStatus::Kicked => json!({ "user": bot.to_json(), "status": "left" }),
    }
}
