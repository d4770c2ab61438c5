//! The owner's 1–5 score.

/// A score the owner pressed. Only 1..=5 exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score(u8);

impl TryFrom<u8> for Score {
    type Error = super::Error;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        (1..=5)
            .contains(&n)
            .then_some(Self(n))
            .ok_or(super::Error::ScoreOutOfRange(n))
    }
}

impl Score {
    pub fn get(self) -> u8 {
        self.0
    }

    /// A score at or below the configured `rating.low_score` opens a follow-up.
    pub fn is_low(self, low_score: u8) -> bool {
        self.0 <= low_score
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_to_five_are_scores() {
        assert!(Score::try_from(0).is_err());
        assert!(Score::try_from(6).is_err());
        assert_eq!(Score::try_from(5).unwrap().get(), 5);
    }

    #[test]
    fn three_is_low_with_the_default_threshold_and_four_is_not() {
        assert!(Score::try_from(3).unwrap().is_low(3));
        assert!(!Score::try_from(4).unwrap().is_low(3));
    }
}
