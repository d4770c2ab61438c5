//! Butler's configuration: one TOML file (`--config PATH`, default `./butler.toml`).
//!
//! A missing file means all defaults; unknown keys are refused. The file is read
//! into private "raw" structs of plain strings and numbers, then turned into typed
//! values ([`chrono_tz::Tz`], [`CronSpec`], [`Locale`], [`LogFormat`]) at that edge,
//! so the rest of the crate never sees an unchecked string. Checks that only matter
//! for running the bot (the staff chat is set, the database directory is writable,
//! the numbers make sense) live in [`Settings::validate_for_run`], so that
//! `butler check-config` can still show a half-finished configuration.
//!
//! `butler.example.toml` at the crate root documents every key.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::Category;
use crate::i18n::Locale;

mod bounds;
pub use bounds::{LimitSettings, RetentionSettings};
mod console;
pub use console::ConsoleSettings;
mod cronspec;
pub use cronspec::CronSpec;

mod routes;
pub use routes::Route;
mod hours;
mod sla;
mod telegram;
mod toml_error;
use hours::{RawBusinessHours, is_holiday_key};
use routes::{RawRoute, parse_routes};
pub use sla::{ComplaintSla, LevelSla, SlaSettings};
use telegram::RawTelegram;
pub use telegram::{TelegramSettings, UpdateMode};
use toml_error::one_line_toml_error;

use crate::domain::calendar::BusinessHours;

/// The effective configuration, all values parsed and typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where tickets are stored: a SQLite URL such as `sqlite://butler.db` (relative to
    /// the working directory), `sqlite:///var/lib/butler/butler.db` or `sqlite::memory:`.
    /// The file is created and migrated on start.
    pub database_url: String,
    /// Time zone for deadlines, the scheduled messages and the dates shown to people;
    /// an IANA name such as `Asia/Shanghai`.
    pub timezone: Tz,
    /// Language for people whose Telegram language Butler does not speak, and for the
    /// staff group: `zh-CN` or `en`.
    pub default_locale: Locale,
    /// Telegram chat id of the staff group that receives new tickets (a group id such as
    /// `-1001234567890`). `0` means not set; the bot refuses to run without it.
    pub staff_chat_id: i64,
    /// Telegram user ids of the managers, who may use the manager commands.
    pub managers: Vec<u64>,
    /// Telegram chat id of a group where complaints and suggestions go instead of each
    /// manager's private chat (`0`: none, the default). Never the staff chat: a complaint
    /// may be about staff.
    pub complaints_chat_id: i64,
    /// Telegram user ids of the dispatchers (the front desk), who may assign tickets to
    /// staff members as managers can.
    pub dispatchers: Vec<u64>,
    /// Open tickets per staff member above which whoever assigns or transfers a ticket
    /// to them is warned (the ticket is still given); `0`: no warning.
    pub max_open_per_staff: u32,
    /// Format of the log lines on stderr: `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Service-level deadlines for the staff.
    pub sla: SlaSettings,
    /// How residents are asked to rate a finished repair.
    pub rating: RatingSettings,
    /// When the scheduled messages are sent.
    pub schedule: ScheduleSettings,
    /// How messages leave (Telegram's rate limits).
    pub delivery: DeliverySettings,
    /// Who may use `/export` in the staff chat.
    pub export: ExportSettings,
    /// How often Butler answers the same thing to the same person.
    pub limits: LimitSettings,
    /// How long handled updates and sent messages are kept.
    pub retention: RetentionSettings,
    /// Greetings for special days, sent instead of the plain morning greeting. Keys are
    /// `"MM-DD"` (every year) or `"YYYY-MM-DD"` (that day only); values are the text.
    pub holidays: BTreeMap<String, String>,
    /// Categories sent to their own staff chats (`[[routes]]`); the main staff chat gets
    /// every ticket no route claims.
    pub routes: Vec<Route>,
    /// How updates arrive: long polling or a webhook (`[telegram]`).
    pub telegram: TelegramSettings,
    /// The web console: where it listens, the address people open.
    pub console: ConsoleSettings,
    /// `[business_hours]`: when the office works (days, opening and closing time in
    /// `timezone`; the `[holidays]` dates are closed). B and C repairs' clocks run only
    /// then; A repairs' and complaints' always. `None` (no table): always open.
    pub business_hours: Option<BusinessHours>,
}

/// How residents are asked to rate a finished repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatingSettings {
    /// Hours after completion before a resident who has not rated is reminded once.
    pub reminder_hours: u32,
    /// Hours after completion after which the rating request expires unrated;
    /// must be greater than `reminder_hours`.
    pub expire_hours: u32,
    /// A score (1 to 5 stars) at or below this opens a follow-up for the managers; 1 to 4.
    pub low_score: u8,
    /// Whether the staff must attach a photo to mark a ticket completed.
    pub require_completion_photo: bool,
}

impl Default for RatingSettings {
    fn default() -> Self {
        Self {
            reminder_hours: 24,
            expire_hours: 72,
            low_score: 3,
            require_completion_photo: true,
        }
    }
}

