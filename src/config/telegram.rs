//! `[telegram]`: how updates arrive. Long polling (the default) needs nothing; a webhook
//! needs the public URL Telegram posts to, the address Butler listens on behind it, and
//! the secret every delivery must carry.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// How Butler hears from Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateMode {
    /// Butler asks (`getUpdates`); works behind any firewall.
    #[default]
    Polling,
    /// Telegram posts each update to [`TelegramSettings::webhook_url`].
    Webhook,
}

impl UpdateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateMode::Polling => "polling",
            UpdateMode::Webhook => "webhook",
        }
    }
}

/// `[telegram]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramSettings {
    pub mode: UpdateMode,
    /// The URL Telegram posts updates to: `https://…` (Telegram accepts nothing else), or
    /// `http://` to the loopback address (127.0.0.1, ::1, localhost) for a Bot API server
    /// on the same machine, such as the emulator. Required in webhook mode.
    pub webhook_url: Option<String>,
    /// Where Butler's webhook server listens (behind the reverse proxy that ends HTTPS).
    pub listen: SocketAddr,
    /// What every delivery must carry in `X-Telegram-Bot-Api-Secret-Token`: 1 to 256 of
    /// `A-Z a-z 0-9 _ -`. Required in webhook mode.
    pub secret_token: Option<String>,
}

impl TelegramSettings {
    /// In webhook mode, the URL and the secret (checked by [`super::Settings::validate_for_run`]).
    pub fn webhook(&self) -> Option<(&str, &str)> {
        match (self.mode, &self.webhook_url, &self.secret_token) {
            (UpdateMode::Webhook, Some(url), Some(secret)) => Some((url, secret)),
            _ => None,
        }
    }

    /// What webhook mode needs and is missing.
    pub(super) fn check_for_run(&self) -> Result<(), ConfigError> {
        if self.mode != UpdateMode::Webhook {
            return Ok(());
        }
        let missing = |key: &'static str, what: &str| ConfigError::Telegram {
            key,
            problem: format!("is required with mode = \"webhook\" ({what})"),
        };
        if self.webhook_url.is_none() {
            return Err(missing(
                "webhook_url",
                "e.g. https://butler.example.com/telegram",
            ));
        }
        if self.secret_token.is_none() {
            return Err(missing("secret_token", "1 to 256 of A-Z a-z 0-9 _ -"));
        }
        Ok(())
    }
}

const DEFAULT_LISTEN: &str = "127.0.0.1:8088";

/// `[telegram]` as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawTelegram {
    mode: String,
    webhook_url: String,
    listen: String,
    secret_token: String,
}

impl Default for RawTelegram {
    fn default() -> Self {
        Self {
            mode: UpdateMode::Polling.as_str().into(),
            webhook_url: String::new(),
            listen: DEFAULT_LISTEN.into(),
            secret_token: String::new(),
        }
    }
}

impl TryFrom<&RawTelegram> for TelegramSettings {
    type Error = ConfigError;

    fn try_from(raw: &RawTelegram) -> Result<Self, ConfigError> {
        let bad = |key: &'static str, problem: &str| ConfigError::Telegram {
            key,
            problem: problem.to_owned(),
        };
        let mode = match raw.mode.trim().to_ascii_lowercase().as_str() {
            "polling" => UpdateMode::Polling,
            "webhook" => UpdateMode::Webhook,
            _ => return Err(bad("mode", "must be \"polling\" or \"webhook\"")),
        };
        let listen = raw.listen.trim().parse::<SocketAddr>().map_err(|_| {
            bad(
                "listen",
                "is not an address with a port (e.g. \"127.0.0.1:8088\")",
            )
        })?;
        let webhook_url = match raw.webhook_url.trim() {
            "" => None,
            url => Some(check_url(url).map_err(|p| bad("webhook_url", &p))?),
        };
        let secret_token = match raw.secret_token.as_str() {
            "" => None,
            s if s.len() <= 256
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Some(s.to_owned())
            }
            _ => {
                return Err(bad(
                    "secret_token",
                    "must be 1 to 256 characters, each A-Z, a-z, 0-9, _ or - (Telegram's rule)",
                ));
            }
        };
        Ok(Self {
            mode,
            webhook_url,
            listen,
            secret_token,
        })
    }
}

