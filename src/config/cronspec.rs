//! [`CronSpec`]: a schedule of `[schedule]`, parsed once and kept with its source text.

use std::fmt;
use std::str::FromStr;

/// A parsed cron expression (seconds first, as the `cron` crate reads it) that keeps
/// its source text.
#[derive(Debug, Clone)]
pub struct CronSpec {
    source: String,
    schedule: cron::Schedule,
}

impl CronSpec {
    /// Parses an expression such as `"0 0 18 * * *"` (sec min hour day-of-month month
    /// day-of-week, optionally year). The error is the `cron` crate's explanation.
    pub fn parse(s: &str) -> Result<Self, String> {
        let source = s.trim();
        let schedule = cron::Schedule::from_str(source)
            .map_err(|e| one_line_cron_error(source, &e.to_string()))?;
        Ok(Self {
            source: source.to_owned(),
            schedule,
        })
    }

    /// The expression as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parsed schedule, for computing the next run.
    pub fn schedule(&self) -> &cron::Schedule {
        &self.schedule
    }
}

/// The `cron` crate explains an error in three lines: the expression, a caret under
/// the fault and a message (sometimes empty). Keep the message, or say where it failed.
fn one_line_cron_error(source: &str, error: &str) -> String {
    let mut lines = error.lines().skip(1);
    let caret = lines.next().and_then(|line| line.find('^'));
    let message = lines.collect::<Vec<_>>().join(" ");
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match caret {
        _ if !message.is_empty() => message,
        Some(at) if at >= source.len() => {
            "the expression ends too early (it needs 6 fields, or 7 with a year)".to_owned()
        }
        Some(at) => format!("unexpected text at character {}", at + 1),
        None => error.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Two specs are equal when they were written the same way.
impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
