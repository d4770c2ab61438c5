//! `butler [--config PATH]` runs the bot; `butler check-config [--config PATH]` prints the
//! effective configuration (token masked) or the first problem.

use std::path::PathBuf;
use std::process::ExitCode;

use butler::config::Settings;
use teloxide::Bot;

const USAGE: &str = "usage: butler [--config PATH] [run | check-config | backup FILE | seed-demo [--tickets N] [--groups N]]";

fn main() -> ExitCode {
    let mut config = PathBuf::from("butler.toml");
    let mut command: Option<String> = None;
    let mut backup_to: Option<PathBuf> = None;
    let mut seed: Option<(i64, i64)> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => config = PathBuf::from(p),
                None => return fail("--config needs a path"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "check-config" | "run" if command.is_none() => command = Some(arg),
            "seed-demo" if command.is_none() => {
                seed = Some((10_000, 50));
                command = Some(arg);
            }
            "--tickets" | "--groups" if seed.is_some() => {
                let Some(n) = args
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n > 0)
                else {
                    return fail(&format!("{arg} needs a positive number"));
                };
                if let Some(s) = seed.as_mut() {
                    if arg == "--tickets" { s.0 = n } else { s.1 = n }
                }
            }
            "backup" if command.is_none() => match args.next() {
                Some(p) => {
                    backup_to = Some(PathBuf::from(p));
                    command = Some(arg);
                }
                None => {
                    return fail(
                        "backup needs a file to write, e.g. butler backup butler-2026-11-24.db",
                    );
                }
            },
            other => return fail(&format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let settings = match Settings::load(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    if command.as_deref() == Some("check-config") {
        print!("{}", settings.render_effective(token.as_deref()));
        return match settings.validate_for_run() {
            Ok(()) if token.is_some() => ExitCode::SUCCESS,
            Ok(()) => fail("TELOXIDE_TOKEN is not set (the bot token from @BotFather)"),
            Err(e) => fail(&e.to_string()),
        };
    }
    if let Some((tickets, groups)) = seed {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
        };
        let started = std::time::Instant::now();
        return match runtime.block_on(butler::seed_demo(&settings, tickets, groups)) {
            Ok(s) => {
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
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("{e:#}")),
        };
    }
    if let Some(to) = backup_to {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
        };
        return match runtime.block_on(butler::backup(&settings, &to)) {
            Ok(()) => {
                println!("backup written to {}", to.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("{e:#}")),
        };
    }
    let Some(token) = token else {
        return fail("TELOXIDE_TOKEN is not set (the bot token from @BotFather)");
    };
    if let Err(e) = settings.validate_for_run() {
        return fail(&e.to_string());
    }
    butler::telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        // Bot::from_env would read the same variables; this keeps the token checked above.
        let mut bot = Bot::new(token);
        if let Ok(url) = std::env::var("TELOXIDE_API_URL") {
            match url.parse() {
                Ok(url) => bot = bot.set_api_url(url),
                Err(e) => return fail(&format!("TELOXIDE_API_URL {url:?} is not a URL: {e}")),
            }
        }
        match butler::run(settings, bot, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("{e:#}")),
        }
    })
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
