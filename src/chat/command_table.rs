//! Butler's commands, in one table: which command enum parses each, which chat it belongs
//! in, and which menus (`setMyCommands`) show it, in what place and with which
//! description. The answer to a command sent in the wrong chat and the published menus are
//! read from here; the enums in `commands` stay (teloxide's derive needs them), and a test
//! keeps them and this table naming the same commands.

/// The command enum that parses a command (`commands::OwnerCommand` and so on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandSet {
    Owner,
    GroupAdmin,
    Staff,
    Manager,
    Lookup,
    Private,
    Dispatch,
}

/// The chat a command belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    OwnerGroup,
    StaffChat,
    StaffOrPrivate,
    /// A private chat with Butler only (`/console`: its link is for one person).
    Private,
    Anywhere,
}

/// Where a command is used, for telling people they are in the wrong chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    OwnerGroup,
    StaffChat,
    Private,
}

impl Home {
    /// Whether a command of this home is in its place in `place`.
    pub fn includes(self, place: Place) -> bool {
        match self {
            Home::OwnerGroup => place == Place::OwnerGroup,
            Home::StaffChat => place == Place::StaffChat,
            Home::StaffOrPrivate => matches!(place, Place::StaffChat | Place::Private),
            Home::Private => place == Place::Private,
            Home::Anywhere => true,
        }
    }

    /// What to tell someone who sent the command elsewhere (a command at home anywhere
    /// can only have been written wrong).
    pub fn wrong_chat_key(self) -> &'static str {
        match self {
            Home::OwnerGroup => "wrong_chat.owner_group",
            Home::StaffChat => "wrong_chat.staff_chat",
            Home::StaffOrPrivate => "wrong_chat.staff_or_private",
            Home::Private => "wrong_chat.private",
            Home::Anywhere => "error.bad_arguments",
        }
    }
}

/// A command menu Butler publishes: one `setMyCommands` scope, in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    /// Every private chat.
    Private,
    /// Every group chat (the owner groups).
    Groups,
    /// The staff chat.
    StaffChat,
}

impl Menu {
    /// In the order they are published.
    pub const ALL: [Menu; 3] = [Menu::Private, Menu::Groups, Menu::StaffChat];
}

/// One command.
#[derive(Debug)]
pub struct CommandSpec {
    /// As typed after the slash, lowercase.
    pub name: &'static str,
    pub home: Home,
    /// The enums that parse it.
    pub sets: &'static [CommandSet],
    /// The menus that show it, with its place (from 1) in each.
    pub shown: &'static [(Menu, u8)],
    /// The locale key of its description in a menu; set exactly when it is shown.
    pub about: Option<&'static str>,
}

const fn cmd(
    name: &'static str,
    home: Home,
    sets: &'static [CommandSet],
    shown: &'static [(Menu, u8)],
    about: Option<&'static str>,
) -> CommandSpec {
    CommandSpec {
        name,
        home,
        sets,
        shown,
        about,
    }
}

use CommandSet as S;
use Home as H;
use Menu as M;

