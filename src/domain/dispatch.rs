//! Dispatch: who may give a ticket to whom, hand it on or put it back, and the words that
//! name a staff member (`@username`) or narrow `/open`.
//!
//! ```text
//! reported ──assign──▶ taken ──transfer──▶ taken (someone else)
//!    ▲                   │
//!    └──────return───────┘
//! ```

use super::{Actor, Category, Error, Ticket, TicketStatus};

/// A staff member as typed: `@username` (Telegram usernames are 5–32 letters, digits and
/// underscores; compared without case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention(String);

impl Mention {
    /// `@wang_li` → `wang_li`; anything else is not a mention.
    pub fn parse(word: &str) -> Result<Self, Error> {
        let word = word.trim();
        let name = word
            .strip_prefix('@')
            .ok_or_else(|| Error::UnknownStaff(word.to_owned()))?;
        let valid = (1..=32).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            Ok(Mention(name.to_lowercase()))
        } else {
            Err(Error::UnknownStaff(word.to_owned()))
        }
    }

    /// The username, lowercase, without `@`.
    pub fn username(&self) -> &str {
        &self.0
    }
}

/// What `/open` lists: every open ticket, or those of one category, one holder,
/// nobody's yet, or paused ones. One more filter is one more variant and one more word in [`parse`].
///
/// [`parse`]: OpenFilter::parse
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenFilter {
    All,
    Category(Category),
    Holder(Mention),
    Unassigned,
    Paused,
}

impl OpenFilter {
    /// The filter a staff member typed after `/open`; `category` reads a category's code
    /// or localized name.
    pub fn parse(input: &str, category: impl Fn(&str) -> Option<Category>) -> Result<Self, Error> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(OpenFilter::All);
        }
        if input.starts_with('@') {
            return Mention::parse(input).map(OpenFilter::Holder);
        }
        match input.to_lowercase().as_str() {
            "unassigned" | "未分配" | "待领" => Ok(OpenFilter::Unassigned),
            "paused" | "暂停" | "已暂停" => Ok(OpenFilter::Paused),
            _ => category(input)
                .map(OpenFilter::Category)
                .ok_or_else(|| Error::UnknownCategory(input.to_owned())),
        }
    }
}

