//! Runs the real `butler` binary against the Bot API emulator, with verbs for the people in
//! the story. Each test gets its own emulator (port 0), database and process, and runs
//! Butler on long polling ([`Story::start`]) or on a webhook the emulator posts to
//! ([`Story::start_in`] with [`Mode::Webhook`]). The database is a SQLite file, or with
//! `BUTLER_TEST_STORE=postgres` a PostgreSQL schema of its own
//! (`butler::store::testing::database_url`).

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use butler::store::Store;
use butler_emulator::{CallbackAnswer, EmulatorHandle, Message, State};

pub use crate::common::{GROUP, MANAGER, OWNER, STAFF, STAFF_CHAT, TOKEN};
use crate::common::{
    Process, butler_with_config, cast_config, emulator_with_cast, log_level, on_emulator, tail,
};
pub use crate::database::Database;

/// How long a step may take when nothing goes wrong (generous for a loaded CI machine).
pub const STEP: Duration = Duration::from_secs(15);

/// A short pause before a person replies or presses a button. Butler records a sent
/// message's id just after Telegram answers the send and looks again half a second later
/// when a reply beats the record; a quick person is still slower than this.
pub const REACTION: Duration = Duration::from_millis(50);

/// How Butler hears from the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `getUpdates` (the default).
    Polling,
    /// The emulator posts each update to Butler's webhook server, on a free port.
    Webhook,
}

/// How long after a kill -9 a request the dead process had already sent may still reach
/// the emulator (which runs on the test's thread): such a message was sent before the
/// kill, and may be sent again after it.
pub const IN_FLIGHT: Duration = Duration::from_millis(50);