/// Every command Butler answers.
pub static COMMANDS: &[CommandSpec] = &[
    // Anywhere.
    cmd(
        "start",
        H::Anywhere,
        &[S::Private],
        &[(M::Private, 1)],
        Some("command.start"),
    ),
    cmd(
        "help",
        H::Anywhere,
        &[S::Owner, S::Staff, S::Private],
        &[(M::Private, 2), (M::Groups, 4), (M::StaffChat, 11)],
        Some("command.help"),
    ),
    cmd(
        "my",
        H::Anywhere,
        &[S::Owner, S::Private],
        &[(M::Private, 3), (M::Groups, 3)],
        Some("command.my"),
    ),
    // Owner groups.
    cmd(
        "repair",
        H::OwnerGroup,
        &[S::Owner],
        &[(M::Groups, 1)],
        Some("command.repair"),
    ),
    cmd("report", H::OwnerGroup, &[S::Owner], &[], None),
    cmd(
        "complain",
        H::OwnerGroup,
        &[S::Owner],
        &[(M::Groups, 5)],
        Some("command.complain"),
    ),
    cmd(
        "suggest",
        H::OwnerGroup,
        &[S::Owner],
        &[(M::Groups, 6)],
        Some("command.suggest"),
    ),
    cmd(
        "unit",
        H::OwnerGroup,
        &[S::Owner],
        &[(M::Groups, 2)],
        Some("command.unit"),
    ),
    cmd("cancel", H::OwnerGroup, &[S::Owner], &[], None),
    cmd("register", H::OwnerGroup, &[S::GroupAdmin], &[], None),
    cmd("unregister", H::OwnerGroup, &[S::GroupAdmin], &[], None),
    cmd("lang", H::OwnerGroup, &[S::GroupAdmin], &[], None),
    // The staff chat.
    cmd(
        "open",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 1)],
        Some("command.open"),
    ),
    cmd(
        "mine",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 2)],
        Some("command.mine"),
    ),
    cmd(
        "take",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 3)],
        Some("command.take"),
    ),
    cmd(
        "done",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 4)],
        Some("command.done"),
    ),
    cmd(
        "reopen",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 5)],
        Some("command.reopen"),
    ),
    cmd(
        "category",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 6)],
        Some("command.category"),
    ),
    cmd(
        "note",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 7)],
        Some("command.note"),
    ),
    cmd(
        "pause",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 12)],
        Some("command.pause"),
    ),
    cmd(
        "resume",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 13)],
        Some("command.resume"),
    ),
    cmd(
        "urgency",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 14)],
        Some("command.urgency"),
    ),
    cmd(
        "stats",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 9)],
        Some("command.stats"),
    ),
    cmd(
        "export",
        H::StaffChat,
        &[S::Staff],
        &[(M::StaffChat, 10)],
        Some("command.export"),
    ),
    // Managers, in the staff chat or privately.
    cmd(
        "summary",
        H::StaffOrPrivate,
        &[S::Manager],
        &[(M::StaffChat, 8)],
        Some("command.summary"),
    ),
    cmd("watch", H::StaffOrPrivate, &[S::Manager], &[], None),
    cmd("unwatch", H::StaffOrPrivate, &[S::Manager], &[], None),
    cmd("greet", H::StaffOrPrivate, &[S::Manager], &[], None),
    cmd("notice", H::StaffOrPrivate, &[S::Manager], &[], None),
    // Dispatch, in the staff chat or privately.
    cmd("staff", H::StaffOrPrivate, &[S::Dispatch], &[], None),
    cmd("trades", H::StaffOrPrivate, &[S::Dispatch], &[], None),
    cmd("assign", H::StaffOrPrivate, &[S::Dispatch], &[], None),
    cmd("transfer", H::StaffOrPrivate, &[S::Dispatch], &[], None),
    cmd("return", H::StaffOrPrivate, &[S::Dispatch], &[], None),
    // Staff and managers, in the staff chat or privately.
    cmd("ticket", H::StaffOrPrivate, &[S::Lookup], &[], None),
    cmd("find", H::StaffOrPrivate, &[S::Lookup], &[], None),
    // Staff and managers, privately: a sign-in link to the web console.
    cmd("console", H::Private, &[S::Private], &[], None),
];

/// The chat a Butler command belongs in, if `name` (lowercase) is one.
pub fn home_of(name: &str) -> Option<Home> {
    COMMANDS.iter().find(|c| c.name == name).map(|c| c.home)
}

/// What to answer a command named `name` (lowercase) that reached the last branch of
/// `place`'s handlers: it is Butler's but for another chat, or it did not parse, or
/// (`addressed` to Butler, or in a private chat) it is no command of Butler's. `None`: it
/// is none of Butler's business.
pub fn misused_key(name: &str, place: Place, addressed: bool) -> Option<&'static str> {
    Some(match home_of(name) {
        // A known command in its own place that did not parse: say how to use it.
        Some(home) if home.includes(place) => "error.bad_arguments",
        Some(home) => home.wrong_chat_key(),
        None if addressed || place == Place::Private => "error.unknown_command",
        None => return None,
    })
}

