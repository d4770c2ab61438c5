//! The store on a real temporary database: a SQLite file, or a PostgreSQL schema with
//! `BUTLER_TEST_STORE=postgres`. The tests of the SQLite file itself (created, WAL) run on
//! SQLite either way.

use butler::domain::Category;
use butler::outbox::Outgoing;
use butler::store::{NewTicket, Store};
use chrono::{Duration, Utc};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = butler::store::testing::database_url(dir.path()).await;
    (Store::open(&url).await.unwrap(), dir)
}

/// A store on a new SQLite file, and the file's path.
async fn sqlite_store() -> (Store, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested-new.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    (store, dir, path)
}

#[tokio::test]
async fn the_database_file_is_created_and_migrated_on_open() {
    let (store, _dir, path) = sqlite_store().await;
    assert!(path.exists());
    assert!(store.group(1).await.unwrap().is_none());
    store.close().await;
    // Opening again applies nothing twice.
    let again = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(again.group(1).await.unwrap().is_none());
}

#[tokio::test]
async fn one_ticket_per_report_message_and_times_stored_in_utc() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let mut tx = store.begin().await.unwrap();
    tx.register_group(-5, "G", 1, now).await.unwrap();
    tx.touch_owner(7, "O", None, now).await.unwrap();
    let new = NewTicket {
        group_chat_id: -5,
        report_message_id: 10,
        owner_id: 7,
        unit: None,
        category: Category::Plumbing,
        text: "t",
        priority: false,
        kind: butler::domain::Kind::Repair,
        urgency: butler::domain::Urgency::B,
        repeat_of: None,
        reported_at: now,
        staff_chat: None,
    };
    assert!(tx.insert_ticket(&new, now).await.unwrap().is_some());
    assert!(tx.insert_ticket(&new, now).await.unwrap().is_none());
    tx.commit().await.unwrap();
    let t = store
        .ticket(butler::domain::TicketId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.created_at.timestamp_millis(), now.timestamp_millis());
}

#[tokio::test]
async fn a_ticket_for_an_unknown_group_is_refused_by_the_foreign_key() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let mut tx = store.begin().await.unwrap();
    tx.touch_owner(7, "O", None, now).await.unwrap();
    let new = NewTicket {
        group_chat_id: -404,
        report_message_id: 1,
        owner_id: 7,
        unit: None,
        category: Category::Other,
        text: "t",
        priority: false,
        kind: butler::domain::Kind::Repair,
        urgency: butler::domain::Urgency::B,
        repeat_of: None,
        reported_at: now,
        staff_chat: None,
    };
    assert!(tx.insert_ticket(&new, now).await.is_err());
}

#[tokio::test]
async fn nothing_enqueued_leaves_when_the_change_is_rolled_back() {
    let (store, _dir) = store().await;
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&Outgoing::text(1, "hello"), Utc::now())
        .await
        .unwrap();
    drop(tx);
    assert_eq!(store.outbox_counts().await.unwrap(), (0, 0, 0));
}

#[tokio::test]
async fn a_deferred_row_holds_back_later_rows_of_its_chat_but_not_other_chats() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let mut tx = store.begin().await.unwrap();
    for (chat, text) in [(1, "a1"), (1, "a2"), (2, "b1")] {
        tx.enqueue(&Outgoing::text(chat, text), now).await.unwrap();
    }
    tx.commit().await.unwrap();
    let due = store.outbox_due(now, 10).await.unwrap();
    assert_eq!(due.len(), 3);
    store
        .outbox_defer(due[0].id, now + Duration::seconds(30), "429")
        .await
        .unwrap();
    let due: Vec<i64> = store
        .outbox_due(now, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.chat_id)
        .collect();
    assert_eq!(due, vec![2], "chat 1 waits in order; chat 2 goes on");
    let later: Vec<i64> = store
        .outbox_due(now + Duration::seconds(31), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.chat_id)
        .collect();
    assert_eq!(later, vec![1, 1, 2]);
}

