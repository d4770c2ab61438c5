//! The rules of the product, free of Telegram and SQL: what a ticket is, which moves it
//! may make and who may make them, and the small types that parse user input once.

pub mod calendar;
pub mod callback;
pub mod category;
pub mod daily;
pub mod dispatch;
pub mod event;
pub mod figures;
pub mod image;
pub mod kind;
pub mod kind_figures;
pub mod locale;
pub mod pause;
pub mod rating;
pub mod search;
pub mod sla;
pub mod story;
pub mod text;
pub mod ticket;
pub mod unit;

pub use callback::CardAction;
pub use category::Category;
pub use event::EventKind;
pub use kind::{Kind, Urgency};
pub use locale::Locale;
pub use rating::Score;
pub use search::SearchQuery;
pub use story::{Story, StoryEvent, StoryFollowUp};
pub use text::ReportText;
pub use ticket::{Actor, Ticket, TicketId, TicketStatus};
pub use unit::Unit;

/// Why a request was refused. Each variant is the user's to read: it maps to a locale key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("the report text is empty")]
    EmptyReport,
    #[error("not a ticket number: {0:?}")]
    BadTicketId(String),
    #[error("ticket #{0} does not exist")]
    UnknownTicket(i64),
    #[error("not a unit: {0:?}")]
    BadUnit(String),
    #[error("score {0} is not between 1 and 5")]
    ScoreOutOfRange(u8),
    #[error("unknown category {0:?}")]
    UnknownCategory(String),
    #[error("ticket is already taken by {by}")]
    AlreadyTaken { by: String },
    #[error("ticket is already yours")]
    AlreadyYours,
    #[error("ticket has not been taken")]
    NotTaken,
    #[error("ticket is taken by someone else ({by})")]
    NotYourTicket { by: String },
    #[error("a photo since taking the ticket is required to close it")]
    PhotoRequired,
    #[error("ticket is already done")]
    AlreadyDone,
    #[error("ticket is closed")]
    Closed,
    #[error("ticket is not done, so it cannot be reopened")]
    NotDone,
    #[error("only the owner who reported can rate")]
    NotTheReporter,
    #[error("this rating question is no longer open")]
    RatingNotOpen,
    #[error("the rating question expired unanswered")]
    RatingClosed,
    #[error("empty note")]
    EmptyNote,
    #[error("only managers may do this")]
    ManagersOnly,
    #[error("only managers may reopen a rated ticket")]
    RatedReopenManagersOnly,
    #[error("only current members of the staff chat may do this")]
    NotStaff,
    #[error("not a number of days: {0:?}")]
    BadDays(String),
    #[error("not an urgency level: {0:?}")]
    BadUrgency(String),
    #[error("ticket #{0} is a complaint or suggestion, for the managers")]
    ForManagers(i64),
    #[error("ticket #{0} is a repair, handled by the staff")]
    NotARequest(i64),
    #[error("no staff member known as {0:?}")]
    UnknownStaff(String),
    #[error("only the owner who reported may withdraw the report")]
    NotYourReport,
    #[error("the ticket is finished and can no longer be withdrawn")]
    FinishedCannotCancel,
    #[error("the report was already withdrawn")]
    AlreadyCancelled,
    #[error("only managers and dispatchers may assign")]
    DispatchersOnly,
    #[error("only the holder ({by}) or a manager may do this")]
    HolderOrManager { by: String },
    #[error("only the holder may return a ticket")]
    HolderOnly,
    #[error("the ticket is already held by {by}")]
    AlreadyHeld { by: String },
    #[error("a reason is needed")]
    ReasonNeeded,
    #[error("ticket is already paused")]
    AlreadyPaused,
    #[error("ticket is not paused")]
    NotPaused,
    #[error("only the one who took the ticket, or a manager, may pause or resume it")]
    NotYourPause,
    #[error("the ticket belongs to the staff chat {chat}")]
    OtherStaffChat { chat: String },
    #[error("only the owner who reported may hurry the ticket up")]
    NotYourHurry,
    #[error("the ticket is paused")]
    HurryPaused,
    #[error("no promised time has passed yet")]
    HurryNotDue,
    #[error("hurried up less than an hour ago; again in {minutes} minutes")]
    HurryTooSoon { minutes: i64 },
}

