//! `/ticket N` (one ticket's story, its photos on request) and `/find`.

use butler::store::BotMessageKind;

use crate::harness::*;

/// A ticket reported, taken, worked on with a photo and a note, finished and rated 4.
async fn worked_ticket(h: &mut Harness) {
    h.register(GROUP).await;
    h.send(text(group(GROUP), OWNER, "/unit 3-1201")).await;
    let (id, _) = h.report(OWNER, "the kitchen tap leaks").await;
    h.send(text(staff_chat(), STAFF, "/note 1 bring a 15mm washer"))
        .await;
    h.take_and_finish(id).await;
    let question = h.bot_message(id, BotMessageKind::Rating).await;
    h.press(OWNER, &question, "rate:1:1:4").await;
}

#[tokio::test]
async fn a_ticket_s_story_tells_each_step_with_its_person_and_time() {
    let mut h = Harness::new().await;
    worked_ticket(&mut h).await;
    let r = h.send(text(staff_chat(), STAFF2, "/ticket 1")).await;
    let story = texts_to(&r, STAFF_CHAT).join("\n");
    for line in [
        "📖 #1 · Plumbing · rated",
        "Sunrise Garden · unit 3-1201 · Li",
        "the kitchen tap leaks",
        "· Li — reported it",
        "· Wang — note: bring a 15mm washer",
        "· Wang — took it",
        "· Wang — progress: all fixed",
        "· Wang — finished it",
        "· Li — rated it: 4/5",
        "Photos: 1",
        "Rating: ★★★★☆ 4/5",
    ] {
        assert!(story.contains(line), "{line:?} missing from:\n{story}");
    }
    // Local time (Asia/Shanghai): the harness starts at 02:00 UTC.
    assert!(story.contains("11-24 10:0"), "{story}");
    let last = sent_to(&r, STAFF_CHAT).pop().unwrap();
    assert_eq!(buttons(&last), vec![vec!["photos:1".to_owned()]]);
}

#[tokio::test]
async fn an_unknown_or_bad_number_is_answered() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(staff_chat(), STAFF, "/ticket 99")).await;
    assert_eq!(last_text(&r), "There is no ticket #99.");
    let r = h.send(text(staff_chat(), STAFF, "/ticket abc")).await;
    assert!(last_text(&r).contains("“abc” is not a ticket number"));
    let r = h.send(text(staff_chat(), STAFF, "/ticket")).await;
    assert!(last_text(&r).starts_with("Usage: /ticket N"));
}

#[tokio::test]
async fn owners_cannot_read_stories_but_staff_and_managers_can_privately() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the lift is stuck").await;
    h.app.assume_member(OWNER, false);
    let r = h.send(text(private(OWNER), OWNER, "/ticket 1")).await;
    assert_eq!(
        last_text(&r),
        "Sorry, only current members of the staff group can do that."
    );
    // The same refusal to the same person is said once in a few minutes.
    h.clock.advance(chrono::Duration::minutes(5));
    let r = h.send(text(private(OWNER), OWNER, "/find lift")).await;
    assert!(last_text(&r).starts_with("Sorry, only current members"));
    let r = h.send(text(group(GROUP), OWNER, "/ticket 1")).await;
    assert!(
        !last_text(&r).contains("the lift is stuck"),
        "{:?}",
        texts(&r)
    );

    let r = h.send(text(private(MANAGER), MANAGER, "/ticket 1")).await;
    assert!(last_text(&r).contains("the lift is stuck"));
    let r = h.send(text(private(STAFF), STAFF, "/ticket 1")).await;
    assert!(last_text(&r).contains("the lift is stuck"));
}

#[tokio::test]
async fn a_long_story_stays_within_telegrams_limit() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the corridor light flickers").await;
    let note = "checked the wiring again, ".repeat(11);
    for i in 0..80 {
        h.send(text(staff_chat(), STAFF, &format!("/note 1 {i} {note}")))
            .await;
    }
    let r = h.send(text(staff_chat(), STAFF, "/ticket 1")).await;
    let msgs = texts_to(&r, STAFF_CHAT);
    assert!(msgs.len() >= 2, "{} messages", msgs.len());
    assert!(msgs.len() <= 3, "{} messages", msgs.len());
    for m in &msgs {
        let units = m.encode_utf16().count();
        assert!(units <= 4096, "{units} UTF-16 units");
    }
    let all = msgs.join("\n");
    assert!(all.contains("reported it"), "the start is kept");
    assert!(all.contains("note: 79 checked"), "the latest is kept");
    assert!(all.contains("in between left out"), "{all}");
}

