//! The settings that bound what Butler keeps and says: `[limits]` and `[retention]`.

use serde::{Deserialize, Serialize};

/// How often Butler answers the same thing to the same person (see `crate::limiter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Minutes between two hints to one person in one chat (what to write instead: the
    /// private-chat hint, a command that belongs elsewhere, an unknown command).
    pub hint_minutes: u32,
    /// Minutes within which the same refusal or usage line to the same person in the
    /// same chat is said once.
    pub repeat_minutes: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            hint_minutes: 5,
            repeat_minutes: 5,
        }
    }
}

/// How long what Telegram sent and what Butler sent are kept (tickets are kept for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days a handled update (as Telegram sent it, group chatter included) is kept.
    pub inbox_days: u32,
    /// Days a sent or failed outgoing message is kept.
    pub outbox_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            inbox_days: 7,
            outbox_days: 14,
        }
    }
}
