//! Butler: a Telegram bot for residential property management.
//!
//! # Layout
//!
//! In layers, each using only those above it in this list (`ARCHITECTURE.md` says what
//! each may use, and follows an update, a message and a scheduled job through them):
//!
//! - [`clock`]: time as an argument. [`domain`]: tickets, scores, units, locales, event
//!   kinds, callback data and their rules; no Telegram, no SQL. [`i18n`]: every
//!   user-facing string, from `locales/`. [`limiter`]: how often the same answer may go
//!   to the same person (in memory, bounded).
//! - [`config`]: the TOML settings, parsed into typed values at start.
//! - [`store`]: all SQL (SQLite, migrated on start), one file per table group.
//! - [`outbox`]: the one sending path: the message model, delivery per chat, Telegram's
//!   answers, the pacer.
//! - [`messages`]: the messages several layers build (staff card, word to the owner,
//!   rating question, follow-up card) and the texts they carry.
//! - [`tickets`]: the ticket use cases (report, details, take, progress, done, reopen,
//!   rating, follow-ups): the rule, the state change, its events and messages in one
//!   transaction. Chat, jobs and the console call the same functions.
//! - [`figures`]: satisfaction figures for managers: `/stats` text, chart, export, monthly report.
//! - [`app`]: [`app::App`], the context every handler and job gets. [`leader`]: which of
//!   several instances on one PostgreSQL database leads (runs the outbox sender, the
//!   scheduler and the poller); on SQLite the one instance does.
//! - Adapters: [`chat`] (the handler tree, one module per audience, the command table),
//!   [`console`] (the web console: board, a ticket's story and actions, figures, exports),
//!   [`jobs`] (the scheduler: morning greeting, daily summary, monthly report, SLA watch,
//!   rating reminders), [`inbox`] (updates stored before their offset is confirmed, or
//!   before a webhook delivery is answered), [`sandbox`] (`butler sandbox`, a local web
//!   page that plays the owner group, the staff chat and a manager against the Bot API
//!   emulator: Butler without Telegram).
//! - The shell: [`cli`] (the command line, parsed once with clap), [`telemetry`] (tracing
//!   set-up), and [`run`] here.
//!
//! The Bot API emulator, with a driver API for end-to-end tests, the benchmark and the
//! sandbox, is a crate of its own in this workspace: [`butler_emulator`]
//! (`crates/emulator`).

pub mod app;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod figures;
pub mod i18n;
pub mod inbox;
pub mod jobs;
pub mod leader;
pub mod limiter;
pub mod messages;
pub mod outbox;
pub mod sandbox;
pub mod store;
pub mod telemetry;
pub mod tickets;

use std::future::Future;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};

use crate::app::{App, AppRef};
use crate::chat::command_table::{self, Menu};
use crate::clock::Clock;
use crate::config::Settings;
use crate::i18n::{Locale, t};
use crate::leader::Leadership;
use crate::store::Store;

/// How long handlers in hand may take to finish after a stop signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the database and builds what handlers need.
pub async fn build_app(settings: Settings, clock: Clock) -> anyhow::Result<AppRef> {
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the database {}", settings.database_url))?;
    Ok(App::new(store, settings, clock))
}

/// Whether the bot `me` is an administrator of each staff chat (the main one first, then
/// each route's): only there does Telegram send `chat_member` updates, by which Butler
/// hears at once that someone left.
pub async fn staff_chats_admin(
    bot: &Bot,
    settings: &Settings,
    me: teloxide::types::UserId,
) -> Vec<(i64, Result<bool, teloxide::RequestError>)> {
    let mut out = Vec::new();
    for chat in settings.staff_chats() {
        let member = bot.get_chat_member(teloxide::types::ChatId(chat), me).await;
        out.push((chat, member.map(|m| m.kind.is_privileged())));
    }
    out
}

/// Says at start-up when complaints and suggestions have nowhere to go: no
/// `complaints_chat_id`, and no manager has started a private chat with the bot (Telegram
/// lets a bot write only to people who did). They are kept and acknowledged, and reach a
/// manager only from the next one on after a manager starts the bot.
async fn warn_if_complaints_have_nowhere(app: &App) {
    if app.settings.complaints_chat_id != 0 {
        return;
    }
    let reachable = async {
        let mut tx = app.store.begin().await?;
        tx.private_chats(&app.settings.managers).await
    };
    match reachable.await {
        Ok(found) if found.is_empty() => tracing::warn!(
            "complaints and suggestions have nowhere to go: set complaints_chat_id, or have a \
             manager send /start to the bot privately (they never go to the staff chat)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot check where complaints go"),
    }
}

