//! The command line: parsed once, by clap, into typed values.
//!
//! `butler [--config PATH] [run | sandbox … | check-config | backup FILE | export … |
//! seed-demo … | forget-owner USER_ID | migrate-to POSTGRES_URL]`; `butler --help` and `butler <command> --help` describe each one. A
//! mistake is refused in one line that says what is wrong and how the command is used.

use std::ffi::OsString;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use crate::figures::export::{ExportFormat, ExportRequest};
use crate::i18n::Locale;
use crate::sandbox;

/// What the command line asks for, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `--config PATH`, `butler.toml` by default.
    pub config: PathBuf,
    /// Whether `--config` was given: then the file must exist (a missing default
    /// `butler.toml` means all defaults).
    pub config_given: bool,
    pub command: Command,
}

/// The commands; `Run` when none is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run,
    Sandbox(sandbox::Options),
    CheckConfig,
    Backup(PathBuf),
    Export(ExportRequest),
    SeedDemo {
        tickets: i64,
        groups: i64,
    },
    ForgetOwner(u64),
    /// The PostgreSQL database to copy the configured SQLite one into.
    MigrateTo(String),
}

/// Why the command line was not turned into an [`Invocation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `--help` or `--version` was asked for: print this on stdout and succeed.
    Show(String),
    /// A mistake, in one line for stderr.
    Refuse(String),
}

/// Parses the whole command line (the program name first, as `std::env::args_os`).
pub fn parse<I, T>(args: I) -> Result<Invocation, Stop>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = Cli::try_parse_from(&args).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Stop::Show(e.to_string()),
        _ => Stop::Refuse(one_line(&e, &args)),
    })?;
    let command = match cli.command.unwrap_or(Sub::Run) {
        Sub::Run => Command::Run,
        Sub::Sandbox(a) => Command::Sandbox(sandbox::Options {
            port: a.port,
            database: a.db,
            lang: a.lang,
        }),
        Sub::CheckConfig => Command::CheckConfig,
        Sub::Backup { file } => Command::Backup(file),
        Sub::Export(a) => Command::Export(a.request().map_err(|e| {
            Stop::Refuse(format!("export: {e} (usage: {})", usage(Some("export"))))
        })?),
        Sub::SeedDemo(a) => Command::SeedDemo {
            tickets: a.tickets,
            groups: a.groups,
        },
        Sub::ForgetOwner { user_id } => Command::ForgetOwner(user_id),
        Sub::MigrateTo { url } => Command::MigrateTo(url),
    };
    Ok(Invocation {
        config_given: cli.config.is_some(),
        config: cli.config.unwrap_or_else(|| DEFAULT_CONFIG.into()),
        command,
    })
}

/// The words after `export`, parsed as `butler export …` is; the error is one line
/// without the usage.
pub fn export_request(words: &[String]) -> Result<ExportRequest, String> {
    let args = ["butler", "export"].map(String::from).into_iter();
    let cli = Cli::try_parse_from(args.chain(words.iter().cloned())).map_err(|e| problem(&e))?;
    match cli.command {
        Some(Sub::Export(a)) => a.request(),
        _ => unreachable!("parsed as `butler export`"),
    }
}

/// The configuration file read when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "butler.toml";

