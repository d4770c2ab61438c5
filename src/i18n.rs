//! Every user-facing string, looked up by key in `locales/<locale>.toml`.
//!
//! The two locale files are compiled into the binary, so a deployment cannot lose
//! them; tests check that both hold the same keys and every key the code names
//! (`code_keys` reads the source for them).

use std::collections::HashMap;
use std::sync::OnceLock;

/// The language type lives in `domain` (a ticket remembers its owner's); this module
/// holds what is said in it.
pub use crate::domain::Locale;

/// One locale file: `[messages]` texts with `{name}` placeholders, and per-category
/// `[categories.<code>]` names and keywords.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LocaleFile {
    messages: HashMap<String, String>,
    categories: HashMap<String, CategoryText>,
    /// `[urgency.A]`, `[urgency.C]`: words that make a report that urgent (B is the rest).
    urgency: HashMap<String, UrgencyText>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UrgencyText {
    keywords: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryText {
    name: String,
    keywords: Vec<String>,
}

const ZH_CN: &str = include_str!("../locales/zh-CN.toml");
const EN: &str = include_str!("../locales/en.toml");

fn file(locale: Locale) -> &'static LocaleFile {
    static ZH: OnceLock<LocaleFile> = OnceLock::new();
    static ENG: OnceLock<LocaleFile> = OnceLock::new();
    let (cell, src) = match locale {
        Locale::ZhCn => (&ZH, ZH_CN),
        Locale::En => (&ENG, EN),
    };
    // The files are compiled in and checked by tests, so a parse failure is a build bug.
    cell.get_or_init(|| {
        toml::from_str(src).unwrap_or_else(|e| panic!("locales/{locale}.toml is invalid: {e}"))
    })
}

/// The text for `key` in `locale`, with `{name}` placeholders filled from `args`.
/// A missing key (a bug the locale test catches) shows the key itself.
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let Some(template) = file(locale).messages.get(key) else {
        tracing::error!(%locale, key, "missing locale key");
        return key.to_owned();
    };
    fill(template, args)
}

/// Whether `locale` has a text for `key` (for the tests that check the code's keys).
#[cfg(test)]
pub(crate) fn has_key(locale: Locale, key: &str) -> bool {
    file(locale).messages.contains_key(key)
}

/// Fills `{name}` placeholders from `args`, in one pass (a value is never read as a
/// template). `{name|one|other}` is a count's word: `one` when the value of `name` is 1,
/// else `other` ("{count} {count|group|groups}"), for languages whose words change with
/// the count. A placeholder without a value stays as written.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let mut parts = inner.split('|');
        let name = parts.next().unwrap_or_default();
        let value = args.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match (value, parts.next(), parts.next()) {
            (Some(v), None, _) => out.push_str(v),
            (Some(v), Some(one), Some(other)) => {
                out.push_str(if v.trim() == "1" { one } else { other })
            }
            _ => {
                out.push('{');
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A duration as people read it: minutes under an hour, hours (to a tenth) under two
/// days, else days (to a tenth): "1 minute", "14 hours", "2.5 days". Every duration
/// Butler shows goes through here.
pub fn duration(locale: Locale, d: chrono::Duration) -> String {
    let secs = d.num_seconds().max(0) as f64;
    let one_decimal = |x: f64| {
        let r = (x * 10.0).round() / 10.0;
        if r.fract() == 0.0 {
            format!("{r:.0}")
        } else {
            format!("{r:.1}")
        }
    };
    let (key, n) = if secs < 3600.0 {
        ("duration.minutes", format!("{:.0}", (secs / 60.0).round()))
    } else if secs < 48.0 * 3600.0 {
        ("duration.hours", one_decimal(secs / 3600.0))
    } else {
        ("duration.days", one_decimal(secs / 86400.0))
    };
    t(locale, key, &[("n", &n)])
}

/// A number of minutes as [`duration`] reads it.
pub fn minutes(locale: Locale, minutes: i64) -> String {
    duration(locale, chrono::Duration::minutes(minutes))
}

/// The localized name of a category.
pub fn category_name(locale: Locale, category: crate::domain::Category) -> String {
    file(locale)
        .categories
        .get(category.code())
        .map(|c| c.name.clone())
        .unwrap_or_else(|| category.code().to_owned())
}

/// A category's keywords in every language, for guessing it from a report.
pub fn category_keywords(category: crate::domain::Category) -> Vec<&'static str> {
    Locale::ALL
        .iter()
        .filter_map(|&l| file(l).categories.get(category.code()))
        .flat_map(|c| c.keywords.iter().map(String::as_str))
        .collect()
}

/// An urgency level's keywords in every language, for guessing it from a report.
pub fn urgency_keywords(level: crate::domain::Urgency) -> Vec<&'static str> {
    Locale::ALL
        .iter()
        .filter_map(|&l| file(l).urgency.get(level.code()))
        .flat_map(|u| u.keywords.iter().map(String::as_str))
        .collect()
}

