//! `[[routes]]`: categories sent to their own staff chats (an engineering chat for
//! plumbing, electrical and lifts; a cleaning chat …). The main `staff_chat_id` gets
//! every ticket no route claims.
//!
//! ```toml
//! [[routes]]
//! name = "Engineering"
//! staff_chat_id = -1001234567890
//! categories = ["plumbing", "electrical", "lift"]
//! ```
//!
//! Checked when read: every route has a name, a chat, and known category keys; no
//! category is in two routes; no two routes share a chat, and none is the main one.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::domain::Category;

/// One staff chat of a trade, and the categories whose tickets go there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// How people call the chat ("Engineering"): on the card a ticket moved away from,
    /// and in refusals to act on a ticket from another chat.
    pub name: String,
    /// The Telegram id of the route's staff group.
    pub staff_chat_id: i64,
    /// The categories it takes, each in no other route.
    pub categories: Vec<Category>,
}

/// A route as written in the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawRoute {
    name: String,
    staff_chat_id: i64,
    categories: Vec<String>,
}

impl From<&Route> for RawRoute {
    fn from(r: &Route) -> Self {
        RawRoute {
            name: r.name.clone(),
            staff_chat_id: r.staff_chat_id,
            categories: r.categories.iter().map(|c| c.code().to_owned()).collect(),
        }
    }
}

/// The routes of the file, checked against each other and against the main chat.
pub(super) fn parse_routes(raw: &[RawRoute], main_chat: i64) -> Result<Vec<Route>, ConfigError> {
    let mut routes: Vec<Route> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let problem = |problem: String| ConfigError::Route {
            index: i + 1,
            problem,
        };
        let name = r.name.trim();
        if name.is_empty() {
            return Err(problem("has no name (e.g. name = \"Engineering\")".into()));
        }
        if r.staff_chat_id == 0 {
            return Err(problem(format!(
                "({name}) has no staff_chat_id (the Telegram id of its staff group)"
            )));
        }
        if main_chat != 0 && r.staff_chat_id == main_chat {
            return Err(problem(format!(
                "({name}) staff_chat_id {} is the main staff_chat_id: a route needs a chat of its own",
                r.staff_chat_id
            )));
        }
        if let Some(other) = routes.iter().find(|o| o.staff_chat_id == r.staff_chat_id) {
            return Err(problem(format!(
                "({name}) staff_chat_id {} is also the chat of route {:?}",
                r.staff_chat_id, other.name
            )));
        }
        if r.categories.is_empty() {
            return Err(problem(format!("({name}) has no categories")));
        }
        let mut categories = Vec::with_capacity(r.categories.len());
        for code in &r.categories {
            let Some(category) = Category::from_code(code.trim()) else {
                return Err(problem(format!(
                    "({name}) category {code:?} is unknown (known: {})",
                    known_categories()
                )));
            };
            if let Some(other) = routes.iter().find(|o| o.categories.contains(&category)) {
                return Err(problem(format!(
                    "({name}) category {code:?} is already routed to {:?}",
                    other.name
                )));
            }
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
        routes.push(Route {
            name: name.to_owned(),
            staff_chat_id: r.staff_chat_id,
            categories,
        });
    }
    Ok(routes)
}

fn known_categories() -> String {
    Category::ALL
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use crate::domain::Category;

    const TWO: &str = r#"
staff_chat_id = -100
[[routes]]
name = "Engineering"
staff_chat_id = -200
categories = ["plumbing", "electrical", "lift"]
[[routes]]
name = "Cleaning"
staff_chat_id = -300
categories = ["cleaning"]
"#;

    fn err(text: &str) -> String {
        Settings::from_toml(text).expect_err("refused").to_string()
    }

    #[test]
    fn routes_are_read_and_claim_their_categories() {
        let s = Settings::from_toml(TWO).expect("parses");
        assert_eq!(s.routes.len(), 2);
        assert_eq!(s.routes[0].name, "Engineering");
        assert_eq!(s.staff_chat_for(Category::Plumbing), -200);
        assert_eq!(s.staff_chat_for(Category::Lift), -200);
        assert_eq!(s.staff_chat_for(Category::Cleaning), -300);
        assert_eq!(s.staff_chat_for(Category::DoorLock), -100);
        assert!(s.is_staff_chat(-100) && s.is_staff_chat(-200) && s.is_staff_chat(-300));
        assert!(!s.is_staff_chat(-400));
        assert_eq!(s.staff_chats(), vec![-100, -200, -300]);
        assert_eq!(s.staff_chat_name(-300), Some("Cleaning"));
        assert_eq!(s.staff_chat_name(-100), None);
    }

    #[test]
    fn check_config_prints_the_routes_and_they_read_back() {
        let s = Settings::from_toml(TWO).expect("parses");
        let text = s.render_effective(None);
        assert!(text.contains("[[routes]]"), "{text}");
        assert!(text.contains("name = \"Engineering\""), "{text}");
        assert!(text.contains("\"plumbing\""), "{text}");
        let again = Settings::from_toml(&text).expect("the rendering parses");
        assert_eq!(again.routes, s.routes);
    }

    #[test]
    fn a_category_in_two_routes_is_refused_naming_both() {
        let e = err(r#"
[[routes]]
name = "A"
staff_chat_id = -2
categories = ["plumbing"]
[[routes]]
name = "B"
staff_chat_id = -3
categories = ["lift", "plumbing"]
"#);
        assert!(e.starts_with("config: routes #2"), "{e}");
        assert!(e.contains("\"plumbing\" is already routed to \"A\""), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn an_unknown_category_key_is_refused_with_the_known_ones() {
        let e = err("[[routes]]\nname = \"A\"\nstaff_chat_id = -2\ncategories = [\"Plumbing\"]\n");
        assert!(e.contains("category \"Plumbing\" is unknown"), "{e}");
        assert!(e.contains("door_lock"), "{e}");
    }

    #[test]
    fn a_route_chat_must_differ_from_the_main_one_and_the_others() {
        let e = err(
            "staff_chat_id = -2\n[[routes]]\nname = \"A\"\nstaff_chat_id = -2\ncategories = [\"lift\"]\n",
        );
        assert!(e.contains("is the main staff_chat_id"), "{e}");
        let e = err(r#"
[[routes]]
name = "A"
staff_chat_id = -2
categories = ["lift"]
[[routes]]
name = "B"
staff_chat_id = -2
categories = ["cleaning"]
"#);
        assert!(e.contains("also the chat of route \"A\""), "{e}");
    }

    #[test]
    fn a_route_needs_a_name_a_chat_and_categories() {
        assert!(
            err("[[routes]]\nstaff_chat_id = -2\ncategories = [\"lift\"]\n").contains("no name")
        );
        assert!(
            err("[[routes]]\nname = \"A\"\ncategories = [\"lift\"]\n").contains("no staff_chat_id")
        );
        assert!(err("[[routes]]\nname = \"A\"\nstaff_chat_id = -2\n").contains("no categories"));
        assert!(
            err("[[routes]]\nname = \"A\"\nstaff_chat_id = -2\ncolour = 1\n").contains("colour")
        );
    }
}
