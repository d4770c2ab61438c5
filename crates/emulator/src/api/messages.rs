//! Writing to chats: which chat a call may write to, replies, flood control, then sending,
//! editing and deleting messages.

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

use std::time::Instant;

use serde_json::{Value, json};

use super::params::{Params, caption, flag, int, markup, message_text, object, string};
use super::{Answer, fault_answer};
use crate::faults::{Fault, Limiter, RateLimits};
use crate::model::{ChatKind, Document, Message, Photo, utf16_len};
use crate::state::{BotStatus, Draft, Event, FileKind, State, Uploads, image_type, unix_now};

impl State {
    // ---- chats --------------------------------------------------------------------------

    /// The chat a call writes to, or Telegram's refusal: unknown, blocked, kicked,
    /// migrated.
    pub(super) fn writable_chat(&self, p: &Params) -> Result<i64, Answer> {
        let Some(raw) = p.get("chat_id") else {
            return Err(Answer::bad("Bad Request: chat_id is empty"));
        };
        let id = match raw {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| Answer::bad("Bad Request: chat not found"))?;
        let Some(c) = self.chats.get(&id) else {
            if id > 0 && self.users.contains_key(&(id as u64)) {
                return Err(Answer::error(
                    403,
                    "Forbidden: bot can't initiate conversation with a user",
                    None,
                ));
            }
            return Err(Answer::bad("Bad Request: chat not found"));
        };
        if let Some(to) = c.migrated_to {
            return Err(Answer::error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                Some(json!({ "migrate_to_chat_id": to })),
            ));
        }
        match c.chat.kind {
            ChatKind::Private if self.blocked.contains(&(id as u64)) => Err(Answer::error(
                403,
                "Forbidden: bot was blocked by the user",
                None,
            )),
            ChatKind::Group if c.bot_status == BotStatus::Kicked => Err(Answer::error(
                403,
                "Forbidden: bot was kicked from the group chat",
                None,
            )),
            ChatKind::Supergroup if c.bot_status == BotStatus::Kicked => Err(Answer::error(
                403,
                "Forbidden: bot was kicked from the supergroup chat",
                None,
            )),
            _ => Ok(id),
        }
    }

    /// The message a new one replies to: `reply_parameters` or the older
    /// `reply_to_message_id`; gone and not allowed to go without → 400.
    pub(super) fn reply_target(&self, p: &Params, chat: i64) -> Result<Option<i32>, Answer> {
        let (id, other_chat, allow) = match object(p, "reply_parameters") {
            Some(rp) => (
                rp.get("message_id").and_then(Value::as_i64),
                rp.get("chat_id")
                    .and_then(Value::as_i64)
                    .filter(|c| *c != chat),
                rp.get("allow_sending_without_reply")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
            None => (
                int(p, "reply_to_message_id"),
                None,
                flag(p, "allow_sending_without_reply"),
            ),
        };
        let Some(id) = id else { return Ok(None) };
        let found = other_chat.is_none()
            && self
                .chats
                .get(&chat)
                .and_then(|c| c.message(id as i32))
                .is_some();
        match (found, allow) {
            (true, _) => Ok(Some(id as i32)),
            (false, true) => Ok(None),
            (false, false) => Err(Answer::bad("Bad Request: message to be replied not found")),
        }
    }

    /// Telegram's flood control, when turned on: `count` more messages into `chat`.
    pub(super) fn rate_check(
        &mut self,
        chat: i64,
        count: usize,
        now: Instant,
    ) -> Result<(), Answer> {
        let is_group = self
            .chats
            .get(&chat)
            .is_some_and(|c| c.chat.kind.is_group());
        let Some(limiter) = self.limiter.as_mut() else {
            return Ok(());
        };
        match limiter.check(chat, is_group, now) {
            Ok(()) => {
                limiter.record(chat, count, now);
                Ok(())
            }
            Err(retry_after) => {
                self.rate_limited += 1;
                Err(fault_answer(&Fault::TooManyRequests { retry_after }))
            }
        }
    }

    /// Turns Telegram's sending limits on or off.
    pub fn set_rate_limits(&mut self, limits: Option<RateLimits>) {
        self.limiter = limits.map(Limiter::new);
    }

    pub(super) fn post(&mut self, chat: i64, draft: Draft) -> Value {
        let bot = self.bot.clone();
        let msg = self.store_message(chat, bot, draft);
        self.chats[&chat].render(&msg)
    }

    // ---- sending ------------------------------------------------------------------------

    pub(super) fn send_message(&mut self, p: &Params, now: Instant) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let text = message_text(p)?;
        let buttons = markup(p)?;
        let reply_to = self.reply_target(p, chat)?;
        self.rate_check(chat, 1, now)?;
        Ok(self.post(
            chat,
            Draft {
                text: Some(text),
                reply_to,
                buttons,
                ..Draft::default()
            },
        ))
    }

    /// A photo to send: a known photo's file id, an uploaded part (`attach://name`) or a
    /// URL (shown as the stock picture: the emulator fetches nothing).
    pub(super) fn photo_from(&mut self, value: &str, uploads: &Uploads) -> Result<Photo, Answer> {
        match self.check_photo(value, uploads)? {
            PhotoSource::Upload(bytes) => Ok(self.files.new_photo(Some(bytes))),
            PhotoSource::Url => Ok(self.files.new_photo(None)),
            PhotoSource::Known(unique) => self.files.reissue_photo(&unique).ok_or_else(wrong_file),
        }
    }

    /// Where a photo comes from, or Telegram's refusal; nothing is kept yet.
    fn check_photo(&self, value: &str, uploads: &Uploads) -> Result<PhotoSource, Answer> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Answer::bad("Bad Request: there is no photo in the request"));
        }
        if let Some(name) = value.strip_prefix("attach://") {
            let Some(upload) = uploads.get(name) else {
                return Err(wrong_file());
            };
            if upload.bytes.is_empty() {
                return Err(Answer::bad("Bad Request: file must be non-empty"));
            }
            if image_type(&upload.bytes).is_none() {
                return Err(Answer::bad("Bad Request: IMAGE_PROCESS_FAILED"));
            }
            return Ok(PhotoSource::Upload(upload.bytes.clone()));
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return Ok(PhotoSource::Url);
        }
        self.known_file(value, FileKind::Photo)
            .map(PhotoSource::Known)
    }

    /// The file a file id names, if it is of `kind`.
    fn known_file(&self, file_id: &str, kind: FileKind) -> Result<String, Answer> {
        let unique = self
            .files
            .lookup(file_id)
            .map(|r| r.unique.clone())
            .ok_or_else(wrong_file)?;
        match self.files.meta(&unique) {
            Some(m) if m.kind == kind => Ok(unique),
            Some(_) => Err(Answer::bad("Bad Request: type of file mismatch")),
            None => Err(wrong_file()),
        }
    }

    /// A document to send: a known document's file id or an uploaded part.
    fn document_from(&mut self, value: &str, uploads: &Uploads) -> Result<Document, Answer> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Answer::bad(
                "Bad Request: there is no document in the request",
            ));
        }
        if let Some(name) = value.strip_prefix("attach://") {
            let Some(upload) = uploads.get(name) else {
                return Err(wrong_file());
            };
            if upload.bytes.is_empty() {
                return Err(Answer::bad("Bad Request: file must be non-empty"));
            }
            return Ok(self.files.new_document(upload));
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return Err(Answer::bad("Bad Request: failed to get HTTP URL content"));
        }
        let unique = self.known_file(value, FileKind::Document)?;
        self.files.reissue_document(&unique).ok_or_else(wrong_file)
    }

    /// `sendDocument`: a file by upload (part `document`, or `attach://name`) or by file
    /// id, with a caption, reply and buttons, as `sendPhoto`.
    pub(super) fn send_document(
        &mut self,
        p: &Params,
        uploads: &Uploads,
        now: Instant,
    ) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let raw = file_param(p, uploads, "document");
        let caption = caption(string(p, "caption"))?;
        let buttons = markup(p)?;
        let reply_to = self.reply_target(p, chat)?;
        self.rate_check(chat, 1, now)?;
        let document = self.document_from(raw.as_deref().unwrap_or(""), uploads)?;
        Ok(self.post(
            chat,
            Draft {
                caption,
                document: Some(document),
                reply_to,
                buttons,
                ..Draft::default()
            },
        ))
    }

    pub(super) fn send_photo(
        &mut self,
        p: &Params,
        uploads: &Uploads,
        now: Instant,
    ) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let raw = file_param(p, uploads, "photo");
        let caption = caption(string(p, "caption"))?;
        let buttons = markup(p)?;
        let reply_to = self.reply_target(p, chat)?;
        self.check_photo(raw.as_deref().unwrap_or(""), uploads)?;
        self.rate_check(chat, 1, now)?;
        let photo = self.photo_from(raw.as_deref().unwrap_or(""), uploads)?;
        Ok(self.post(
            chat,
            Draft {
                caption,
                photo: Some(photo),
                reply_to,
                buttons,
                ..Draft::default()
            },
        ))
    }

    pub(super) fn send_media_group(
        &mut self,
        p: &Params,
        uploads: &Uploads,
        now: Instant,
    ) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let items = match object(p, "media") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(Answer::bad("Bad Request: can't parse media JSON object")),
            None => return Err(Answer::bad("Bad Request: parameter \"media\" is required")),
        };
        if items.is_empty() {
            return Err(Answer::bad("Bad Request: media to send are not specified"));
        }
        if items.len() > 10 {
            return Err(Answer::bad(
                "Bad Request: Too much messages to send as an album",
            ));
        }
        let reply_to = self.reply_target(p, chat)?;
        let mut drafts = Vec::new();
        let group = format!("{}", 13_000_000_000_000u64 + self.files.next_number());
        for item in &items {
            if item.get("type").and_then(Value::as_str) != Some("photo") {
                return Err(Answer::bad(
                    "Bad Request: unsupported media type in the album",
                ));
            }
            let caption = caption(
                item.get("caption")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )?;
            let media = item.get("media").and_then(Value::as_str).unwrap_or("");
            drafts.push((media.to_owned(), caption));
        }
        // Every file must be valid before any message is sent.
        for (media, _) in &drafts {
            self.check_photo(media, uploads)?;
        }
        self.rate_check(chat, drafts.len(), now)?;
        let mut photos = Vec::new();
        for (media, caption) in drafts {
            photos.push((self.photo_from(&media, uploads)?, caption));
        }
        let sent: Vec<Value> = photos
            .into_iter()
            .map(|(photo, caption)| {
                self.post(
                    chat,
                    Draft {
                        caption,
                        photo: Some(photo),
                        media_group_id: Some(group.clone()),
                        reply_to,
                        ..Draft::default()
                    },
                )
            })
            .collect();
        Ok(Value::Array(sent))
    }

    pub(super) fn send_chat_action(&mut self, p: &Params) -> Result<Value, Answer> {
        self.writable_chat(p)?;
        if string(p, "action").is_none_or(|a| a.trim().is_empty()) {
            return Err(Answer::bad("Bad Request: action is empty"));
        }
        Ok(json!(true))
    }

    // ---- editing and deleting ---------------------------------------------------------

    pub(super) fn edit_message(&mut self, p: &Params, what: Edit) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let Some(id) = int(p, "message_id") else {
            return Err(Answer::bad(
                "Bad Request: message identifier is not specified",
            ));
        };
        let new_text = match what {
            Edit::Text => {
                let text = string(p, "text").unwrap_or_default();
                let text = text.trim();
                if text.is_empty() {
                    return Err(Answer::bad("Bad Request: message text is empty"));
                }
                if utf16_len(text) > 4096 {
                    return Err(Answer::bad("Bad Request: MESSAGE_TOO_LONG"));
                }
                Some(text.to_owned())
            }
            Edit::Caption => caption(string(p, "caption"))?,
            Edit::Markup => None,
        };
        let buttons = markup(p)?;
        let bot_id = self.bot.id;
        let c = self.chats.get_mut(&chat).expect("writable chat exists");
        let Some(msg) = c.message_mut(id as i32) else {
            return Err(Answer::bad("Bad Request: message to edit not found"));
        };
        if msg.from.id != bot_id {
            return Err(Answer::bad("Bad Request: message can't be edited"));
        }
        let mut next: Message = msg.clone();
        match what {
            Edit::Text => {
                if next.text.is_none() {
                    return Err(Answer::bad(
                        "Bad Request: there is no text in the message to edit",
                    ));
                }
                next.text = new_text;
            }
            Edit::Caption => {
                if next.photo.is_none() && next.document.is_none() {
                    return Err(Answer::bad(
                        "Bad Request: there is no caption in the message to edit",
                    ));
                }
                next.caption = new_text;
            }
            Edit::Markup => {}
        }
        next.buttons = buttons;
        if next == *msg {
            return Err(Answer::bad(NOT_MODIFIED));
        }
        next.edit_date = Some(unix_now());
        *msg = next.clone();
        let _ = self.events.send(Event::Edited(next.clone()));
        Ok(self.chats[&chat].render(&next))
    }

    pub(super) fn delete_message(&mut self, p: &Params) -> Result<Value, Answer> {
        let chat = self.writable_chat(p)?;
        let Some(id) = int(p, "message_id") else {
            return Err(Answer::bad(
                "Bad Request: message identifier is not specified",
            ));
        };
        let bot_id = self.bot.id;
        let c = self.chats.get_mut(&chat).expect("writable chat exists");
        let private = c.chat.kind == ChatKind::Private;
        let Ok(idx) = c.messages.binary_search_by_key(&(id as i32), |(i, _)| *i) else {
            return Err(Answer::bad("Bad Request: message to delete not found"));
        };
        let Some(msg) = &c.messages[idx].1 else {
            return Err(Answer::bad("Bad Request: message to delete not found"));
        };
        if !private && msg.from.id != bot_id {
            return Err(Answer::bad("Bad Request: message can't be deleted"));
        }
        c.messages[idx].1 = None;
        let _ = self.events.send(Event::Deleted {
            chat_id: chat,
            message_id: id as i32,
        });
        Ok(json!(true))
    }
}

/// Where a photo to send comes from.
enum PhotoSource {
    Upload(axum::body::Bytes),
    Url,
    Known(String),
}

fn wrong_file() -> Answer {
    Answer::bad("Bad Request: wrong file identifier/HTTP URL specified")
}

/// A file parameter: its value (a file id, a URL, `attach://name`), or an uploaded part of
/// the same name.
fn file_param(p: &Params, uploads: &Uploads, name: &str) -> Option<String> {
    string(p, name).or_else(|| {
        uploads
            .contains_key(name)
            .then(|| format!("attach://{name}"))
    })
}

/// What an edit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Edit {
    Text,
    Caption,
    Markup,
}