/// A category from what staff type: its code or its name in any language, any case
/// (see [`crate::domain::Category::parse`]).
pub fn parse_category(input: &str) -> Option<crate::domain::Category> {
    crate::domain::Category::parse(input, |c| {
        Locale::ALL
            .iter()
            .filter_map(|&l| file(l).categories.get(c.code()))
            .map(|t| t.name.as_str())
            .collect()
    })
}

/// Every category's name in `locale`, as a list to choose from: "Plumbing, Electrical, …".
pub fn category_list(locale: Locale) -> String {
    let mut codes = crate::domain::Category::ALL;
    // In the order people think of them (the guess order puts lifts first).
    codes.sort_by_key(|c| *c as u8);
    codes
        .iter()
        .map(|&c| category_name(locale, c))
        .collect::<Vec<_>>()
        .join(&t(locale, "stats.separator", &[]))
}

#[cfg(test)]
mod code_keys;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(l: Locale) -> BTreeSet<String> {
        file(l).messages.keys().cloned().collect()
    }

    #[test]
    fn both_locales_have_the_same_message_keys() {
        let zh = keys(Locale::ZhCn);
        let en = keys(Locale::En);
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh-CN: {only_zh:?}; only in en: {only_en:?}"
        );
    }

    #[test]
    fn both_locales_name_every_category() {
        for l in Locale::ALL {
            for c in crate::domain::Category::ALL {
                let text = file(l).categories.get(c.code());
                assert!(
                    text.is_some_and(|t| !t.name.is_empty()),
                    "{l} lacks category {c}"
                );
            }
            assert_eq!(file(l).categories.len(), crate::domain::Category::ALL.len());
        }
    }

    #[test]
    fn placeholders_are_the_same_in_both_locales() {
        let re = |s: &str| -> BTreeSet<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(n, _)| n.split('|').next().unwrap_or_default().to_owned())
                .collect()
        };
        for (key, zh) in &file(Locale::ZhCn).messages {
            let en = &file(Locale::En).messages[key];
            assert_eq!(re(zh), re(en), "placeholders differ for {key}");
        }
    }

    #[test]
    fn keywords_guess_categories_in_both_languages() {
        use crate::domain::Category;
        assert_eq!(
            Category::guess("卫生间漏水", category_keywords),
            Category::Plumbing
        );
        assert_eq!(
            Category::guess("The lift is stuck", category_keywords),
            Category::Lift
        );
        assert_eq!(parse_category("水电"), None);
        assert_eq!(parse_category("门锁"), Some(Category::DoorLock));
        assert_eq!(parse_category("doors and LOCKS"), Some(Category::DoorLock));
        assert_eq!(parse_category("public_area"), Some(Category::PublicArea));
        assert_eq!(parse_category("Plumbing"), Some(Category::Plumbing));
        assert_eq!(parse_category("electrical"), Some(Category::Electrical));
    }

    #[test]
    fn keywords_guess_urgency_in_both_languages() {
        use crate::domain::Urgency;
        for l in Locale::ALL {
            for level in [Urgency::A, Urgency::C] {
                let words = file(l).urgency.get(level.code());
                assert!(words.is_some_and(|w| !w.keywords.is_empty()), "{l} {level}");
            }
        }
        let guess = |text| Urgency::guess(text, urgency_keywords);
        assert_eq!(guess("煤气味很重"), Urgency::A);
        assert_eq!(guess("Someone is STUCK IN THE LIFT"), Urgency::A);
        assert_eq!(guess("整栋楼停电了"), Urgency::A);
        assert_eq!(guess("the wall paint is peeling"), Urgency::C);
        assert_eq!(guess("卧室门把手松了"), Urgency::B);
    }

    /// The keys of `[messages]` in both locales; the message of a failure lists the rest.
    fn missing_keys(keys: impl IntoIterator<Item = String>) -> Vec<String> {
        keys.into_iter()
            .filter(|k| !(has_key(Locale::ZhCn, k) && has_key(Locale::En, k)))
            .collect()
    }

    #[test]
    fn every_locale_key_the_code_names_exists_in_both_locales() {
        let found = code_keys::literal_keys();
        // The scan sees the code: a few keys it must find, the refusals among them.
        for known in [
            "error.closed",
            "error.bad_days",
            "button.take",
            "card.status",
        ] {
            assert!(
                found.iter().any(|(_, k)| k == known),
                "the scan missed {known}"
            );
        }
        let missing: Vec<String> = found
            .into_iter()
            .filter(|(_, k)| !(has_key(Locale::ZhCn, k) && has_key(Locale::En, k)))
            .map(|(place, k)| format!("{k} ({place})"))
            .collect();
        assert!(
            missing.is_empty(),
            "keys missing from a locale: {missing:?}"
        );
    }

    #[test]
    fn every_key_of_the_formatted_families_exists_in_both_locales() {
        use crate::domain::TicketStatus as S;
        // Every status: a new one breaks this match until it is listed.
        let statuses = [S::Reported, S::Taken, S::Done, S::Rated, S::Cancelled];
        for s in statuses {
            match s {
                S::Reported | S::Taken | S::Done | S::Rated | S::Cancelled => {}
            }
        }
        let mut keys: Vec<String> = statuses
            .iter()
            .map(|s| format!("status.{}", s.code()))
            .collect();
        keys.extend((1..=12).map(|m| format!("month.{m}")));
        keys.extend(
            crate::domain::Kind::ALL
                .iter()
                .map(|k| format!("kind.{}", k.code())),
        );
        keys.extend((1..=7).map(|d| format!("weekday.{d}")));
        // Every command shown in a menu has its description.
        use crate::chat::command_table::{Menu, menu};
        for m in Menu::ALL {
            keys.extend(menu(m).into_iter().map(|(_, about)| about.to_owned()));
        }
        // Every refusal: a new one breaks this match until it is listed.
        use crate::domain::Error as E;
        let text = String::new;
        let refusals = [
            E::EmptyReport,
            E::BadTicketId(text()),
            E::UnknownTicket(1),
            E::BadUnit(text()),
            E::ScoreOutOfRange(6),
            E::UnknownCategory(text()),
            E::AlreadyTaken { by: text() },
            E::AlreadyYours,
            E::NotTaken,
            E::NotYourTicket { by: text() },
            E::PhotoRequired,
            E::AlreadyDone,
            E::Closed,
            E::NotDone,
            E::NotTheReporter,
            E::RatingNotOpen,
            E::RatingClosed,
            E::EmptyNote,
            E::ManagersOnly,
            E::RatedReopenManagersOnly,
            E::NotStaff,
            E::BadDays(text()),
            E::BadUrgency(text()),
            E::ForManagers(1),
            E::NotARequest(1),
            E::UnknownStaff(text()),
            E::DispatchersOnly,
            E::HolderOrManager { by: text() },
            E::HolderOnly,
            E::AlreadyHeld { by: text() },
            E::ReasonNeeded,
            E::AlreadyPaused,
            E::NotPaused,
            E::NotYourPause,
            E::OtherStaffChat { chat: text() },
            E::NotYourReport,
            E::FinishedCannotCancel,
            E::AlreadyCancelled,
            E::NotYourHurry,
            E::HurryPaused,
            E::HurryNotDue,
            E::HurryTooSoon { minutes: 5 },
        ];
        for e in &refusals {
            match e {
                E::EmptyReport
                | E::BadTicketId(_)
                | E::UnknownTicket(_)
                | E::BadUnit(_)
                | E::ScoreOutOfRange(_)
                | E::UnknownCategory(_)
                | E::AlreadyTaken { .. }
                | E::AlreadyYours
                | E::NotTaken
                | E::NotYourTicket { .. }
                | E::PhotoRequired
                | E::AlreadyDone
                | E::Closed
                | E::NotDone
                | E::NotTheReporter
                | E::RatingNotOpen
                | E::RatingClosed
                | E::EmptyNote
                | E::ManagersOnly
                | E::RatedReopenManagersOnly
                | E::NotStaff
                | E::BadDays(_)
                | E::BadUrgency(_)
                | E::ForManagers(_)
                | E::NotARequest(_)
                | E::UnknownStaff(_)
                | E::DispatchersOnly
                | E::HolderOrManager { .. }
                | E::HolderOnly
                | E::AlreadyHeld { .. }
                | E::ReasonNeeded
                | E::AlreadyPaused
                | E::NotPaused
                | E::NotYourPause
                | E::OtherStaffChat { .. }
                | E::NotYourReport
                | E::FinishedCannotCancel
                | E::AlreadyCancelled
                | E::NotYourHurry
                | E::HurryPaused
                | E::HurryNotDue
                | E::HurryTooSoon { .. } => {}
            }
        }
        keys.extend(refusals.iter().map(|e| e.locale_key().to_owned()));
        assert_eq!(missing_keys(keys), Vec::<String>::new());
    }

    #[test]
    fn a_count_picks_its_word() {
        let tpl = "{count} {count|group|groups}";
        assert_eq!(fill(tpl, &[("count", "1")]), "1 group");
        assert_eq!(fill(tpl, &[("count", "2")]), "2 groups");
        assert_eq!(fill(tpl, &[("count", "0")]), "0 groups");
        assert_eq!(fill("{a} {b}", &[("a", "{b}"), ("b", "x")]), "{b} x");
        assert_eq!(fill("{missing} {", &[]), "{missing} {");
    }

    #[test]
    fn durations_read_in_minutes_hours_or_days() {
        use chrono::Duration as D;
        let en = |d| duration(Locale::En, d);
        assert_eq!(en(D::seconds(20)), "0 minutes");
        assert_eq!(en(D::minutes(1)), "1 minute");
        assert_eq!(en(D::minutes(59)), "59 minutes");
        assert_eq!(en(D::minutes(60)), "1 hour");
        assert_eq!(en(D::minutes(90)), "1.5 hours");
        assert_eq!(en(D::minutes(838)), "14 hours");
        assert_eq!(en(D::hours(47)), "47 hours");
        assert_eq!(en(D::hours(48)), "2 days");
        assert_eq!(en(D::hours(60)), "2.5 days");
        assert_eq!(en(D::minutes(-5)), "0 minutes");
        assert_eq!(duration(Locale::ZhCn, D::minutes(838)), "14 小时");
        assert_eq!(minutes(Locale::En, 1), "1 minute");
    }

    /// English nouns that follow a count, in their plural.
    const PLURALS: [&str; 16] = [
        "minutes", "hours", "days", "weeks", "groups", "tickets", "ratings", "reports", "repairs",
        "members", "scores", "photos", "owners", "times", "people", "messages",
    ];

    #[test]
    fn english_counts_of_one_are_singular() {
        let names = |s: &str| -> Vec<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(n, _)| n.split('|').next().unwrap_or_default().to_owned())
                .collect()
        };
        let mut wrong = Vec::new();
        for (key, template) in &file(Locale::En).messages {
            let names = names(template);
            let args: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
            let text = fill(template, &args);
            // "1" as a count: the whole word, or opening a bracket ("(1 of 1 …").
            let words: Vec<&str> = text.split_whitespace().collect();
            let noun = |w: &str| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            };
            if words.windows(2).any(|w| {
                w[0].trim_start_matches(['(', '（']) == "1"
                    && PLURALS.contains(&noun(w[1]).as_str())
            }) {
                wrong.push(format!("{key}: {text}"));
            }
        }
        assert!(wrong.is_empty(), "a count of 1 with a plural: {wrong:#?}");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("#{id} by {by}", &[("id", "4"), ("by", "Wang")]),
            "#4 by Wang"
        );
    }
}
