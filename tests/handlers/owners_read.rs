//! What owners read never carries staff-only facts: the watch list, internal notes, other
//! estates' tickets. `/my` in a group is short; the details are in the private chat.

use crate::harness::*;

const GROUP2: i64 = -100_222;

/// Two registered estates; OWNER is watch-listed and reports once in each: #1 in GROUP,
/// #2 in GROUP2.
async fn watched_owner_in_two_estates() -> Harness {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(group(GROUP2), MANAGER, "/register Moonlight Court"))
        .await;
    h.send(text(staff_chat(), MANAGER, &format!("/watch {OWNER}")))
        .await;
    h.report(OWNER, "gas smell in the kitchen").await;
    h.send(text(group(GROUP2), OWNER, "/repair window latch broken"))
        .await;
    assert!(
        h.app
            .store
            .ticket(2.into())
            .await
            .unwrap()
            .unwrap()
            .priority
    );
    h
}

#[tokio::test]
async fn my_in_a_group_lists_only_that_groups_tickets_without_the_watch_flag() {
    let mut h = watched_owner_in_two_estates().await;
    let r = h.send(text(group(GROUP), OWNER, "/my")).await;
    let list = last_text(&r);
    assert!(
        list.contains("#1 · Appliances · waiting to be taken"),
        "{list}"
    );
    assert!(!list.contains("#2"), "another estate's ticket: {list}");
    assert!(!list.contains("⚠️"), "the watch list shows: {list}");
    assert!(
        !list.contains("gas smell"),
        "texts belong in private: {list}"
    );
    assert!(list.contains("private chat"), "{list}");

    let r = h.send(text(group(GROUP2), OWNER, "/my")).await;
    let list = last_text(&r);
    assert!(list.contains("#2") && !list.contains("#1"), "{list}");
    assert!(!list.contains("⚠️") && !list.contains("window"), "{list}");

    let r = h.send(text(group(GROUP), NEIGHBOUR, "/my")).await;
    assert!(last_text(&r).contains("no tickets yet"), "{:?}", texts(&r));
}

#[tokio::test]
async fn my_in_private_gives_the_details() {
    let mut h = watched_owner_in_two_estates().await;
    let r = h.send(text(private(OWNER), OWNER, "/my")).await;
    let list = last_text(&r);
    for part in [
        "#1",
        "#2",
        "gas smell in the kitchen",
        "window latch broken",
        "Sunrise Garden",
        "Moonlight Court",
    ] {
        assert!(list.contains(part), "{part} missing: {list}");
    }
    assert!(!list.contains("⚠️"), "the watch list shows: {list}");
    assert!(!list.contains("private chat"), "{list}");
}

#[tokio::test]
async fn an_internal_note_never_reaches_the_owner() {
    let mut h = watched_owner_in_two_estates().await;
    let secret = "owner is difficult, send two people";
    let r = h
        .send(text(staff_chat(), STAFF, &format!("/note 1 {secret}")))
        .await;
    assert!(last_text(&r).contains("Note added to #1"));
    assert!(sent_to(&r, GROUP).is_empty() && sent_to(&r, OWNER as i64).is_empty());

    let mut owners_read = Vec::new();
    let r = h.take_and_finish(1.into()).await;
    owners_read.extend(texts_to(&r, GROUP));
    let r = h
        .send(text(staff_chat(), STAFF, "/reopen 1 the note says why"))
        .await;
    owners_read.extend(texts_to(&r, GROUP));
    for (chat, from) in [(group(GROUP), OWNER), (private(OWNER), OWNER)] {
        let r = h.send(text(chat, from, "/my")).await;
        owners_read.extend(texts(&r));
    }
    assert!(owners_read.len() >= 4, "{owners_read:?}");
    for said in &owners_read {
        assert!(!said.contains(secret), "the note reached the owner: {said}");
        assert!(!said.contains("the note says why"), "{said}");
        assert!(!said.contains("⚠️") && !said.contains("Priority"), "{said}");
    }
}
