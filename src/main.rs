//! The `butler` binary: a thin shell that parses the command line once ([`butler::cli`]),
//! reads the configuration, and hands over to the library.
//!
//! - `butler [--config PATH] [run]`: the bot.
//! - `butler sandbox [--port N] [--db PATH] [--lang en|zh]`: Butler without Telegram, on a
//!   local web page that plays the owner group, the staff chat and a manager.
//! - `butler check-config`: the effective configuration (token masked), or the first problem.
//! - `butler backup FILE`: a consistent copy of the database, also while the bot runs.
//! - `butler export --from DATE --to DATE [--format xlsx|csv] --out PATH`: figures, offline.
//! - `butler seed-demo [--tickets N] [--groups N]`: a year of demo tickets.
//! - `butler forget-owner USER_ID`: an owner's name and words replaced in every table.
//! - `butler migrate-to POSTGRES_URL`: the SQLite database copied into PostgreSQL.
//! - `butler --help`, `butler <command> --help`: what each one takes.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use butler::cli::{self, Command, Invocation, Stop};
use butler::config::Settings;
use butler::figures::export::ExportRequest;
use teloxide::Bot;
use teloxide::prelude::Requester;

fn main() -> ExitCode {
    let Invocation {
        config,
        config_given,
        command,
    } = match cli::parse(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(Stop::Show(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(Stop::Refuse(line)) => return fail(&line),
    };
    // A missing default butler.toml means all defaults; a file named with --config must
    // be there, or a cron job in the wrong directory would work on a new, empty database.
    if config_given && !config.exists() {
        return fail(&format!(
            "--config {}: no such file (without --config, ./{} is read if it is there)",
            config.display(),
            cli::DEFAULT_CONFIG
        ));
    }
    let settings = match Settings::load(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    match command {
        Command::CheckConfig => {
            print!("{}", settings.render_effective(token.as_deref()));
            match settings.validate_for_run() {
                Ok(()) if token.is_some() => {
                    let token = token.as_deref().unwrap_or_default();
                    println!("\n{}", staff_chat_check(&settings, token));
                    ExitCode::SUCCESS
                }
                Ok(()) => fail(NO_TOKEN),
                Err(e) => fail(&e.to_string()),
            }
        }
        Command::Backup(to) => block_on(async move {
            butler::backup(&settings, &to).await?;
            println!("backup written to {}", to.display());
            Ok(())
        }),
        Command::SeedDemo { tickets, groups } => seed_demo(settings, tickets, groups),
        Command::ForgetOwner(user_id) => forget_owner(settings, user_id),
        Command::MigrateTo(url) => migrate_to(settings, url),
        Command::Export(request) => export(&settings, request),
        Command::Run => run(settings, token),
        Command::Sandbox(options) => sandbox(settings, options),
    }
}

/// `butler seed-demo`: what was seeded, in one line.
fn seed_demo(settings: Settings, tickets: i64, groups: i64) -> ExitCode {
    block_on(async move {
        let started = std::time::Instant::now();
        let s = butler::seed_demo(&settings, tickets, groups).await?;
        println!(
            "seeded in {:.1} s: {} groups, {} owners, {} tickets, {} events, {} ratings in {}",
            started.elapsed().as_secs_f64(),
            s.groups,
            s.owners,
            s.tickets,
            s.events,
            s.ratings,
            settings.database_url
        );
        Ok(())
    })
}

/// `butler forget-owner`: what was changed, in one line.
fn forget_owner(settings: Settings, user_id: u64) -> ExitCode {
    block_on(async move {
        let f = butler::forget_owner(&settings, user_id).await?;
        if !f.owner {
            anyhow::bail!(
                "forget-owner: no owner {user_id} in {}; nothing changed",
                settings.database_url
            );
        }
        println!(
            "forgot owner {user_id}: name, {} ticket texts, {} events, {} rating comments, \
             {} photos anonymised; {} outbox messages, {} files, {} inbox updates, {} chat \
             rows deleted",
            f.tickets, f.events, f.ratings, f.photos, f.outbox, f.outbox_files, f.inbox, f.chats
        );
        Ok(())
    })
}

/// `butler migrate-to`: each table's rows on both sides as it is copied, then the total
/// and the rate.
fn migrate_to(settings: Settings, url: String) -> ExitCode {
    block_on(async move {
        println!(
            "migrate-to: copying {} into {}",
            settings.database_url,
            cli::redacted(&url)
        );
        let report = butler::migrate_to(&settings, &url, |t| {
            println!(
                "  {:<18} {:>9} rows in SQLite, {:>9} in PostgreSQL ({:.1} s)",
                t.table,
                t.sqlite,
                t.postgres,
                t.took.as_secs_f64()
            );
        })
        .await?;
        println!(
            "copied {} rows of {} tables in {:.1} s ({:.0} rows/s); every count matches. \
             Set database_url to the PostgreSQL URL and start butler.",
            report.rows(),
            report.tables.len(),
            report.took.as_secs_f64(),
            report.rate(),
        );
        Ok(())
    })
}

const NO_TOKEN: &str = "TELOXIDE_TOKEN is not set (the bot token from @BotFather). \
To try Butler without Telegram first, run `butler sandbox` and open the page it prints.";

/// `butler sandbox`: the page's address on stdout once it is ready, then serves until
/// Ctrl-C.
fn sandbox(settings: Settings, options: butler::sandbox::Options) -> ExitCode {
    butler::telemetry::init(settings.log_format);
    block_on(async move {
        let database = options.database.clone();
        let bound = butler::sandbox::Sandbox::bind(settings, options).await?;
        println!(
            "Butler sandbox: open {} in your browser (database {}; Ctrl-C stops it)",
            bound.url(),
            database.display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        bound.serve(shutdown_signal()).await
    })
}

fn run(settings: Settings, token: Option<String>) -> ExitCode {
    let Some(token) = token else {
        return fail(NO_TOKEN);
    };
    if let Err(e) = settings.validate_for_run() {
        return fail(&e.to_string());
    }
    butler::telemetry::init(settings.log_format);
    // Bot::from_env reads the same variables; this keeps the token checked above.
    let bot = match bot_for(&token) {
        Ok(bot) => bot,
        Err(e) => return fail(&e),
    };
    block_on(butler::run(settings, bot, shutdown_signal()))
}

/// `check-config` with a token: whether the bot is an administrator of each staff chat,
/// the routes' too (only then does Telegram tell it when members leave), a comment line
/// each. Asks the Bot API (`TELOXIDE_API_URL`, else Telegram) for at most 10 seconds;
/// unreachable, it says it could not check.
fn staff_chat_check(settings: &Settings, token: &str) -> String {
    let bot = match bot_for(token) {
        Ok(bot) => bot,
        Err(e) => return format!("# staff chat: could not check ({e})"),
    };
    let ask = async {
        let me = bot.get_me().await?;
        Ok::<_, teloxide::RequestError>(butler::staff_chats_admin(&bot, settings, me.id).await)
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let answer = runtime.map_err(|e| e.to_string()).and_then(|r| {
        // The timer is made inside the runtime.
        r.block_on(async { tokio::time::timeout(Duration::from_secs(10), ask).await })
            .map_err(|_| "no answer in 10 s".to_owned())
    });
    match answer {
        Ok(Ok(chats)) => chats
            .into_iter()
            .map(|(chat, answer)| admin_line(&butler::staff_chat_label(settings, chat), answer))
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(Err(e)) => format!("# staff chat: could not check ({e})"),
        Err(e) => format!("# staff chat: could not check ({e})"),
    }
}

/// One staff chat's line of `check-config`.
fn admin_line(which: &str, answer: Result<bool, teloxide::RequestError>) -> String {
    match answer {
        Ok(true) => format!("# {which}: Butler is an administrator (it sees members leave)"),
        Ok(false) => format!(
            "# {which}: Butler is NOT an administrator: it cannot see members leave (someone \
             who left counts as staff for up to a minute); make it an administrator"
        ),
        Err(e) => format!("# {which}: could not check ({e})"),
    }
}

/// The Bot API client for `token`, at `TELOXIDE_API_URL` when set.
fn bot_for(token: &str) -> Result<Bot, String> {
    let mut bot = Bot::new(token);
    if let Ok(url) = std::env::var("TELOXIDE_API_URL") {
        match url.parse() {
            Ok(url) => bot = bot.set_api_url(url),
            Err(e) => return Err(format!("TELOXIDE_API_URL {url:?} is not a URL: {e}")),
        }
    }
    Ok(bot)
}

/// `butler export`: needs the database, not the token.
fn export(settings: &Settings, request: ExportRequest) -> ExitCode {
    use butler::figures::export;
    let Some(period) = request.period(settings.timezone) else {
        return fail("export: the dates are out of range");
    };
    if !request.force
        && let Some(there) = export::existing_target(request.format, &request.out)
    {
        return fail(&format!(
            "export: {} already exists; choose another --out or add --force to overwrite it",
            there.display()
        ));
    }
    if let Some(path) = settings.database_path()
        && !path.exists()
    {
        return fail(&format!(
            "export: the database {} does not exist (set database_url or --config)",
            path.display()
        ));
    }
    block_on(async move {
        let store = butler::store::Store::open(&settings.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("export: opening {}: {e}", settings.database_url))?;
        let written = export::write(&store, settings, period, request.format, &request.out).await;
        store.close().await;
        for f in written.map_err(|e| anyhow::anyhow!("export: {e}"))? {
            println!("{}", f.display());
        }
        Ok(())
    })
}

/// Runs `work` on a fresh multi-threaded runtime; an error becomes one line on stderr.
fn block_on(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(line: &str) -> ExitCode {
    eprintln!("butler: {line}");
    ExitCode::FAILURE
}

/// Ctrl-C or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
