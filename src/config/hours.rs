//! `[business_hours]` (the office's working days and hours, for the SLA clocks of B and
//! C repairs) and the dates of `[holidays]`, on which it is closed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings};
use crate::domain::calendar::{BusinessHours, Calendar};

impl Settings {
    /// When the office is open, for the SLA clocks.
    pub fn calendar(&self) -> Calendar<'_> {
        Calendar {
            hours: self.business_hours.as_ref(),
            holidays: &self.holidays,
            zone: self.timezone,
        }
    }
}

/// `[business_hours]` as written. A table with keys left out: Monday to Saturday,
/// 08:30 to 18:00.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawBusinessHours {
    days: Vec<String>,
    open: String,
    close: String,
}

impl Default for RawBusinessHours {
    fn default() -> Self {
        Self {
            days: ["mon", "tue", "wed", "thu", "fri", "sat"]
                .map(String::from)
                .to_vec(),
            open: "08:30".into(),
            close: "18:00".into(),
        }
    }
}

impl From<&BusinessHours> for RawBusinessHours {
    fn from(h: &BusinessHours) -> Self {
        Self {
            days: h.day_names(),
            open: h.open.format("%H:%M").to_string(),
            close: h.close.format("%H:%M").to_string(),
        }
    }
}

/// The table parsed; `None` (no table): always open.
pub(super) fn parse(raw: Option<&RawBusinessHours>) -> Result<Option<BusinessHours>, ConfigError> {
    raw.map(|h| BusinessHours::parse(&h.days, &h.open, &h.close))
        .transpose()
        .map_err(|problem| ConfigError::BusinessHours { problem })
}

/// `"MM-DD"` or `"YYYY-MM-DD"`, zero-padded, naming a real date (`"02-29"` is allowed).
pub(super) fn is_holiday_key(key: &str) -> bool {
    let full = match key.len() {
        5 => format!("2000-{key}"),
        10 => key.to_owned(),
        _ => return false,
    };
    let shaped = full.bytes().enumerate().all(|(i, b)| {
        if i == 4 || i == 7 {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    shaped && NaiveDate::parse_from_str(&full, "%Y-%m-%d").is_ok()
}
