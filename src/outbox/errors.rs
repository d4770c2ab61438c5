//! What Telegram's answer to a send means for the row: sent, wait and retry (429's
//! `retry_after`; 5xx and network faults with a growing back-off), failed for good (a bad
//! request), the chat unreachable (403: blocked, kicked), or the group moved
//! (`migrate_to_chat_id`). Answers teloxide has no variant for arrive as
//! [`ApiError::Unknown`] and are told apart by their description.

use std::time::Duration;

use teloxide::types::MessageId;
use teloxide::{ApiError, RequestError};

/// What one delivery attempt came to.
pub(super) enum Outcome {
    Sent(Vec<MessageId>),
    /// Telegram said how long to wait (429); later messages to the chat wait too.
    RetryAfter(Duration, String),
    /// A passing fault (5xx, network): try again with a growing back-off.
    Transient(String),
    /// Never going to work (bad request): recorded and dropped.
    Failed(String),
    /// The chat will not take messages from the bot any more (blocked, kicked).
    Unreachable(String),
    /// The group became a supergroup with this id: move it and send there.
    Migrated(i64),
}

pub(super) fn classify(result: Result<Vec<MessageId>, RequestError>) -> Outcome {
    match result {
        Ok(ids) => Outcome::Sent(ids),
        Err(RequestError::RetryAfter(secs)) => {
            Outcome::RetryAfter(secs.duration(), "429 retry_after".into())
        }
        Err(RequestError::MigrateToChatId(to)) => Outcome::Migrated(to.0),
        Err(e @ (RequestError::Network(_) | RequestError::Io(_))) => {
            Outcome::Transient(e.to_string())
        }
        Err(RequestError::Api(
            e @ (ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound),
        )) => Outcome::Unreachable(e.to_string()),
        Err(RequestError::Api(ApiError::Unknown(text))) if looks_unreachable(&text) => {
            Outcome::Unreachable(text)
        }
        Err(RequestError::Api(ApiError::Unknown(text))) if looks_transient(&text) => {
            Outcome::Transient(text)
        }
        Err(RequestError::InvalidJson { raw, .. }) => {
            // A proxy's HTML error page during an outage, not Telegram's answer.
            Outcome::Transient(format!(
                "invalid answer: {}",
                crate::domain::text::shorten(&raw, 80)
            ))
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Answers teloxide has no variant for, seen from Telegram.
fn looks_unreachable(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.starts_with("forbidden:")
        && (t.contains("kicked")
            || t.contains("blocked")
            || t.contains("can't initiate")
            || t.contains("not a member")
            || t.contains("deactivated"))
}

fn looks_transient(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "internal server error",
        "bad gateway",
        "gateway",
        "service unavailable",
        "too many requests",
        "timeout",
        "restart",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// 1, 2, 4 … seconds after each failed attempt, at most a minute.
pub(super) fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 6)).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::ChatId;

    #[test]
    fn transient_faults_back_off_up_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }

    #[test]
    fn errors_are_sorted_into_retry_unreachable_and_failed() {
        let kicked = Err(RequestError::Api(ApiError::Unknown(
            "Forbidden: bot was kicked from the group chat".into(),
        )));
        assert!(matches!(classify(kicked), Outcome::Unreachable(_)));
        assert!(matches!(
            classify(Err(RequestError::Api(ApiError::BotBlocked))),
            Outcome::Unreachable(_)
        ));
        let gateway = Err(RequestError::Api(ApiError::Unknown("Bad Gateway".into())));
        assert!(matches!(classify(gateway), Outcome::Transient(_)));
        let retry = Err(RequestError::RetryAfter(
            teloxide::types::Seconds::from_seconds(7),
        ));
        assert!(
            matches!(classify(retry), Outcome::RetryAfter(d, _) if d == Duration::from_secs(7))
        );
        assert!(matches!(
            classify(Err(RequestError::MigrateToChatId(ChatId(-100123)))),
            Outcome::Migrated(-100123)
        ));
        let bad = Err(RequestError::Api(ApiError::MessageTextIsEmpty));
        assert!(matches!(classify(bad), Outcome::Failed(_)));
    }
}
