//! The languages Butler speaks: a value of the domain (a ticket keeps its owner's),
//! below `i18n`, which holds the texts in each.

use std::fmt;
use std::str::FromStr;

/// A language Butler speaks. Parsed from `zh-CN` / `en` (and Telegram's `zh-hans`, `en-US` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Locale {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Telegram's `language_code` of a user (`zh-hans`, `en`, `de` …), if we speak it.
    pub fn from_telegram(code: Option<&str>) -> Option<Locale> {
        let code = code?.to_ascii_lowercase();
        if code.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if code.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Locale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" | "cn" => Ok(Locale::ZhCn),
            "en" => Ok(Locale::En),
            other => Err(format!("unknown locale {other:?}: use zh-CN or en")),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Locale {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_language_codes_map_to_locales() {
        assert_eq!(Locale::from_telegram(Some("zh-hans")), Some(Locale::ZhCn));
        assert_eq!(Locale::from_telegram(Some("en-US")), Some(Locale::En));
        assert_eq!(Locale::from_telegram(Some("de")), None);
    }
}
