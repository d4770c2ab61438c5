//! What an owner asks for ([`Kind`]: a repair, a complaint, a suggestion) and how urgent
//! it is ([`Urgency`]: A, B, C), both kept on the ticket.

use std::fmt;
use std::str::FromStr;

use super::Error;

/// A repair reported within this many days of the completion of an earlier one of the
/// same unit and category repeats it (二次返修).
pub const REPEAT_WINDOW_DAYS: i64 = 30;

/// The kind of a request. Repairs go to the staff chat; complaints (which may be about
/// staff) and suggestions go to the managers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 报修, `/repair`.
    Repair,
    /// 投诉, `/complain`.
    Complaint,
    /// 建议, `/suggest`.
    Suggestion,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Repair, Kind::Complaint, Kind::Suggestion];

    /// The kind as stored.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Repair => "repair",
            Kind::Complaint => "complaint",
            Kind::Suggestion => "suggestion",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether staff handle it (take, progress, done …): repairs only. Complaints and
    /// suggestions are the managers'.
    pub fn is_staff_work(self) -> bool {
        self == Kind::Repair
    }
}

/// How urgent a request is. A: safety and basic living (gas, fire, flooding, no water or
/// power, someone stuck in a lift): managers are told at once and the take alert repeats
/// until someone takes it. B: quality of life, the default. C: cosmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Urgency {
    A,
    B,
    C,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::A, Urgency::B, Urgency::C];

    /// The level as stored and shown: `A`, `B` or `C`.
    pub fn code(self) -> &'static str {
        match self {
            Urgency::A => "A",
            Urgency::B => "B",
            Urgency::C => "C",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Urgency::ALL.into_iter().find(|u| u.code() == code)
    }

    /// The level a report's words suggest: A when any A keyword is in it, else C when any
    /// C keyword is, else B. Matched case-insensitively, keywords of every language
    /// against the text whatever its language. `keywords(level)` gives a level's words
    /// (B has none: it is what is left).
    pub fn guess<'a>(text: &str, keywords: impl Fn(Urgency) -> Vec<&'a str>) -> Urgency {
        let text = text.to_lowercase();
        let hit = |level| {
            keywords(level)
                .iter()
                .any(|k| !k.trim().is_empty() && text.contains(&k.to_lowercase()))
        };
        if hit(Urgency::A) {
            Urgency::A
        } else if hit(Urgency::C) {
            Urgency::C
        } else {
            Urgency::B
        }
    }
}

/// What staff type: `A`, `b`, `Ａ` (full width, as Chinese keyboards give it).
impl FromStr for Urgency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let mut chars = t.chars();
        let level = match (chars.next(), chars.next()) {
            (Some(c), None) => match c {
                'A' | 'a' | 'Ａ' | 'ａ' => Some(Urgency::A),
                'B' | 'b' | 'Ｂ' | 'ｂ' => Some(Urgency::B),
                'C' | 'c' | 'Ｃ' | 'ｃ' => Some(Urgency::C),
                _ => None,
            },
            _ => None,
        };
        level.ok_or_else(|| Error::BadUrgency(t.to_owned()))
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(level: Urgency) -> Vec<&'static str> {
        match level {
            Urgency::A => vec!["Gas", "no water", "燃气", "停水", "困电梯"],
            Urgency::B => vec![],
            Urgency::C => vec!["paint", "掉漆"],
        }
    }

    #[test]
    fn safety_words_in_either_language_make_a_report_urgent() {
        assert_eq!(
            Urgency::guess("I smell GAS in the kitchen", words),
            Urgency::A
        );
        assert_eq!(Urgency::guess("3号楼停水了", words), Urgency::A);
        assert_eq!(Urgency::guess("有人困电梯里", words), Urgency::A);
        assert_eq!(Urgency::guess("No Water since noon", words), Urgency::A);
    }

    #[test]
    fn cosmetic_words_make_it_c_and_anything_else_is_b() {
        assert_eq!(Urgency::guess("墙面掉漆", words), Urgency::C);
        assert_eq!(Urgency::guess("the door squeaks", words), Urgency::B);
        assert_eq!(
            Urgency::guess("paint peeling and a gas smell", words),
            Urgency::A,
            "A wins over C"
        );
    }

    #[test]
    fn levels_parse_in_any_case_and_width_and_nothing_else() {
        assert_eq!("a".parse::<Urgency>(), Ok(Urgency::A));
        assert_eq!(" B ".parse::<Urgency>(), Ok(Urgency::B));
        assert_eq!("Ｃ".parse::<Urgency>(), Ok(Urgency::C));
        for bad in ["", "D", "AA", "1", "urgent"] {
            assert_eq!(
                bad.parse::<Urgency>(),
                Err(Error::BadUrgency(bad.trim().to_owned()))
            );
        }
    }

    #[test]
    fn kinds_and_levels_round_trip_through_their_codes() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        for u in Urgency::ALL {
            assert_eq!(Urgency::from_code(u.code()), Some(u));
        }
        assert!(Kind::Repair.is_staff_work());
        assert!(!Kind::Complaint.is_staff_work());
        assert!(!Kind::Suggestion.is_staff_work());
    }
}
