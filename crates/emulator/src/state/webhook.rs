//! The webhook a bot sets, as Telegram keeps it: `setWebhook`, `deleteWebhook` and
//! `getWebhookInfo`; while one is set, `getUpdates` answers 409 and the updates are posted
//! to it instead (by `crate::webhook`, one at a time, in order, retried with a growing
//! pause after a failure). Here: what is set, which update goes next and when, and the
//! record of every attempt.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use super::{State, unix_now};

/// The webhook set by `setWebhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub url: String,
    /// Sent in `X-Telegram-Bot-Api-Secret-Token` with every delivery.
    pub secret_token: Option<String>,
}

/// One attempt to post an update to the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub update_id: i32,
    /// Since the emulator started, when the attempt began.
    pub at: Duration,
    /// The bot's HTTP status; `None` when it never answered (refused, cut, timed out).
    pub status: Option<u16>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
}

impl Delivery {
    /// Telegram takes any 2xx as delivered.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// An update to post now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Due {
    pub url: String,
    pub secret_token: Option<String>,
    pub update_id: i32,
    pub body: String,
}

/// What the delivery task should do next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    Post(Due),
    /// Nothing to post until this time (a pause after a failure) or a change.
    WaitUntil(Instant),
    /// Nothing to post until something changes.
    Wait,
}

#[derive(Debug, Default)]
pub(crate) struct WebhookState {
    pub hook: Option<Webhook>,
    pub deliveries: Vec<Delivery>,
    /// (unix time, message) of the last failed attempt, as `getWebhookInfo` tells it.
    pub last_error: Option<(i64, String)>,
    /// Failed attempts in a row; the pause before the next one doubles with each.
    pub failures: u32,
    pub retry_at: Option<Instant>,
    /// A driver's fault: the next this many 2xx answers are lost on the way back, so the
    /// update is delivered again.
    pub lose_answers: u32,
}

impl State {
    /// The webhook set, if any.
    pub fn webhook(&self) -> Option<&Webhook> {
        self.webhook.hook.as_ref()
    }

    /// Every attempt to post an update, in order.
    pub fn deliveries(&self) -> &[Delivery] {
        &self.webhook.deliveries
    }

    /// The next `n` answers to a delivery are lost: Telegram retries updates the bot
    /// already stored (and may have handled).
    pub fn lose_webhook_answers(&mut self, n: u32) {
        self.webhook.lose_answers += n;
    }

    /// Sets the webhook (the API checked it); with `drop_pending`, what waits is dropped.
    pub(crate) fn install_webhook(&mut self, hook: Webhook, drop_pending: bool) {
        self.remove_webhook(drop_pending);
        self.webhook.hook = Some(hook);
        self.webhook.failures = 0;
    }

    /// Removes the webhook; with `drop_pending`, what waits is dropped.
    pub(crate) fn remove_webhook(&mut self, drop_pending: bool) {
        if drop_pending {
            let next = self.next_update_id as i64;
            self.confirm(next);
        }
        self.webhook.hook = None;
        self.webhook.retry_at = None;
    }

    pub(crate) fn webhook_info(&self) -> Value {
        let mut info = json!({
            "url": self.webhook.hook.as_ref().map_or("", |h| h.url.as_str()),
            "has_custom_certificate": false,
            "pending_update_count": self.updates.len(),
            "max_connections": 1,
        });
        if let Some((date, message)) = &self.webhook.last_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
        if let Some(allowed) = &self.allowed_updates {
            info["allowed_updates"] = json!(allowed);
        }
        info
    }

    /// What to post next: the oldest pending update, unless a pause after a failure runs.
    pub(crate) fn next_delivery(&self, now: Instant) -> Next {
        let (Some(hook), Some(update)) = (&self.webhook.hook, self.updates.front()) else {
            return Next::Wait;
        };
        match self.webhook.retry_at {
            Some(at) if at > now => Next::WaitUntil(at),
            _ => Next::Post(Due {
                url: hook.url.clone(),
                secret_token: hook.secret_token.clone(),
                update_id: update.id,
                body: update.json.to_string(),
            }),
        }
    }

    /// Records an attempt. A 2xx confirms the update (unless a lost answer was asked for);
    /// anything else pauses deliveries: `retry_initial`, doubled per failure in a row, at
    /// most `retry_max`.
    pub(crate) fn delivered(&mut self, due: &Due, result: Result<u16, String>, began: Instant) {
        let result = match result {
            Ok(status) if (200..300).contains(&status) && self.webhook.lose_answers > 0 => {
                self.webhook.lose_answers -= 1;
                Err((
                    Some(status),
                    "the answer was lost on the way back".to_owned(),
                ))
            }
            Ok(status) if (200..300).contains(&status) => Ok(status),
            Ok(status) => Err((
                Some(status),
                format!("Wrong response from the webhook: {status}"),
            )),
            Err(why) => Err((None, why)),
        };
        let at = began.saturating_duration_since(self.started);
        match result {
            Ok(status) => {
                self.webhook.deliveries.push(Delivery {
                    update_id: due.update_id,
                    at,
                    status: Some(status),
                    error: None,
                });
                self.webhook.failures = 0;
                self.webhook.retry_at = None;
                if self.updates.front().is_some_and(|u| u.id == due.update_id) {
                    self.updates.pop_front();
                    self.confirmed_offset = self.confirmed_offset.max(due.update_id + 1);
                }
            }
            Err((status, why)) => {
                self.webhook.deliveries.push(Delivery {
                    update_id: due.update_id,
                    at,
                    status,
                    error: Some(why.clone()),
                });
                self.webhook.last_error = Some((unix_now(), why));
                let doublings = self.webhook.failures.min(16);
                self.webhook.failures += 1;
                let pause = self
                    .options
                    .webhook_retry_initial
                    .saturating_mul(1 << doublings)
                    .min(self.options.webhook_retry_max);
                self.webhook.retry_at = Some(Instant::now() + pause);
            }
        }
    }
}
