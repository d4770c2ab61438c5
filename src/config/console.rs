//! `[console]`: where the web console listens and the address people reach it at.

use serde::{Deserialize, Serialize};

/// The web console (`crate::console`): the board, a ticket's story, figures, exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// `host:port` the console's HTTP server binds, e.g. `127.0.0.1:8090` (the default:
    /// a reverse proxy in front serves it to the world). Empty: Butler serves none.
    pub listen: String,
    /// The address people open, as the reverse proxy serves it, e.g.
    /// `https://butler.example.com` (sign-in links start with it). Empty: `http://` and
    /// `listen`. Telegram opens the console as a Mini App only from an `https://` address.
    pub public_url: String,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".into(),
            public_url: String::new(),
        }
    }
}

impl ConsoleSettings {
    /// The console's base address, without a trailing slash.
    pub fn base_url(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if url.is_empty() {
            format!("http://{}", self.listen.trim())
        } else {
            url.to_owned()
        }
    }

    /// Whether Telegram may open the console as a Mini App (it requires HTTPS).
    pub fn is_https(&self) -> bool {
        self.public_url.trim().starts_with("https://")
    }

    /// Whether there is a console to sign in to: served by Butler on `listen`, or by
    /// another server at `public_url` (the sandbox serves it on its own port).
    pub fn enabled(&self) -> bool {
        self.serves() || !self.public_url.trim().is_empty()
    }

    /// Whether Butler starts the console's server on `listen`.
    pub fn serves(&self) -> bool {
        !self.listen.trim().is_empty()
    }
}