/// How messages leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySettings {
    /// Keep to Telegram's sending limits (about 30 messages a second, 1 a second per
    /// chat, 20 a minute per group). Turn off only against a local test server, e.g. for
    /// benchmarks; against Telegram it causes 429 answers.
    pub rate_limits: bool,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self { rate_limits: true }
    }
}

/// Who may use `/export` (the workbook holds owners' names, units and words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportSettings {
    /// Whether staff members who are not managers may use `/export`; managers always may.
    pub staff_may_export: bool,
}

/// When the scheduled messages are sent (in [`Settings::timezone`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSettings {
    /// When the morning greeting (or the day's holiday greeting) goes to each owner group.
    pub morning_greeting: CronSpec,
    /// When the daily summary of tickets goes to the staff group.
    pub daily_summary: CronSpec,
    /// When the monthly report (last month against the month before, the trend chart and
    /// the XLSX export) goes to the staff group and to each manager privately.
    pub monthly_report: CronSpec,
    /// After a restart, a scheduled message missed by at most this many minutes is
    /// still sent; `0` never catches up.
    pub catch_up_minutes: u32,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The name used in the configuration file: `text` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}: use text or json")),
        }
    }
}

/// Why the configuration cannot be used. Each message is one line naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("config: cannot read {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The text is not TOML, has an unknown key, or a value of the wrong type.
    #[error("config: {}{message}", file_prefix(file.as_deref()))]
    Syntax {
        file: Option<PathBuf>,
        message: String,
    },
    #[error("config: timezone {value:?} is not a known time zone (e.g. Asia/Shanghai)")]
    TimeZone { value: String },
    #[error("config: default_locale {value:?} is not a supported locale (zh-CN or en)")]
    Locale { value: String },
    #[error("config: log_format {value:?} is not a log format (text or json)")]
    LogFormat { value: String },
    /// `key` is the dotted key, e.g. `schedule.daily_summary`.
    #[error(
        "config: {key} {value:?} is not a valid cron expression (seconds first: {example:?}): {cause}"
    )]
    Cron {
        key: &'static str,
        value: String,
        example: &'static str,
        cause: String,
    },
    #[error("config: business_hours {problem}")]
    BusinessHours { problem: String },
    #[error(
        "config: holidays key {key:?} is not a date as \"MM-DD\" or \"YYYY-MM-DD\" (e.g. \"01-01\")"
    )]
    Holiday { key: String },
    /// The database URL is not SQLite, names no file, or its directory cannot be written.
    #[error("config: database_url {url:?}: {problem}")]
    Database { url: String, problem: String },
    #[error(
        "config: staff_chat_id is not set (the Telegram id of the staff group, e.g. -1001234567890)"
    )]
    StaffChatUnset,
    #[error(
        "config: complaints_chat_id must not be the staff chat (complaints may be about staff); use 0 to send them to each manager privately"
    )]
    ComplaintsInStaffChat,
    /// A `[[routes]]` entry (numbered from 1) that cannot be used.
    #[error("config: routes #{index} {problem}")]
    Route { index: usize, problem: String },
    /// A `[telegram]` key that cannot be used.
    #[error("config: telegram.{key} {problem}")]
    Telegram { key: &'static str, problem: String },
    /// A number outside its allowed range; `rule` says what is allowed.
    #[error("config: {key} = {value} {rule}")]
    OutOfRange {
        key: &'static str,
        value: u32,
        rule: String,
    },
}

