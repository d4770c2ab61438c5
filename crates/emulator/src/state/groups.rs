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

    /// The bot becomes an administrator of a group (then it hears `chat_member`).
    pub fn make_bot_admin(&mut self, chat: i64) -> Result<(), DriverError> {
        self.group_admin(chat)?;
        self.chats.get_mut(&chat).expect("checked").bot_admin = true;
        Ok(())
    }

    /// An administrator changes `user`'s place in a group: `Left` (removed, may come
    /// back), `Kicked` (banned) or `Restricted` (stays, may not write). The bot hears it
    /// as `chat_member` only when it is an administrator there.
    pub fn change_member(
        &mut self,
        chat: i64,
        user: u64,
        to: MemberChange,
    ) -> Result<(), DriverError> {
        let (by, _) = self.group_admin(chat)?;
        let who = self
            .users
            .get(&user)
            .cloned()
            .ok_or(DriverError::UnknownUser(user))?;
        let c = self.chats.get_mut(&chat).expect("checked");
        let old = c.member_status(user);
        match to {
            MemberChange::Left => {
                c.members.remove(&user);
            }
            MemberChange::Kicked => {
                c.members.remove(&user);
                c.kicked.insert(user);
            }
            MemberChange::Restricted => {
                c.restricted.insert(user);
            }
        }
        let new = c.member_status(user);
        if c.bot_admin {
            let chat_json = c.chat.to_json();
            self.queue_update(
                "chat_member",
                json!({
                    "chat": chat_json,
                    "from": by.to_json(),
                    "date": unix_now(),
                    "old_chat_member": member_status_json(&who, old),
                    "new_chat_member": member_status_json(&who, new),
                }),
            );
        }
        Ok(())
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

/// What an administrator may do to a member ([`State::change_member`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Left,
    Kicked,
    Restricted,
}

impl ChatState {
    /// `user`'s status as `getChatMember` says it: member, restricted, left or kicked.
    pub(crate) fn member_status(&self, user: u64) -> &'static str {
        if self.kicked.contains(&user) {
            "kicked"
        } else if !self.members.contains(&user) {
            "left"
        } else if self.restricted.contains(&user) {
            "restricted"
        } else {
            "member"
        }
    }
}

/// A person's `ChatMember` object with `status`.
pub(crate) fn member_status_json(user: &User, status: &str) -> Value {
    let mut m = json!({ "user": user.to_json(), "status": status });
    match status {
        "kicked" => m["until_date"] = json!(0),
        "restricted" => {
            m["until_date"] = json!(0);
            m["is_member"] = json!(true);
            for right in [
                "can_send_messages",
                "can_send_audios",
                "can_send_documents",
                "can_send_photos",
                "can_send_videos",
                "can_send_video_notes",
                "can_send_voice_notes",
                "can_send_polls",
                "can_send_other_messages",
                "can_add_web_page_previews",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            ] {
                m[right] = json!(false);
            }
        }
        _ => {}
    }
    m
}

/// The bot's `ChatMember` object as an administrator.
pub(crate) fn bot_admin_json(bot: &User) -> Value {
    let mut m = json!({ "user": bot.to_json(), "status": "administrator" });
    for right in [
        "can_be_edited",
        "is_anonymous",
        "can_change_info",
        "can_post_messages",
        "can_edit_messages",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_pin_messages",
        "can_manage_topics",
        "can_promote_members",
    ] {
        m[right] = json!(false);
    }
    for right in [
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_invite_users",
        "can_restrict_members",
    ] {
        m[right] = json!(true);
    }
    m
}

fn member_json(bot: &User, status: BotStatus) -> Value {
    match status {
        BotStatus::Member => json!({ "user": bot.to_json(), "status": "member" }),
        BotStatus::Kicked => json!({ "user": bot.to_json(), "status": "left" }),
    }
}
