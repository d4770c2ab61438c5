//! One life of the sandbox, from start or reset to the next reset: the emulator, Butler
//! running on it with the sandbox's clock and the cast. The emulator keeps the files
//! (the photos people attach, the charts and exports Butler sends), within
//! [`FILE_MEMORY`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use teloxide::Bot;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::app::AppRef;
use crate::clock::Clock;
use crate::config::Settings;
use crate::i18n::{Locale, t};
use butler_emulator::{Emulator, EmulatorHandle, Event, Options, User};

/// The owner group: the two owners and the manager.
pub const GROUP: i64 = -100_111;
/// The staff chat: the two staff members and the manager.
pub const STAFF_CHAT: i64 = -100_999;
/// The Engineering chat, routed plumbing, electrical and lifts: the plumber and the
/// manager.
pub const ENGINEERING: i64 = -100_888;
/// The manager's private chat with the bot (a private chat's id is the person's).
pub const MANAGER_CHAT: i64 = MANAGER as i64;

pub const OWNER_1: u64 = 101;
pub const OWNER_2: u64 = 102;
pub const STAFF_1: u64 = 201;
pub const STAFF_2: u64 = 202;
/// The plumber, of the Engineering chat.
pub const STAFF_3: u64 = 203;
pub const MANAGER: u64 = 901;

/// The bytes of files the sandbox's emulator keeps (photos, charts, exports); past it the
/// oldest are forgotten, and the page shows a placeholder for them.
pub const FILE_MEMORY: usize = 128 * 1024 * 1024;

/// How long a seeding step may wait for Butler's answer.
const STEP: Duration = Duration::from_secs(20);

/// What a person in the sandbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Staff,
    Manager,
}

/// Someone the page lets you act as.
#[derive(Debug, Clone)]
pub struct Persona {
    pub id: u64,
    /// The locale key of the name.
    pub name_key: &'static str,
    pub role: Role,
    /// An owner's unit, set with `/unit` while seeding.
    pub unit: Option<&'static str>,
}

pub const CAST: [Persona; 6] = [
    Persona {
        id: OWNER_1,
        name_key: "sandbox.owner_1",
        role: Role::Owner,
        unit: Some("3-1201"),
    },
    Persona {
        id: OWNER_2,
        name_key: "sandbox.owner_2",
        role: Role::Owner,
        unit: Some("5-0802"),
    },
    Persona {
        id: STAFF_1,
        name_key: "sandbox.staff_1",
        role: Role::Staff,
        unit: None,
    },
    Persona {
        id: STAFF_2,
        name_key: "sandbox.staff_2",
        role: Role::Staff,
        unit: None,
    },
    Persona {
        id: STAFF_3,
        name_key: "sandbox.staff_3",
        role: Role::Staff,
        unit: None,
    },
    Persona {
        id: MANAGER,
        name_key: "sandbox.manager",
        role: Role::Manager,
        unit: None,
    },
];

/// Telegram's `language_code` for a person whose app is in `lang`.
pub fn telegram_language(lang: Locale) -> &'static str {
    match lang {
        Locale::ZhCn => "zh-hans",
        Locale::En => "en",
    }
}

/// The sandbox's time: real time flowing from a point that the page can move forward.
/// Butler reads it through a fixed [`Clock`] that a ticker keeps up to date.
pub struct SandboxTime {
    clock: Clock,
    /// A sandbox time, and the instant it was that time.
    base: Mutex<(DateTime<Utc>, Instant)>,
}