/// How a staff chat is named in the operator's messages: "the staff chat -100…", or
/// "the staff chat -100… (Engineering)" for a route's.
pub fn staff_chat_label(settings: &Settings, chat: i64) -> String {
    match settings.staff_chat_name(chat) {
        Some(name) => format!("the staff chat {chat} ({name})"),
        None => format!("the staff chat {chat}"),
    }
}

/// Says at start-up of each staff chat the bot is not an administrator of.
async fn warn_unless_staff_admin(bot: &Bot, settings: &Settings, me: teloxide::types::UserId) {
    for (chat, answer) in staff_chats_admin(bot, settings, me).await {
        let which = staff_chat_label(settings, chat);
        match answer {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                staff_chat = chat,
                "Butler is not an administrator of {which}: Telegram does not tell it when \
                 members leave, so someone who left counts as staff for up to a minute; make \
                 the bot an administrator"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot check Butler's place in {which}"),
        }
    }
}

/// Runs the bot until `shutdown` completes: the dispatcher (on long polling or a webhook),
/// the outbox worker and the scheduler, stopped together. With several instances on one
/// PostgreSQL database, the worker, the scheduler and the poller run in the leader only
/// (see [`leader`]).
pub async fn run(
    settings: Settings,
    bot: Bot,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = build_app(settings, Clock::system()).await?;
    run_with(app, bot, shutdown).await
}

/// [`run`] on an app the caller built (see [`build_app`]): its own clock, and a handle the
/// caller keeps, e.g. to wake the scheduler after moving the clock. The sandbox runs
/// Butler this way.
pub async fn run_with(
    app: AppRef,
    bot: Bot,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    app.outbox.set_pacing(app.settings.delivery.rate_limits);
    let me = bot
        .get_me()
        .await
        .context("getMe failed: is TELOXIDE_TOKEN right and the Bot API reachable?")?;
    tracing::info!(bot = %me.username(), "connected to the Bot API");
    warn_unless_staff_admin(&bot, &app.settings, me.id).await;
    warn_if_complaints_have_nowhere(&app).await;
    if let Err(e) = publish_commands(&bot, &app).await {
        tracing::warn!(error = %e, "setMyCommands failed; command menus may be stale");
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (leadership, election) = leader::elect(&app.store, &leader::instance_id());
    let duties = tokio::spawn(lead(
        app.clone(),
        bot.clone(),
        leadership.clone(),
        stop_rx.clone(),
    ));

    start_console(&app, &bot, stop_rx.clone());
    let dispatcher = Dispatcher::builder(bot.clone(), inbox::track(chat::handler_tree()))
        .dependencies(dptree::deps![app.clone()])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text(
            "handling an update failed",
        ))
        .build();
    let token = dispatcher.shutdown_token();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new updates, finishing those in hand");
        let _ = stop_tx.send(true);
        // Fails while the dispatcher is still starting: try again shortly.
        for _ in 0..100 {
            match token.shutdown() {
                Ok(done) => return done.await,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    });
    hear_updates(&app, &bot, dispatcher, leadership, stop_rx).await?;
    let _ = duties.await;
    // The lock goes once the leader's tasks are done: a standby takes over from here.
    election.resign().await;
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Hears updates until the stop: long polling through the inbox, or the webhook server
/// (`[telegram] mode`), both feeding `dispatcher`.
async fn hear_updates(
    app: &AppRef,
    bot: &Bot,
    mut dispatcher: Dispatcher<Bot, app::BotError, teloxide::dispatching::DefaultKey>,
    leadership: Leadership,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let on_error = LoggingErrorHandler::with_custom_text("getting updates failed");
    let mut server = None;
    let dispatching: std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> =
        match app.settings.telegram.webhook() {
            Some((url, secret)) => {
                let mut rx = stopping.clone();
                let stop = async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                let at = (app.settings.telegram.listen, url, secret);
                let (listener, task) =
                    inbox::webhook::serve(bot.clone(), app.store.clone(), leadership, at, stop)
                        .await?;
                server = Some(task);
                Box::pin(dispatcher.dispatch_with_listener(listener, on_error))
            }
            None => {
                // Long polling and a webhook exclude each other.
                if let Err(e) = bot.delete_webhook().await {
                    tracing::warn!(error = %e, "deleteWebhook failed");
                }
                let listener =
                    inbox::InboxListener::new(bot.clone(), app.store.clone(), leadership).await?;
                Box::pin(dispatcher.dispatch_with_listener(listener, on_error))
            }
        };
    // Stopping is bounded: updates still in hand after the grace period stay unhandled in
    // the inbox and are handled on the next start, so a service manager's 10 s are kept.
    tokio::select! {
        _ = dispatching => {}
        _ = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("updates still in hand after the grace period; they are handled on the next start"),
    }
    if let Some(server) = server {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), server).await;
    }
    Ok(())
}