/// Butler: a Telegram bot for residential property management.
#[derive(Debug, Parser)]
#[command(name = "butler", version)]
struct Cli {
    /// The configuration file (see butler.example.toml); it must exist. Without this
    /// option, butler.toml in the current directory if it is there, else all defaults.
    #[arg(short, long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// The bot on Telegram (the default): needs TELOXIDE_TOKEN.
    Run,
    /// Butler without Telegram, on a local web page that plays the owner group, the
    /// staff chat and a manager.
    Sandbox(SandboxArgs),
    /// Prints the effective configuration (token masked), or the first problem.
    CheckConfig,
    /// Writes a consistent copy of the database, also while the bot runs.
    Backup {
        /// The new file, e.g. butler-2026-11-24.db; never overwritten.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Writes the figures of a period as an XLSX workbook or three CSV files, offline.
    Export(ExportArgs),
    /// Fills the configured database with a year of demo tickets.
    SeedDemo(SeedDemoArgs),
    /// Forgets an owner: their name and words become a placeholder in every table (the
    /// figures keep their counts) and their updates leave the inbox.
    ForgetOwner {
        /// The owner's Telegram user id.
        #[arg(value_name = "USER_ID", value_parser = user_id)]
        user_id: u64,
    },
    /// Copies every table of the configured SQLite database into an empty PostgreSQL
    /// database, checked by counts; then set database_url to it. Stop the bot first.
    MigrateTo {
        /// The PostgreSQL database, e.g. postgres://butler@db.example.com/butler.
        #[arg(value_name = "POSTGRES_URL", value_parser = postgres_url)]
        url: String,
    },
}

#[derive(Debug, Args)]
struct SandboxArgs {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, value_name = "N", default_value_t = 8088, value_parser = port)]
    port: u16,
    /// The sandbox's own SQLite file, replaced at each start and reset.
    #[arg(long, value_name = "PATH", default_value = sandbox::DEFAULT_DATABASE)]
    db: PathBuf,
    /// The language to start in (en or zh); else `default_locale`.
    #[arg(long, value_name = "en|zh")]
    lang: Option<Locale>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The first local day, included.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day("--from"))]
    from: NaiveDate,
    /// The last local day, included.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day("--to"))]
    to: NaiveDate,
    /// xlsx writes one file; csv writes tickets.csv, ratings.csv and staff.csv into a
    /// directory.
    #[arg(long, value_name = "xlsx|csv", default_value = "xlsx")]
    format: ExportFormat,
    /// The XLSX file, or for CSV the directory (created if missing).
    #[arg(short, long, value_name = "PATH")]
    out: PathBuf,
    /// Overwrite files already there (else an existing file is refused).
    #[arg(long)]
    force: bool,
}

impl ExportArgs {
    fn request(self) -> Result<ExportRequest, String> {
        if self.to < self.from {
            return Err(format!("--to {} is before --from {}", self.to, self.from));
        }
        Ok(ExportRequest {
            from: self.from,
            to: self.to,
            format: self.format,
            out: self.out,
            force: self.force,
        })
    }
}

#[derive(Debug, Args)]
struct SeedDemoArgs {
    /// How many tickets.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = positive("--tickets"))]
    tickets: i64,
    /// How many owner groups.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = positive("--groups"))]
    groups: i64,
}

fn user_id(s: &str) -> Result<u64, String> {
    s.parse()
        .ok()
        .filter(|n: &u64| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a Telegram user id (a positive number)"))
}

fn postgres_url(s: &str) -> Result<String, String> {
    if crate::config::is_postgres_url(s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{:?} is not a PostgreSQL URL (postgres://user@host/database)",
            redacted(s)
        ))
    }
}

/// A database URL with its password, if any, as `***`: for messages and logs.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split_once(':').map_or(user, |(name, _)| name);
            format!("{scheme}://{name}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}

fn port(s: &str) -> Result<u16, String> {
    s.parse()
        .map_err(|_| format!("--port {s:?} is not a port number (0 picks a free one)"))
}

fn day(flag: &'static str) -> impl Fn(&str) -> Result<NaiveDate, String> + Clone {
    move |s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("{flag} {s:?} is not a date like 2026-11-01"))
    }
}

fn positive(flag: &'static str) -> impl Fn(&str) -> Result<i64, String> + Clone {
    move |s| {
        s.parse()
            .ok()
            .filter(|n: &i64| *n > 0)
            .ok_or_else(|| format!("{flag} needs a positive number"))
    }
}

/// A clap error as one line: the command it concerns, what is wrong, and its usage.
fn one_line(e: &clap::Error, args: &[OsString]) -> String {
    use clap::CommandFactory;
    // What was parsed before (and despite) the mistake says which command it concerns.
    let matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(args);
    let command = matches
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_owned));
    let problem = problem(e);
    match command {
        Some(c) => format!("{c}: {problem} (usage: {})", usage(Some(&c))),
        None => format!(
            "{problem} (usage: {}; butler --help lists the commands)",
            usage(None)
        ),
    }
}