impl SandboxTime {
    fn new(start: DateTime<Utc>) -> Self {
        Self {
            clock: Clock::fixed(start),
            base: Mutex::new((start, Instant::now())),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let (base, since) = *self.base.lock().unwrap_or_else(PoisonError::into_inner);
        base + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
    }

    /// Brings the clock Butler reads up to date.
    fn tick(&self) {
        let base = self.base.lock().unwrap_or_else(PoisonError::into_inner);
        let now = base.0 + chrono::Duration::from_std(base.1.elapsed()).unwrap_or_default();
        self.clock.set(now);
    }

    /// Moves time to `to` and goes on from there.
    pub fn jump(&self, to: DateTime<Utc>) {
        let mut base = self.base.lock().unwrap_or_else(PoisonError::into_inner);
        *base = (to, Instant::now());
        self.clock.set(to);
    }
}

/// Butler running on the emulator, and how to stop it.
struct Running {
    app: AppRef,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Everything of one sandbox life. Shared by the page's requests; a reset replaces it.
pub struct World {
    pub emu: EmulatorHandle,
    pub time: SandboxTime,
    /// When (in sandbox time, Unix ms) each message appeared, by chat and id.
    pub stamps: Mutex<HashMap<(i64, i32), i64>>,
    /// Butler's settings; the default language follows the page's language switch.
    settings: Mutex<Settings>,
    /// Held while Butler starts, stops or restarts.
    butler: tokio::sync::Mutex<Option<Running>>,
    /// The ticker and the event relay; aborted when the world stops.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The web console on the running Butler, served on the page's port.
    console: Mutex<Option<Arc<crate::console::Console>>>,
}

impl World {
    /// A fresh world: a new database at `database` (any old one is removed), the emulator
    /// with the cast and their chats, and Butler polling it. `relay` receives every chat
    /// event as the emulator reports it. Not seeded yet: see [`World::seed`].
    pub async fn start(
        base: &Settings,
        database: &Path,
        lang: Locale,
        relay: impl Fn(&World, Event) + Send + Sync + 'static,
    ) -> anyhow::Result<Arc<World>> {
        remove_database(database)?;
        let mut settings = base.clone();
        settings.database_url = format!("sqlite://{}", database.display());
        let store = crate::store::Store::open(&settings.database_url).await?;
        store.mark_as_sandbox().await?;
        store.close().await;
        settings.staff_chat_id = STAFF_CHAT;
        settings.routes = vec![engineering_route(lang)];
        settings.managers = vec![MANAGER];
        // The console is on the sandbox's own port (`/console/`), not on one of its own.
        settings.console.listen = String::new();
        settings.default_locale = lang;

        let emu = cast_emulator(lang).await?;
        let events = emu.subscribe();
        let world = Arc::new(World {
            emu,
            time: SandboxTime::new(Utc::now()),
            stamps: Default::default(),
            settings: Mutex::new(settings),
            butler: tokio::sync::Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
            console: Mutex::new(None),
        });

        let ticker = spawn_ticker(&world);
        let relay_task = spawn_relay(&world, events, relay);
        lock(&world.tasks).extend([ticker, relay_task]);
        let mut butler = world.butler.lock().await;
        *butler = Some(world.start_butler().await?);
        drop(butler);
        Ok(world)
    }