/// Runs the leader's tasks (the outbox worker, the scheduler and, on PostgreSQL, the
/// wake-ups from other instances) while this instance leads, until the stop. When the
/// lead is lost they stop at once (a message in flight may then go out again from the
/// new leader, as after a crash); at the stop they end as they always did (the worker's
/// last bounded drain). Meanwhile a standby passes its outbox's wakes on to the leader.
async fn lead(
    app: AppRef,
    bot: Bot,
    mut leadership: Leadership,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let relays = !leadership.is_sole();
    loop {
        let term = tokio::select! {
            term = leadership.until_leading() => term,
            _ = stop.wait_for(|s| *s) => return,
            _ = app.outbox.relay_wakes(), if relays => return,
        };
        let tasks = LeaderTasks::start(&app, &bot, &stop);
        let stopping = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            _ = leadership.until_over(term) => false,
        };
        if stopping {
            return tasks.finish().await;
        }
        tasks.abort();
        tracing::warn!(
            instance = leadership.instance(),
            term,
            "standby: the outbox sender, the scheduler and the poller stopped here"
        );
    }
}

/// The leader's tasks in one term.
struct LeaderTasks {
    worker: tokio::task::JoinHandle<()>,
    scheduler: tokio::task::JoinHandle<()>,
    wakeups: Option<tokio::task::JoinHandle<()>>,
}

impl LeaderTasks {
    fn start(app: &AppRef, bot: &Bot, stop: &tokio::sync::watch::Receiver<bool>) -> Self {
        let stopped = || {
            let mut rx = stop.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let worker = tokio::spawn(app.outbox.clone().run(bot.clone(), stopped()));
        let scheduler = tokio::spawn(jobs::run_scheduler(app.clone(), stopped()));
        let wakeups = app.store.is_postgres().then(|| {
            let outbox = app.outbox.clone();
            tokio::spawn(async move { outbox.hear_wakes().await })
        });
        Self {
            worker,
            scheduler,
            wakeups,
        }
    }

    /// At the stop: the scheduler and the worker end by themselves (bounded).
    async fn finish(self) {
        if let Some(wakeups) = self.wakeups {
            wakeups.abort();
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.scheduler).await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.worker).await;
    }

    /// The lead lost: all of it stops now (a turn in flight is dropped with the worker).
    fn abort(self) {
        self.worker.abort();
        self.scheduler.abort();
        if let Some(wakeups) = self.wakeups {
            wakeups.abort();
        }
    }
}

/// Serves the web console (when `[console] listen` is set) until `stop`. A console that
/// cannot start is logged: the bot goes on without it.
fn start_console(app: &AppRef, bot: &Bot, mut stop: tokio::sync::watch::Receiver<bool>) {
    if !app.settings.console.serves() {
        return;
    }
    let (app, bot) = (app.clone(), bot.clone());
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = console::serve(app, bot, stopped).await {
            tracing::error!(error = ?e, "the console is not running; the bot goes on without it");
        }
    });
}

/// `butler backup <path>`: a consistent copy of the database, also while the bot runs.
/// The database is only read: a missing one is an error, never created or migrated.
pub async fn backup(settings: &Settings, to: &std::path::Path) -> anyhow::Result<()> {
    if store::is_postgres_url(&settings.database_url) {
        anyhow::bail!(
            "backup: the database is PostgreSQL: back it up with pg_dump \
             (pg_dump -Fc -f butler.dump <database_url>; pg_restore reads it back), \
             see the README's \"Operating on PostgreSQL\""
        );
    }
    if to.exists() {
        anyhow::bail!("{} already exists; choose a new file name", to.display());
    }
    let Some(path) = settings.database_path() else {
        anyhow::bail!(
            "backup: the database {} is in memory: there is nothing to back up",
            settings.database_url
        );
    };
    if !path.exists() {
        anyhow::bail!(
            "backup: the database {} does not exist (set database_url or --config)",
            path.display()
        );
    }
    store::backup(&settings.database_url, to)
        .await
        .with_context(|| format!("writing the backup to {}", to.display()))
}

