//! Routing to trade chats through the real binary: a plumbing report's card lands in the
//! Engineering chat only, its member works it there, the owner hears each step, and a
//! member of only the main staff chat is refused.

use butler_emulator::{EmulatorHandle, Message, User};

use crate::harness::*;

/// The Engineering chat, routed plumbing, electrical and lifts.
const ENGINEERING: i64 = -100_777;
/// A plumber: a member of the Engineering chat only.
const PLUMBER: u64 = 300;

const ROUTES: &str = "[[routes]]\nname = \"Engineering\"\nstaff_chat_id = -100777\n\
                      categories = [\"plumbing\", \"electrical\", \"lift\"]\n";

/// The cast's world with the Engineering chat (the plumber and the manager in it); the
/// bot an administrator there when `admin`.
fn engineering(admin: bool) -> impl FnOnce(&EmulatorHandle) {
    move |emu| {
        emu.add_user(User::new(PLUMBER, "Sam").language("en"));
        emu.create_group(ENGINEERING, "Engineering", &[PLUMBER, MANAGER])
            .unwrap();
        if admin {
            emu.make_bot_admin(ENGINEERING).unwrap();
        }
    }
}

impl Story {
    /// The card of `ticket` in `chat`, as shown now.
    async fn card_in(&self, chat: i64, ticket: i64) -> Message {
        let head = format!("🔧 #{ticket} ·");
        self.until(&format!("the card of #{ticket} in {chat}"), |s| {
            s.bot_messages_in(chat)
                .into_iter()
                .find(|m| m.body().starts_with(&head))
        })
        .await
    }

    /// Butler's reply in `chat` to `to`, containing `part`.
    async fn answer_to(&self, chat: i64, to: i32, part: &str) -> Message {
        self.until(&format!("an answer with {part:?}"), |s| {
            s.replies_to(chat, to)
                .into_iter()
                .find(|m| m.is_from_bot() && m.body().contains(part))
        })
        .await
    }
}

#[tokio::test]
async fn a_plumbing_card_goes_to_engineering_where_its_member_takes_and_finishes_it() {
    let story = Story::start_with(ROUTES, engineering(true)).await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the kitchen tap is leaking").await;
    let id = report.ticket;
    let card = story.card_in(ENGINEERING, id).await;
    assert!(card.body().contains("Plumbing"), "{}", card.body());
    assert_eq!(card.button_labels(), vec!["Take", "Assign"]);

    // Someone of the main staff chat only: refused, pointed to Engineering.
    let asked = story
        .emu
        .user_sends_text(STAFF_CHAT, STAFF, &format!("/take {id}"), None)
        .unwrap();
    story
        .answer_to(STAFF_CHAT, asked.id, "worked in Engineering")
        .await;

    // The plumber takes it: the card says so, the owner hears who is coming.
    let answer = story.presses(ENGINEERING, card.id, PLUMBER, "Take").await;
    assert_eq!(answer.text.as_deref(), Some(&*format!("#{id} is yours.")));
    story
        .until("the card shows the taker", |s| {
            s.message(ENGINEERING, card.id)
                .filter(|m| m.body().contains("Status: taken by Sam"))
        })
        .await;
    story
        .answer_to(GROUP, report.message.id, "Sam is taking care of it")
        .await;

    // A photo replying to the card reaches the owner; Done asks them for a rating.
    tokio::time::sleep(REACTION).await;
    let photo = story
        .emu
        .user_sends_photo(
            ENGINEERING,
            PLUMBER,
            Some("new cartridge"),
            Some(card.id),
            None,
        )
        .unwrap();
    let relayed = story
        .until("the photo under the report", |s| {
            s.replies_to(GROUP, report.message.id)
                .into_iter()
                .find(|m| m.is_from_bot() && m.photo.is_some())
        })
        .await;
    assert_eq!(
        relayed.photo.unwrap().file_unique_id,
        photo.photo.unwrap().file_unique_id
    );
    let answer = story.presses(ENGINEERING, card.id, PLUMBER, "Done").await;
    assert!(
        answer
            .text
            .as_deref()
            .unwrap_or("")
            .starts_with(&format!("#{id} is done")),
        "{answer:?}"
    );
    story
        .answer_to(GROUP, report.message.id, "How satisfied are you")
        .await;
    story
        .until("the card shows done", |s| {
            s.message(ENGINEERING, card.id)
                .filter(|m| m.body().contains("done by Sam"))
        })
        .await;

    // The main staff chat never saw the card.
    let main = story.emu.bot_messages_in(STAFF_CHAT);
    assert!(
        main.iter()
            .all(|m| !m.body().starts_with(&format!("🔧 #{id}"))),
        "{}",
        story.context()
    );
    assert!(
        story.bad_requests().is_empty(),
        "{:?}",
        story.bad_requests()
    );
}

#[tokio::test]
async fn start_up_says_when_the_bot_is_not_an_administrator_of_a_route_chat() {
    let story = Story::start_with(ROUTES, engineering(false)).await;
    let log = story.butler.stderr();
    assert!(
        log.contains("not an administrator of the staff chat -100777 (Engineering)"),
        "{log}"
    );
    assert!(
        !log.contains(&format!(
            "not an administrator of the staff chat {STAFF_CHAT}"
        )),
        "the main chat is fine: {log}"
    );
}