impl Error {
    /// The locale key of the message the user reads.
    pub fn locale_key(&self) -> &'static str {
        match self {
            Error::EmptyReport => "error.empty_report",
            Error::BadTicketId(_) => "error.bad_ticket_id",
            Error::UnknownTicket(_) => "error.unknown_ticket",
            Error::BadUnit(_) => "error.bad_unit",
            Error::ScoreOutOfRange(_) => "error.stale_button",
            Error::UnknownCategory(_) => "error.unknown_category",
            Error::AlreadyTaken { .. } => "error.already_taken",
            Error::AlreadyYours => "error.already_yours",
            Error::NotTaken => "error.not_taken",
            Error::NotYourTicket { .. } => "error.not_your_ticket",
            Error::PhotoRequired => "error.photo_required",
            Error::AlreadyDone => "error.already_done",
            Error::Closed => "error.closed",
            Error::NotDone => "error.not_done",
            Error::NotTheReporter => "error.not_the_reporter",
            Error::RatingNotOpen => "error.rating_not_open",
            Error::RatingClosed => "error.rating_closed",
            Error::EmptyNote => "error.empty_note",
            Error::ManagersOnly => "error.managers_only",
            Error::RatedReopenManagersOnly => "error.rated_reopen_managers_only",
            Error::NotStaff => "error.not_staff",
            Error::BadDays(_) => "error.bad_days",
            Error::BadUrgency(_) => "error.bad_urgency",
            Error::ForManagers(_) => "error.for_managers",
            Error::NotARequest(_) => "error.not_a_request",
            Error::UnknownStaff(_) => "error.unknown_staff",
            Error::NotYourReport => "error.not_your_report",
            Error::FinishedCannotCancel => "error.cancel_finished",
            Error::AlreadyCancelled => "error.already_cancelled",
            Error::DispatchersOnly => "error.dispatchers_only",
            Error::HolderOrManager { .. } => "error.holder_or_manager",
            Error::HolderOnly => "error.holder_only",
            Error::AlreadyHeld { .. } => "error.already_held",
            Error::ReasonNeeded => "error.reason_needed",
            Error::AlreadyPaused => "error.already_paused",
            Error::NotPaused => "error.not_paused",
            Error::NotYourPause => "error.not_your_pause",
            Error::OtherStaffChat { .. } => "error.other_staff_chat",
            Error::NotYourHurry => "error.not_your_hurry",
            Error::HurryPaused => "error.hurry_paused",
            Error::HurryNotDue => "error.hurry_not_due",
            Error::HurryTooSoon { .. } => "error.hurry_too_soon",
        }
    }

    /// Values the locale text may use: `{id}`, `{by}`, `{input}`.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Error::BadTicketId(s)
            | Error::BadUnit(s)
            | Error::UnknownCategory(s)
            | Error::BadDays(s)
            | Error::BadUrgency(s)
            | Error::UnknownStaff(s) => {
                vec![("input", text::shorten(s, 40))]
            }
            Error::UnknownTicket(id) | Error::ForManagers(id) | Error::NotARequest(id) => {
                vec![("id", id.to_string())]
            }
            Error::AlreadyTaken { by }
            | Error::NotYourTicket { by }
            | Error::HolderOrManager { by }
            | Error::AlreadyHeld { by } => vec![("by", by.clone())],
            Error::OtherStaffChat { chat } => vec![("chat", chat.clone())],
            Error::HurryTooSoon { minutes } => vec![("minutes", minutes.to_string())],
            _ => vec![],
        }
    }
}
