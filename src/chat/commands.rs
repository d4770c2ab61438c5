//! The commands of the design's command table, one enum per audience (the names, the chat
//! each belongs in and the menus are in [`super::command_table`]). Arguments arrive as
//! text and are parsed into domain types by the handler, so that a bad argument gets a
//! localized answer instead of silence.

use teloxide::macros::BotCommands;
use teloxide::prelude::*;
use teloxide::types::Message;

pub use super::command_table::Place;
use super::command_table::misused_key;
use super::{AppRef, HandlerResult, answer_once, hint};
use crate::i18n::Locale;

/// Owner group commands (owners).
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum OwnerCommand {
    /// Report a repair: /repair <what is wrong>
    Repair(String),
    /// Same as /repair.
    Report(String),
    /// A complaint, for the managers only: /complain <what happened>
    Complain(String),
    /// A suggestion for the managers: /suggest <idea>
    Suggest(String),
    /// Set your unit: /unit 3-1201
    Unit(String),
    /// Your tickets.
    My,
    /// Withdraw your report: /cancel 12
    Cancel(String),
    Help,
}

/// Owner group administration (managers, in any group).
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum GroupAdminCommand {
    Register(String),
    Unregister,
    Lang(String),
}

/// Staff chat commands.
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum StaffCommand {
    /// `/open [category | @username | unassigned]`.
    Open(String),
    Mine,
    Take(String),
    Done(String),
    Reopen(String),
    Category(String),
    Note(String),
    /// `/urgency N A|B|C`.
    Urgency(String),
    /// `/pause N <reason>`: the ticket waits, its clocks stand still.
    Pause(String),
    /// `/resume N`: a paused ticket runs again.
    Resume(String),
    /// `/stats [days]` or `/stats chart`.
    Stats(String),
    /// `/export [days]`: an XLSX file.
    Export(String),
    Help,
}

/// Manager commands, in the staff chat or privately.
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum ManagerCommand {
    Watch(String),
    Unwatch(String),
    /// Post today's morning greeting here, as the first owner group reads it (a preview).
    Greet,
    /// Post today's summary here (staff may ask in the staff chat too).
    Summary,
    /// Broadcast a notice to every owner group, after a confirmation: /notice <text>
    Notice(String),
}

/// Dispatch: the roster and who holds which ticket, in the staff chat or privately (the
/// handler checks who may: staff, managers, dispatchers).
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum DispatchCommand {
    /// The roster: people, their trades and open tickets.
    Staff,
    /// `/trades @username <categories>` (managers).
    Trades(String),
    /// `/assign N @username [note]` (managers, dispatchers).
    Assign(String),
    /// `/transfer N @username [reason]` (the holder, managers).
    Transfer(String),
    /// `/return N <reason>` (the holder).
    Return(String),
}

/// Looking tickets up (staff and managers, in the staff chat or privately).
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum LookupCommand {
    /// One ticket's story: /ticket N
    Ticket(String),
    /// Search tickets: /find <words or a unit>
    Find(String),
}

/// Private chat commands.
#[derive(BotCommands, Clone, Debug)]
#[command(rename_rule = "lowercase")]
pub enum PrivateCommand {
    Start,
    Help,
    My,
    /// A one-time sign-in link to the web console (staff and managers).
    Console,
}

/// The command word of a message (`/take@ButlerBot 4` → `take`), and whether it names
/// this bot explicitly.
fn command_word(msg: &Message, me: &teloxide::types::Me) -> Option<(String, bool)> {
    let text = msg.text().or(msg.caption())?;
    let word = text.strip_prefix('/')?.split_whitespace().next()?;
    let (name, addressed) = match word.split_once('@') {
        Some((n, bot)) => {
            if !me
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(bot))
            {
                return None; // another bot's command
            }
            (n, true)
        }
        None => (word, false),
    };
    Some((name.to_lowercase(), addressed))
}

/// The last branch of each audience: a command that is Butler's but not for this chat,
/// or that did not parse, gets an answer; anything else is left alone. In a private chat
/// the answer is a hint (one per `limits.hint_minutes`, shared with the chatter hint);
/// in a group, the same answer to the same person is not repeated within
/// `limits.repeat_minutes`.
pub async fn fallback(
    bot: Bot,
    app: AppRef,
    msg: Message,
    me: teloxide::types::Me,
    place: Place,
    locale: Locale,
) -> HandlerResult {
    let Some((name, addressed)) = command_word(&msg, &me) else {
        return Ok(());
    };
    let Some(key) = misused_key(&name, place, addressed) else {
        return Ok(());
    };
    let args = [("command", name.as_str())];
    if place == Place::Private {
        hint(&app, &bot, &msg, locale, key, &args).await
    } else {
        answer_once(&app, &bot, &msg, locale, key, &args).await
    }
}