/// A menu's commands in their order: each name with the locale key of its description.
pub fn menu(menu: Menu) -> Vec<(&'static str, &'static str)> {
    let mut shown: Vec<(u8, &'static str, &'static str)> = COMMANDS
        .iter()
        .filter_map(|c| {
            let (_, place) = c.shown.iter().find(|(m, _)| *m == menu)?;
            Some((*place, c.name, c.about?))
        })
        .collect();
    shown.sort_by_key(|(place, _, _)| *place);
    shown
        .into_iter()
        .map(|(_, name, about)| (name, about))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use teloxide::utils::command::BotCommands;

    use super::super::commands::{
        DispatchCommand, GroupAdminCommand, LookupCommand, ManagerCommand, OwnerCommand,
        PrivateCommand, StaffCommand,
    };
    use super::*;
    use crate::i18n::{Locale, t};

    fn enum_names<C: BotCommands>() -> BTreeSet<String> {
        C::bot_commands()
            .into_iter()
            .map(|c| c.command.trim_start_matches('/').to_owned())
            .collect()
    }

    fn table_names(set: CommandSet) -> BTreeSet<String> {
        COMMANDS
            .iter()
            .filter(|c| c.sets.contains(&set))
            .map(|c| c.name.to_owned())
            .collect()
    }

    #[test]
    fn the_table_and_the_command_enums_name_the_same_commands() {
        let enums = [
            (CommandSet::Owner, enum_names::<OwnerCommand>()),
            (CommandSet::GroupAdmin, enum_names::<GroupAdminCommand>()),
            (CommandSet::Staff, enum_names::<StaffCommand>()),
            (CommandSet::Manager, enum_names::<ManagerCommand>()),
            (CommandSet::Lookup, enum_names::<LookupCommand>()),
            (CommandSet::Private, enum_names::<PrivateCommand>()),
            (CommandSet::Dispatch, enum_names::<DispatchCommand>()),
        ];
        for (set, names) in enums {
            assert!(!names.is_empty(), "{set:?}");
            assert_eq!(table_names(set), names, "{set:?}");
        }
    }

    #[test]
    fn each_command_is_listed_once_lowercase_and_parsed_somewhere() {
        let mut seen = BTreeSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "{} is listed twice", c.name);
            assert_eq!(c.name, c.name.to_lowercase());
            assert!(!c.sets.is_empty(), "{} is parsed by no enum", c.name);
            assert_eq!(
                c.about.is_some(),
                !c.shown.is_empty(),
                "{}: a description exactly when shown",
                c.name
            );
        }
    }

    #[test]
    fn menu_places_run_from_one_without_gaps() {
        for m in Menu::ALL {
            let mut places: Vec<u8> = COMMANDS
                .iter()
                .flat_map(|c| c.shown.iter().filter(|(s, _)| *s == m).map(|(_, p)| *p))
                .collect();
            places.sort();
            let expected: Vec<u8> = (1..=places.len() as u8).collect();
            assert_eq!(places, expected, "{m:?}");
        }
    }

    #[test]
    fn the_published_menus_are_those_of_before_the_table() {
        let names = |m| menu(m).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(names(Menu::Private), ["start", "help", "my"]);
        assert_eq!(
            names(Menu::Groups),
            ["repair", "unit", "my", "help", "complain", "suggest"]
        );
        assert_eq!(
            names(Menu::StaffChat),
            [
                "open", "mine", "take", "done", "reopen", "category", "note", "summary", "stats",
                "export", "help", "pause", "resume", "urgency"
            ]
        );
        for m in Menu::ALL {
            for (name, about) in menu(m) {
                assert_eq!(about, format!("command.{name}"));
                for locale in Locale::ALL {
                    assert_ne!(t(locale, about, &[]), about, "{locale}: {about} is missing");
                }
            }
        }
    }

    #[test]
    fn the_wrong_chat_answer_is_the_one_of_before_the_table() {
        let cases = [
            (
                ["repair", "report", "unit", "complain", "suggest", "cancel"].as_slice(),
                Home::OwnerGroup,
            ),
            (&["register", "unregister", "lang"], Home::OwnerGroup),
            (
                &[
                    "open", "mine", "take", "done", "reopen", "category", "note", "stats",
                    "export", "urgency",
                ],
                Home::StaffChat,
            ),
            (
                &["watch", "unwatch", "greet", "summary", "notice"],
                Home::StaffOrPrivate,
            ),
            (&["my", "help", "start"], Home::Anywhere),
        ];
        for (names, home) in cases {
            for name in names {
                assert_eq!(home_of(name), Some(home), "{name}");
            }
        }
        assert_eq!(home_of("nosuch"), None);
        assert_eq!(home_of("Take"), None, "names arrive lowercased");
    }

    #[test]
    fn a_misused_command_gets_the_answer_of_its_home_and_place() {
        use Place::{OwnerGroup as G, Private as P, StaffChat as C};
        let bad = "error.bad_arguments";
        let cases = [
            ("repair", G, bad),
            ("repair", C, "wrong_chat.owner_group"),
            ("lang", P, "wrong_chat.owner_group"),
            ("take", C, bad),
            ("take", G, "wrong_chat.staff_chat"),
            ("export", P, "wrong_chat.staff_chat"),
            ("notice", C, bad),
            ("watch", P, bad),
            ("greet", G, "wrong_chat.staff_or_private"),
            ("my", G, bad),
            ("help", C, bad),
            ("start", P, bad),
            ("console", P, bad),
            ("console", C, "wrong_chat.private"),
            ("console", G, "wrong_chat.private"),
        ];
        for (name, place, key) in cases {
            for addressed in [false, true] {
                assert_eq!(
                    misused_key(name, place, addressed),
                    Some(key),
                    "{name} {place:?}"
                );
            }
        }
        assert_eq!(misused_key("nosuch", G, false), None);
        assert_eq!(misused_key("nosuch", C, false), None);
        for (place, addressed) in [(G, true), (C, true), (P, false), (P, true)] {
            assert_eq!(
                misused_key("nosuch", place, addressed),
                Some("error.unknown_command")
            );
        }
    }
}
