//! How often Butler may say the same kind of thing to the same person: the one place
//! where answers to people's input are bounded, so that nobody can make Butler queue
//! messages without end (a stranger's private flood, `/register` spam in a group that is
//! not registered, one refusal asked for again and again).
//!
//! Each kind of answer is a [`Gate`] with a window: the first answer through a gate
//! passes and is remembered; another one through the same gate within its window does
//! not. The memory is in the process, bounded to [`Limiter::CAPACITY`] gates: a restart
//! forgets it (at worst one more answer each), and when more gates are live than that,
//! the oldest are forgotten first. Time is an argument; the limiter sleeps on nothing.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// One kind of answer, to one person or chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// A hint to `user` in `chat`: what to write instead (the private-chat hint, a
    /// command that belongs elsewhere, an unknown command).
    Hint { chat: i64, user: u64 },
    /// The same answer (by its text) to `user` in `chat`: a refusal, a usage line, help.
    Repeat { chat: i64, user: u64, text: u64 },
    /// A non-manager in a group that is not an owner group: answered once.
    Stranger { chat: i64, user: u64 },
    /// Anyone in a group that is not an owner group, whoever asks.
    StrangeGroup { chat: i64 },
    /// "Please slow down" to an owner who reports too often.
    FloodWarning { owner: u64 },
}

impl Gate {
    /// The gate for `text` said to `user` in `chat`.
    pub fn repeat(chat: i64, user: u64, text: &str) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        text.hash(&mut hasher);
        Gate::Repeat {
            chat,
            user,
            text: hasher.finish(),
        }
    }
}

/// How long each gate stays shut after an answer passed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub hint: Duration,
    pub repeat: Duration,
    pub stranger: Duration,
    pub flood_warning: Duration,
}

impl Windows {
    fn of(&self, gate: &Gate) -> Duration {
        match gate {
            Gate::Hint { .. } => self.hint,
            Gate::Repeat { .. } | Gate::StrangeGroup { .. } => self.repeat,
            Gate::Stranger { .. } => self.stranger,
            Gate::FloodWarning { .. } => self.flood_warning,
        }
    }

    fn longest(&self) -> Duration {
        self.hint
            .max(self.repeat)
            .max(self.stranger)
            .max(self.flood_warning)
    }
}

/// The gates passed lately and when; see the module notes.
pub struct Limiter {
    windows: Windows,
    capacity: usize,
    /// When each gate was last passed. A std mutex: held for a map lookup, never across
    /// an await.
    passed: Mutex<HashMap<Gate, DateTime<Utc>>>,
}

impl Limiter {
    /// Gates remembered at most (a few MB at most): beyond it, the oldest are forgotten.
    pub const CAPACITY: usize = 20_000;

    pub fn new(windows: Windows) -> Self {
        Self::with_capacity(windows, Self::CAPACITY)
    }