    pub fn lang(&self) -> Locale {
        lock(&self.settings).default_locale
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// The console on the Butler running now.
    pub fn console(&self) -> Option<Arc<crate::console::Console>> {
        lock(&self.console).clone()
    }

    /// Starts Butler on the emulator with this world's settings and clock, and waits
    /// until it polls for updates.
    async fn start_butler(&self) -> anyhow::Result<Running> {
        let app = crate::build_app(self.settings(), self.time.clock.clone()).await?;
        let api_url = self.emu.api_url().parse().context("the emulator's URL")?;
        let bot = Bot::new("7000000001:SANDBOX").set_api_url(api_url);
        *lock(&self.console) = Some(crate::console::Console::new(app.clone(), bot.clone()));
        let (stop, mut stopped) = watch::channel(false);
        let polls_before = self.emu.read(|s| s.polls_started());
        let task = tokio::spawn(crate::run_with(app.clone(), bot, async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let running = Running { app, stop, task };
        let started = self
            .emu
            .wait_for(|s| s.polls_started() > polls_before, STEP)
            .await;
        if started.is_err() {
            let failed = stop_butler(running).await.err();
            return Err(failed.unwrap_or_else(|| anyhow::anyhow!("Butler did not start polling")));
        }
        Ok(running)
    }

    /// Stops everything; the database file stays until the next start.
    pub async fn stop(&self) {
        if let Some(running) = self.butler.lock().await.take()
            && let Err(e) = stop_butler(running).await
        {
            tracing::warn!(error = %e, "stopping Butler in the sandbox");
        }
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        self.emu.shutdown().await;
    }

    /// The scene Butler needs, set through Butler itself: the manager registers the group
    /// and says hello privately, the owners set their units. Each step waits for Butler's
    /// answer, as a person would.
    pub async fn seed(&self) -> anyhow::Result<()> {
        let emu = &self.emu;
        let estate = t(self.lang(), "sandbox.estate", &[]);
        say(emu, GROUP, MANAGER, &format!("/register {estate}")).await?;
        for p in CAST {
            if let Some(unit) = p.unit {
                say(emu, GROUP, p.id, &format!("/unit {unit}")).await?;
            }
        }
        say(emu, MANAGER_CHAT, MANAGER, "/start").await
    }

    /// Everyone's Telegram app switches to `lang`, the staff chat follows (Butler restarts
    /// with it as the default language), and the owner group's language is set as a
    /// manager's `/lang` sets it, without a message in the group: the page's switch is
    /// not something a person says there.
    pub async fn switch_language(&self, lang: Locale) -> anyhow::Result<()> {
        for p in CAST {
            let mut user = self
                .emu
                .read(|s| s.user(p.id).cloned())
                .with_context(|| format!("persona {} is missing", p.id))?;
            user.language_code = Some(telegram_language(lang).to_owned());
            self.emu.add_user(user);
        }
        {
            let mut settings = lock(&self.settings);
            settings.default_locale = lang;
            settings.routes = vec![engineering_route(lang)];
        }
        let mut butler = self.butler.lock().await;
        if let Some(running) = butler.take() {
            stop_butler(running).await?;
        }
        let running = self.start_butler().await?;
        let store = running.app.store.clone();
        *butler = Some(running);
        drop(butler);
        let mut tx = store.begin().await?;
        tx.set_group_locale(GROUP, lang.code()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves time to `to` and has the scheduler look at once.
    pub async fn jump(&self, to: DateTime<Utc>) {
        self.time.jump(to);
        if let Some(running) = &*self.butler.lock().await {
            running.app.scheduler_wake.notify_one();
        }
    }
}

/// Stops Butler and waits for it; its error, if it failed.
async fn stop_butler(running: Running) -> anyhow::Result<()> {
    let _ = running.stop.send(true);
    match tokio::time::timeout(Duration::from_secs(20), running.task).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(anyhow::anyhow!("Butler stopped with a panic: {panic}")),
        Err(_) => Err(anyhow::anyhow!("Butler did not stop within 20 s")),
    }
}

/// `user` sends `text` in `chat` and waits for Butler's answer under it.
async fn say(emu: &EmulatorHandle, chat: i64, user: u64, text: &str) -> anyhow::Result<()> {
    let sent = emu.user_sends_text(chat, user, text, None)?;
    emu.wait_for(
        |s| s.replies_to(chat, sent.id).iter().any(|m| m.is_from_bot()),
        STEP,
    )
    .await
    .with_context(|| format!("Butler did not answer {text:?} in chat {chat}"))
}

/// What the first 100 bytes of a file say about it, for `--db`.
#[derive(Debug, PartialEq, Eq)]
enum DatabaseFile {
    /// No file, or an empty one: nothing to lose.
    Absent,
    /// A SQLite database the sandbox made (its `application_id`).
    Sandbox,
    /// Anything else: Butler's own database, another program's, a document.
    Other,
}

fn database_file(path: &Path) -> anyhow::Result<DatabaseFile> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DatabaseFile::Absent),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut header = Vec::with_capacity(100);
    file.by_ref()
        .take(100)
        .read_to_end(&mut header)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(classify_header(&header))
}

/// SQLite's header: the magic string, and the `application_id` at offset 68.
fn classify_header(header: &[u8]) -> DatabaseFile {
    if header.is_empty() {
        return DatabaseFile::Absent;
    }
    let id = header.get(68..72).map(|b| [b[0], b[1], b[2], b[3]]);
    match id {
        Some(id)
            if header.starts_with(b"SQLite format 3\0")
                && u32::from_be_bytes(id) == crate::store::SANDBOX_APPLICATION_ID =>
        {
            DatabaseFile::Sandbox
        }
        _ => DatabaseFile::Other,
    }
}

/// Removes the sandbox database and SQLite's files beside it; refuses a file the sandbox
/// did not make.
fn remove_database(path: &Path) -> anyhow::Result<()> {
    if database_file(path)? == DatabaseFile::Other {
        anyhow::bail!(
            "{} is not a sandbox database, and the sandbox replaces its database at every \
             start: choose another file with --db (or remove this one yourself)",
            path.display()
        );
    }
    let with = |suffix: &str| -> PathBuf {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    for file in [
        path.to_owned(),
        with("-wal"),
        with("-shm"),
        with("-journal"),
    ] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("removing the old {}", file.display()));
            }
        }
    }
    Ok(())
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sandbox's one route: plumbing, electrical and lifts to the Engineering chat, named
/// in `lang` (the name refusals and moved cards use).
fn engineering_route(lang: Locale) -> crate::config::Route {
    use crate::domain::Category;
    crate::config::Route {
        name: t(lang, "sandbox.engineering_route", &[]),
        staff_chat_id: ENGINEERING,
        categories: vec![Category::Plumbing, Category::Electrical, Category::Lift],
    }
}

/// The emulator with the sandbox's cast and their chats, named in `lang`.
async fn cast_emulator(lang: Locale) -> anyhow::Result<EmulatorHandle> {
    let emu = Emulator::start_with(
        "127.0.0.1:0".parse().expect("a socket address"),
        Options {
            bot_username: "butler_sandbox_bot".into(),
            file_memory: FILE_MEMORY,
            ..Options::default()
        },
    )
    .await?;
    // Butler's outbox keeps Telegram's limits itself (`[delivery] rate_limits`, on by
    // default), with the short bursts Telegram tolerates; the emulator's own limiter
    // is stricter (one a second, no burst) and would answer 429 to those bursts.
    for p in CAST {
        emu.add_user(User::new(p.id, t(lang, p.name_key, &[])).language(telegram_language(lang)));
    }
    emu.create_group(
        GROUP,
        &t(lang, "sandbox.group_title", &[]),
        &[OWNER_1, OWNER_2, MANAGER],
    )?;
    emu.create_group(
        STAFF_CHAT,
        &t(lang, "sandbox.staff_title", &[]),
        &[STAFF_1, STAFF_2, MANAGER],
    )?;
    emu.create_group(
        ENGINEERING,
        &t(lang, "sandbox.engineering_title", &[]),
        &[STAFF_3, MANAGER],
    )?;
    // As an operator is told to: Butler hears who joins and leaves the staff chats.
    emu.make_bot_admin(STAFF_CHAT)?;
    emu.make_bot_admin(ENGINEERING)?;
    emu.create_private_chat(MANAGER)?;
    Ok(emu)
}

/// Moves the sandbox's clock on every half second, while the world lives.
fn spawn_ticker(world: &Arc<World>) -> JoinHandle<()> {
    let world = Arc::downgrade(world);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        loop {
            every.tick().await;
            let Some(world) = world.upgrade() else { break };
            world.time.tick();
        }
    })
}

