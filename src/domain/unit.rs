//! A dwelling unit, as owners write it: building-room ("3-1201") or building-entrance-room
//! ("3-2-1201").

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit(String);

impl FromStr for Unit {
    type Err = super::Error;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        // Owners type full-width dashes and spaces on Chinese keyboards.
        let normalized: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '－' | '—' | '–' | '_' | '/' | ' ' => '-',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        let parts: Vec<&str> = normalized.split('-').collect();
        let ok = (2..=3).contains(&parts.len())
            && parts.iter().all(|p| {
                (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if ok {
            Ok(Self(normalized))
        } else {
            Err(super::Error::BadUnit(raw.trim().to_owned()))
        }
    }
}

impl AsRef<str> for Unit {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A unit reads as the text it was normalized to (`ticket.unit.as_deref()`).
impl std::ops::Deref for Unit {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_and_room_parse() {
        assert_eq!("3-1201".parse::<Unit>().unwrap().as_ref(), "3-1201");
        assert_eq!("3-2-1201".parse::<Unit>().unwrap().as_ref(), "3-2-1201");
    }

    #[test]
    fn full_width_dashes_and_lowercase_are_normalized() {
        assert_eq!("a－1201".parse::<Unit>().unwrap().as_ref(), "A-1201");
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["", "1201", "3-", "-1201", "3-12-01-5", "3-12<b>", "楼-1201"] {
            assert!(bad.parse::<Unit>().is_err(), "{bad:?} should be rejected");
        }
    }
}
