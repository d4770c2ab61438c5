//! Everything the emulator knows, behind one mutex: people, chats and their messages, the
//! update queue with Telegram's offset rules, files, button presses, queued faults and
//! the record of every call. Drivers change it with the verbs here (a person sends, presses,
//! edits; the bot is removed; a group migrates); the Bot API methods are in `api`.
//!
//! Here: the types and the read side, and setting the scene; `people`: what people do;
//! `groups`: the bot removed, added and migrated; `files`: file ids and the bytes
//! behind them, bounded; `machinery`: what the verbs and the
//! Bot API methods share (files, storing messages, the update queue, the call record).

mod files;
mod groups;

pub(crate) use files::Files;
pub use files::{FileKind, FileMeta, STOCK_PHOTO, Upload, Uploads, image_size, image_type};
pub use groups::MemberChange;
pub(crate) use groups::{bot_admin_json, member_status_json};
mod machinery;
mod people;
mod webhook;

pub use webhook::{Delivery, Webhook};
pub(crate) use webhook::{Next, WebhookState};

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::faults::{Faults, Limiter};
use crate::model::{Chat, ChatKind, Message, Photo, Service, User};

/// Update kinds Telegram sends when a bot never set `allowed_updates`.
const DEFAULT_EXCLUDED: [&str; 3] = ["chat_member", "message_reaction", "message_reaction_count"];

/// How the emulated bot presents itself.
#[derive(Debug, Clone)]
pub struct Options {
    pub bot_id: u64,
    pub bot_username: String,
    pub bot_name: String,
    /// Telegram's privacy mode (on for new bots): in groups the bot hears only commands,
    /// replies to its own messages and service messages.
    pub privacy_mode: bool,
    /// The id of the first update. A bot's update ids only rise, across restarts too: a
    /// driver that starts Butler on a database another emulator fed sets this above the
    /// ids that database has seen (Butler asks for updates after the last one it stored).
    pub first_update_id: i32,
    /// How many bytes of file contents (uploads, photos people send with a picture) the
    /// emulator keeps in memory; past it the oldest are forgotten (see `state::files`).
    pub file_memory: usize,
    /// The pause before delivering again to a webhook that failed, doubled with each
    /// failure in a row up to `webhook_retry_max`. Telegram waits longer; tests wait less.
    pub webhook_retry_initial: Duration,
    pub webhook_retry_max: Duration,
    /// How long a delivery waits for the bot's answer before it counts as failed.
    pub webhook_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bot_id: 7_000_000_001,
            bot_username: "butler_test_bot".into(),
            bot_name: "Butler".into(),
            privacy_mode: true,
            first_update_id: 1000,
            file_memory: 64 * 1024 * 1024,
            webhook_retry_initial: Duration::from_millis(100),
            webhook_retry_max: Duration::from_secs(2),
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

/// A driver asked for something that cannot happen in Telegram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error("there is no chat {0}")]
    UnknownChat(i64),
    #[error("there is no user {0}")]
    UnknownUser(u64),
    #[error("chat {0} exists already")]
    ChatExists(i64),
    #[error("a group id must be negative, got {0}")]
    BadGroupId(i64),
    #[error("user {user} is not in chat {chat}")]
    NotAMember { chat: i64, user: u64 },
    #[error("there is no message {id} in chat {chat}")]
    UnknownMessage { chat: i64, id: i32 },
    #[error("message {id} in chat {chat} has no button with data {data:?}")]
    NoSuchButton { chat: i64, id: i32, data: String },
    #[error("message {id} in chat {chat} is not user {user}'s to edit")]
    NotTheAuthor { chat: i64, id: i32, user: u64 },
    #[error("chat {0} is not a basic group")]
    NotABasicGroup(i64),
    #[error("chat {chat} became supergroup {to}")]
    Migrated { chat: i64, to: i64 },
    #[error("a Telegram app would not send this: {0}")]
    NotSendable(String),
}

/// An update waiting for the bot, as the JSON `getUpdates` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingUpdate {
    pub id: i32,
    /// "message", "edited_message", "callback_query", "my_chat_member", …
    pub kind: String,
    pub json: Value,
}

