//! What kind of repair a ticket is. The codes are fixed here; their names and the
//! keywords that guess them live in the locale files.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Plumbing,
    Electrical,
    Lift,
    DoorLock,
    Appliance,
    PublicArea,
    Cleaning,
    Other,
}

impl Category {
    /// In the order a guess tries them: the more specific first, `Other` last.
    pub const ALL: [Category; 8] = [
        Category::Lift,
        Category::Plumbing,
        Category::Electrical,
        Category::DoorLock,
        Category::Appliance,
        Category::Cleaning,
        Category::PublicArea,
        Category::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Plumbing => "plumbing",
            Category::Electrical => "electrical",
            Category::Lift => "lift",
            Category::DoorLock => "door_lock",
            Category::Appliance => "appliance",
            Category::PublicArea => "public_area",
            Category::Cleaning => "cleaning",
            Category::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The first category with a keyword that occurs in `text` (case-insensitive), else
    /// `Other`. `keywords` gives a category's keywords in every language Butler speaks.
    pub fn guess<'a>(text: &str, keywords: impl Fn(Category) -> Vec<&'a str>) -> Category {
        let text = text.to_lowercase();
        Category::ALL
            .into_iter()
            .find(|&c| {
                keywords(c)
                    .iter()
                    .any(|k| !k.is_empty() && text.contains(&k.to_lowercase()))
            })
            .unwrap_or(Category::Other)
    }

    /// A category from what staff type: its code (`door_lock`, also `door-lock` or
    /// `door lock`) or one of its `names` (every language Butler speaks), ignoring case
    /// and surrounding spaces. The one parser of typed categories.
    pub fn parse<'a>(input: &str, names: impl Fn(Category) -> Vec<&'a str>) -> Option<Category> {
        let input = input.trim().to_lowercase();
        if input.is_empty() {
            return None;
        }
        let as_code = input.replace(['-', ' '], "_");
        Category::ALL.into_iter().find(|&c| {
            c.code() == as_code || names(c).iter().any(|n| n.trim().to_lowercase() == input)
        })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(c: Category) -> Vec<&'static str> {
        match c {
            Category::Plumbing => vec!["漏水", "Leak"],
            Category::Lift => vec!["电梯"],
            _ => vec![],
        }
    }

    #[test]
    fn a_keyword_anywhere_in_the_text_picks_the_category() {
        assert_eq!(Category::guess("厨房漏水了", words), Category::Plumbing);
        assert_eq!(Category::guess("the sink LEAKS", words), Category::Plumbing);
    }

    #[test]
    fn no_keyword_means_other() {
        assert_eq!(Category::guess("something odd", words), Category::Other);
    }

    fn names(c: Category) -> Vec<&'static str> {
        match c {
            Category::DoorLock => vec!["Doors and locks", "门锁"],
            Category::PublicArea => vec!["Public areas", "公共区域"],
            _ => vec![],
        }
    }

    #[test]
    fn a_typed_category_is_its_code_or_a_name_in_any_language_ignoring_case() {
        assert_eq!(
            Category::parse("door_lock", names),
            Some(Category::DoorLock)
        );
        assert_eq!(
            Category::parse(" Door-Lock ", names),
            Some(Category::DoorLock)
        );
        assert_eq!(
            Category::parse("DOORS AND LOCKS", names),
            Some(Category::DoorLock)
        );
        assert_eq!(
            Category::parse("公共区域", names),
            Some(Category::PublicArea)
        );
        assert_eq!(
            Category::parse("public area", names),
            Some(Category::PublicArea)
        );
        assert_eq!(Category::parse("Security", names), None);
        assert_eq!(Category::parse("", names), None);
    }

    #[test]
    fn codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
        }
    }
}
