//! Retention: old handled updates and old sent or failed messages are pruned in batches;
//! nothing still to be handled or sent is ever pruned.

use butler::jobs::{Job, retention};
use butler::store::Store;
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::harness::*;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap()
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = butler::store::testing::database_url(dir.path()).await;
    (Store::open(&url).await.unwrap(), dir)
}

/// Updates `ids` received at `at`, handled at `handled` (or not handled).
async fn updates(store: &Store, ids: std::ops::Range<i32>, at: DateTime<Utc>, handled: bool) {
    let batch: Vec<(i32, String)> = ids
        .map(|id| (id, format!("{{\"update_id\":{id}}}")))
        .collect();
    store.inbox_receive(&batch, at).await.unwrap();
    if handled {
        for (id, _) in &batch {
            store.inbox_handled(*id, at).await.unwrap();
        }
    }
}

/// `n` messages to `chat` written at `at`, then marked as `state` ("sent", "failed" or
/// "pending") at the same time.
async fn messages(store: &Store, chat: i64, n: usize, at: DateTime<Utc>, state: &str) {
    let mut tx = store.begin().await.unwrap();
    let rows: Vec<(i64, String)> = (0..n).map(|i| (chat, format!("{{\"n\":{i}}}"))).collect();
    tx.enqueue_payloads(&rows, false, at).await.unwrap();
    tx.commit().await.unwrap();
    let due = store.outbox_chat_due(chat, at, n as i64).await.unwrap();
    assert_eq!(due.len(), n);
    match state {
        // All at once: the marks are written together (`store::batch`).
        "sent" => {
            let marks = due.iter().map(|row| store.outbox_sent(row, None, &[], at));
            for written in futures::future::join_all(marks).await {
                written.unwrap();
            }
        }
        "failed" => {
            for row in &due {
                store.outbox_failed(row.id, "chat not found").await.unwrap();
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn old_handled_updates_go_in_batches_and_unhandled_ones_stay() {
    let (store, _dir) = store().await;
    updates(&store, 1..1201, day(1), true).await;
    updates(&store, 1201..1211, day(1), false).await;
    updates(&store, 1211..1221, day(20), true).await;
    let cutoff = day(10);
    assert_eq!(store.prune_inbox(cutoff, 500).await.unwrap(), 500);
    assert_eq!(store.prune_inbox(cutoff, 500).await.unwrap(), 500);
    assert_eq!(store.prune_inbox(cutoff, 500).await.unwrap(), 200);
    assert_eq!(store.prune_inbox(cutoff, 500).await.unwrap(), 0);
    // Left: the ten never handled (however old) and the ten recent ones.
    assert_eq!(store.kept_rows().await.unwrap().0, 20);
    let unhandled: Vec<i32> = store
        .inbox_unhandled(100)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(unhandled, (1201..1211).collect::<Vec<_>>());
    assert_eq!(store.inbox_last_id().await.unwrap(), Some(1220));
}

#[tokio::test]
async fn the_newest_update_is_kept_so_polling_resumes_after_it() {
    let (store, _dir) = store().await;
    updates(&store, 1..4, day(1), true).await;
    assert_eq!(store.prune_inbox(day(20), 500).await.unwrap(), 2);
    assert_eq!(store.inbox_last_id().await.unwrap(), Some(3));
}

#[tokio::test]
async fn old_sent_and_failed_messages_go_and_waiting_ones_stay() {
    let (store, _dir) = store().await;
    messages(&store, -1, 700, day(1), "sent").await;
    messages(&store, -2, 5, day(1), "failed").await;
    messages(&store, -3, 4, day(1), "pending").await;
    messages(&store, -4, 6, day(20), "sent").await;
    let cutoff = day(10);
    assert_eq!(store.prune_outbox(cutoff, 500).await.unwrap(), 500);
    assert_eq!(store.prune_outbox(cutoff, 500).await.unwrap(), 205);
    assert_eq!(store.prune_outbox(cutoff, 500).await.unwrap(), 0);
    let (sent, failed, pending) = store.outbox_counts().await.unwrap();
    assert_eq!((sent, failed, pending), (6, 0, 4));
}

#[tokio::test]
async fn the_retention_sweep_keeps_the_configured_days() {
    let mut h = Harness::with(|s| {
        s.retention.inbox_days = 3;
        s.retention.outbox_days = 10;
    })
    .await;
    let now = h.clock.now();
    let store = h.app.store.clone();
    updates(&store, 1..1101, now - Duration::days(4), true).await;
    updates(&store, 1101..1111, now - Duration::days(2), true).await;
    messages(&store, -1, 1100, now - Duration::days(11), "sent").await;
    messages(&store, -2, 7, now - Duration::days(9), "sent").await;

    let pruned = retention::sweep(&h.app, now).await.unwrap();
    assert_eq!(pruned.inbox, 1100);
    assert_eq!(pruned.outbox, 1100);
    assert_eq!(store.kept_rows().await.unwrap(), (10, 7));

    // The scheduler runs it: on its first tick, and every ten minutes after.
    updates(&store, 1111..1112, now - Duration::days(5), true).await;
    updates(&store, 1112..1113, now, true).await;
    h.tick().await;
    assert!(
        h.last_tick()
            .await
            .ran
            .iter()
            .any(|(j, _)| *j == Job::Retention)
    );
    assert_eq!(
        store.kept_rows().await.unwrap().0,
        11,
        "1111 went, 1112 stayed"
    );
}

#[tokio::test]
async fn retention_settings_are_read_and_checked() {
    let s = butler::config::Settings::from_toml("[retention]\ninbox_days = 2\noutbox_days = 30\n")
        .unwrap();
    assert_eq!((s.retention.inbox_days, s.retention.outbox_days), (2, 30));
    let d = butler::config::Settings::default();
    assert_eq!((d.retention.inbox_days, d.retention.outbox_days), (7, 14));
    let mut bad = settings(std::path::Path::new("/tmp/never.db"));
    bad.retention.inbox_days = 0;
    let e = bad.validate_for_run().unwrap_err().to_string();
    assert!(
        e.contains("retention.inbox_days = 0 must be at least 1"),
        "{e}"
    );
}