/// One Bot API call as it arrived and how it was answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// Order of arrival, from 0.
    pub seq: usize,
    /// The method's canonical name (`sendMessage`), whatever case it came in.
    pub method: String,
    pub chat_id: Option<i64>,
    /// The parameters, JSON or multipart alike, as one JSON object.
    pub params: Value,
    /// Since the emulator started.
    pub at: Duration,
    /// The HTTP status answered: 200, 400, 429, 502, …
    pub status: u16,
    /// Telegram's `description` of an error.
    pub description: Option<String>,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.status == 200
    }

    /// A string parameter (`text`, `caption`, …).
    pub fn param_str(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }
}

/// A command menu set by `setMyCommands`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandSet {
    /// The `scope` object as sent (`{"type":"default"}` when none).
    pub scope: Value,
    pub language_code: Option<String>,
    /// (command, description) pairs.
    pub commands: Vec<(String, String)>,
}

/// How the bot answered a button press.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackAnswer {
    pub query_id: String,
    pub user: u64,
    pub chat_id: i64,
    pub message_id: i32,
    pub data: String,
    pub text: Option<String>,
    pub show_alert: bool,
}

/// What a chat's members see happen, for live views.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Message(Message),
    Edited(Message),
    Deleted { chat_id: i64, message_id: i32 },
    CallbackAnswered(CallbackAnswer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BotStatus {
    Member,
    Kicked,
}

#[derive(Debug, Clone)]
pub(crate) struct ChatState {
    pub chat: Chat,
    pub members: BTreeSet<u64>,
    /// Members who may not write (`restricted`): still in `members`, they see and press.
    pub restricted: BTreeSet<u64>,
    /// People removed by an administrator (`kicked`).
    pub kicked: BTreeSet<u64>,
    pub bot_status: BotStatus,
    /// The bot is an administrator: it gets `chat_member` updates.
    pub bot_admin: bool,
    pub migrated_to: Option<i64>,
    /// In id order; deleted ones are `None`.
    pub messages: Vec<(i32, Option<Message>)>,
    pub next_message_id: i32,
}

impl ChatState {
    fn new(chat: Chat) -> Self {
        Self {
            chat,
            members: BTreeSet::new(),
            restricted: BTreeSet::new(),
            kicked: BTreeSet::new(),
            bot_status: BotStatus::Member,
            bot_admin: false,
            migrated_to: None,
            messages: Vec::new(),
            next_message_id: 1,
        }
    }

    pub fn message(&self, id: i32) -> Option<&Message> {
        self.messages
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .and_then(|idx| self.messages[idx].1.as_ref())
    }

    pub fn message_mut(&mut self, id: i32) -> Option<&mut Message> {
        let idx = self.messages.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        self.messages[idx].1.as_mut()
    }

    /// The message's JSON with the message it replies to.
    pub fn render(&self, msg: &Message) -> Value {
        let replied = msg.reply_to.and_then(|r| self.message(r));
        msg.to_json(&self.chat, replied)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub user: u64,
    pub chat_id: i64,
    pub message_id: i32,
    pub data: String,
    pub pressed: Instant,
    pub answered: bool,
}

/// The emulator's whole state. Drivers read it in `wait_for` conditions and through the
/// handle; its fields are private so that every change goes through a verb.
pub struct State {
    pub(crate) options: Options,
    pub(crate) bot: User,
    pub(crate) users: BTreeMap<u64, User>,
    pub(crate) chats: BTreeMap<i64, ChatState>,
    pub(crate) blocked: BTreeSet<u64>,
    pub(crate) updates: VecDeque<PendingUpdate>,
    pub(crate) next_update_id: i32,
    pub(crate) confirmed_offset: i32,
    pub(crate) allowed_updates: Option<Vec<String>>,
    /// Every file id Telegram would accept from this bot, and the files' bytes.
    pub(crate) files: Files,
    pub(crate) queries: HashMap<String, Query>,
    pub(crate) next_query: u64,
    pub(crate) answers: Vec<CallbackAnswer>,
    pub(crate) commands: Vec<CommandSet>,
    pub(crate) faults: Faults,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) rate_limited: u64,
    pub(crate) calls: Vec<Call>,
    pub(crate) started: Instant,
    /// Bumped by each getUpdates; an older long poll sees it and answers 409.
    pub(crate) poll_generation: u64,
    pub(crate) events: broadcast::Sender<Event>,
    /// The webhook, if set, and the record of deliveries.
    pub(crate) webhook: WebhookState,
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl State {
    pub(crate) fn new(options: Options) -> Self {
        let first_update_id = options.first_update_id;
        let file_memory = options.file_memory;
        let bot = User {
            id: options.bot_id,
            is_bot: true,
            first_name: options.bot_name.clone(),
            last_name: None,
            username: Some(options.bot_username.clone()),
            language_code: None,
        };
        Self {
            options,
            bot,
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            blocked: BTreeSet::new(),
            updates: VecDeque::new(),
            next_update_id: first_update_id,
            confirmed_offset: 0,
            allowed_updates: None,
            files: Files::new(file_memory),
            queries: HashMap::new(),
            next_query: 1,
            answers: Vec::new(),
            commands: Vec::new(),
            faults: Faults::default(),
            limiter: None,
            rate_limited: 0,
            calls: Vec::new(),
            started: Instant::now(),
            poll_generation: 0,
            events: broadcast::channel(1024).0,
            webhook: WebhookState::default(),
        }
    }

    // ---- read side -------------------------------------------------------------------

    /// The emulator's clock: the time since it started, as [`Call::at`] counts it. A
    /// driver reads it when it makes someone act, to time Butler's answer.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The bot's own account.
    pub fn bot(&self) -> &User {
        &self.bot
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.get(&id)
    }

    pub fn chat(&self, id: i64) -> Option<&Chat> {
        self.chats.get(&id).map(|c| &c.chat)
    }

    /// The chat as its members see it now: every message not deleted, edits applied.
    pub fn messages_in(&self, chat: i64) -> Vec<Message> {
        self.chats
            .get(&chat)
            .map(|c| c.messages.iter().filter_map(|(_, m)| m.clone()).collect())
            .unwrap_or_default()
    }

    /// The messages the bot sent into `chat`, in order.
    pub fn bot_messages_in(&self, chat: i64) -> Vec<Message> {
        let mut all = self.messages_in(chat);
        all.retain(Message::is_from_bot);
        all
    }

    pub fn message(&self, chat: i64, id: i32) -> Option<Message> {
        self.chats.get(&chat)?.message(id).cloned()
    }

    /// The messages of `chat` that reply to message `id`.
    pub fn replies_to(&self, chat: i64, id: i32) -> Vec<Message> {
        let mut all = self.messages_in(chat);
        all.retain(|m| m.reply_to == Some(id));
        all
    }

    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The calls of one method (case-insensitive).
    pub fn calls_of(&self, method: &str) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// Calls answered with an error status.
    pub fn failed_calls(&self) -> Vec<&Call> {
        self.calls.iter().filter(|c| !c.ok()).collect()
    }

    /// Updates queued and not yet confirmed by an offset.
    pub fn pending_updates(&self) -> Vec<PendingUpdate> {
        self.updates.iter().cloned().collect()
    }

    /// Every update with an id below this has been confirmed (0: none yet).
    pub fn confirmed_offset(&self) -> i32 {
        self.confirmed_offset
    }

    /// The id the next update will get.
    pub fn next_update_id(&self) -> i32 {
        self.next_update_id
    }

    /// How many `getUpdates` calls have begun (a bot that polls has started).
    pub fn polls_started(&self) -> u64 {
        self.poll_generation
    }

    /// The update kinds the bot asked for, if it did.
    pub fn allowed_updates(&self) -> Option<&[String]> {
        self.allowed_updates.as_deref()
    }

    pub fn callback_answers(&self) -> &[CallbackAnswer] {
        &self.answers
    }

    pub fn commands(&self) -> &[CommandSet] {
        &self.commands
    }

    /// What the emulator knows of the file a file id names (the photo's, for a
    /// thumbnail's id).
    pub fn file(&self, file_id: &str) -> Option<&FileMeta> {
        let r = self.files.lookup(file_id)?;
        self.files.meta(&r.unique)
    }

    /// The bytes of a file by its `file_unique_id`, while kept (see `state::files`).
    pub fn file_contents(&self, file_unique_id: &str) -> Option<(&FileMeta, axum::body::Bytes)> {
        let meta = self.files.meta(file_unique_id)?;
        Some((meta, self.files.contents(file_unique_id)?))
    }

    /// The file paths downloaded (`GET /file/bot<token>/<file_path>`), in order.
    pub fn downloads(&self) -> &[String] {
        self.files.downloads()
    }

    /// Bytes of file contents kept against [`Options::file_memory`].
    pub fn kept_file_bytes(&self) -> usize {
        self.files.kept_bytes()
    }

    /// 429s the rate limiter answered.
    pub fn rate_limited_count(&self) -> u64 {
        self.rate_limited
    }

    pub fn is_member(&self, chat: i64, user: u64) -> bool {
        self.chats
            .get(&chat)
            .is_some_and(|c| c.members.contains(&user))
    }

    // ---- setting the scene -------------------------------------------------------------

    /// Adds or replaces a person.
    pub fn add_user(&mut self, user: User) {
        self.users.insert(user.id, user);
    }

    /// The private chat of `user` with the bot (its id is the user's id): the person has
    /// pressed Start.
    pub fn create_private_chat(&mut self, user: u64) -> Result<i64, DriverError> {
        let u = self
            .users
            .get(&user)
            .cloned()
            .ok_or(DriverError::UnknownUser(user))?;
        let id = user as i64;
        if self.chats.contains_key(&id) {
            return Err(DriverError::ChatExists(id));
        }
        let mut c = ChatState::new(Chat {
            id,
            kind: ChatKind::Private,
            title: None,
            user: Some(u),
        });
        c.members.insert(user);
        self.chats.insert(id, c);
        Ok(id)
    }

    /// A basic group with the bot and `members` in it.
    pub fn create_group(
        &mut self,
        id: i64,
        title: &str,
        members: &[u64],
    ) -> Result<i64, DriverError> {
        self.create_public(id, ChatKind::Group, title, members)
    }

    /// A supergroup with the bot and `members` in it.
    pub fn create_supergroup(
        &mut self,
        id: i64,
        title: &str,
        members: &[u64],
    ) -> Result<i64, DriverError> {
        self.create_public(id, ChatKind::Supergroup, title, members)
    }

    fn create_public(
        &mut self,
        id: i64,
        kind: ChatKind,
        title: &str,
        members: &[u64],
    ) -> Result<i64, DriverError> {
        if id >= 0 {
            return Err(DriverError::BadGroupId(id));
        }
        if self.chats.contains_key(&id) {
            return Err(DriverError::ChatExists(id));
        }
        if let Some(m) = members.iter().find(|m| !self.users.contains_key(m)) {
            return Err(DriverError::UnknownUser(*m));
        }
        let mut c = ChatState::new(Chat {
            id,
            kind,
            title: Some(title.to_owned()),
            user: None,
        });
        c.members.extend(members.iter().copied());
        self.chats.insert(id, c);
        Ok(id)
    }

    pub fn add_member(&mut self, chat: i64, user: u64) -> Result<(), DriverError> {
        if !self.users.contains_key(&user) {
            return Err(DriverError::UnknownUser(user));
        }
        let c = self
            .chats
            .get_mut(&chat)
            .ok_or(DriverError::UnknownChat(chat))?;
        c.members.insert(user);
        Ok(())
    }

    /// The person blocks the bot: sends into their private chat answer 403.
    pub fn block_bot(&mut self, user: u64) {
        self.blocked.insert(user);
    }

    pub fn unblock_bot(&mut self, user: u64) {
        self.blocked.remove(&user);
    }
}

/// A message before it has an id.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub text: Option<String>,
    pub caption: Option<String>,
    pub photo: Option<Photo>,
    pub document: Option<crate::model::Document>,
    pub media_group_id: Option<String>,
    pub reply_to: Option<i32>,
    pub buttons: Vec<Vec<crate::model::Button>>,
    pub service: Option<Service>,
}