fn file_prefix(file: Option<&Path>) -> String {
    file.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl ConfigError {
    /// Names the file a syntax error was found in.
    fn in_file(self, path: &Path) -> Self {
        match self {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                file: Some(path.to_owned()),
                message,
            },
            other => other,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::try_from(RawSettings::default()).expect("the built-in defaults are valid")
    }
}

impl Settings {
    /// Reads the file; a missing file means defaults. Unknown keys are an error.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        match fs::read_to_string(path) {
            Ok(text) => Settings::from_toml(&text).map_err(|e| e.in_file(path)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Settings::default()),
            Err(cause) => Err(ConfigError::Read {
                path: path.to_owned(),
                cause,
            }),
        }
    }

    /// Parses TOML text; keys left out take their defaults.
    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: None,
            message: one_line_toml_error(&e, text),
        })?;
        Settings::try_from(raw)
    }

    /// Checks needed before the bot may run, beyond parsing: the staff chat is set,
    /// the deadlines and rating numbers make sense, and the database directory exists
    /// and is writable.
    pub fn validate_for_run(&self) -> Result<(), ConfigError> {
        if self.staff_chat_id == 0 {
            return Err(ConfigError::StaffChatUnset);
        }
        if self.complaints_chat_id == self.staff_chat_id {
            return Err(ConfigError::ComplaintsInStaffChat);
        }
        let mut positive = self.sla.counts();
        positive.extend([
            ("rating.reminder_hours", self.rating.reminder_hours),
            ("limits.hint_minutes", self.limits.hint_minutes),
            ("limits.repeat_minutes", self.limits.repeat_minutes),
            ("retention.inbox_days", self.retention.inbox_days),
            ("retention.outbox_days", self.retention.outbox_days),
        ]);
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::OutOfRange {
                    key,
                    value,
                    rule: "must be at least 1".into(),
                });
            }
        }
        if !(1..=4).contains(&self.rating.low_score) {
            return Err(ConfigError::OutOfRange {
                key: "rating.low_score",
                value: self.rating.low_score.into(),
                rule: "must be between 1 and 4 (scores are 1 to 5 stars)".into(),
            });
        }
        if self.rating.expire_hours <= self.rating.reminder_hours {
            return Err(ConfigError::OutOfRange {
                key: "rating.expire_hours",
                value: self.rating.expire_hours,
                rule: format!(
                    "must be greater than rating.reminder_hours ({})",
                    self.rating.reminder_hours
                ),
            });
        }
        self.telegram.check_for_run()?;
        self.check_database()
    }

    /// Path of the SQLite file named by `database_url` (`sqlite://butler.db` ->
    /// `butler.db`, `sqlite:///abs/x.db` -> `/abs/x.db`, `sqlite:x.db` -> `x.db`; any
    /// `?query` is dropped). `None` for an in-memory database or a URL that is not SQLite.
    pub fn database_path(&self) -> Option<PathBuf> {
        match sqlite_target(&self.database_url)? {
            SqliteTarget::File(path) => Some(path),
            SqliteTarget::Memory => None,
        }
    }

    /// The staff chat that gets tickets of `category`: its route's, else the main one.
    pub fn staff_chat_for(&self, category: Category) -> i64 {
        self.routes
            .iter()
            .find(|r| r.categories.contains(&category))
            .map_or(self.staff_chat_id, |r| r.staff_chat_id)
    }

    /// Whether `chat` is a staff chat: the main one or a route's.
    pub fn is_staff_chat(&self, chat: i64) -> bool {
        chat == self.staff_chat_id || self.routes.iter().any(|r| r.staff_chat_id == chat)
    }

    /// Every staff chat, the main one first.
    pub fn staff_chats(&self) -> Vec<i64> {
        std::iter::once(self.staff_chat_id)
            .chain(self.routes.iter().map(|r| r.staff_chat_id))
            .collect()
    }

    /// The name of a route's chat; `None` for the main staff chat (or no staff chat).
    pub fn staff_chat_name(&self, chat: i64) -> Option<&str> {
        self.routes
            .iter()
            .find(|r| r.staff_chat_id == chat)
            .map(|r| r.name.as_str())
    }

    /// Whether this Telegram user is one of the managers.
    pub fn is_manager(&self, user_id: u64) -> bool {
        self.managers.contains(&user_id)
    }

    /// Whether this Telegram user is one of the dispatchers (who may assign tickets).
    pub fn is_dispatcher(&self, user_id: u64) -> bool {
        self.dispatchers.contains(&user_id)
    }

    /// The effective configuration as TOML text (for `butler check-config`). The first
    /// line tells whether the bot token is set, showing only the bot id before the `:`.
    pub fn render_effective(&self, token: Option<&str>) -> String {
        let token_line = match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => "# token: not set (TELOXIDE_TOKEN)".to_owned(),
            Some(token) => match token.split_once(':') {
                Some((id, _)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("# token: {id}:***")
                }
                _ => "# token: ***".to_owned(),
            },
        };
        let body = toml::to_string(&RawSettings::from(self))
            .unwrap_or_else(|e| format!("# cannot render the configuration: {e}\n"));
        let mut text = token_line + "\n";
        for line in body.lines() {
            if line.starts_with('[') {
                text.push('\n'); // a blank line before each table, as people write it
            }
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    fn check_database(&self) -> Result<(), ConfigError> {
        let problem = |problem: String| ConfigError::Database {
            url: self.database_url.clone(),
            problem,
        };
        let path = match sqlite_target(&self.database_url) {
            None if is_postgres_url(&self.database_url) => return Ok(()),
            None => return Err(problem(NOT_SQLITE.into())),
            Some(SqliteTarget::Memory) => return Ok(()),
            Some(SqliteTarget::File(path)) => path,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        if !dir_is_writable(&dir) {
            return Err(problem(format!(
                "directory {} does not exist or is not writable",
                dir.display()
            )));
        }
        if path.exists()
            && OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .is_err()
        {
            return Err(problem(format!("file {} is not writable", path.display())));
        }
        Ok(())
    }
}

const NOT_SQLITE: &str = "names neither a SQLite file (sqlite://butler.db) nor a PostgreSQL database (postgres://host/db)";

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

enum SqliteTarget {
    File(PathBuf),
    Memory,
}

/// Reads a SQLite URL the way sqlx does; `None` if it is not a SQLite URL.
fn sqlite_target(url: &str) -> Option<SqliteTarget> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = file == ":memory:" || query.split('&').any(|pair| pair == "mode=memory");
    Some(if in_memory {
        SqliteTarget::Memory
    } else {
        SqliteTarget::File(PathBuf::from(file))
    })
}