/// Categories as typed after `/trades @user`: codes or localized names, separated by
/// spaces or commas; none at all clears them.
pub fn parse_trades(
    input: &str,
    category: impl Fn(&str) -> Option<Category>,
) -> Result<Vec<Category>, Error> {
    let mut out = Vec::new();
    for word in input
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
        .filter(|w| !w.is_empty())
    {
        let c = category(word).ok_or_else(|| Error::UnknownCategory(word.to_owned()))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// One staff member's dispatch figures for a period: how the tickets they worked came to
/// them, and how many they gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffDispatch {
    pub user_id: u64,
    pub name: String,
    /// Taken by themselves (the Take button or `/take`).
    pub self_taken: i64,
    /// Given to them by a manager or dispatcher.
    pub assigned: i64,
    /// Handed on to them by a colleague or a manager.
    pub transferred: i64,
    /// Put back to waiting by them.
    pub returned: i64,
}

/// Roster order for a ticket of `trade`: people with that trade first, then the fewest
/// open tickets, then by name. Each item is (has the trade, open tickets, name).
pub fn roster_order<T>(people: &mut [T], key: impl Fn(&T) -> (bool, i64, &str)) {
    people.sort_by(|a, b| {
        let (ta, oa, na) = key(a);
        let (tb, ob, nb) = key(b);
        tb.cmp(&ta).then(oa.cmp(&ob)).then(na.cmp(nb))
    });
}

/// `/assign` and the Assign button: managers, and the dispatchers the settings name.
pub fn may_assign(actor: &Actor, dispatcher: bool) -> Result<(), Error> {
    if actor.is_manager || dispatcher {
        Ok(())
    } else {
        Err(Error::DispatchersOnly)
    }
}

impl Ticket {
    /// Given to `to` by a manager or dispatcher: only while it waits to be taken.
    pub fn assign(&self, to: u64) -> Result<(), Error> {
        self.staff_work()?;
        match (self.status, &self.taken_by) {
            (TicketStatus::Reported, _) | (TicketStatus::Taken, None) => Ok(()),
            (TicketStatus::Taken, Some((id, name))) if *id == to => {
                Err(Error::AlreadyHeld { by: name.clone() })
            }
            (TicketStatus::Taken, Some((_, name))) => Err(Error::AlreadyTaken { by: name.clone() }),
            (TicketStatus::Done | TicketStatus::Rated, _) => Err(Error::AlreadyDone),
            (TicketStatus::Cancelled, _) => Err(Error::Closed),
        }
    }

    /// Handed on to `to` by `by`: the holder or a manager, while it is being worked on.
    pub fn transfer(&self, by: &Actor, to: u64) -> Result<(), Error> {
        let holder = self.open_holder()?;
        if holder.0 == to {
            return Err(Error::AlreadyHeld {
                by: holder.1.clone(),
            });
        }
        if holder.0 != by.id && !by.is_manager {
            return Err(Error::HolderOrManager {
                by: holder.1.clone(),
            });
        }
        Ok(())
    }

    /// Put back to waiting by its holder.
    pub fn give_back(&self, by: &Actor) -> Result<(), Error> {
        let holder = self.open_holder()?;
        if holder.0 == by.id {
            Ok(())
        } else {
            Err(Error::HolderOnly)
        }
    }

    /// Who holds the ticket while it is being worked on.
    fn open_holder(&self) -> Result<&(u64, String), Error> {
        match (self.status, &self.taken_by) {
            (TicketStatus::Taken, Some(holder)) => Ok(holder),
            (TicketStatus::Reported | TicketStatus::Taken, _) => Err(Error::NotTaken),
            (TicketStatus::Done | TicketStatus::Rated, _) => Err(Error::AlreadyDone),
            (TicketStatus::Cancelled, _) => Err(Error::Closed),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn ticket(status: TicketStatus, taken_by: Option<u64>) -> Ticket {
        Ticket {
            taken_by: taken_by.map(|i| (i, format!("s{i}"))),
            rating_round: 0,
            ..crate::domain::ticket::sample(status, None)
        }
    }

    fn person(id: u64, is_manager: bool) -> Actor {
        Actor {
            id,
            name: format!("s{id}"),
            is_manager,
        }
    }

    fn cat(s: &str) -> Option<Category> {
        Category::from_code(s)
    }

    #[test]
    fn a_mention_is_an_at_sign_and_a_telegram_username() {
        assert_eq!(Mention::parse("@Wang_Li").unwrap().username(), "wang_li");
        for bad in ["wang", "@", "@wang li", "@王", ""] {
            assert!(Mention::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn open_filters_parse_a_category_a_holder_or_unassigned() {
        assert_eq!(OpenFilter::parse(" ", cat), Ok(OpenFilter::All));
        assert_eq!(
            OpenFilter::parse("plumbing", cat),
            Ok(OpenFilter::Category(Category::Plumbing))
        );
        assert_eq!(
            OpenFilter::parse("@wang", cat),
            Ok(OpenFilter::Holder(Mention("wang".into())))
        );
        assert_eq!(
            OpenFilter::parse("Unassigned", cat),
            Ok(OpenFilter::Unassigned)
        );
        assert_eq!(OpenFilter::parse("paused", cat), Ok(OpenFilter::Paused));
        assert_eq!(
            OpenFilter::parse("roof", cat),
            Err(Error::UnknownCategory("roof".into()))
        );
    }

    #[test]
    fn trades_are_a_list_of_categories_without_repeats() {
        assert_eq!(
            parse_trades("plumbing, electrical plumbing", cat),
            Ok(vec![Category::Plumbing, Category::Electrical])
        );
        assert_eq!(parse_trades("", cat), Ok(vec![]));
        assert!(parse_trades("plumbing roof", cat).is_err());
    }

    #[test]
    fn the_roster_offers_the_trade_first_then_the_least_busy() {
        let mut people = vec![
            (false, 0, "Ann"),
            (true, 3, "Bo"),
            (true, 1, "Cy"),
            (false, 0, "Al"),
        ];
        roster_order(&mut people, |p| (p.0, p.1, p.2));
        let names: Vec<&str> = people.iter().map(|p| p.2).collect();
        assert_eq!(names, ["Cy", "Bo", "Al", "Ann"]);
    }

    #[test]
    fn only_managers_and_dispatchers_assign() {
        assert_eq!(
            may_assign(&person(1, false), false),
            Err(Error::DispatchersOnly)
        );
        assert_eq!(may_assign(&person(1, false), true), Ok(()));
        assert_eq!(may_assign(&person(1, true), false), Ok(()));
    }

    #[test]
    fn a_waiting_ticket_can_be_assigned_a_held_one_cannot() {
        assert_eq!(ticket(TicketStatus::Reported, None).assign(2), Ok(()));
        let held = ticket(TicketStatus::Taken, Some(1));
        assert_eq!(held.assign(2), Err(Error::AlreadyTaken { by: "s1".into() }));
        assert_eq!(held.assign(1), Err(Error::AlreadyHeld { by: "s1".into() }));
        assert_eq!(
            ticket(TicketStatus::Done, Some(1)).assign(2),
            Err(Error::AlreadyDone)
        );
    }

    #[test]
    fn the_holder_or_a_manager_transfers_an_open_ticket() {
        let held = ticket(TicketStatus::Taken, Some(1));
        assert_eq!(held.transfer(&person(1, false), 2), Ok(()));
        assert_eq!(held.transfer(&person(9, true), 2), Ok(()));
        assert_eq!(
            held.transfer(&person(3, false), 2),
            Err(Error::HolderOrManager { by: "s1".into() })
        );
        assert_eq!(
            held.transfer(&person(1, false), 1),
            Err(Error::AlreadyHeld { by: "s1".into() })
        );
        assert_eq!(
            ticket(TicketStatus::Done, Some(1)).transfer(&person(1, false), 2),
            Err(Error::AlreadyDone)
        );
        assert_eq!(
            ticket(TicketStatus::Reported, None).transfer(&person(9, true), 2),
            Err(Error::NotTaken)
        );
    }

    #[test]
    fn only_the_holder_returns() {
        let held = ticket(TicketStatus::Taken, Some(1));
        assert_eq!(held.give_back(&person(1, false)), Ok(()));
        assert_eq!(held.give_back(&person(9, true)), Err(Error::HolderOnly));
        assert_eq!(
            ticket(TicketStatus::Rated, Some(1)).give_back(&person(1, false)),
            Err(Error::AlreadyDone)
        );
    }
}
