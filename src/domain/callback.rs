//! What a button under one of Butler's messages asks for, and its callback data on the
//! wire: `take:42`, `done:42`, `rate:42:1:5`, `nf:42:1`, `rerate:7`, `notice:7:send`,
//! `notice:7:cancel`, `photos:42`, `close:42`,
//! `cancel:42`, `hurry:42`. [`CardAction::encode`] is the only writer of that data and
//! [`CardAction::parse`] its only reader, so the two cannot drift apart. Messages already
//! sent carry these strings, so the format stays as it is.

use std::fmt;
use std::str::FromStr;

use super::TicketId;

/// Telegram's limit on a button's callback data, in bytes.
pub const CALLBACK_DATA_MAX: usize = 64;

/// What a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardAction {
    Take(TicketId),
    Done(TicketId),
    Rate {
        ticket: TicketId,
        round: i64,
        /// As pressed: a score out of 1–5 is refused by the rating, not by the parser.
        score: u8,
    },
    NotFixed {
        ticket: TicketId,
        round: i64,
    },
    Rerate {
        follow_up: i64,
    },
    /// A closed follow-up's "Tell the owner": its note goes under the owner's report.
    TellOwner {
        follow_up: i64,
    },
    /// Send (or cancel) a manager's pending notice.
    Notice {
        id: i64,
        send: bool,
    },
    /// A manager closes a complaint or suggestion.
    Close(TicketId),
    /// The card's Assign button: show the roster for this ticket.
    Assign(TicketId),
    /// A roster button: give the ticket to this staff member (a Telegram user id).
    AssignTo {
        ticket: TicketId,
        user: u64,
    },
    /// Send a ticket's photos, as albums, where its story was told.
    Photos(TicketId),
    /// The owner's Cancel under their confirmation: withdraw the report.
    Cancel(TicketId),
    /// The owner's Hurry up (催一下) under their confirmation, once a deadline passed.
    Hurry(TicketId),
}

impl CardAction {
    /// The callback data of a button that asks for this.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// What a button's callback data asks for; `None` for data Butler does not write
    /// (unknown, malformed, or with a number that is not positive).
    pub fn parse(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
        match parts.as_slice() {
            ["take", n] => Some(CardAction::Take(TicketId(id(n)?))),
            ["done", n] => Some(CardAction::Done(TicketId(id(n)?))),
            ["close", n] => Some(CardAction::Close(TicketId(id(n)?))),
            ["rate", n, r, s] => Some(CardAction::Rate {
                ticket: TicketId(id(n)?),
                round: id(r)?,
                score: s.parse().ok()?,
            }),
            ["nf", n, r] => Some(CardAction::NotFixed {
                ticket: TicketId(id(n)?),
                round: id(r)?,
            }),
            ["rerate", f] => Some(CardAction::Rerate { follow_up: id(f)? }),
            ["tell", f] => Some(CardAction::TellOwner { follow_up: id(f)? }),
            ["notice", n, "send"] => Some(CardAction::Notice {
                id: id(n)?,
                send: true,
            }),
            ["notice", n, "cancel"] => Some(CardAction::Notice {
                id: id(n)?,
                send: false,
            }),
            ["assign", n] => Some(CardAction::Assign(TicketId(id(n)?))),
            ["assignto", n, u] => Some(CardAction::AssignTo {
                ticket: TicketId(id(n)?),
                user: u.parse().ok().filter(|u| *u > 0)?,
            }),
            ["photos", n] => Some(CardAction::Photos(TicketId(id(n)?))),
            ["cancel", n] => Some(CardAction::Cancel(TicketId(id(n)?))),
            ["hurry", n] => Some(CardAction::Hurry(TicketId(id(n)?))),
            _ => None,
        }
    }
}

impl fmt::Display for CardAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardAction::Take(t) => write!(f, "take:{}", t.0),
            CardAction::Done(t) => write!(f, "done:{}", t.0),
            CardAction::Rate {
                ticket,
                round,
                score,
            } => write!(f, "rate:{}:{round}:{score}", ticket.0),
            CardAction::NotFixed { ticket, round } => write!(f, "nf:{}:{round}", ticket.0),
            CardAction::Rerate { follow_up } => write!(f, "rerate:{follow_up}"),
            CardAction::TellOwner { follow_up } => write!(f, "tell:{follow_up}"),
            CardAction::Notice { id, send: true } => write!(f, "notice:{id}:send"),
            CardAction::Notice { id, send: false } => write!(f, "notice:{id}:cancel"),
            CardAction::Close(t) => write!(f, "close:{}", t.0),
            CardAction::Assign(t) => write!(f, "assign:{}", t.0),
            CardAction::AssignTo { ticket, user } => write!(f, "assignto:{}:{user}", ticket.0),
            CardAction::Photos(t) => write!(f, "photos:{}", t.0),
            CardAction::Cancel(t) => write!(f, "cancel:{}", t.0),
            CardAction::Hurry(t) => write!(f, "hurry:{}", t.0),
        }
    }
}