/// `butler migrate-to <postgres url>`: copies the configured SQLite database into the
/// empty PostgreSQL database at `to` (migrated first), telling `progress` of each table.
/// The SQLite database is only read: a missing one is an error, never created.
pub async fn migrate_to(
    settings: &Settings,
    to: &str,
    progress: impl FnMut(&store::Copied),
) -> anyhow::Result<store::CopyReport> {
    let from = &settings.database_url;
    if store::is_postgres_url(from) {
        anyhow::bail!(
            "migrate-to: database_url is PostgreSQL already ({}); migrate-to copies a SQLite \
             database (set database_url to it, or use --config)",
            cli::redacted(from)
        );
    }
    let Some(path) = settings.database_path() else {
        anyhow::bail!("migrate-to: the database {from} is in memory: there is nothing to copy");
    };
    if !path.exists() {
        anyhow::bail!(
            "migrate-to: the database {} does not exist (set database_url or --config)",
            path.display()
        );
    }
    let target = Store::open(to)
        .await
        .with_context(|| format!("migrate-to: opening {}", cli::redacted(to)))?;
    let copied = target.copy_from_sqlite(from, progress).await;
    target.close().await;
    copied.map_err(|e| anyhow::anyhow!("migrate-to: {e}"))
}

/// `butler seed-demo`: adds a year of demo tickets to the configured database.
pub async fn seed_demo(
    settings: &Settings,
    tickets: i64,
    groups: i64,
) -> anyhow::Result<store::Seeded> {
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the database {}", settings.database_url))?;
    let real = store.groups_not_seeded().await?;
    if real > 0 {
        store.close().await;
        anyhow::bail!(
            "seed-demo: the database {} holds {real} owner groups not made by seed-demo; \
             seed a new database instead (set database_url)",
            settings.database_url
        );
    }
    let seeded = store.seed_demo(tickets, groups, chrono::Utc::now()).await?;
    // The demo's deadlines: the flat `[sla]` ones (as the sweep read them before they
    // were kept on each ticket).
    let sla = &settings.sla;
    store
        .set_flat_dues(sla.take_minutes, sla.resolve_hours)
        .await?;
    store.close().await;
    Ok(seeded)
}

/// `butler forget-owner <user id>`: replaces what the database holds of that owner with
/// the placeholder in the default language (see `store::Forgotten`), in one transaction.
/// The database must exist; it is never created.
pub async fn forget_owner(settings: &Settings, user_id: u64) -> anyhow::Result<store::Forgotten> {
    if let Some(path) = settings.database_path()
        && !path.exists()
    {
        anyhow::bail!(
            "forget-owner: the database {} does not exist (set database_url or --config)",
            path.display()
        );
    }
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the database {}", settings.database_url))?;
    let placeholder = t(settings.default_locale, "forgotten.placeholder", &[]);
    let forgotten = store.forget_owner(user_id, &placeholder).await;
    store.close().await;
    Ok(forgotten?)
}

/// Publishes the command menus per chat kind (and for each staff chat: the main one and
/// every route's), in both languages.
pub async fn publish_commands(bot: &Bot, app: &App) -> Result<(), teloxide::RequestError> {
    let mut scopes = vec![
        (Menu::Private, BotCommandScope::AllPrivateChats),
        (Menu::Groups, BotCommandScope::AllGroupChats),
    ];
    for chat in app.settings.staff_chats() {
        let chat_id = Recipient::Id(ChatId(chat));
        scopes.push((Menu::StaffChat, BotCommandScope::Chat { chat_id }));
    }
    for (menu, scope) in scopes {
        let entries = command_table::menu(menu);
        for locale in Locale::ALL {
            let commands: Vec<BotCommand> = entries
                .iter()
                .map(|(name, about)| BotCommand::new(*name, t(locale, about, &[])))
                .collect();
            let mut req = bot.set_my_commands(commands).scope(scope.clone());
            if locale == Locale::ZhCn {
                req = req.language_code("zh");
            }
            req.await?;
        }
    }
    Ok(())
}