#[tokio::test]
async fn due_chats_are_one_entry_each_people_first_and_a_waiting_chat_sits_out() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let mut tx = store.begin().await.unwrap();
    // Chat 1: many bulk rows, first in the table. Chat 2: bulk, then an answer to a
    // person. Chat 3: only bulk. Chat 4: a row put off. Chat 5: waits to be reachable.
    let bulk: Vec<Outgoing> = (0..300)
        .map(|n| Outgoing::text(1, format!("b{n}")))
        .collect();
    tx.enqueue_bulk(&bulk, now).await.unwrap();
    tx.enqueue_bulk(&[Outgoing::text(2, "greeting")], now)
        .await
        .unwrap();
    tx.enqueue(&Outgoing::text(2, "confirmation"), now)
        .await
        .unwrap();
    tx.enqueue_bulk(&[Outgoing::text(3, "greeting")], now)
        .await
        .unwrap();
    tx.enqueue(&Outgoing::text(4, "later"), now).await.unwrap();
    tx.enqueue(&Outgoing::text(5, "card"), now).await.unwrap();
    tx.commit().await.unwrap();
    let held = store.outbox_chat_due(4, now, 5).await.unwrap()[0].id;
    store
        .outbox_defer(held, now + Duration::seconds(30), "429")
        .await
        .unwrap();
    store
        .mark_unreachable(5, "bot removed from the chat", true, now)
        .await
        .unwrap();

    let due: Vec<(i64, bool)> = store
        .outbox_due_chats(now)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.chat_id, c.urgent))
        .collect();
    assert_eq!(due, vec![(2, true), (1, false), (3, false)]);
    // A turn reads a few rows of one chat: the answer to a person before the greeting
    // written earlier, each class in order.
    let turn: Vec<bool> = store
        .outbox_chat_due(2, now, 20)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.payload.contains("confirmation"))
        .collect();
    assert_eq!(turn, vec![true, false]);
    assert_eq!(store.outbox_chat_due(1, now, 20).await.unwrap().len(), 20);
    assert!(store.outbox_chat_due(4, now, 20).await.unwrap().is_empty());

    // The waiting chat's row was kept, not failed; once heard from, it is due again.
    assert_eq!(store.mark_reachable(5).await.unwrap(), Some(1));
    assert_eq!(store.mark_reachable(5).await.unwrap(), None);
    let due: Vec<i64> = store
        .outbox_due_chats(now)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.chat_id)
        .collect();
    assert_eq!(due, vec![2, 5, 1, 3]);
}

#[tokio::test]
async fn wal_journal_and_foreign_keys_are_on() {
    let (_store, _dir, path) = sqlite_store().await;
    // Inspect the file itself: WAL mode is persistent in the database header.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[18], 2, "file format write version 2 means WAL");
    assert!(path.with_extension("db-wal").exists() || bytes[19] == 2);
}

#[tokio::test]
async fn handled_marks_of_updates_finishing_together_are_all_written() {
    let (store, _dir) = store().await;
    let now = Utc::now();
    let updates: Vec<(i32, String)> = (1..=200).map(|id| (id, "{}".to_owned())).collect();
    let todo = store.inbox_receive(&updates, now).await.unwrap();
    assert_eq!(todo.len(), 200);

    // 200 handlers finish at once: some marks are written by another caller's round.
    let marks: Vec<_> = (1..=200)
        .map(|id| {
            let store = store.clone();
            tokio::spawn(async move { store.inbox_handled(id, now).await })
        })
        .collect();
    for m in marks {
        m.await.unwrap().unwrap();
    }
    for id in [1, 77, 200] {
        assert!(store.inbox_is_handled(id).await.unwrap(), "update {id}");
    }
    assert!(store.inbox_unhandled(1000).await.unwrap().is_empty());
    // Received again (Telegram redelivering), handled ones are not queued again.
    assert!(store.inbox_receive(&updates, now).await.unwrap().is_empty());
}
