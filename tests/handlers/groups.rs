use crate::harness::*;

#[tokio::test]
async fn an_unregistered_group_ignores_reports_until_a_manager_registers_it() {
    let mut h = Harness::new().await;

    let r = h
        .send(text(group(GROUP), OWNER, "/repair the tap leaks"))
        .await;
    assert!(
        r.sent_messages.is_empty(),
        "unregistered group got {:?}",
        texts(&r)
    );
    assert!(h.latest_ticket().await.is_none());

    let r = h.send(text(group(GROUP), OWNER, "/register Sunrise")).await;
    assert!(last_text(&r).contains("Only managers"), "{:?}", texts(&r));
    assert!(h.app.store.group(GROUP).await.unwrap().is_none());

    let r = h
        .send(text(group(GROUP), MANAGER, "/register Sunrise"))
        .await;
    assert!(
        last_text(&r).contains("registered as “Sunrise”"),
        "{:?}",
        texts(&r)
    );
    let g = h
        .app
        .store
        .group(GROUP)
        .await
        .unwrap()
        .expect("group stored");
    assert!(g.active);
    assert_eq!(g.name, "Sunrise");
}

#[tokio::test]
async fn register_without_a_name_uses_the_group_title() {
    let mut h = Harness::new().await;
    let r = h.send(text(group(GROUP), MANAGER, "/register")).await;
    assert!(last_text(&r).contains("Sunrise Garden"), "{:?}", texts(&r));
}

#[tokio::test]
async fn the_staff_chat_cannot_be_registered_as_an_owner_group() {
    let mut h = Harness::new().await;
    let r = h.send(text(staff_chat(), MANAGER, "/register Staff")).await;
    assert!(last_text(&r).contains("staff chat"), "{:?}", texts(&r));
    assert!(h.app.store.group(STAFF_CHAT).await.unwrap().is_none());
}

#[tokio::test]
async fn unregister_makes_the_group_ignored_again() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), MANAGER, "/unregister")).await;
    assert!(
        last_text(&r).contains("no longer registered"),
        "{:?}",
        texts(&r)
    );
    let r = h
        .send(text(group(GROUP), OWNER, "/repair lift broken"))
        .await;
    assert!(r.sent_messages.is_empty());
    assert!(h.latest_ticket().await.is_none());
}

#[tokio::test]
async fn lang_switches_the_group_to_chinese() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), MANAGER, "/lang zh")).await;
    assert_eq!(last_text(&r), "语言已设为中文。");
    let (_, r) = h.report(OWNER, "厨房漏水").await;
    let confirmation = &texts_to(&r, GROUP)[0];
    assert!(
        confirmation.contains("已收到：工单 #1（水暖）"),
        "{confirmation}"
    );

    let r = h.send(text(group(GROUP), MANAGER, "/lang klingon")).await;
    assert!(last_text(&r).contains("/lang zh"), "{:?}", texts(&r));
}

#[tokio::test]
async fn an_owner_cannot_change_the_group_language() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let r = h.send(text(group(GROUP), OWNER, "/lang zh")).await;
    assert!(last_text(&r).contains("Only managers"));
    assert_eq!(
        h.app.store.group(GROUP).await.unwrap().unwrap().locale,
        None
    );
}

#[tokio::test]
async fn owner_help_lists_owner_commands_only_and_manager_help_adds_theirs() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    let owner_help = last_text(&h.send(text(group(GROUP), OWNER, "/help")).await);
    assert!(owner_help.contains("/repair") && owner_help.contains("/unit"));
    assert!(!owner_help.contains("/register") && !owner_help.contains("/take"));
    let manager_help = last_text(&h.send(text(group(GROUP), MANAGER, "/help")).await);
    assert!(manager_help.contains("/register"));

    let staff_help = last_text(&h.send(text(staff_chat(), STAFF, "/help")).await);
    assert!(staff_help.contains("/take") && !staff_help.contains("/watch"));
    let staff_manager_help = last_text(&h.send(text(staff_chat(), MANAGER, "/help")).await);
    assert!(staff_manager_help.contains("/watch"));
}

#[tokio::test]
async fn a_private_chat_greets_and_lists_the_users_tickets() {
    let mut h = Harness::new().await;
    h.register(GROUP).await;
    h.report(OWNER, "door lock stuck").await;
    let r = h.send(text(private(OWNER), OWNER, "/start")).await;
    assert!(last_text(&r).contains("/my"));
    let r = h.send(text(private(OWNER), OWNER, "/my")).await;
    assert!(last_text(&r).contains("#1"), "{:?}", texts(&r));
    let r = h.send(text(private(OWNER), OWNER, "hello")).await;
    assert!(last_text(&r).contains("/repair"));
}