/// The secret is never shown: `check-config` prints `***` for it.
impl From<&TelegramSettings> for RawTelegram {
    fn from(s: &TelegramSettings) -> Self {
        Self {
            mode: s.mode.as_str().into(),
            webhook_url: s.webhook_url.clone().unwrap_or_default(),
            listen: s.listen.to_string(),
            secret_token: s
                .secret_token
                .as_ref()
                .map(|_| "***".into())
                .unwrap_or_default(),
        }
    }
}

/// An absolute `https://host[:port]/path` URL, or `http://` to the loopback address.
fn check_url(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("is not an absolute URL (e.g. \"https://butler.example.com/telegram\")")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() || url.chars().any(char::is_whitespace) || authority.contains('@') {
        return Err(
            "is not a URL with a host (e.g. \"https://butler.example.com/telegram\")".into(),
        );
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(url.to_owned()),
        "http" if ["127.0.0.1", "::1", "localhost"].contains(&host) => Ok(url.to_owned()),
        "http" => Err(
            "must be https:// (Telegram posts nowhere else); http:// only to 127.0.0.1 for a \
             local Bot API server"
                .into(),
        ),
        _ => Err("must be an https:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<TelegramSettings, ConfigError> {
        let raw: RawTelegram = toml::from_str(toml_text).unwrap();
        TelegramSettings::try_from(&raw)
    }

    #[test]
    fn polling_is_the_default_and_needs_nothing_else() {
        let s = parse("").unwrap();
        assert_eq!(s.mode, UpdateMode::Polling);
        assert!(s.check_for_run().is_ok());
        assert_eq!(s.webhook(), None);
    }

    #[test]
    fn webhook_mode_requires_the_url_and_the_secret() {
        let no_url = parse("mode = \"webhook\"\nsecret_token = \"abc\"").unwrap();
        assert!(
            no_url
                .check_for_run()
                .unwrap_err()
                .to_string()
                .contains("webhook_url")
        );
        let no_secret = parse("mode = \"webhook\"\nwebhook_url = \"https://x.org/t\"").unwrap();
        let e = no_secret.check_for_run().unwrap_err().to_string();
        assert!(e.contains("telegram.secret_token"), "{e}");
        let whole = parse(
            "mode = \"webhook\"\nwebhook_url = \"https://x.org/t\"\nsecret_token = \"a-b_C9\"\nlisten = \"0.0.0.0:9000\"",
        )
        .unwrap();
        assert!(whole.check_for_run().is_ok());
        assert_eq!(whole.webhook(), Some(("https://x.org/t", "a-b_C9")));
        assert_eq!(whole.listen.port(), 9000);
    }

    #[test]
    fn a_secret_outside_telegrams_alphabet_or_length_is_refused() {
        for bad in ["has space", "slash/", "ü", &"a".repeat(257)] {
            let e = parse(&format!("secret_token = {bad:?}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("telegram.secret_token"), "{bad}: {e}");
        }
        assert!(parse(&format!("secret_token = {:?}", "a".repeat(256))).is_ok());
    }

    #[test]
    fn the_url_is_https_or_http_to_the_loopback_address() {
        for good in [
            "https://butler.example.com/telegram",
            "https://1.2.3.4:8443/x",
            "http://127.0.0.1:8088/telegram",
            "http://[::1]:8088/",
            "http://localhost:1/",
        ] {
            assert!(parse(&format!("webhook_url = {good:?}")).is_ok(), "{good}");
        }
        for bad in [
            "http://butler.example.com/telegram",
            "ftp://x.org/",
            "butler.example.com",
            "https:///path",
            "https://user@x.org/",
        ] {
            let e = parse(&format!("webhook_url = {bad:?}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("telegram.webhook_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn mode_and_listen_are_checked() {
        assert!(
            parse("mode = \"push\"")
                .unwrap_err()
                .to_string()
                .contains("telegram.mode")
        );
        assert!(
            parse("listen = \"8088\"")
                .unwrap_err()
                .to_string()
                .contains("telegram.listen")
        );
    }

    #[test]
    fn the_secret_is_never_rendered() {
        let s = parse("secret_token = \"very-secret\"").unwrap();
        let raw = RawTelegram::from(&s);
        assert_eq!(raw.secret_token, "***");
        assert_eq!(RawTelegram::from(&parse("").unwrap()).secret_token, "");
    }
}