    pub fn with_capacity(windows: Windows, capacity: usize) -> Self {
        Self {
            windows,
            capacity: capacity.max(2),
            passed: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an answer may pass `gate` at `now`; if it may, the gate shuts for its window.
    pub fn allow(&self, gate: Gate, now: DateTime<Utc>) -> bool {
        self.allow_all(&[gate], now)
    }

    /// Whether an answer may pass every one of `gates` at `now`; if it may, they all shut
    /// for their windows. If one is shut, none is touched.
    pub fn allow_all(&self, gates: &[Gate], now: DateTime<Utc>) -> bool {
        let mut passed = self.passed.lock().unwrap_or_else(|e| e.into_inner());
        // A clock set back opens a gate rather than shutting it for longer.
        let shut =
            |gate: &Gate, at: &DateTime<Utc>| *at <= now && now - *at < self.windows.of(gate);
        if gates
            .iter()
            .any(|gate| passed.get(gate).is_some_and(|at| shut(gate, at)))
        {
            return false;
        }
        for gate in gates {
            if passed.len() >= self.capacity && !passed.contains_key(gate) {
                self.make_room(&mut passed, now);
            }
            passed.insert(*gate, now);
        }
        true
    }

    /// Gates remembered now (for tests and logs).
    pub fn len(&self) -> usize {
        self.passed.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the gates whose window is over; if that is not enough, the older half.
    fn make_room(&self, passed: &mut HashMap<Gate, DateTime<Utc>>, now: DateTime<Utc>) {
        let windows = self.windows;
        passed.retain(|gate, at| now - *at < windows.of(gate));
        if passed.len() < self.capacity {
            return;
        }
        let mut times: Vec<DateTime<Utc>> = passed.values().copied().collect();
        let middle = times.len() / 2;
        let (_, cut, _) = times.select_nth_unstable(middle);
        let cut = *cut;
        passed.retain(|_, at| *at > cut);
        // Every gate passed at the same instant: keep none rather than all.
        if passed.len() >= self.capacity {
            passed.clear();
        }
        tracing::debug!(
            kept = passed.len(),
            longest_window_minutes = windows.longest().num_minutes(),
            "answer limiter full: forgot the oldest gates"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows() -> Windows {
        Windows {
            hint: Duration::minutes(5),
            repeat: Duration::minutes(3),
            stranger: Duration::days(1),
            flood_warning: Duration::minutes(1),
        }
    }

    fn t0() -> DateTime<Utc> {
        "2026-11-29T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_gate_passes_once_per_window() {
        let l = Limiter::new(windows());
        let gate = Gate::Hint { chat: 5, user: 5 };
        assert!(l.allow(gate, t0()));
        assert!(!l.allow(gate, t0() + Duration::minutes(4)));
        assert!(l.allow(gate, t0() + Duration::minutes(5)));
    }

    #[test]
    fn gates_of_other_people_chats_and_texts_are_apart() {
        let l = Limiter::new(windows());
        assert!(l.allow(Gate::Hint { chat: 5, user: 5 }, t0()));
        assert!(l.allow(Gate::Hint { chat: 6, user: 6 }, t0()));
        assert!(l.allow(Gate::repeat(-1, 5, "Only managers"), t0()));
        assert!(!l.allow(Gate::repeat(-1, 5, "Only managers"), t0()));
        assert!(l.allow(Gate::repeat(-1, 5, "No ticket #4"), t0()));
        assert!(l.allow(Gate::repeat(-1, 6, "Only managers"), t0()));
        assert!(l.allow(Gate::repeat(-2, 5, "Only managers"), t0()));
    }

    #[test]
    fn gates_asked_together_pass_together_or_not_at_all() {
        let l = Limiter::new(windows());
        let group = Gate::StrangeGroup { chat: -1 };
        let (a, b) = (
            Gate::Stranger { chat: -1, user: 1 },
            Gate::Stranger { chat: -1, user: 2 },
        );
        assert!(l.allow_all(&[a, group], t0()));
        // The group was answered: b is not, and b's own gate stays open.
        assert!(!l.allow_all(&[b, group], t0() + Duration::minutes(1)));
        assert!(l.allow_all(&[b, group], t0() + Duration::minutes(4)));
        assert!(!l.allow_all(&[a, group], t0() + Duration::minutes(8)));
    }

    #[test]
    fn a_clock_set_back_opens_the_gate() {
        let l = Limiter::new(windows());
        let gate = Gate::FloodWarning { owner: 1 };
        assert!(l.allow(gate, t0()));
        assert!(l.allow(gate, t0() - Duration::hours(1)));
    }

    #[test]
    fn the_memory_never_grows_past_its_capacity() {
        let l = Limiter::with_capacity(windows(), 100);
        for user in 0..10_000u64 {
            let at = t0() + Duration::milliseconds(user as i64);
            assert!(l.allow(Gate::Hint { chat: 1, user }, at));
            assert!(l.len() <= 100, "{} gates after {user}", l.len());
        }
        // The latest gates are still remembered.
        let last = t0() + Duration::milliseconds(9_999);
        assert!(!l.allow(
            Gate::Hint {
                chat: 1,
                user: 9_999
            },
            last
        ));
    }

    #[test]
    fn expired_gates_are_forgotten_first() {
        let l = Limiter::with_capacity(windows(), 10);
        for user in 0..9u64 {
            l.allow(Gate::FloodWarning { owner: user }, t0());
        }
        l.allow(Gate::Stranger { chat: -1, user: 1 }, t0());
        // Ten minutes on, the flood warnings are over; the stranger's gate is not.
        let later = t0() + Duration::minutes(10);
        assert!(l.allow(Gate::Hint { chat: 2, user: 2 }, later));
        assert_eq!(l.len(), 2);
        assert!(!l.allow(Gate::Stranger { chat: -1, user: 1 }, later));
    }
}
