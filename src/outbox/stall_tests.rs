//! The worker against a crowded reader pool: a look at the store must not wait for
//! connections that turns hold while nobody polls them (the set-up stall of the flood
//! benchmark, `BENCHMARKS.md`).

use std::time::Duration;

use butler_emulator::{Emulator, EmulatorHandle, User};
use chrono::Utc;
use teloxide::Bot;

use super::{Outbox, Outgoing};
use crate::store::{Store, Tx};

/// Chats with a message due: more than the reader pool's connections (SQLite's four,
/// PostgreSQL's eight).
const CHATS: u64 = 12;

/// Long enough for the tasks of this (single-threaded) test to reach their next wait.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn scene() -> (EmulatorHandle, Vec<i64>) {
    let emu = Emulator::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut chats = Vec::new();
    for i in 0..CHATS {
        let id = 5_000 + i;
        emu.add_user(User::new(id, format!("Person {i}")).language("en"));
        chats.push(emu.create_private_chat(id).unwrap());
    }
    (emu, chats)
}

/// Every reader connection, held by the test (read transactions that read nothing). On
/// PostgreSQL reads and writes share the pool: every connection of it.
async fn hold_readers(store: &Store, held: &mut Vec<Tx<'static>>) {
    let readers = if store.is_postgres() {
        crate::store::PG_CONNECTIONS as usize
    } else {
        4
    };
    while held.len() < readers {
        held.push(store.begin_read().await.unwrap());
    }
}

#[tokio::test]
async fn the_worker_looks_at_the_store_without_starving_the_turns_it_started() {
    let (emu, chats) = scene().await;
    let dir = tempfile::tempdir().unwrap();
    let url = crate::store::testing::database_url(dir.path()).await;
    let store = Store::open(&url).await.unwrap();
    // Where the test writes while it holds the readers: SQLite's writer is a connection of
    // its own; on PostgreSQL, another instance's pool (as another Butler would write).
    let writer = if store.is_postgres() {
        Store::open(&url).await.unwrap()
    } else {
        store.clone()
    };
    let outbox = Outbox::new(store.clone(), []);
    outbox.set_pacing(false);
    let bot = Bot::new("7000000001:TEST").set_api_url(emu.api_url().parse().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(outbox.clone().run(bot, async move {
        let _ = stopped.await;
    }));
    settle().await;

    // Every reader taken; then messages for twelve chats, and the worker looks (and
    // waits for a reader).
    let mut held = Vec::new();
    hold_readers(&store, &mut held).await;
    let mut tx = writer.begin().await.unwrap();
    for &chat in &chats {
        tx.enqueue(&Outgoing::text(chat, "hello"), Utc::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    outbox.notify();
    settle().await;
    // One reader goes back, the look reads the due chats on it and starts their turns;
    // the test asks for a reader again before the look is done, so it gets that one
    // back, and the turns wait for a reader.
    held.pop();
    hold_readers(&store, &mut held).await;
    settle().await;
    // Something else is committed meanwhile: the worker looks again, queued behind the
    // turns for a reader.
    outbox.notify();
    settle().await;
    // Every reader goes back. Each must reach someone who goes on with it.
    held.clear();
    let all_sent = emu
        .wait_for(
            |s| s.calls_of("sendMessage").iter().filter(|c| c.ok()).count() == chats.len(),
            Duration::from_secs(5),
        )
        .await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), worker).await;
    assert!(
        all_sent.is_ok(),
        "every chat's message is sent within 5 s of the readers' return; sent: {}",
        emu.read(|s| s.calls_of("sendMessage").len())
    );
}
