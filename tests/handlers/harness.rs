//! Drives the real handler tree through `teloxide_tests::MockBot`, on a fresh SQLite file
//! per test, with verbs for the people in the story.

use std::sync::Arc;

use butler::chat::{AppRef, BotError, handler_tree};
use butler::clock::Clock;
use butler::config::Settings;
use butler::domain::TicketId;
use butler::jobs::{Scheduler, TickReport};
use butler::store::BotMessageKind;
use chrono::{DateTime, TimeZone, Utc};
use teloxide::dispatching::UpdateHandler;
use teloxide::dptree::deps;
use teloxide::prelude::*;
use teloxide::types::{Chat, FileId, FileUniqueId, MediaGroupId, Message, MessageId, User};
use teloxide_tests::server::Responses;
use teloxide_tests::{
    IntoUpdate, MockBot, MockCallbackQuery, MockGroupChat, MockMessagePhoto, MockMessageText,
    MockPhotoSize, MockPrivateChat, MockUser,
};

pub use crate::common::{GROUP, MANAGER, NEIGHBOUR, OWNER, STAFF, STAFF_CHAT, STAFF2};
use crate::common::{GROUP_TITLE, LANG, STAFF_CHAT_TITLE, name_of};
/// Not a person: a message "from" this id makes the test tree run the scheduler's tick
/// (and flush the outbox) inside a dispatch, while the fake Bot API is up.
pub const CLOCK: u64 = 777;

/// The scheduler the tests tick, and the report of every tick so far.
pub type Jobs = Arc<tokio::sync::Mutex<(Scheduler, Vec<TickReport>)>>;

/// The real handler tree, behind one test-only branch: the clock's tick.
fn test_tree() -> UpdateHandler<BotError> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .filter(|m: Message| m.from.as_ref().is_some_and(|u| u.id.0 == CLOCK))
                .endpoint(run_jobs),
        )
        .branch(handler_tree())
}

async fn run_jobs(bot: Bot, app: AppRef, jobs: Jobs) -> Result<(), BotError> {
    let mut jobs = jobs.lock().await;
    let report = jobs.0.tick(&app, app.now()).await;
    jobs.1.push(report);
    app.outbox.flush(&bot).await?;
    Ok(())
}

pub fn user(id: u64) -> User {
    MockUser::new()
        .id(id)
        .first_name(name_of(id))
        .language_code(LANG)
        .build()
}

pub fn group(id: i64) -> Chat {
    MockGroupChat::new().id(id).title(GROUP_TITLE).build()
}

pub fn staff_chat() -> Chat {
    MockGroupChat::new()
        .id(STAFF_CHAT)
        .title(STAFF_CHAT_TITLE)
        .build()
}

pub fn private(id: u64) -> Chat {
    MockPrivateChat::new().id(id as i64).build()
}

pub fn text(chat: Chat, from: u64, text: &str) -> MockMessageText {
    MockMessageText::new()
        .chat(chat)
        .from(user(from))
        .text(text)
}

pub fn photo_size(file: &str) -> teloxide::types::PhotoSize {
    MockPhotoSize::new()
        .file_id(FileId(file.to_owned()))
        .file_unique_id(FileUniqueId(format!("u-{file}")))
        .build()
}

pub fn photo(chat: Chat, from: u64, file: &str, caption: Option<&str>) -> MockMessagePhoto {
    let mut m = MockMessagePhoto::new()
        .chat(chat)
        .from(user(from))
        .photo(vec![photo_size(file)]);
    if let Some(c) = caption {
        m = m.caption(c);
    }
    m
}

pub fn album_item(
    chat: Chat,
    from: u64,
    file: &str,
    group_id: &str,
    caption: Option<&str>,
) -> MockMessagePhoto {
    photo(chat, from, file, caption).media_group_id(MediaGroupId(group_id.to_owned()))
}

pub struct Harness {
    pub bot: MockBot<BotError, teloxide_tests::mock_bot::DistributionKey>,
    pub app: AppRef,
    pub clock: Clock,
    pub jobs: Jobs,
    /// Every message the bot sent, across dispatches, by id.
    pub sent: Vec<Message>,
    _dir: tempfile::TempDir,
}

/// The test settings with the database in file `db` (SQLite).
pub fn settings(db: &std::path::Path) -> Settings {
    settings_for(&format!("sqlite://{}", db.display()))
}