#[tokio::test]
async fn show_photos_sends_them_as_albums_of_at_most_ten() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the garage gate is broken").await;
    let card = h
        .bot_message(butler::domain::TicketId(1), BotMessageKind::Card)
        .await;
    h.press(STAFF, &card, "take:1").await;
    for i in 0..12 {
        let card = h
            .bot_message(butler::domain::TicketId(1), BotMessageKind::Card)
            .await;
        h.reply_photo(staff_chat(), STAFF, &card, &format!("p{i}"), None)
            .await;
    }
    let r = h.send(text(staff_chat(), STAFF, "/ticket 1")).await;
    assert!(last_text(&r).contains("Photos: 12"));
    let story = sent_to(&r, STAFF_CHAT).pop().unwrap();

    let r = h.press(STAFF2, &story, "photos:1").await;
    assert_eq!(toast(&r), Some(("Sending 12 photos.".to_owned(), false)));
    let albums: Vec<usize> = r
        .sent_media_group
        .iter()
        .map(|g| g.bot_request.media.len())
        .collect();
    assert_eq!(albums, vec![10, 2]);
    assert!(
        r.sent_media_group
            .iter()
            .all(|g| g.messages[0].chat.id.0 == STAFF_CHAT)
    );

    h.app.assume_member(OWNER, false);
    let r = h.press(OWNER, &story, "photos:1").await;
    assert!(toast(&r).unwrap().1, "an outsider is refused");
    assert!(r.sent_media_group.is_empty());
}

#[tokio::test]
async fn find_matches_words_and_units_best_and_newest_first() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.send(text(group(GROUP), OWNER, "/unit 3-1201")).await;
    h.report(OWNER, "the kitchen tap leaks").await;
    h.send(text(group(GROUP), NEIGHBOUR, "/unit 5-301")).await;
    h.report(NEIGHBOUR, "卫生间漏水了").await;
    h.report(NEIGHBOUR, "the kitchen tap LEAKS").await;

    let r = h.send(text(staff_chat(), STAFF, "/find leak")).await;
    let found = last_text(&r);
    assert!(found.starts_with("Tickets matching “leak”"), "{found}");
    let lines: Vec<&str> = found.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "{found}");
    assert!(
        lines[0].starts_with("#3 · 5-301"),
        "newest among equals: {found}"
    );
    assert!(lines[1].starts_with("#1 · 3-1201"), "{found}");

    let r = h.send(text(staff_chat(), STAFF, "/find 漏水")).await;
    assert!(last_text(&r).contains("#2 · 5-301"), "{}", last_text(&r));

    let r = h.send(text(staff_chat(), STAFF, "/find 3-1201")).await;
    let lines: Vec<String> = last_text(&r)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("#1 · 3-1201"));

    let r = h
        .send(text(staff_chat(), STAFF, "/find plumbing 5-301"))
        .await;
    assert_eq!(
        last_text(&r).lines().filter(|l| l.starts_with('#')).count(),
        2
    );

    let r = h.send(text(staff_chat(), STAFF, "/find lift")).await;
    assert_eq!(last_text(&r), "No ticket matches “lift”.");

    let r = h.send(text(staff_chat(), STAFF, "/find   ")).await;
    assert!(last_text(&r).starts_with("Usage: /find"));
}

#[tokio::test]
async fn find_follows_a_corrected_report() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "the doorbell rings").await;
    h.send(text(staff_chat(), STAFF, "/category 1 lift")).await;
    let r = h.send(text(staff_chat(), STAFF, "/find lift")).await;
    assert!(
        last_text(&r).contains("#1 "),
        "a new category is found: {}",
        last_text(&r)
    );
}
