//! The emulator's world: people, chats and messages as a person in the chat sees them,
//! and how each is written in the Bot API's JSON.

use serde::Serialize;
use serde_json::{Value, json};

/// A Telegram account: a person, or the bot itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: u64,
    pub is_bot: bool,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// The language of the person's Telegram app (IETF tag such as "en" or "zh-hans").
    pub language_code: Option<String>,
}

impl User {
    /// A person with a first name and no language set.
    pub fn new(id: u64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            is_bot: false,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    pub fn language(mut self, code: impl Into<String>) -> Self {
        self.language_code = Some(code.into());
        self
    }

    pub fn username(mut self, name: impl Into<String>) -> Self {
        self.username = Some(name.into());
        self
    }

    pub fn last_name(mut self, name: impl Into<String>) -> Self {
        self.last_name = Some(name.into());
        self
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        });
        put(&mut v, "last_name", self.last_name.as_deref());
        put(&mut v, "username", self.username.as_deref());
        put(&mut v, "language_code", self.language_code.as_deref());
        v
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
}

impl ChatKind {
    pub fn api_name(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup => "supergroup",
        }
    }

    pub fn is_group(self) -> bool {
        self != ChatKind::Private
    }
}

/// A chat as the Bot API describes it in messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chat {
    pub id: i64,
    pub kind: ChatKind,
    /// Groups' title.
    pub title: Option<String>,
    /// The other side of a private chat.
    pub user: Option<User>,
}

impl Chat {
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "id": self.id, "type": self.kind.api_name() });
        match &self.user {
            Some(u) if self.kind == ChatKind::Private => {
                put(&mut v, "first_name", Some(&u.first_name));
                put(&mut v, "last_name", u.last_name.as_deref());
                put(&mut v, "username", u.username.as_deref());
            }
            _ => put(&mut v, "title", self.title.as_deref()),
        }
        v
    }
}

/// One inline keyboard button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

impl Button {
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "text": self.text });
        put(&mut v, "callback_data", self.callback_data.as_deref());
        put(&mut v, "url", self.url.as_deref());
        v
    }
}

/// A photo as stored: the largest size's file, and a thumbnail Telegram lists beside it.
/// The emulator does not scale pictures: the thumbnail's file is the same picture, with
/// its size written smaller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Photo {
    pub file_id: String,
    pub file_unique_id: String,
    pub width: u32,
    pub height: u32,
    /// The bytes `getFile` and the download give back.
    pub file_size: u64,
}

impl Photo {
    /// The file id of the small size Telegram also lists.
    pub fn thumbnail_id(&self) -> String {
        format!("{}_t", self.file_id)
    }

    /// The thumbnail's size: the longer side 90 pixels, as Telegram's `s` size.
    fn thumbnail_size(&self) -> (u32, u32) {
        let (w, h) = (self.width.max(1), self.height.max(1));
        if w >= h {
            (90, (90 * h / w).max(1))
        } else {
            ((90 * w / h).max(1), 90)
        }
    }

    fn to_json(&self) -> Value {
        let (tw, th) = self.thumbnail_size();
        json!([
            {
                "file_id": self.thumbnail_id(),
                "file_unique_id": format!("{}_t", self.file_unique_id),
                "width": tw, "height": th, "file_size": self.file_size
            },
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width, "height": self.height, "file_size": self.file_size
            }
        ])
    }
}

/// A file sent as a document (`sendDocument`): an export, a PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: String,
    pub file_size: u64,
}

impl Document {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        });
        put(&mut v, "file_name", self.file_name.as_deref());
        v
    }
}

/// A service message: something that happened in the chat rather than something said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// In the old group: it became the supergroup with this id.
    MigrateTo(i64),
    /// In the new supergroup: it was the group with this id.
    MigrateFrom(i64),
    NewMembers(Vec<User>),
    LeftMember(User),
}

/// A message as the chat shows it now: edits applied, with its reply and buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i32,
    pub chat_id: i64,
    pub from: User,
    /// Unix seconds.
    pub date: i64,
    pub edit_date: Option<i64>,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub photo: Option<Photo>,
    pub document: Option<Document>,
    pub media_group_id: Option<String>,
    /// The message this one replies to, in the same chat.
    pub reply_to: Option<i32>,
    /// Inline keyboard rows.
    pub buttons: Vec<Vec<Button>>,
    pub service: Option<Service>,
}