/// The test settings with the database at `url`.
pub fn settings_for(url: &str) -> Settings {
    let mut s = Settings::from_toml(&format!(
        "database_url = \"{url}\"\nstaff_chat_id = {STAFF_CHAT}\nmanagers = [{MANAGER}]\ndefault_locale = \"en\"\n"
    ))
    .expect("test settings parse");
    s.rating.require_completion_photo = true;
    s
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            butler::telemetry::init(butler::config::LogFormat::Text);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mut s = settings_for(&butler::store::testing::database_url(dir.path()).await);
        adjust(&mut s);
        let clock = Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
        let app = butler::build_app(s, clock.clone())
            .await
            .expect("app builds");
        // See `dispatch`.
        butler::store::testing::open_every_connection(&app.store).await;
        // No delivery worker runs here to send later what the pacer would hold back;
        // the pacer has its own tests, and the end-to-end suite runs with it.
        app.outbox.set_pacing(false);
        app.outbox.set_inline(true);
        // MockBot cannot answer getChatMember: the cast's staff are members of the staff
        // chat (the manager is staff by the settings).
        for member in [STAFF, STAFF2] {
            app.assume_member(member, true);
        }
        let jobs: Jobs = Arc::new(tokio::sync::Mutex::new((Scheduler::new(), Vec::new())));
        let mut bot = MockBot::new(MockMessageText::new().text("warm-up"), test_tree());
        bot.dependencies(deps![app.clone(), jobs.clone()]);
        Self {
            bot,
            app,
            clock,
            jobs,
            sent: Vec::new(),
            _dir: dir,
        }
    }

    /// Delivers one update and returns what the bot did in answer.
    pub async fn send(&mut self, update: impl IntoUpdate) -> Responses {
        // Each update a second after the last, as in life: order shows in the times.
        self.clock.advance(chrono::Duration::seconds(1));
        self.dispatch(update).await
    }

    /// Runs the scheduler at the clock's time, then sends what it wrote; returns what the
    /// bot sent (the tick's report is `last_tick`).
    pub async fn tick(&mut self) -> Responses {
        self.dispatch(text(private(CLOCK), CLOCK, "tick")).await
    }

    /// Sets the clock to `at` and ticks.
    pub async fn tick_at(&mut self, at: DateTime<Utc>) -> Responses {
        self.clock.set(at);
        self.tick().await
    }

    /// The report of the latest tick.
    pub async fn last_tick(&self) -> TickReport {
        let jobs = self.jobs.lock().await;
        jobs.1.last().cloned().expect("ticked at least once")
    }

    async fn dispatch(&mut self, update: impl IntoUpdate) -> Responses {
        let mut updates = update.into_update(&std::sync::atomic::AtomicI32::new(0));
        for update in &mut updates {
            self.date_by_the_clock(update);
        }
        self.bot.update(updates);
        self.bot.dispatch().await;
        // A connection the dispatch's runtime opened (one lost there was replaced) died
        // with it: replaced again, here.
        butler::store::testing::open_every_connection(&self.app.store).await;
        let r = self.bot.get_responses();
        self.sent.extend(r.sent_messages.iter().cloned());
        for g in &r.sent_media_group {
            self.sent.extend(g.messages.iter().cloned());
        }
        r
    }

    /// A message the test left with the mock's date (the wall clock) is dated by the
    /// test's clock, as Telegram dates a message when it is sent; a date the test chose
    /// (far from the wall clock) stays.
    fn date_by_the_clock(&self, update: &mut Update) {
        use teloxide::types::UpdateKind;
        if let UpdateKind::Message(m) | UpdateKind::EditedMessage(m) = &mut update.kind
            && (Utc::now() - m.date).num_seconds().abs() < 60
        {
            m.date = self.clock.now();
        }
    }

    /// A manager registers the owner group.
    pub async fn register(&mut self, chat: i64) {
        let r = self
            .send(text(group(chat), MANAGER, "/register Sunrise Garden"))
            .await;
        assert!(
            last_text(&r).contains("registered"),
            "registration failed: {:?}",
            texts(&r)
        );
    }

    /// The owner reports; returns the new ticket's number and the responses.
    pub async fn report(&mut self, from: u64, what: &str) -> (TicketId, Responses) {
        let r = self
            .send(text(group(GROUP), from, &format!("/repair {what}")))
            .await;
        let id = self.latest_ticket().await.expect("a ticket was created");
        (id, r)
    }

    pub async fn latest_ticket(&self) -> Option<TicketId> {
        let open = self.app.store.owner_tickets(OWNER, 1).await.unwrap();
        let other = self.app.store.owner_tickets(NEIGHBOUR, 1).await.unwrap();
        open.into_iter().chain(other).map(|t| t.id).max()
    }

    /// The message Butler sent as `kind` for a ticket, as the chat shows it.
    pub async fn bot_message(&self, ticket: TicketId, kind: BotMessageKind) -> Message {
        let t = self
            .app
            .store
            .ticket(ticket)
            .await
            .unwrap()
            .expect("the ticket");
        let chat = match kind {
            BotMessageKind::Card | BotMessageKind::CardPhotos | BotMessageKind::FollowUp => {
                t.staff_chat_or(self.app.settings.staff_chat_id)
            }
            _ => t.group_chat_id,
        };
        let id = self
            .app
            .store
            .latest_bot_message(chat, ticket.0, kind)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no {kind:?} message for #{ticket}"));
        self.sent
            .iter()
            .rev()
            .find(|m| m.id == MessageId(id))
            .cloned()
            .expect("the bot message was seen")
    }

    /// `from` presses the button with `data` under `message`.
    pub async fn press(&mut self, from: u64, message: &Message, data: &str) -> Responses {
        let q = MockCallbackQuery::new()
            .from(user(from))
            .message(message.clone())
            .data(data);
        self.send(q).await
    }

    /// `from` replies to `message` with text in `chat`.
    pub async fn reply_text(
        &mut self,
        chat: Chat,
        from: u64,
        message: &Message,
        body: &str,
    ) -> Responses {
        self.send(text(chat, from, body).reply_to_message(message.clone()))
            .await
    }

    pub async fn reply_photo(
        &mut self,
        chat: Chat,
        from: u64,
        message: &Message,
        file: &str,
        caption: Option<&str>,
    ) -> Responses {
        self.send(photo(chat, from, file, caption).reply_to_message(message.clone()))
            .await
    }

    /// The card, the owner's progress photo and Done: a ticket taken by STAFF and done.
    pub async fn take_and_finish(&mut self, ticket: TicketId) -> Responses {
        let card = self.bot_message(ticket, BotMessageKind::Card).await;
        self.press(STAFF, &card, &format!("take:{ticket}")).await;
        let card = self.bot_message(ticket, BotMessageKind::Card).await;
        self.reply_photo(
            staff_chat(),
            STAFF,
            &card,
            &format!("fixed-{ticket}"),
            Some("all fixed"),
        )
        .await;
        self.send(text(staff_chat(), STAFF, &format!("/done {ticket}")))
            .await
    }
}

