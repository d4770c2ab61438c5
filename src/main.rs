//! The `butler` binary: a thin shell that parses the command line once, reads the
//! configuration, and hands over to the library.
//!
//! - `butler [--config PATH] [run]`: the bot.
//! - `butler sandbox [--port N] [--db PATH] [--lang en|zh]`: Butler without Telegram, on a
//!   local web page that plays the owner group, the staff chat and a manager.
//! - `butler check-config`: the effective configuration (token masked), or the first problem.
//! - `butler backup FILE`: a consistent copy of the database, also while the bot runs.
//! - `butler export --from DATE --to DATE [--format xlsx|csv] --out PATH`: figures, offline.
//! - `butler seed-demo [--tickets N] [--groups N]`: a year of demo tickets.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use butler::config::Settings;
use teloxide::Bot;

const USAGE: &str = "usage: butler [--config PATH] [run | \
sandbox [--port N] [--db PATH] [--lang en|zh] | check-config | backup FILE | \
export --from YYYY-MM-DD --to YYYY-MM-DD [--format xlsx|csv] --out PATH | \
seed-demo [--tickets N] [--groups N]]";

/// What the command line asks for.
enum Command {
    Run,
    Sandbox(butler::sandbox::Options),
    CheckConfig,
    Backup(PathBuf),
    Export(Vec<String>),
    SeedDemo { tickets: i64, groups: i64 },
}

/// `--config PATH` and the command, or a one-line complaint.
fn parse_args(args: impl Iterator<Item = String>) -> Result<(PathBuf, Command), String> {
    let mut config = PathBuf::from("butler.toml");
    let mut command: Option<Command> = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match (arg.as_str(), &mut command) {
            ("--config" | "-c", _) => config = args.next().ok_or("--config needs a path")?.into(),
            ("-h" | "--help", _) => return Err(USAGE.to_owned()),
            ("run", None) => command = Some(Command::Run),
            ("sandbox", None) => command = Some(Command::Sandbox(Default::default())),
            ("--port", Some(Command::Sandbox(o))) => {
                o.port = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--port needs a port number (0 picks a free one)")?;
            }
            ("--db", Some(Command::Sandbox(o))) => {
                o.database = args.next().ok_or("--db needs a file path")?.into();
            }
            ("--lang", Some(Command::Sandbox(o))) => {
                let lang = args.next().ok_or("--lang needs en or zh")?;
                o.lang = Some(lang.parse()?);
            }
            ("check-config", None) => command = Some(Command::CheckConfig),
            ("backup", None) => {
                let to = args.next().ok_or(
                    "backup needs a file to write, e.g. butler backup butler-2026-11-24.db",
                )?;
                command = Some(Command::Backup(to.into()));
            }
            ("export", None) => command = Some(Command::Export(Vec::new())),
            ("seed-demo", None) => {
                command = Some(Command::SeedDemo {
                    tickets: 10_000,
                    groups: 50,
                })
            }
            ("--tickets" | "--groups", Some(Command::SeedDemo { tickets, groups })) => {
                let n = args
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{arg} needs a positive number"))?;
                *(if arg == "--tickets" { tickets } else { groups }) = n;
            }
            (_, Some(Command::Export(rest))) => rest.push(arg),
            (other, _) => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok((config, command.unwrap_or(Command::Run)))
}

fn main() -> ExitCode {
    let (config, command) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(usage) if usage == USAGE => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&e),
    };
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
                Ok(()) if token.is_some() => ExitCode::SUCCESS,
                Ok(()) => fail(NO_TOKEN),
                Err(e) => fail(&e.to_string()),
            }
        }
        Command::Backup(to) => block_on(async move {
            butler::backup(&settings, &to).await?;
            println!("backup written to {}", to.display());
            Ok(())
        }),
        Command::SeedDemo { tickets, groups } => block_on(async move {
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
        }),
        Command::Export(args) => export(&settings, &args),
        Command::Run => run(settings, token),
        Command::Sandbox(options) => sandbox(settings, options),
    }
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
    let mut bot = Bot::new(token);
    if let Ok(url) = std::env::var("TELOXIDE_API_URL") {
        match url.parse() {
            Ok(url) => bot = bot.set_api_url(url),
            Err(e) => return fail(&format!("TELOXIDE_API_URL {url:?} is not a URL: {e}")),
        }
    }
    block_on(butler::run(settings, bot, shutdown_signal()))
}

/// `butler export`: needs the database, not the token.
fn export(settings: &Settings, args: &[String]) -> ExitCode {
    use butler::figures::export::{self, ExportRequest};
    let request = match ExportRequest::parse(args) {
        Ok(r) => r,
        Err(e) => return fail(&format!("export: {e} (usage: {})", export::USAGE)),
    };
    let Some(period) = request.period(settings.timezone) else {
        return fail("export: the dates are out of range");
    };
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
