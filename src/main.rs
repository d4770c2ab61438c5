//! `butler [--config PATH]` runs the bot; `butler check-config [--config PATH]` prints the
//! effective configuration (token masked) or the first problem; `butler export --from
//! DATE --to DATE [--format xlsx|csv] --out PATH` writes the figures of those days from
//! the database, offline.

use std::path::PathBuf;
use std::process::ExitCode;

use butler::config::Settings;
use teloxide::Bot;

const USAGE: &str = "usage: butler [--config PATH] [check-config | export --from YYYY-MM-DD --to YYYY-MM-DD [--format xlsx|csv] --out PATH]";

fn main() -> ExitCode {
    let mut config = PathBuf::from("butler.toml");
    let mut command: Option<String> = None;
    let mut export_args: Vec<String> = Vec::new();
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
            "check-config" | "run" | "export" if command.is_none() => command = Some(arg),
            _ if command.as_deref() == Some("export") => export_args.push(arg),
            other => return fail(&format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let settings = match Settings::load(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    if command.as_deref() == Some("export") {
        return export(&settings, &export_args);
    }
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let store = match butler::store::Store::open(&settings.database_url).await {
            Ok(s) => s,
            Err(e) => return fail(&format!("export: opening {}: {e}", settings.database_url)),
        };
        let written = export::write(&store, settings, period, request.format, &request.out).await;
        store.close().await;
        match written {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("export: {e}")),
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