impl FromStr for CardAction {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        CardAction::parse(s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: i64 = i64::MAX;

    /// One of each variant, with the longest numbers each can carry.
    fn longest() -> Vec<CardAction> {
        vec![
            CardAction::Take(TicketId(MAX)),
            CardAction::Done(TicketId(MAX)),
            CardAction::Rate {
                ticket: TicketId(MAX),
                round: MAX,
                score: u8::MAX,
            },
            CardAction::NotFixed {
                ticket: TicketId(MAX),
                round: MAX,
            },
            CardAction::Rerate { follow_up: MAX },
            CardAction::TellOwner { follow_up: MAX },
            CardAction::Notice {
                id: MAX,
                send: true,
            },
            CardAction::Notice {
                id: MAX,
                send: false,
            },
            CardAction::Close(TicketId(MAX)),
            CardAction::Assign(TicketId(MAX)),
            CardAction::AssignTo {
                ticket: TicketId(MAX),
                user: u64::MAX,
            },
            CardAction::Photos(TicketId(MAX)),
            CardAction::Cancel(TicketId(MAX)),
            CardAction::Hurry(TicketId(MAX)),
        ]
    }

    /// Which variant an action is; exhaustive, so a new variant must be added here (and
    /// then to the samples, or the coverage assertion below fails).
    fn variant(a: &CardAction) -> usize {
        match a {
            CardAction::Take(_) => 0,
            CardAction::Done(_) => 1,
            CardAction::Rate { .. } => 2,
            CardAction::NotFixed { .. } => 3,
            CardAction::Rerate { .. } => 4,
            CardAction::Notice { send: true, .. } => 5,
            CardAction::Notice { send: false, .. } => 6,
            CardAction::Assign(_) => 7,
            CardAction::AssignTo { .. } => 8,
            CardAction::Photos(_) => 9,
            CardAction::Close(_) => 10,
            CardAction::Cancel(_) => 11,
            CardAction::TellOwner { .. } => 12,
            CardAction::Hurry(_) => 13,
        }
    }

    #[test]
    fn every_variant_round_trips_within_telegrams_limit() {
        let samples = longest();
        let mut seen: Vec<usize> = samples.iter().map(variant).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, (0..14).collect::<Vec<_>>(), "a variant has no sample");
        for a in samples {
            let data = a.encode();
            assert!(
                data.len() <= CALLBACK_DATA_MAX,
                "{data:?} is {} bytes",
                data.len()
            );
            assert_eq!(CardAction::parse(&data), Some(a.clone()), "{data:?}");
            assert_eq!(data.parse::<CardAction>(), Ok(a));
        }
    }

    #[test]
    fn the_wire_format_is_the_one_messages_already_carry() {
        let t = TicketId(42);
        let cases = [
            (CardAction::Take(t), "take:42"),
            (CardAction::Done(t), "done:42"),
            (
                CardAction::Rate {
                    ticket: t,
                    round: 2,
                    score: 5,
                },
                "rate:42:2:5",
            ),
            (
                CardAction::NotFixed {
                    ticket: t,
                    round: 1,
                },
                "nf:42:1",
            ),
            (CardAction::Rerate { follow_up: 7 }, "rerate:7"),
            (CardAction::Notice { id: 3, send: true }, "notice:3:send"),
            (CardAction::Notice { id: 3, send: false }, "notice:3:cancel"),
            (CardAction::Close(t), "close:42"),
            (CardAction::Assign(t), "assign:42"),
            (
                CardAction::AssignTo {
                    ticket: t,
                    user: 200,
                },
                "assignto:42:200",
            ),
            (CardAction::Photos(t), "photos:42"),
            (CardAction::Cancel(t), "cancel:42"),
            (CardAction::Hurry(t), "hurry:42"),
        ];
        for (action, data) in cases {
            assert_eq!(action.encode(), data);
            assert_eq!(CardAction::parse(data), Some(action));
        }
    }

    #[test]
    fn unknown_or_forged_data_parses_to_none() {
        for data in [
            "",
            ":",
            "take",
            "take:",
            "take:0",
            "take:-1",
            "take:abc",
            "take:1:2",
            "take:9223372036854775808",
            "TAKE:1",
            " take:1",
            "done:1.5",
            "rate:1:1",
            "rate:1:0:5",
            "rate:1:1:256",
            "rate:1:1:-1",
            "rate:0:1:5",
            "nf:1",
            "nf:1:0",
            "rerate:x",
            "notice:1",
            "notice:1:maybe",
            "notice:0:send",
            "delete:1",
            "close:0",
            "close:1:2",
            "assign:0",
            "assignto:1",
            "assignto:1:0",
            "assignto:1:-5",
            "assignto:1:x",
            "photos:0",
            "photos:1:2",
            "cancel:0",
            "cancel:",
            "cancel:1:2",
            "hurry:0",
            "hurry:",
            "hurry:1:2",
        ] {
            assert_eq!(CardAction::parse(data), None, "{data:?}");
            assert!(data.parse::<CardAction>().is_err(), "{data:?}");
        }
    }
}
