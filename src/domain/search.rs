//! What staff search tickets by (`/find`): words of the report, a unit, categories. Parsed
//! once here; the store turns it into its index's query.

use super::{Category, Unit};

/// At most this many words count; the rest of a long query is ignored.
pub const MAX_WORDS: usize = 8;

/// A parsed `/find` query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// A word written as a unit (`3-1201`): tickets of that unit.
    pub unit: Option<Unit>,
    /// Words naming a category (its code or name): that category, or the word in the text.
    pub categories: Vec<(Category, String)>,
    /// Other words, each to be found in the report's text (any case, also inside a word).
    pub words: Vec<String>,
}

impl SearchQuery {
    /// The query in `input`, or `None` when it holds no word. `category` reads a word as
    /// a category (the localized names are the caller's).
    pub fn parse(input: &str, category: impl Fn(&str) -> Option<Category>) -> Option<Self> {
        let mut q = SearchQuery::default();
        let words = input
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| matches!(c, '"' | '“' | '”' | ',' | '，')))
            .filter(|w| !w.is_empty())
            .take(MAX_WORDS);
        for word in words {
            let as_unit = word.chars().any(|c| c.is_ascii_digit()) && word.contains(['-', '－']);
            match (as_unit, word.parse::<Unit>(), category(word)) {
                (true, Ok(unit), _) if q.unit.is_none() => q.unit = Some(unit),
                (_, _, Some(c)) => q.categories.push((c, word.to_owned())),
                _ => q.words.push(word.to_owned()),
            }
        }
        let empty = q.unit.is_none() && q.categories.is_empty() && q.words.is_empty();
        (!empty).then_some(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(w: &str) -> Option<Category> {
        match w.to_lowercase().as_str() {
            "plumbing" | "水暖" => Some(Category::Plumbing),
            _ => None,
        }
    }

    #[test]
    fn a_unit_categories_and_words_are_told_apart() {
        let q = SearchQuery::parse(" 3-1201  Plumbing “leak” 漏水 ", cat).unwrap();
        assert_eq!(q.unit, Some("3-1201".parse().unwrap()));
        assert_eq!(
            q.categories,
            vec![(Category::Plumbing, "Plumbing".to_owned())]
        );
        assert_eq!(q.words, vec!["leak".to_owned(), "漏水".to_owned()]);
    }

    #[test]
    fn a_word_without_digits_is_no_unit_and_only_one_unit_counts() {
        let q = SearchQuery::parse("door-lock 3-1201 5-101", cat).unwrap();
        assert_eq!(q.unit, Some("3-1201".parse().unwrap()));
        assert_eq!(q.words, vec!["door-lock".to_owned(), "5-101".to_owned()]);
    }

    #[test]
    fn an_empty_query_is_none_and_long_ones_are_cut() {
        assert_eq!(SearchQuery::parse("  “” ", cat), None);
        let q = SearchQuery::parse(&"w ".repeat(20), cat).unwrap();
        assert_eq!(q.words.len(), MAX_WORDS);
    }
}