/// Stamps each chat event with the sandbox time and hands it to `relay`.
fn spawn_relay(
    world: &Arc<World>,
    mut events: broadcast::Receiver<Event>,
    relay: impl Fn(&World, Event) + Send + Sync + 'static,
) -> JoinHandle<()> {
    let world = Arc::downgrade(world);
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(world) = world.upgrade() else { break };
            if let Event::Message(m) = &event {
                let at = world.time.now().timestamp_millis();
                lock(&world.stamps).insert((m.chat_id, m.id), at);
            }
            relay(&world, event);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: u32) -> Vec<u8> {
        let mut h = b"SQLite format 3\0".to_vec();
        h.resize(100, 0);
        h[68..72].copy_from_slice(&id.to_be_bytes());
        h
    }

    #[test]
    fn only_a_database_the_sandbox_stamped_counts_as_its_own() {
        let ours = crate::store::SANDBOX_APPLICATION_ID;
        assert_eq!(classify_header(&header(ours)), DatabaseFile::Sandbox);
        assert_eq!(classify_header(&header(0)), DatabaseFile::Other);
        assert_eq!(classify_header(b""), DatabaseFile::Absent);
        assert_eq!(
            classify_header(b"my thesis, final version"),
            DatabaseFile::Other
        );
        let mut not_sqlite = header(ours);
        not_sqlite[0] = b'X';
        assert_eq!(classify_header(&not_sqlite), DatabaseFile::Other);
    }

    #[tokio::test]
    async fn remove_database_keeps_a_file_that_is_not_the_sandboxs_and_removes_one_that_is() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.db");
        std::fs::write(&precious, "not a sandbox").unwrap();
        let err = remove_database(&precious).unwrap_err().to_string();
        assert!(err.contains("is not a sandbox database"), "{err}");
        assert!(precious.exists());

        let other = dir.path().join("other.db");
        let url = format!("sqlite://{}", other.display());
        crate::store::Store::open(&url).await.unwrap().close().await;
        assert!(
            remove_database(&other).is_err(),
            "an unmarked Butler database"
        );
        assert!(other.exists());

        let sandbox = dir.path().join("sandbox.db");
        let url = format!("sqlite://{}", sandbox.display());
        let store = crate::store::Store::open(&url).await.unwrap();
        store.mark_as_sandbox().await.unwrap();
        store.close().await;
        assert_eq!(database_file(&sandbox).unwrap(), DatabaseFile::Sandbox);
        remove_database(&sandbox).unwrap();
        assert!(!sandbox.exists());
        remove_database(&sandbox).unwrap(); // absent is fine
    }
}
