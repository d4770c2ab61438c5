//! What happens to an owner group over its life in Telegram.

use crate::harness::*;

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_keeps_working() {
    let story = Story::start("").await;
    story.manager_registers_group().await;
    let report = story.owner_reports("the tap leaks").await;
    let card = story.card(report.ticket).await;
    let supergroup = story.emu.migrate_to_supergroup(GROUP).unwrap();

    // Butler's word about the old chat now has to go to the new one.
    story.staff_presses(card.id, "Take").await;
    story
        .until("the owner hears who is coming, in the supergroup", |s| {
            s.bot_messages_in(supergroup).into_iter().find(|m| {
                m.body()
                    .starts_with("Ticket #1: Wang is taking care of it.")
            })
        })
        .await;
    // And new reports there are heard.
    let m = story
        .emu
        .user_sends_text(supergroup, OWNER, "/repair the lift is stuck", None)
        .unwrap();
    story
        .until("a report in the supergroup is confirmed", |s| {
            Story::bot_reply(s, supergroup, m.id, "Received: ticket #2")
        })
        .await;
}