/// The usage line of `butler` or of one of its commands, e.g. "butler backup <FILE>".
fn usage(command: Option<&str>) -> String {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    cli.build();
    let cmd = match command.and_then(|c| cli.find_subcommand_mut(c)) {
        Some(sub) => sub.render_usage(),
        None => cli.render_usage(),
    };
    let text = cmd.to_string();
    let text = text.trim().trim_start_matches("Usage:");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What is wrong, without the usage.
fn problem(e: &clap::Error) -> String {
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(s)) => s.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    // "--from <YYYY-MM-DD>" → "--from"; a positional "<FILE>" stays as it is.
    let arg = text(ContextKind::InvalidArg);
    let flag = match arg.split_once(' ') {
        Some((flag, _)) if flag.starts_with('-') => flag.to_owned(),
        _ => arg.clone(),
    };
    let value = text(ContextKind::InvalidValue);
    match e.kind() {
        ErrorKind::UnknownArgument => format!("unknown argument {arg:?}"),
        ErrorKind::InvalidSubcommand => {
            format!("unknown command {:?}", text(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingRequiredArgument => format!("{flag} is missing"),
        ErrorKind::InvalidValue if value.is_empty() => format!("{flag} needs a value"),
        ErrorKind::ValueValidation => match std::error::Error::source(e) {
            Some(source) => source.to_string(),
            None => format!("{flag} {value:?} is not valid"),
        },
        ErrorKind::ArgumentConflict if text(ContextKind::PriorArg) == arg => {
            format!("{flag} is given twice")
        }
        // clap's own sentence, less its "error: " and the lines after it.
        _ => e
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn parse_line(s: &str) -> Result<Invocation, Stop> {
        parse(std::iter::once("butler").chain(s.split_whitespace()))
    }

    #[test]
    fn no_command_runs_the_bot_with_butler_toml() {
        assert_eq!(
            parse_line(""),
            Ok(Invocation {
                config: "butler.toml".into(),
                config_given: false,
                command: Command::Run
            })
        );
        assert_eq!(
            parse_line("-c x.toml run"),
            Ok(Invocation {
                config: "x.toml".into(),
                config_given: true,
                command: Command::Run
            })
        );
    }

    #[test]
    fn config_may_come_after_the_command() {
        let i = parse_line("backup copy.db --config y.toml").unwrap();
        assert_eq!(i.config, PathBuf::from("y.toml"));
        assert_eq!(i.command, Command::Backup("copy.db".into()));
    }

    #[test]
    fn sandbox_options_and_their_defaults() {
        assert_eq!(
            parse_line("sandbox").unwrap().command,
            Command::Sandbox(sandbox::Options::default())
        );
        assert_eq!(
            parse_line("sandbox --port 0 --db s.db --lang zh")
                .unwrap()
                .command,
            Command::Sandbox(sandbox::Options {
                port: 0,
                database: "s.db".into(),
                lang: Some(Locale::ZhCn),
            })
        );
        assert_eq!(
            parse_line("sandbox --lang fr"),
            Err(Stop::Refuse(
                "sandbox: unknown locale \"fr\": use zh-CN or en (usage: butler sandbox [OPTIONS])"
                    .into()
            ))
        );
    }

    #[test]
    fn seed_demo_counts_are_positive() {
        assert_eq!(
            parse_line("seed-demo").unwrap().command,
            Command::SeedDemo {
                tickets: 10_000,
                groups: 50
            }
        );
        assert_eq!(
            parse_line("seed-demo --tickets 5 --groups 2")
                .unwrap()
                .command,
            Command::SeedDemo {
                tickets: 5,
                groups: 2
            }
        );
        let Err(Stop::Refuse(e)) = parse_line("seed-demo --groups 0") else {
            panic!("0 groups accepted");
        };
        assert!(
            e.starts_with("seed-demo: --groups needs a positive number"),
            "{e}"
        );
    }

    #[test]
    fn migrate_to_takes_a_postgres_url_and_hides_its_password_when_refused() {
        assert_eq!(
            parse_line("migrate-to postgres://butler@db/butler")
                .unwrap()
                .command,
            Command::MigrateTo("postgres://butler@db/butler".into())
        );
        let Err(Stop::Refuse(e)) = parse_line("migrate-to mysql://u:secret@db/b") else {
            panic!("a MySQL URL accepted");
        };
        assert!(
            e.starts_with(
                "migrate-to: \"mysql://u:***@db/b\" is not a PostgreSQL URL (postgres://user@host/database)"
            ),
            "{e}"
        );
        assert!(!e.contains("secret"), "{e}");
        assert_eq!(
            redacted("postgresql://u:p@ss@h:5432/d?sslmode=require"),
            "postgresql://u:***@h:5432/d?sslmode=require"
        );
        assert_eq!(redacted("postgres://h/d"), "postgres://h/d");
        assert_eq!(redacted("sqlite://butler.db"), "sqlite://butler.db");
    }

    #[test]
    fn mistakes_are_one_line_with_the_usage() {
        for (line, expected) in [
            (
                "--frobnicate",
                "unknown argument \"--frobnicate\" (usage: butler [OPTIONS] [COMMAND]; \
                 butler --help lists the commands)",
            ),
            (
                "frobnicate",
                "unknown command \"frobnicate\" (usage: butler [OPTIONS] [COMMAND]; \
                 butler --help lists the commands)",
            ),
            (
                "backup",
                "backup: <FILE> is missing (usage: butler backup [OPTIONS] <FILE>)",
            ),
            (
                "--config",
                "--config needs a value (usage: butler [OPTIONS] [COMMAND]; \
                 butler --help lists the commands)",
            ),
        ] {
            assert_eq!(
                parse_line(line),
                Err(Stop::Refuse(expected.into())),
                "{line}"
            );
        }
    }

    #[test]
    fn help_is_shown_not_refused() {
        for line in ["--help", "export --help", "help sandbox", "--version"] {
            assert!(
                matches!(parse_line(line), Err(Stop::Show(_))),
                "{line}: {:?}",
                parse_line(line)
            );
        }
    }

    #[test]
    fn export_arguments_parse_with_xlsx_as_the_default_format() {
        let r = export_request(&words("--from 2026-11-01 --to 2026-11-30 --out m.xlsx")).unwrap();
        assert_eq!(r.from, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(r.to, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(r.format, ExportFormat::Xlsx);
        assert_eq!(r.out, PathBuf::from("m.xlsx"));
        let r = export_request(&words(
            "--format CSV --out dir --to 2026-11-30 --from 2026-11-30",
        ))
        .unwrap();
        assert_eq!(r.format, ExportFormat::Csv);
    }

    #[test]
    fn bad_export_arguments_say_what_is_wrong_in_one_line() {
        for (args, expected) in [
            ("--to 2026-11-30 --out x", "--from is missing"),
            ("--from 2026-11-01 --out x", "--to is missing"),
            ("--from 2026-11-01 --to 2026-11-30", "--out is missing"),
            (
                "--from 2026-13-01",
                "--from \"2026-13-01\" is not a date like 2026-11-01",
            ),
            (
                "--from 2026-11-02 --to 2026-11-01 --out x",
                "--to 2026-11-01 is before --from 2026-11-02",
            ),
            ("--format pdf", "unknown format \"pdf\": use xlsx or csv"),
            ("--out", "--out needs a value"),
            ("--colour red", "unknown argument \"--colour\""),
        ] {
            assert_eq!(
                export_request(&words(args)),
                Err(expected.to_owned()),
                "{args}"
            );
        }
    }

    #[test]
    fn an_export_mistake_names_the_command_and_its_usage() {
        assert_eq!(
            parse_line("export --from 2026-11-02 --to 2026-11-01 --out x"),
            Err(Stop::Refuse(format!(
                "export: --to 2026-11-01 is before --from 2026-11-02 (usage: {})",
                usage(Some("export"))
            )))
        );
        assert!(usage(Some("export")).starts_with("butler export "));
    }
}
