//! One outbox row as a Bot API request: the message read back from its payload, the
//! messages it refers to looked up, texts fitted to Telegram's limits, and the answer
//! classified (see [`super::errors`]).

use teloxide::prelude::*;
use teloxide::types::{InputFile, InputMedia, InputMediaPhoto, MessageId, ReplyParameters};
use teloxide::{ApiError, RequestError};

use super::Outbox;
use super::errors::{Outcome, classify};
use super::model::{Buttons, Outgoing, Target};

/// Telegram's limits, in UTF-16 code units.
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;

/// Telegram's answer to one request: the messages it made (or edited).
type Answer = Result<Vec<MessageId>, RequestError>;

impl Outbox {
    /// Sends (or edits) `msg` in `chat_id`. An `Err` is a fault on Butler's side (the
    /// store could not be read): the row fails for good, as a bad request does.
    pub(super) async fn deliver(
        &self,
        bot: &Bot,
        chat_id: i64,
        msg: &Outgoing,
    ) -> Result<Outcome, String> {
        let chat = ChatId(chat_id);
        let answer = match msg {
            Outgoing::Text {
                text,
                reply_to,
                buttons,
                ..
            } => {
                let reply = self.reply_parameters(chat_id, reply_to).await?;
                send_text(bot, chat, text, reply, buttons.as_ref()).await
            }
            Outgoing::Photo {
                file_id,
                caption,
                reply_to,
                ..
            } => {
                let reply = self.reply_parameters(chat_id, reply_to).await?;
                let photo = InputFile::file_id(file_id.clone().into());
                send_photo(bot, chat, photo, caption.as_deref(), reply).await
            }
            Outgoing::Album {
                file_ids,
                caption,
                reply_to,
                ..
            } => {
                let reply = self.reply_parameters(chat_id, reply_to).await?;
                send_album(bot, chat, file_ids, caption.as_deref(), reply).await
            }
            Outgoing::Edit {
                target,
                text,
                buttons,
                ..
            } => {
                let Some(message_id) = self.resolve(chat_id, target).await? else {
                    return Ok(Outcome::Failed(format!("edit target {target:?} not found")));
                };
                edit_text(bot, chat, message_id, text, buttons.as_ref()).await
            }
            Outgoing::Document {
                file,
                file_name,
                caption,
                ..
            }
            | Outgoing::PhotoFile {
                file,
                file_name,
                caption,
                ..
            } => {
                // Kept and uploaded alike; shown as a document or as a photo.
                let Some(input) = self.input_file(*file, file_name).await? else {
                    return Ok(Outcome::Failed(format!("outbox file {file} is gone")));
                };
                if matches!(msg, Outgoing::Document { .. }) {
                    send_document(bot, chat, input, caption.as_deref()).await
                } else {
                    send_photo(bot, chat, input, caption.as_deref(), None).await
                }
            }
        };
        Ok(classify(answer))
    }

    /// The bytes of an outbox file as an upload named `file_name`, if still kept.
    async fn input_file(&self, file: i64, file_name: &str) -> Result<Option<InputFile>, String> {
        let bytes = self
            .store
            .outbox_file(file)
            .await
            .map_err(|e| e.to_string())?;
        Ok(bytes.map(|b| InputFile::memory(b).file_name(file_name.to_owned())))
    }

    async fn reply_parameters(
        &self,
        chat_id: i64,
        target: &Option<Target>,
    ) -> Result<Option<ReplyParameters>, String> {
        let Some(target) = target else {
            return Ok(None);
        };
        // The chat of a reply is the chat of the message itself.
        let id = self.resolve(chat_id, target).await?;
        // Sent plainly when the message to reply to is gone.
        Ok(id.map(|id| ReplyParameters::new(id).allow_sending_without_reply()))
    }

    /// The id of the message `target` names in `chat_id`, if it is on record. A ticket
    /// whose card moved to another staff chat has a card in each: the one in this chat.
    async fn resolve(&self, chat_id: i64, target: &Target) -> Result<Option<MessageId>, String> {
        let found = match target {
            Target::Message(id) => return Ok(Some(MessageId(*id))),
            Target::Latest { ticket_id, kind } => {
                self.store
                    .latest_bot_message(chat_id, *ticket_id, *kind)
                    .await
            }
            Target::FollowUp { id } => self.store.follow_up_message(*id).await,
        };
        found.map(|o| o.map(MessageId)).map_err(|e| e.to_string())
    }
}

async fn send_text(
    bot: &Bot,
    chat: ChatId,
    text: &str,
    reply: Option<ReplyParameters>,
    buttons: Option<&Buttons>,
) -> Answer {
    let mut req = bot.send_message(chat, fit(text, TEXT_LIMIT));
    if let Some(reply) = reply {
        req = req.reply_parameters(reply);
    }
    if let Some(b) = buttons {
        req = req.reply_markup(b.markup());
    }
    req.await.map(|m| vec![m.id])
}

async fn send_photo(
    bot: &Bot,
    chat: ChatId,
    photo: InputFile,
    caption: Option<&str>,
    reply: Option<ReplyParameters>,
) -> Answer {
    let mut req = bot.send_photo(chat, photo);
    if let Some(c) = caption {
        req = req.caption(fit(c, CAPTION_LIMIT));
    }
    if let Some(reply) = reply {
        req = req.reply_parameters(reply);
    }
    req.await.map(|m| vec![m.id])
}

/// Photos as one album, the caption on the first.
async fn send_album(
    bot: &Bot,
    chat: ChatId,
    file_ids: &[String],
    caption: Option<&str>,
    reply: Option<ReplyParameters>,
) -> Answer {
    let media = file_ids.iter().enumerate().map(|(i, f)| {
        let mut p = InputMediaPhoto::new(InputFile::file_id(f.clone().into()));
        if i == 0
            && let Some(c) = caption
        {
            p = p.caption(fit(c, CAPTION_LIMIT));
        }
        InputMedia::Photo(p)
    });
    let mut req = bot.send_media_group(chat, media.collect::<Vec<_>>());
    if let Some(reply) = reply {
        req = req.reply_parameters(reply);
    }
    req.await.map(|ms| ms.into_iter().map(|m| m.id).collect())
}

/// An edit that changes nothing counts as done.
async fn edit_text(
    bot: &Bot,
    chat: ChatId,
    message_id: MessageId,
    text: &str,
    buttons: Option<&Buttons>,
) -> Answer {
    let mut req = bot.edit_message_text(chat, message_id, fit(text, TEXT_LIMIT));
    if let Some(b) = buttons {
        req = req.reply_markup(b.markup());
    }
    match req.await {
        Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(vec![message_id]),
        other => other.map(|m| vec![m.id]),
    }
}

async fn send_document(
    bot: &Bot,
    chat: ChatId,
    document: InputFile,
    caption: Option<&str>,
) -> Answer {
    let mut req = bot.send_document(chat, document);
    if let Some(c) = caption {
        req = req.caption(fit(c, CAPTION_LIMIT));
    }
    req.await.map(|m| vec![m.id])
}

/// A text Telegram accepts: within `limit` and never empty.
fn fit(text: &str, limit: usize) -> String {
    if text.trim().is_empty() {
        return "…".to_owned();
    }
    crate::domain::text::fit_utf16(text, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_fitted_to_telegrams_limits() {
        assert_eq!(fit("", TEXT_LIMIT), "…");
        assert_eq!(fit("  ", TEXT_LIMIT), "…");
        let long = "a".repeat(5000);
        assert_eq!(fit(&long, TEXT_LIMIT).encode_utf16().count(), TEXT_LIMIT);
    }
}
