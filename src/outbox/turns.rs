//! Whose turn it is: the order in which the delivery worker serves the chats with due
//! messages. Chats, not rows: each chat with something due gets a turn in each round
//! (a few of its messages, in order), however many it has queued.
//!
//! The order of a round: first the chats with a message that answers a person, then
//! the rest (bulk: a greeting, notices); within each, the chats served longest ago
//! first (never-served chats first of all), then by their oldest due row. A chat with
//! hundreds of rows therefore goes after every other chat that was waiting, each round.

use std::collections::{HashMap, VecDeque};

use crate::store::DueChat;

/// How many chats' last turns are remembered at most; the oldest are forgotten first.
const REMEMBERED: usize = 20_000;

/// When each chat last had its turn, counted in turns given.
#[derive(Default)]
pub(super) struct Turns {
    given: u64,
    last: HashMap<i64, u64>,
}

impl Turns {
    /// `chat` had its turn now.
    pub(super) fn served(&mut self, chat: i64) {
        self.given += 1;
        self.last.insert(chat, self.given);
        if self.last.len() > REMEMBERED {
            let cut = self.given.saturating_sub(REMEMBERED as u64 / 2);
            self.last.retain(|_, at| *at > cut);
        }
    }

    /// The chats in the order they get their turns (see the module docs).
    pub(super) fn order(&self, mut chats: Vec<DueChat>) -> VecDeque<DueChat> {
        chats.sort_by_key(|c| {
            (
                !c.urgent,
                self.last.get(&c.chat_id).copied().unwrap_or(0),
                c.head,
            )
        });
        chats.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(chat_id: i64, head: i64, urgent: bool) -> DueChat {
        DueChat {
            chat_id,
            head,
            urgent,
        }
    }

    fn ids(q: VecDeque<DueChat>) -> Vec<i64> {
        q.into_iter().map(|c| c.chat_id).collect()
    }

    #[test]
    fn a_chat_that_answers_a_person_goes_before_a_broadcast() {
        let turns = Turns::default();
        let chats = vec![due(-1, 1, false), due(-2, 2, false), due(-3, 900, true)];
        assert_eq!(ids(turns.order(chats)), vec![-3, -1, -2]);
    }

    #[test]
    fn a_chat_just_served_waits_for_every_other_due_chat() {
        let mut turns = Turns::default();
        // Chat 7 holds the oldest rows (hundreds of them), and just had its turn.
        turns.served(7);
        let chats = vec![due(7, 1, false), due(8, 301, false), due(9, 302, false)];
        assert_eq!(ids(turns.order(chats)), vec![8, 9, 7]);
        // Then 8 and 9 had theirs: 7 is next again, before them.
        turns.served(8);
        turns.served(9);
        let chats = vec![due(7, 4, false), due(8, 303, false), due(9, 304, false)];
        assert_eq!(ids(turns.order(chats)), vec![7, 8, 9]);
    }

    #[test]
    fn people_first_holds_even_for_a_chat_served_a_moment_ago() {
        let mut turns = Turns::default();
        turns.served(5);
        let chats = vec![due(6, 2, false), due(5, 9, true)];
        assert_eq!(ids(turns.order(chats)), vec![5, 6]);
    }

    #[test]
    fn the_memory_of_turns_is_bounded() {
        let mut turns = Turns::default();
        for chat in 0..(REMEMBERED as i64 + 10) {
            turns.served(chat);
        }
        assert!(turns.last.len() <= REMEMBERED);
        // The latest are kept: the last chat served still goes after a new one.
        let last = REMEMBERED as i64 + 9;
        let chats = vec![due(last, 1, false), due(-1, 2, false)];
        assert_eq!(ids(turns.order(chats)), vec![-1, last]);
    }
}