/// Whether a file can be created in `dir` (tried with a probe file that is removed).
fn dir_is_writable(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    let probe = dir.join(format!(".butler-write-probe-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            true
        }
        Err(e) => e.kind() == ErrorKind::AlreadyExists,
    }
}

const DEFAULT_MORNING_GREETING: &str = "0 0 8 * * *";
const DEFAULT_DAILY_SUMMARY: &str = "0 0 18 * * *";
const DEFAULT_MONTHLY_REPORT: &str = "0 0 9 1 * *";

/// The file as written: strings not yet parsed. Also used to render the effective
/// configuration, so the two cannot drift apart.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSettings {
    database_url: String,
    timezone: String,
    default_locale: String,
    staff_chat_id: i64,
    managers: Vec<u64>,
    complaints_chat_id: i64,
    dispatchers: Vec<u64>,
    max_open_per_staff: u32,
    log_format: String,
    sla: SlaSettings,
    rating: RatingSettings,
    schedule: RawSchedule,
    delivery: DeliverySettings,
    export: ExportSettings,
    limits: LimitSettings,
    retention: RetentionSettings,
    holidays: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RawRoute>,
    telegram: RawTelegram,
    console: ConsoleSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_hours: Option<RawBusinessHours>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSchedule {
    morning_greeting: String,
    daily_summary: String,
    monthly_report: String,
    catch_up_minutes: u32,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://butler.db".into(),
            timezone: "Asia/Shanghai".into(),
            default_locale: Locale::ZhCn.code().into(),
            staff_chat_id: 0,
            managers: Vec::new(),
            complaints_chat_id: 0,
            dispatchers: Vec::new(),
            max_open_per_staff: 0,
            log_format: LogFormat::Text.as_str().into(),
            sla: SlaSettings::default(),
            rating: RatingSettings::default(),
            schedule: RawSchedule::default(),
            delivery: DeliverySettings::default(),
            export: ExportSettings::default(),
            limits: LimitSettings::default(),
            retention: RetentionSettings::default(),
            holidays: BTreeMap::new(),
            routes: Vec::new(),
            telegram: RawTelegram::default(),
            console: ConsoleSettings::default(),
            business_hours: None,
        }
    }
}

impl Default for RawSchedule {
    fn default() -> Self {
        Self {
            morning_greeting: DEFAULT_MORNING_GREETING.into(),
            daily_summary: DEFAULT_DAILY_SUMMARY.into(),
            monthly_report: DEFAULT_MONTHLY_REPORT.into(),
            catch_up_minutes: 60,
        }
    }
}

impl TryFrom<RawSettings> for Settings {
    type Error = ConfigError;

    fn try_from(raw: RawSettings) -> Result<Self, ConfigError> {
        let timezone = raw
            .timezone
            .trim()
            .parse::<Tz>()
            .map_err(|_| ConfigError::TimeZone {
                value: raw.timezone.clone(),
            })?;
        let default_locale =
            raw.default_locale
                .parse::<Locale>()
                .map_err(|_| ConfigError::Locale {
                    value: raw.default_locale.clone(),
                })?;
        let log_format =
            raw.log_format
                .parse::<LogFormat>()
                .map_err(|_| ConfigError::LogFormat {
                    value: raw.log_format.clone(),
                })?;
        let database_url = raw.database_url.trim().to_owned();
        match sqlite_target(&database_url) {
            None if is_postgres_url(&database_url) => {}
            None => {
                return Err(ConfigError::Database {
                    url: database_url,
                    problem: NOT_SQLITE.into(),
                });
            }
            Some(SqliteTarget::File(path)) if path.as_os_str().is_empty() => {
                return Err(ConfigError::Database {
                    url: database_url,
                    problem: "names no file (e.g. sqlite://butler.db)".into(),
                });
            }
            Some(_) => {}
        }
        if let Some(key) = raw.holidays.keys().find(|key| !is_holiday_key(key)) {
            return Err(ConfigError::Holiday { key: key.clone() });
        }
        let schedule = parse_schedule(&raw.schedule)?;
        let routes = parse_routes(&raw.routes, raw.staff_chat_id)?;
        let business_hours = hours::parse(raw.business_hours.as_ref())?;
        Ok(Settings {
            database_url,
            timezone,
            default_locale,
            staff_chat_id: raw.staff_chat_id,
            managers: raw.managers,
            complaints_chat_id: raw.complaints_chat_id,
            dispatchers: raw.dispatchers,
            max_open_per_staff: raw.max_open_per_staff,
            log_format,
            sla: raw.sla,
            rating: raw.rating,
            schedule,
            delivery: raw.delivery,
            export: raw.export,
            limits: raw.limits,
            retention: raw.retention,
            holidays: raw.holidays,
            routes,
            telegram: TelegramSettings::try_from(&raw.telegram)?,
            console: raw.console,
            business_hours,
        })
    }
}