impl Message {
    /// The text, or the caption of a photo or document.
    pub fn body(&self) -> &str {
        self.text
            .as_deref()
            .or(self.caption.as_deref())
            .unwrap_or("")
    }

    pub fn is_from_bot(&self) -> bool {
        self.from.is_bot
    }

    /// The callback data of every button, row by row.
    pub fn button_data(&self) -> Vec<&str> {
        self.buttons
            .iter()
            .flatten()
            .filter_map(|b| b.callback_data.as_deref())
            .collect()
    }

    /// The labels of every button, row by row.
    pub fn button_labels(&self) -> Vec<&str> {
        self.buttons
            .iter()
            .flatten()
            .map(|b| b.text.as_str())
            .collect()
    }

    /// The Bot API JSON; `chat` is this message's chat and `replied` the message it
    /// replies to (Telegram includes it whole, without its own reply).
    pub fn to_json(&self, chat: &Chat, replied: Option<&Message>) -> Value {
        let mut v = json!({
            "message_id": self.id,
            "from": self.from.to_json(),
            "chat": chat.to_json(),
            "date": self.date,
        });
        let o = v.as_object_mut().expect("an object");
        if let Some(d) = self.edit_date {
            o.insert("edit_date".into(), json!(d));
        }
        if let Some(t) = &self.text {
            o.insert("text".into(), json!(t));
            let e = command_entities(t);
            if !e.is_empty() {
                o.insert("entities".into(), Value::Array(e));
            }
        }
        if let Some(p) = &self.photo {
            o.insert("photo".into(), p.to_json());
        }
        if let Some(d) = &self.document {
            o.insert("document".into(), d.to_json());
        }
        if let Some(c) = &self.caption {
            o.insert("caption".into(), json!(c));
            let e = command_entities(c);
            if !e.is_empty() {
                o.insert("caption_entities".into(), Value::Array(e));
            }
        }
        if let Some(g) = &self.media_group_id {
            o.insert("media_group_id".into(), json!(g));
        }
        if let Some(r) = replied {
            o.insert("reply_to_message".into(), r.to_json(chat, None));
        }
        if !self.buttons.is_empty() {
            let rows: Vec<Value> = self
                .buttons
                .iter()
                .map(|row| Value::Array(row.iter().map(Button::to_json).collect()))
                .collect();
            o.insert("reply_markup".into(), json!({ "inline_keyboard": rows }));
        }
        match &self.service {
            Some(Service::MigrateTo(id)) => {
                o.insert("migrate_to_chat_id".into(), json!(id));
            }
            Some(Service::MigrateFrom(id)) => {
                o.insert("migrate_from_chat_id".into(), json!(id));
            }
            Some(Service::NewMembers(users)) => {
                let users: Vec<Value> = users.iter().map(User::to_json).collect();
                o.insert("new_chat_members".into(), Value::Array(users));
            }
            Some(Service::LeftMember(user)) => {
                o.insert("left_chat_member".into(), user.to_json());
            }
            None => {}
        }
        v
    }
}

/// Length as Telegram counts it: UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `bot_command` entities for every `/command` that starts the text or follows
/// whitespace, with offsets and lengths in UTF-16 units as Telegram gives them.
pub fn command_entities(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0usize; // UTF-16 units before `i`
    let mut prev_space = true;
    for (i, c) in text.char_indices() {
        if c == '/' && prev_space {
            let rest = &text[i + 1..];
            let name_len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '@'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if !name.is_empty() && !name.starts_with('@') {
                let length = 1 + utf16_len(name);
                out.push(json!({ "type": "bot_command", "offset": offset, "length": length }));
            }
        }
        prev_space = c.is_whitespace();
        offset += c.len_utf16();
    }
    out
}

fn put(v: &mut Value, key: &str, value: Option<&str>) {
    if let (Some(o), Some(x)) = (v.as_object_mut(), value) {
        o.insert(key.to_owned(), json!(x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gets_a_bot_command_entity_in_utf16_units() {
        let e = command_entities("/repair 漏水 /take@butler_bot 3");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0]["offset"], 0);
        assert_eq!(e[0]["length"], 7);
        assert_eq!(e[1]["offset"], 11);
        assert_eq!(e[1]["length"], "/take@butler_bot".len());
        assert!(command_entities("a/b and http://x/y").is_empty());
        let emoji = command_entities("😀 /help");
        assert_eq!(emoji[0]["offset"], 3);
    }

    #[test]
    fn utf16_length_counts_emoji_twice() {
        assert_eq!(utf16_len("a😀漏"), 4);
    }
}
