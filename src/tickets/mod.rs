//! The ticket use cases: every change to a ticket, whoever asks for it — a chat handler,
//! a button, a scheduled job or the web console.
//!
//! Each use case takes the open transaction, the settings, the person asking (a
//! `domain::Actor`), a parsed request of plain values and the time. It checks the rule in
//! `domain`, writes the state change, its event rows and the outbox rows of the messages
//! it causes through that one [`Tx`], and returns what changed. The caller commits (and
//! flushes the outbox); a refusal ([`Error::Refused`]) is the caller's to answer, and the
//! transaction is then dropped, so nothing of the refused request stays.
//!
//! Uses `domain`, `store`, `config`, `i18n`, the outbox's message model and `messages`.
//! Nothing here knows teloxide's updates (`Message`, `CallbackQuery`, `User`) or the
//! `App`: requests carry chat and message ids, texts and photo file ids.

mod cancel;
mod details;
mod dispatch;
mod follow_up;
mod pause;
mod rating;
mod report;
mod requests;
mod routing;
mod urgency;
mod work;

pub use cancel::cancel;
pub use details::{Detail, add_detail, comment_low_score};
pub use dispatch::{Handed, Handover, assign, give_back, transfer};
pub use follow_up::{close_follow_up, rerate, tell_owner};
pub use pause::{pause, resume};
pub use rating::{Rate, expire_rating, not_fixed, rate};
pub use report::{Report, edit_report, report};
pub use requests::{Answer, answer_request, close_request, request_chats};
pub use routing::{check_place, route_of};
pub use urgency::set_urgency;
pub use work::{Finish, Progress, add_note, finish, progress, reopen, set_category, take};

use chrono::{DateTime, Utc};

use crate::domain::{self, Ticket, TicketId};
use crate::i18n::{self, Locale};
use crate::outbox::Outgoing;
use crate::store::{self, PhotoKind, Tx};

/// A request that was refused (the asker's to read) or failed (ours to log).
#[derive(Debug)]
pub enum Error {
    /// The rule said no; nothing was written. Maps to a locale key the asker reads.
    Refused(domain::Error),
    Store(store::Error),
}

impl From<domain::Error> for Error {
    fn from(e: domain::Error) -> Self {
        Error::Refused(e)
    }
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        Error::Store(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The chat message a request came in: answers go under it, in the asker's language, and
/// a message delivered twice is recorded once.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub chat_id: i64,
    pub message_id: i32,
    /// The language to answer in.
    pub locale: Locale,
}

impl Origin {
    /// A localized answer under the asking message.
    pub fn answer(&self, key: &str, args: &[(&str, &str)]) -> Outgoing {
        crate::messages::reply(
            self.chat_id,
            self.message_id,
            i18n::t(self.locale, key, args),
        )
    }

    /// The asking message as (chat, message), how the store knows a message it recorded.
    pub fn source(&self) -> (i64, i32) {
        (self.chat_id, self.message_id)
    }
}

/// A photo sent with a request.
#[derive(Debug, Clone)]
pub struct Photo {
    /// Telegram's file id of its largest size.
    pub file_id: String,
    /// The message it came in, as (chat, message).
    pub source: (i64, i32),
    /// The album it belongs to, if any.
    pub media_group: Option<String>,
}

/// Reads a ticket inside a change, or refuses with "unknown ticket".
pub async fn fetch(tx: &mut Tx<'_>, id: TicketId) -> Result<Ticket> {
    tx.ticket(id)
        .await?
        .ok_or(Error::Refused(domain::Error::UnknownTicket(id.0)))
}

/// Records `photo` as `kind` on ticket `id`; false if its message was recorded before.
async fn record_photo(
    tx: &mut Tx<'_>,
    id: TicketId,
    photo: &Photo,
    kind: PhotoKind,
    by: u64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (chat_id, message_id) = photo.source;
    Ok(tx
        .add_photo(
            id,
            &photo.file_id,
            kind,
            by,
            chat_id,
            message_id,
            photo.media_group.as_deref(),
            now,
        )
        .await?)
}