/// The emulator's last `n` Bot API calls, a line each, for a failure's message.
pub fn last_calls(emu: &EmulatorHandle, n: usize) -> String {
    let calls = emu.calls();
    calls[calls.len().saturating_sub(n)..]
        .iter()
        .map(|c| {
            format!(
                "  {:>7.2}s {} {:?} → {} {}",
                c.at.as_secs_f64(),
                c.method,
                c.chat_id,
                c.status,
                c.description.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The secret token Butler runs with in webhook mode.
pub const WEBHOOK_SECRET: &str = "e2e-webhook-secret_0123456789";

/// A free port on 127.0.0.1: taken, noted and let go (Butler binds it a moment later).
pub fn free_address() -> std::net::SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address")
}

/// The `[telegram]` table of webhook mode: Telegram posts to `url`, Butler listens on
/// `listen`.
pub fn webhook_table(url: &str, listen: std::net::SocketAddr) -> String {
    format!(
        "\n[telegram]\nmode = \"webhook\"\nwebhook_url = \"{url}\"\nlisten = \"{listen}\"\nsecret_token = \"{WEBHOOK_SECRET}\"\n"
    )
}

impl Mode {
    /// The `[telegram]` table for this mode, and the address Butler will listen on.
    fn config(self) -> (String, Option<std::net::SocketAddr>) {
        match self {
            Mode::Polling => (String::new(), None),
            Mode::Webhook => {
                let addr = free_address();
                (
                    webhook_table(&format!("http://{addr}/telegram"), addr),
                    Some(addr),
                )
            }
        }
    }
}

/// A running `butler` process. Killed (SIGKILL) when dropped.
pub struct Butler {
    process: Process,
    config: PathBuf,
    /// Its database (`sqlite://…` or `postgres://…`), for tests that look at what was
    /// stored: see [`Story::database`] and [`Story::store`].
    pub database_url: String,
    /// Where its webhook server listens (webhook mode).
    pub webhook: Option<std::net::SocketAddr>,
    api_url: String,
    _dir: tempfile::TempDir,
}

/// A new database for a Butler in `dir`, and its butler.toml there (the cast's, with
/// `tweaks`): the config's path and the database's URL.
async fn configure(dir: &Path, tweaks: &str) -> (PathBuf, String) {
    let config = dir.join("butler.toml");
    let database_url = butler::store::testing::database_url(dir).await;
    std::fs::write(&config, cast_config(&database_url, tweaks)).expect("writing butler.toml");
    (config, database_url)
}

/// Starts the real binary against `emu`, hearing it in `mode`, with `tweaks` appended to
/// its butler.toml (keys or whole tables, e.g. "[sla]\ntake_minutes = 5").
pub async fn spawn_butler_in(emu: &EmulatorHandle, tweaks: &str, mode: Mode) -> Butler {
    let dir = crate::common::temp_dir();
    // After the tweaks: a table of its own, whatever table the tweaks ended in.
    let (telegram, webhook) = mode.config();
    let (config, database_url) = configure(dir.path(), &format!("{tweaks}{telegram}")).await;
    let api_url = emu.api_url().to_string();
    let process = launch(&config, &dir.path().join("stderr.log"), &api_url);
    Butler {
        process,
        config,
        database_url,
        webhook,
        api_url,
        _dir: dir,
    }
}

/// As [`spawn_butler_in`] on long polling, on a database that `butler seed-demo` filled first with `groups`
/// registered owner groups (chat ids -1_000_001 …), which the emulator gets too.
pub async fn spawn_butler_with_demo_groups(
    emu: &EmulatorHandle,
    tweaks: &str,
    groups: usize,
) -> Butler {
    for g in 1..=groups as i64 {
        emu.create_group(-1_000_000 - g, &format!("Demo Garden {g}"), &[])
            .expect("a demo group");
    }
    let dir = crate::common::temp_dir();
    let (config, database_url) = configure(dir.path(), tweaks).await;
    let seeded = butler_with_config(&config, dir.path())
        .args([
            "seed-demo",
            "--tickets",
            "1",
            "--groups",
            &groups.to_string(),
        ])
        .output()
        .expect("running seed-demo");
    assert!(
        seeded.status.success(),
        "seed-demo: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let api_url = emu.api_url().to_string();
    let process = launch(&config, &dir.path().join("stderr.log"), &api_url);
    Butler {
        process,
        config,
        database_url,
        webhook: None,
        api_url,
        _dir: dir,
    }
}

fn launch(config: &Path, stderr: &Path, api_url: &str) -> Process {
    let dir = config.parent().expect("the config has a directory");
    let mut command = butler_with_config(config, dir);
    on_emulator(&mut command, api_url);
    log_level(&mut command, "BUTLER_E2E_LOG", "info");
    Process::spawn(&mut command, stderr, false)
}

impl Butler {
    /// `kill -9`: no shutdown, nothing flushed, as a crash or a power cut.
    pub fn kill9(&mut self) {
        self.process.kill9();
    }

    /// Starts the binary again on the same configuration and database.
    pub fn restart(&mut self) {
        self.kill9();
        let log = self.process.log_path().to_owned();
        self.process = launch(&self.config, &log, &self.api_url);
    }

    /// What the process has logged so far.
    pub fn stderr(&self) -> String {
        self.process.log()
    }

    /// SIGTERM, as a service manager stops it, and wait for the exit (at most 20 s).
    pub async fn stop(&mut self) -> ExitStatus {
        self.process.stop().await
    }
}

/// The emulator, the process, and the verbs of the story.
pub struct Story {
    pub emu: EmulatorHandle,
    pub butler: Butler,
    /// Held while the story runs: a 2-core machine runs a few Butlers at once, not all.
    _turn: tokio::sync::SemaphorePermit<'static>,
}

/// How many stories (Butler processes) run at once.
static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(3);

/// A report as the owner sees it answered.
pub struct Report {
    pub message: Message,
    pub confirmation: Message,
    pub ticket: i64,
}

impl Story {
    /// The world, and Butler polling it.
    pub async fn start(tweaks: &str) -> Story {
        Self::start_with(tweaks, |_| {}).await
    }

    /// The world, and Butler hearing it in `mode`.
    pub async fn start_in(mode: Mode, tweaks: &str) -> Story {
        Self::start_with_in(mode, tweaks, |_| {}).await
    }

    /// [`Story::start`], with more of the world (people, chats) made by `prepare` before
    /// Butler starts.
    pub async fn start_with(tweaks: &str, prepare: impl FnOnce(&EmulatorHandle)) -> Story {
        Self::start_with_in(Mode::Polling, tweaks, prepare).await
    }

    /// [`Story::start_with`] in `mode`: ready once Butler polls, or once it set its webhook.
    pub async fn start_with_in(
        mode: Mode,
        tweaks: &str,
        prepare: impl FnOnce(&EmulatorHandle),
    ) -> Story {
        let turn = TURNS
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let emu = emulator_with_cast().await;
        prepare(&emu);
        let butler = spawn_butler_in(&emu, tweaks, mode).await;
        let story = Story {
            emu,
            butler,
            _turn: turn,
        };
        story.until_listening(mode).await;
        story
    }

    /// Waits until Butler hears updates: it polls, or it set its webhook.
    pub async fn until_listening(&self, mode: Mode) {
        match mode {
            Mode::Polling => {
                self.until("butler polls for updates", |s| {
                    (s.polls_started() > 0).then_some(())
                })
                .await
            }
            Mode::Webhook => {
                self.until("butler sets its webhook", |s| {
                    s.webhook()
                        .filter(|h| h.secret_token.as_deref() == Some(WEBHOOK_SECRET))
                        .map(|_| ())
                })
                .await
            }
        }
    }

    /// As [`Story::start`], Butler on a database with `groups` demo owner groups (see
    /// [`spawn_butler_with_demo_groups`]).
    pub async fn start_with_demo_groups(tweaks: &str, groups: usize) -> Story {
        let turn = TURNS
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let emu = emulator_with_cast().await;
        let butler = spawn_butler_with_demo_groups(&emu, tweaks, groups).await;
        let story = Story {
            emu,
            butler,
            _turn: turn,
        };
        story
            .until("butler polls for updates", |s| {
                (s.polls_started() > 0).then_some(())
            })
            .await;
        story
    }

    /// Butler's database, opened beside it (to count what it stored, or to make a fault
    /// on disk).
    pub async fn database(&self) -> Database {
        Database::open(&self.butler.database_url)
            .await
            .expect("opening Butler's database")
    }

    /// Butler's store, opened beside it on the same database: its reads, and its changes
    /// made as Butler makes them.
    pub async fn store(&self) -> Store {
        Store::open(&self.butler.database_url)
            .await
            .expect("opening Butler's store")
    }

    /// What `sql` counts in Butler's database now (see [`Database::count`]).
    pub async fn count(&self, sql: &str) -> i64 {
        let db = self.database().await;
        db.count(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Waits for `find` (at most [`STEP`]); on timeout fails with what was awaited, the
    /// chats, the last calls and Butler's log.
    pub async fn until<T>(&self, what: &str, find: impl FnMut(&State) -> Option<T>) -> T {
        self.until_within(what, STEP, find).await
    }

    pub async fn until_within<T>(
        &self,
        what: &str,
        timeout: Duration,
        find: impl FnMut(&State) -> Option<T>,
    ) -> T {
        match self.emu.wait_find(find, timeout).await {
            Ok(found) => found,
            Err(_) => panic!("waited {timeout:?} for: {what}\n{}", self.context()),
        }
    }

    /// What a person debugging a failure wants to see.
    pub fn context(&self) -> String {
        let chat = |id: i64| {
            self.emu
                .messages_in(id)
                .iter()
                .map(|m| {
                    format!(
                        "  [{}] {}{}: {}",
                        m.id,
                        m.from.first_name,
                        m.reply_to.map(|r| format!(" ↩{r}")).unwrap_or_default(),
                        match &m.service {
                            Some(service) => format!("({service:?})"),
                            None => m.body().replace('\n', " ⏎ ").chars().take(150).collect(),
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let calls = last_calls(&self.emu, 20);
        let deliveries = self.emu.deliveries();
        let deliveries = deliveries[deliveries.len().saturating_sub(10)..]
            .iter()
            .map(|d| {
                format!(
                    "  {:>7.2}s update {} → {:?} {}",
                    d.at.as_secs_f64(),
                    d.update_id,
                    d.status,
                    d.error.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "owner group:\n{}\nstaff chat:\n{}\nlast calls:\n{calls}\nlast webhook deliveries:\n{deliveries}\nbutler's log (tail):\n{}",
            chat(GROUP),
            chat(STAFF_CHAT),
            tail(&self.butler.stderr(), 40)
        )
    }

    /// The bot's latest message in `chat` replying to `to` whose text starts with `prefix`.
    pub fn bot_reply(s: &State, chat: i64, to: i32, prefix: &str) -> Option<Message> {
        s.replies_to(chat, to)
            .into_iter()
            .rev()
            .find(|m| m.is_from_bot() && m.body().starts_with(prefix))
    }

    /// A manager registers the owner group.
    pub async fn manager_registers_group(&self) {
        let m = self
            .emu
            .user_sends_text(GROUP, MANAGER, "/register Sunrise Garden", None)
            .unwrap();
        self.until("the group is registered", |s| {
            Self::bot_reply(s, GROUP, m.id, "This group is now registered")
        })
        .await;
    }

    /// The owner sends `/repair …`; returns the report once Butler confirmed it.
    pub async fn owner_reports(&self, text: &str) -> Report {
        let m = self
            .emu
            .user_sends_text(GROUP, OWNER, &format!("/repair {text}"), None)
            .unwrap();
        self.confirmed(m).await
    }

    /// The owner sends a photo captioned `/repair …`.
    pub async fn owner_reports_with_photo(&self, text: &str) -> Report {
        let m = self
            .emu
            .user_sends_photo(GROUP, OWNER, Some(&format!("/repair {text}")), None, None)
            .unwrap();
        self.confirmed(m).await
    }

    pub async fn confirmed(&self, message: Message) -> Report {
        let confirmation = self
            .until("the report is confirmed", |s| {
                Self::bot_reply(s, GROUP, message.id, "Received: ticket #")
            })
            .await;
        let ticket = confirmation.body()["Received: ticket #".len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a ticket number in the confirmation");
        Report {
            message,
            confirmation,
            ticket,
        }
    }

    /// The ticket's card in the staff chat, as shown now.
    pub async fn card(&self, ticket: i64) -> Message {
        let head = format!("🔧 #{ticket} ·");
        self.until(&format!("the card of #{ticket}"), |s| {
            s.bot_messages_in(STAFF_CHAT)
                .into_iter()
                .find(|m| m.body().starts_with(&head))
        })
        .await
    }

    /// `user` presses the button labelled `label` under message `id` in `chat` and waits
    /// for Butler's answer to the press.
    pub async fn presses(&self, chat: i64, id: i32, user: u64, label: &str) -> CallbackAnswer {
        tokio::time::sleep(REACTION).await;
        let query = self
            .emu
            .user_presses_label(chat, id, user, label)
            .unwrap_or_else(|e| panic!("pressing {label}: {e}\n{}", self.context()));
        self.until(&format!("the press of {label} is answered"), |s| {
            s.callback_answers()
                .iter()
                .find(|a| a.query_id == query)
                .cloned()
        })
        .await
    }

    pub async fn staff_presses(&self, card: i32, label: &str) -> CallbackAnswer {
        self.presses(STAFF_CHAT, card, STAFF, label).await
    }

    pub async fn owner_presses(&self, message: i32, label: &str) -> CallbackAnswer {
        self.presses(GROUP, message, OWNER, label).await
    }

    /// Staff reply to the card with a photo (progress); returns their message.
    pub async fn staff_replies_with_photo(&self, card: i32, caption: &str) -> Message {
        tokio::time::sleep(REACTION).await;
        self.emu
            .user_sends_photo(STAFF_CHAT, STAFF, Some(caption), Some(card), None)
            .unwrap()
    }

    /// `user` replies to message `to` in `chat` with `text`, having read it.
    pub async fn replies(&self, chat: i64, user: u64, to: i32, text: &str) -> Message {
        tokio::time::sleep(REACTION).await;
        self.emu
            .user_sends_text(chat, user, text, Some(to))
            .unwrap_or_else(|e| panic!("replying: {e}\n{}", self.context()))
    }

    /// Every call Butler made that Telegram refused with 400 (its own mistakes).
    pub fn bad_requests(&self) -> Vec<String> {
        self.emu
            .calls()
            .iter()
            .filter(|c| c.status == 400)
            .map(|c| format!("{} → {:?}", c.method, c.description))
            .collect()
    }
}

/// UTF-16 length, as Telegram counts.
pub fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The ticket number each of the bot's messages in `chat` starting with `prefix` names,
/// with the message it replies to (cards: none).
pub fn tickets_named(s: &State, chat: i64, prefix: &str) -> Vec<(Option<i32>, i64)> {
    s.bot_messages_in(chat)
        .iter()
        .filter(|m| m.body().starts_with(prefix))
        .filter_map(|m| {
            let n = m.body()[prefix.len()..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            Some((m.reply_to, n))
        })
        .collect()
}

/// Each (reply-to, ticket number) once.
pub fn distinct(named: Vec<(Option<i32>, i64)>) -> std::collections::BTreeSet<(Option<i32>, i64)> {
    named.into_iter().collect()
}

/// The ticket numbers the messages of `named` that answer message `report` name.
pub fn numbers_answering(named: &[(Option<i32>, i64)], report: i32) -> Vec<i64> {
    named
        .iter()
        .filter(|(to, _)| *to == Some(report))
        .map(|(_, n)| *n)
        .collect()
}