/// Texts (and captions) of what the bot sent, in order.
pub fn texts(r: &Responses) -> Vec<String> {
    r.sent_messages
        .iter()
        .map(|m| m.text().or(m.caption()).unwrap_or("").to_owned())
        .collect()
}

pub fn last_text(r: &Responses) -> String {
    texts(r).last().cloned().unwrap_or_default()
}

/// The texts (or captions) the bot sent to `chat`, in order. Messages to different
/// chats may leave in any order (the outbox sends to several chats at once): look at
/// one chat at a time.
pub fn texts_to(r: &Responses, chat: i64) -> Vec<String> {
    sent_to(r, chat)
        .iter()
        .map(|m| m.text().or(m.caption()).unwrap_or("").to_owned())
        .collect()
}

/// Messages the bot sent to `chat`.
pub fn sent_to(r: &Responses, chat: i64) -> Vec<Message> {
    r.sent_messages
        .iter()
        .filter(|m| m.chat.id.0 == chat)
        .cloned()
        .collect()
}

/// Callback data of a message's inline buttons, row by row.
pub fn buttons(m: &Message) -> Vec<Vec<String>> {
    m.reply_markup()
        .map(|k| {
            k.inline_keyboard
                .iter()
                .map(|row| {
                    row.iter()
                        .filter_map(|b| match &b.kind {
                            teloxide::types::InlineKeyboardButtonKind::CallbackData(d) => {
                                Some(d.clone())
                            }
                            _ => None,
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The text of the alert / toast the bot answered a button press with.
pub fn toast(r: &Responses) -> Option<(String, bool)> {
    r.answered_callback_queries.last().map(|a| {
        (
            a.text.clone().unwrap_or_default(),
            a.show_alert.unwrap_or(false),
        )
    })
}

/// The file ids of photos the bot sent to `chat` (the fake server gives the new message a
/// random file id, so the request is what tells which photo was sent).
pub fn photos_sent_to(r: &Responses, chat: i64) -> Vec<String> {
    let mut out: Vec<String> = r
        .sent_messages_photo
        .iter()
        .filter(|p| p.message.chat.id.0 == chat)
        .map(|p| p.bot_request.file_data.clone())
        .collect();
    for g in &r.sent_media_group {
        if g.messages.first().is_some_and(|m| m.chat.id.0 == chat) {
            out.extend(g.bot_request.media.iter().map(|m| format!("{m:?}")));
        }
    }
    out
}
