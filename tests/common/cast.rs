//! The people and chats of the stories the tests tell: an owner group and the staff chat
//! (the sandbox's own chat ids), owners, staff and a manager, each with one name.

use butler_emulator::{Emulator, EmulatorHandle, User};

/// The owner group, "Sunrise Garden": the same chat id as the sandbox's.
pub use butler::sandbox::GROUP;
/// The staff chat: the same chat id as the sandbox's.
pub use butler::sandbox::STAFF_CHAT;

pub const GROUP_TITLE: &str = "Sunrise Garden";
pub const STAFF_CHAT_TITLE: &str = "Staff";

/// The owner who reports.
pub const OWNER: u64 = 100;
/// Another owner in the same group.
pub const NEIGHBOUR: u64 = 101;
/// The staff member who takes tickets.
pub const STAFF: u64 = 200;
/// A second staff member.
pub const STAFF2: u64 = 201;
/// The manager: in both chats, and in a private chat with the bot.
pub const MANAGER: u64 = 900;

/// The language everyone's Telegram app speaks.
pub const LANG: &str = "en";

/// Who is who: (id, first name).
pub const PEOPLE: [(u64, &str); 5] = [
    (OWNER, "Li"),
    (NEIGHBOUR, "Zhao"),
    (STAFF, "Wang"),
    (STAFF2, "Chen"),
    (MANAGER, "Boss"),
];

/// A person's first name ("Someone" for a stranger).
pub fn name_of(id: u64) -> &'static str {
    PEOPLE
        .iter()
        .find(|(person, _)| *person == id)
        .map_or("Someone", |(_, name)| name)
}

/// The token the binary runs with; it must never appear in Butler's log.
pub const TOKEN: &str = "123456:E2E-TEST-TOKEN";

/// Butler's butler.toml for the cast (its staff chat and manager) on the database at
/// `database_url` (a SQLite file, or a PostgreSQL schema: see
/// `butler::store::testing::database_url`), with `tweaks` appended (keys or whole tables,
/// e.g. "[sla]\ntake_minutes = 5").
///
/// The scheduler catches up on nothing (`catch_up_minutes = 0`, unless `tweaks` set it):
/// a fresh Butler started within the hour after 08:00 or 18:00 in the cast's zone would
/// otherwise greet the groups or send the staff chat its daily summary at once, and a
/// test's counts would depend on the time of day it runs.
pub fn cast_config(database_url: &str, tweaks: &str) -> String {
    format!(
        "database_url = \"{database_url}\"\nstaff_chat_id = {STAFF_CHAT}\nmanagers = [{MANAGER}]\ndefault_locale = \"en\"\ntimezone = \"Asia/Shanghai\"\n{}\n",
        without_catching_up(tweaks)
    )
}

/// `tweaks` with `catch_up_minutes = 0` in their `[schedule]` table (added if missing),
/// unless they set it themselves.
pub fn without_catching_up(tweaks: &str) -> String {
    const NONE: &str = "catch_up_minutes = 0\n";
    if tweaks.contains("catch_up_minutes") {
        tweaks.to_owned()
    } else if tweaks.contains("[schedule]\n") {
        tweaks.replacen("[schedule]\n", &format!("[schedule]\n{NONE}"), 1)
    } else {
        format!("{tweaks}\n[schedule]\n{NONE}")
    }
}

/// The emulator with the cast: an owner group with the owner and a manager in it, and the
/// staff chat with a staff member and the manager, the bot an administrator there.
pub async fn emulator_with_cast() -> EmulatorHandle {
    let emu = Emulator::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("the emulator starts");
    for id in [OWNER, STAFF, MANAGER] {
        emu.add_user(User::new(id, name_of(id)).language(LANG));
    }
    emu.create_group(GROUP, GROUP_TITLE, &[OWNER, MANAGER])
        .unwrap();
    emu.create_group(STAFF_CHAT, STAFF_CHAT_TITLE, &[STAFF, MANAGER])
        .unwrap();
    // As the README asks: an administrator hears members leave.
    emu.make_bot_admin(STAFF_CHAT).unwrap();
    emu.create_private_chat(MANAGER).unwrap();
    emu
}