/// `[schedule]` as written, its cron expressions parsed.
fn parse_schedule(raw: &RawSchedule) -> Result<ScheduleSettings, ConfigError> {
    Ok(ScheduleSettings {
        morning_greeting: cron_at(
            "schedule.morning_greeting",
            &raw.morning_greeting,
            DEFAULT_MORNING_GREETING,
        )?,
        daily_summary: cron_at(
            "schedule.daily_summary",
            &raw.daily_summary,
            DEFAULT_DAILY_SUMMARY,
        )?,
        monthly_report: cron_at(
            "schedule.monthly_report",
            &raw.monthly_report,
            DEFAULT_MONTHLY_REPORT,
        )?,
        catch_up_minutes: raw.catch_up_minutes,
    })
}

fn cron_at(key: &'static str, value: &str, example: &'static str) -> Result<CronSpec, ConfigError> {
    CronSpec::parse(value).map_err(|cause| ConfigError::Cron {
        key,
        value: value.to_owned(),
        example,
        cause,
    })
}

impl From<&Settings> for RawSettings {
    fn from(s: &Settings) -> Self {
        Self {
            database_url: s.database_url.clone(),
            timezone: s.timezone.name().to_owned(),
            default_locale: s.default_locale.code().to_owned(),
            staff_chat_id: s.staff_chat_id,
            managers: s.managers.clone(),
            complaints_chat_id: s.complaints_chat_id,
            dispatchers: s.dispatchers.clone(),
            max_open_per_staff: s.max_open_per_staff,
            log_format: s.log_format.as_str().to_owned(),
            sla: s.sla,
            rating: s.rating,
            schedule: RawSchedule {
                morning_greeting: s.schedule.morning_greeting.as_str().to_owned(),
                daily_summary: s.schedule.daily_summary.as_str().to_owned(),
                monthly_report: s.schedule.monthly_report.as_str().to_owned(),
                catch_up_minutes: s.schedule.catch_up_minutes,
            },
            delivery: s.delivery,
            export: s.export,
            limits: s.limits,
            retention: s.retention,
            holidays: s.holidays.clone(),
            routes: s.routes.iter().map(RawRoute::from).collect(),
            telegram: RawTelegram::from(&s.telegram),
            console: s.console.clone(),
            business_hours: s.business_hours.as_ref().map(RawBusinessHours::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../butler.example.toml");

    fn parse(text: &str) -> Settings {
        Settings::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        match Settings::from_toml(text) {
            Ok(settings) => panic!("expected an error, got {settings:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// Settings that pass `validate_for_run` with an in-memory database.
    fn runnable() -> Settings {
        Settings {
            staff_chat_id: -1001234567890,
            database_url: "sqlite::memory:".into(),
            ..Settings::default()
        }
    }

    fn assert_one_line(message: &str) {
        assert!(!message.contains('\n'), "not one line: {message:?}");
        assert!(message.starts_with("config: "), "no prefix: {message:?}");
    }

    #[test]
    fn an_empty_file_means_all_defaults() {
        let s = parse("");
        assert_eq!(s, Settings::default());
        assert_eq!(s.database_url, "sqlite://butler.db");
        assert_eq!(s.timezone, Tz::Asia__Shanghai);
        assert_eq!(s.default_locale, Locale::ZhCn);
        assert_eq!(s.staff_chat_id, 0);
        assert!(s.managers.is_empty());
        assert_eq!(s.complaints_chat_id, 0);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(
            s.sla,
            SlaSettings {
                take_minutes: 10,
                first_update_minutes: 30,
                resolve_hours: 24,
                urgent_repeat_minutes: 5,
                complaint: ComplaintSla {
                    first_response_minutes: 120,
                    reply_hours: 48,
                    return_visit_days: 3,
                },
                urgent: LevelSla {
                    take_minutes: 5,
                    first_update_minutes: 15,
                    resolve_hours: 4,
                },
                minor: LevelSla {
                    take_minutes: 60,
                    first_update_minutes: 240,
                    resolve_hours: 72,
                },
            }
        );
        assert_eq!(s.business_hours, None, "always open unless configured");
        assert_eq!(
            s.rating,
            RatingSettings {
                reminder_hours: 24,
                expire_hours: 72,
                low_score: 3,
                require_completion_photo: true
            }
        );
        assert_eq!(s.schedule.morning_greeting.as_str(), "0 0 8 * * *");
        assert_eq!(s.schedule.daily_summary.as_str(), "0 0 18 * * *");
        assert_eq!(s.schedule.monthly_report.as_str(), "0 0 9 1 * *");
        assert_eq!(s.schedule.catch_up_minutes, 60);
        assert!(s.holidays.is_empty());
    }

    #[test]
    fn a_missing_file_means_all_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let s = Settings::load(&dir.path().join("butler.toml")).expect("defaults");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn a_file_is_read_and_a_partial_table_keeps_the_other_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("butler.toml");
        fs::write(&path, "staff_chat_id = -42\n[sla]\ntake_minutes = 5\n").expect("write");
        let s = Settings::load(&path).expect("parses");
        assert_eq!(s.staff_chat_id, -42);
        assert_eq!(s.sla.take_minutes, 5);
        assert_eq!(s.sla.resolve_hours, 24);
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A directory cannot be read as a file.
        let err = Settings::load(dir.path()).expect_err("a directory is not a file");
        assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
        let message = err.to_string();
        assert_one_line(&message);
        assert!(message.contains("cannot read"), "{message}");
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_syntax_error_in_a_file_is_one_line_naming_the_file_and_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("butler.toml");
        fs::write(
            &path,
            "timezone = \"Asia/Shanghai\"\n[sla]\ntake_minutes = \"ten\"\n",
        )
        .expect("write");
        let message = Settings::load(&path)
            .expect_err("a string is not a number")
            .to_string();
        assert_one_line(&message);
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("take_minutes"), "{message}");
    }

    #[test]
    fn an_unknown_time_zone_names_the_key() {
        let message = parse_err("timezone = \"Mars/Base\"");
        assert_one_line(&message);
        assert_eq!(
            message,
            "config: timezone \"Mars/Base\" is not a known time zone (e.g. Asia/Shanghai)"
        );
    }

    #[test]
    fn a_known_time_zone_is_read() {
        assert_eq!(
            parse("timezone = \"Europe/Berlin\"").timezone,
            Tz::Europe__Berlin
        );
    }

    #[test]
    fn an_unknown_locale_names_the_key() {
        let message = parse_err("default_locale = \"fr\"");
        assert_one_line(&message);
        assert!(message.contains("default_locale \"fr\""), "{message}");
        assert_eq!(parse("default_locale = \"en\"").default_locale, Locale::En);
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(parse("log_format = \"json\"").log_format, LogFormat::Json);
        let message = parse_err("log_format = \"xml\"");
        assert_one_line(&message);
        assert!(message.contains("log_format \"xml\""), "{message}");
    }

    #[test]
    fn a_bad_cron_expression_names_the_key() {
        let message = parse_err("[schedule]\ndaily_summary = \"0 0 25 * * *\"");
        assert_one_line(&message);
        assert!(
            message.starts_with(
                "config: schedule.daily_summary \"0 0 25 * * *\" is not a valid cron expression \
                 (seconds first: \"0 0 18 * * *\"): "
            ),
            "{message}"
        );
    }

    #[test]
    fn the_monthly_report_schedule_is_read_and_a_bad_one_names_the_key() {
        let s = parse("[schedule]\nmonthly_report = \"0 30 8 1 * *\"");
        assert_eq!(s.schedule.monthly_report.as_str(), "0 30 8 1 * *");
        assert_eq!(s.schedule.daily_summary.as_str(), "0 0 18 * * *");
        let message = parse_err("[schedule]\nmonthly_report = \"monthly\"");
        assert_one_line(&message);
        assert!(
            message.contains("schedule.monthly_report \"monthly\""),
            "{message}"
        );
    }

    #[test]
    fn a_five_field_cron_expression_is_refused() {
        let message = parse_err("[schedule]\nmorning_greeting = \"0 8 * * *\"");
        assert_one_line(&message);
        assert!(
            message.contains("schedule.morning_greeting \"0 8 * * *\""),
            "{message}"
        );
        assert!(
            message.ends_with("it needs 6 fields, or 7 with a year)"),
            "{message}"
        );
    }

    #[test]
    fn a_cron_error_explains_the_fault_in_one_line() {
        let hours = CronSpec::parse("0 0 25 * * *").expect_err("no hour 25");
        assert!(hours.contains("'25' specified"), "{hours}");
        assert!(!hours.contains('\n'), "{hours:?}");
        let extra = CronSpec::parse("0 0 8 * * * 2030 x").expect_err("too many fields");
        assert!(extra.starts_with("unexpected text at character"), "{extra}");
    }

    #[test]
    fn a_cron_spec_keeps_its_text_and_schedule() {
        let spec = CronSpec::parse(" 0 30 9 * * Mon ").expect("valid");
        assert_eq!(spec.as_str(), "0 30 9 * * Mon");
        assert_eq!(spec.to_string(), "0 30 9 * * Mon");
        let next = spec
            .schedule()
            .upcoming(Tz::Asia__Shanghai)
            .next()
            .expect("a next run");
        assert_eq!(next.format("%H:%M:%S %a").to_string(), "09:30:00 Mon");
    }

    #[test]
    fn an_unset_staff_chat_is_refused_for_run() {
        let s = Settings {
            staff_chat_id: 0,
            ..runnable()
        };
        let err = s.validate_for_run().expect_err("staff chat unset");
        assert!(matches!(err, ConfigError::StaffChatUnset), "{err:?}");
        assert_eq!(
            err.to_string(),
            "config: staff_chat_id is not set (the Telegram id of the staff group, e.g. -1001234567890)"
        );
    }

    #[test]
    fn complaints_never_go_to_the_staff_chat_and_urgent_alerts_need_an_interval() {
        let s = Settings {
            complaints_chat_id: -1001234567890,
            ..runnable()
        };
        let err = s
            .validate_for_run()
            .expect_err("complaints in the staff chat");
        assert!(matches!(err, ConfigError::ComplaintsInStaffChat), "{err:?}");
        let mut s = runnable();
        s.sla.urgent_repeat_minutes = 0;
        let err = s.validate_for_run().expect_err("no interval");
        assert!(
            err.to_string().contains("sla.urgent_repeat_minutes"),
            "{err}"
        );
        let s = parse("complaints_chat_id = -100777\n[sla]\nurgent_repeat_minutes = 3\n");
        assert_eq!(
            (s.complaints_chat_id, s.sla.urgent_repeat_minutes),
            (-100777, 3)
        );
    }

    #[test]
    fn runnable_settings_pass_the_run_checks() {
        runnable().validate_for_run().expect("runnable");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        Settings {
            database_url: url,
            ..runnable()
        }
        .validate_for_run()
        .expect("writable dir");
    }

    #[test]
    fn an_unwritable_database_directory_is_refused() {
        let s = Settings {
            database_url: "sqlite:///nonexistent/dir/b.db".into(),
            ..runnable()
        };
        let message = s
            .validate_for_run()
            .expect_err("no such directory")
            .to_string();
        assert_eq!(
            message,
            "config: database_url \"sqlite:///nonexistent/dir/b.db\": \
             directory /nonexistent/dir does not exist or is not writable"
        );
    }

    #[test]
    fn a_database_neither_sqlite_nor_postgres_is_refused() {
        let message = parse_err("database_url = \"mysql://localhost/butler\"");
        assert_one_line(&message);
        assert!(
            message.contains("database_url \"mysql://localhost/butler\""),
            "{message}"
        );
        assert!(message.contains("PostgreSQL"), "{message}");
        assert!(parse_err("database_url = \"sqlite://\"").contains("names no file"));
        for url in ["postgres://localhost/butler", "postgresql://u@db:5433/b"] {
            let s = parse(&format!("database_url = \"{url}\"\nstaff_chat_id = -100"));
            assert_eq!(s.database_url, url);
            assert_eq!(s.database_path(), None, "not a file");
            s.check_database().unwrap();
        }
    }

    #[test]
    fn out_of_range_numbers_are_refused_for_run() {
        let low = Settings {
            rating: RatingSettings {
                low_score: 5,
                ..Default::default()
            },
            ..runnable()
        };
        let message = low
            .validate_for_run()
            .expect_err("5 is every score")
            .to_string();
        assert!(
            message.starts_with("config: rating.low_score = 5 "),
            "{message}"
        );

        let zero = Settings {
            rating: RatingSettings {
                low_score: 0,
                ..Default::default()
            },
            ..runnable()
        };
        assert!(zero.validate_for_run().is_err());

        let expire = Settings {
            rating: RatingSettings {
                reminder_hours: 24,
                expire_hours: 24,
                ..Default::default()
            },
            ..runnable()
        };
        let message = expire
            .validate_for_run()
            .expect_err("expires at the reminder")
            .to_string();
        assert!(message.contains("rating.expire_hours = 24"), "{message}");
        assert!(message.contains("rating.reminder_hours (24)"), "{message}");

        let take = Settings {
            sla: SlaSettings {
                take_minutes: 0,
                ..Default::default()
            },
            ..runnable()
        };
        let message = take
            .validate_for_run()
            .expect_err("zero minutes")
            .to_string();
        assert_eq!(message, "config: sla.take_minutes = 0 must be at least 1");
    }

    #[test]
    fn the_database_path_is_read_from_the_url() {
        let path = |url: &str| {
            Settings {
                database_url: url.into(),
                ..Settings::default()
            }
            .database_path()
        };
        assert_eq!(path("sqlite://butler.db"), Some(PathBuf::from("butler.db")));
        assert_eq!(path("sqlite:///abs/x.db"), Some(PathBuf::from("/abs/x.db")));
        assert_eq!(path("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(
            path("sqlite://data/x.db?mode=rwc"),
            Some(PathBuf::from("data/x.db"))
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("sqlite://:memory:"), None);
        assert_eq!(path("sqlite://?mode=memory"), None);
        assert_eq!(path("postgres://localhost/butler"), None);
    }

    #[test]
    fn managers_are_recognised() {
        let s = parse("managers = [123456789, 42]");
        assert!(s.is_manager(42));
        assert!(s.is_manager(123456789));
        assert!(!s.is_manager(7));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let message = parse_err("staff_chat = -100");
        assert_one_line(&message);
        assert!(message.contains("unknown field `staff_chat`"), "{message}");

        let nested = parse_err("[sla]\ntake_minute = 5");
        assert_one_line(&nested);
        assert!(nested.contains("take_minute"), "{nested}");

        let broken = parse_err("[sla\ntake_minutes = 5");
        assert_one_line(&broken);
        assert!(
            broken.starts_with("config: line 1 ([sla): invalid table header; "),
            "{broken}"
        );
    }

    #[test]
    fn the_token_is_masked_in_the_effective_configuration() {
        let secret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        let text = runnable().render_effective(Some(&format!("1234567890:{secret}")));
        assert_eq!(text.lines().next(), Some("# token: 1234567890:***"));
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("AAHd"), "{text}");

        let malformed = runnable().render_effective(Some(secret));
        assert!(!malformed.contains(secret), "{malformed}");
        assert_eq!(malformed.lines().next(), Some("# token: ***"));

        let unset = runnable().render_effective(None);
        assert_eq!(
            unset.lines().next(),
            Some("# token: not set (TELOXIDE_TOKEN)")
        );
    }

    #[test]
    fn the_effective_configuration_reads_back_the_same() {
        let mut s = parse(EXAMPLE);
        s.holidays
            .insert("01-01".into(), "Happy \"New\" Year!".into());
        s.timezone = Tz::Europe__Berlin;
        let text = s.render_effective(None);
        assert!(text.contains("timezone = \"Europe/Berlin\""), "{text}");
        assert!(text.contains("\n\n[schedule]\n"), "{text}");
        assert_eq!(parse(&text), s);
    }

    #[test]
    fn holidays_are_read() {
        let s = parse(
            "[holidays]\n\"01-01\" = \"Happy New Year!\"\n\"2026-02-17\" = \"春节快乐！\"\n\"02-29\" = \"Leap day\"\n",
        );
        assert_eq!(s.holidays.len(), 3);
        assert_eq!(
            s.holidays.get("01-01").map(String::as_str),
            Some("Happy New Year!")
        );
        assert_eq!(
            s.holidays.get("2026-02-17").map(String::as_str),
            Some("春节快乐！")
        );
    }

    #[test]
    fn a_holiday_that_is_not_a_date_is_refused() {
        for key in ["1-1", "13-01", "02-30", "2026-1-01", "Christmas"] {
            let message = parse_err(&format!("[holidays]\n\"{key}\" = \"x\""));
            assert_one_line(&message);
            assert!(
                message.contains(&format!("holidays key \"{key}\"")),
                "{message}"
            );
        }
    }

    #[test]
    fn the_example_file_parses() {
        let example = parse(EXAMPLE);
        assert_eq!(example.staff_chat_id, -1001234567890);
        assert_eq!(example.managers, vec![123456789]);
        // Apart from the example ids, the example shows the defaults.
        let defaults = Settings {
            staff_chat_id: -1001234567890,
            managers: vec![123456789],
            ..Settings::default()
        };
        assert_eq!(example, defaults);
    }

    #[test]
    fn the_example_file_sets_and_explains_every_key() {
        let written: toml::Table = toml::from_str(EXAMPLE).expect("example is TOML");
        let all: toml::Table = toml::Table::try_from(RawSettings::default()).expect("defaults");
        for (key, value) in &all {
            let Some(set) = written.get(key) else {
                panic!("example does not set {key}")
            };
            if let (Some(table), Some(set)) = (value.as_table(), set.as_table()) {
                for inner in table.keys() {
                    assert!(
                        set.contains_key(inner),
                        "example does not set {key}.{inner}"
                    );
                }
            }
        }
        // Every `key = value` line follows a comment line explaining it.
        let lines: Vec<&str> = EXAMPLE.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            let previous = lines[..i].iter().rev().find(|l| !l.is_empty());
            assert!(
                previous.is_some_and(|l| l.starts_with('#')),
                "no comment above {line:?} in butler.example.toml"
            );
        }
    }

    #[test]
    fn urgency_levels_override_the_flat_sla_key_by_key() {
        let s = parse(
            "[sla]\ntake_minutes = 12\n[sla.A]\ntake_minutes = 3\n[sla.c]\nresolve_hours = 96\n",
        );
        use crate::domain::Urgency;
        assert_eq!(s.sla.level(Urgency::B).take_minutes, 12);
        assert_eq!(
            s.sla.level(Urgency::A),
            LevelSla {
                take_minutes: 3,
                first_update_minutes: 15,
                resolve_hours: 4
            }
        );
        assert_eq!(
            s.sla.level(Urgency::C),
            LevelSla {
                take_minutes: 60,
                first_update_minutes: 240,
                resolve_hours: 96
            }
        );
        assert!(parse_err("[sla.A]\ntake_minute = 3").contains("take_minute"));
        let mut zero = runnable();
        zero.sla.minor.resolve_hours = 0;
        let message = zero.validate_for_run().expect_err("zero").to_string();
        assert_eq!(
            message,
            "config: sla.C.resolve_hours = 0 must be at least 1"
        );
    }

    #[test]
    fn business_hours_are_read_and_bad_ones_named() {
        let s = parse(
            "[business_hours]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nopen = \"09:00\"\nclose = \"17:30\"\n",
        );
        let h = s.business_hours.expect("set");
        assert_eq!(h.day_names(), vec!["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(h.open.format("%H:%M").to_string(), "09:00");
        let defaults = parse("[business_hours]\n").business_hours.expect("set");
        assert_eq!(defaults.day_names().len(), 6, "mon to sat");
        let message = parse_err("[business_hours]\nopen = \"18:00\"\nclose = \"08:00\"\n");
        assert!(
            message.starts_with("config: business_hours close"),
            "{message}"
        );
        let message = parse_err("[business_hours]\ndays = [\"funday\"]\n");
        assert!(message.contains("\"funday\" is not a day"), "{message}");
    }
}
