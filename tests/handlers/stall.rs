//! An update whose handler met a passing store fault (no connection free in time, the
//! database locked) is not lost: it stays unhandled in the inbox and runs again, a few
//! times at most; a handler that fails for good runs once and its update is marked
//! failed (`inbox::track_with`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use butler::chat::{AppRef, BotError, handler_tree};
use butler::clock::Clock;
use butler::inbox::{Retry, track_with};
use butler::store;
use chrono::{TimeZone, Utc};
use sqlx::Connection;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Update;
use teloxide_tests::{IntoUpdate, MockMe};

use crate::harness::*;

/// Quick retries, for tests.
const QUICK: Retry = Retry {
    attempts: 3,
    first_wait: Duration::from_millis(20),
};

struct Scene {
    app: AppRef,
    url: String,
    _dir: tempfile::TempDir,
}

/// Another process's write in progress, holding the database's write lock: SQLite's
/// (BEGIN IMMEDIATE), or PostgreSQL's [`store::WRITE_LOCK`] in the store's schema.
enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteLock {
    async fn take(url: &str) -> Self {
        if store::is_postgres_url(url) {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
                .bind(store::WRITE_LOCK)
                .execute(&mut conn)
                .await
                .unwrap();
            return WriteLock::Postgres(conn);
        }
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        WriteLock::Sqlite(conn)
    }

    async fn release(self) {
        match self {
            WriteLock::Sqlite(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
            WriteLock::Postgres(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

impl Scene {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = store::testing::database_url(dir.path()).await;
        let clock = Clock::fixed(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
        let app = butler::build_app(settings_for(&url), clock).await.unwrap();
        Self {
            app,
            url,
            _dir: dir,
        }
    }

    /// `text` from `from` in `chat` as update `id`, written to the inbox as the listener
    /// writes what it receives.
    async fn received(
        &self,
        id: i32,
        chat: teloxide::types::Chat,
        from: u64,
        text: &str,
    ) -> Update {
        let update = harness_text(chat, from, text, id);
        let json = serde_json::to_string(&update).unwrap();
        self.app
            .store
            .inbox_receive(&[(id, json)], Utc::now())
            .await
            .unwrap();
        update
    }

    /// Runs `tree`, tracked with `retry`, on `update` as the dispatcher would.
    async fn dispatch(&self, tree: UpdateHandler<BotError>, retry: Retry, update: Update) {
        let bot = Bot::new("7000000001:TEST");
        let me = MockMe::new().build();
        let deps = dptree::deps![update, self.app.clone(), bot, me];
        let _ = track_with(tree, retry).dispatch(deps).await;
    }

    async fn handled(&self, id: i32) -> bool {
        self.app.store.inbox_is_handled(id).await.unwrap()
    }

    async fn failure(&self, id: i32) -> Option<String> {
        self.app.store.inbox_failure(id).await.unwrap()
    }

    async fn left_for_replay(&self) -> Vec<i32> {
        let rows = self.app.store.inbox_unhandled(100).await.unwrap();
        rows.into_iter().map(|(id, _)| id).collect()
    }
}

fn harness_text(chat: teloxide::types::Chat, from: u64, text_: &str, id: i32) -> Update {
    let mut updates = text(chat, from, text_).into_update(&AtomicI32::new(id));
    let mut update = updates.remove(0);
    update.id = teloxide::types::UpdateId(id as u32);
    update
}

/// A tree that fails with `fault()` on its first `fails` runs, then succeeds; counts its
/// runs, and whether the update was still unhandled in the inbox on each run after the
/// first.
fn failing(
    fails: u32,
    fault: fn() -> store::Error,
    runs: Arc<AtomicU32>,
    unhandled_on_rerun: Arc<AtomicU32>,
) -> UpdateHandler<BotError> {
    dptree::endpoint(move |app: AppRef, update: Update| {
        let (runs, unhandled_on_rerun) = (runs.clone(), unhandled_on_rerun.clone());
        async move {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            let handled = app.store.inbox_is_handled(update.id.0 as i32).await?;
            if run > 0 && !handled {
                unhandled_on_rerun.fetch_add(1, Ordering::SeqCst);
            }
            if run < fails {
                return Err(BotError::Store(fault()));
            }
            Ok(())
        }
    })
}

fn pool_timed_out() -> store::Error {
    store::Error::Sqlx(sqlx::Error::PoolTimedOut)
}

fn corrupt() -> store::Error {
    store::Error::Corrupt("status \"lost\"".into())
}

#[tokio::test]
async fn an_update_whose_handler_met_a_passing_fault_runs_again_and_is_then_marked_handled() {
    let scene = Scene::new().await;
    let update = scene.received(41, group(GROUP), OWNER, "hello").await;
    let (runs, unhandled) = (Arc::default(), Arc::default());
    let tree = failing(2, pool_timed_out, Arc::clone(&runs), Arc::clone(&unhandled));
    scene.dispatch(tree, QUICK, update).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "two failed runs, then one that worked"
    );
    assert_eq!(
        unhandled.load(Ordering::SeqCst),
        2,
        "the update stays unhandled in the inbox while it is tried again"
    );
    assert!(scene.handled(41).await);
    assert_eq!(scene.failure(41).await, None);
}

#[tokio::test]
async fn an_update_whose_handler_failed_for_good_runs_once_and_is_marked_failed() {
    let scene = Scene::new().await;
    let update = scene.received(42, group(GROUP), OWNER, "hello").await;
    let (runs, unhandled) = (Arc::default(), Arc::default());
    let tree = failing(u32::MAX, corrupt, Arc::clone(&runs), unhandled);
    scene.dispatch(tree, QUICK, update).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "not tried again");
    let failure = scene.failure(42).await.expect("marked failed");
    assert!(failure.contains("unreadable value"), "{failure}");
    assert!(scene.handled(42).await);
    assert!(
        scene.left_for_replay().await.is_empty(),
        "not run again on start"
    );
}

#[tokio::test]
async fn an_update_whose_fault_does_not_pass_is_given_up_after_the_last_attempt() {
    let scene = Scene::new().await;
    let update = scene.received(43, group(GROUP), OWNER, "hello").await;
    let (runs, unhandled) = (Arc::default(), Arc::default());
    let tree = failing(u32::MAX, pool_timed_out, Arc::clone(&runs), unhandled);
    scene.dispatch(tree, QUICK, update).await;
    assert_eq!(runs.load(Ordering::SeqCst), QUICK.attempts, "bounded");
    let failure = scene.failure(43).await.expect("marked failed");
    assert!(failure.contains("pool timed out"), "{failure}");
    assert!(
        scene.left_for_replay().await.is_empty(),
        "not run again on start"
    );
}

#[tokio::test]
async fn a_register_that_met_a_locked_database_is_handled_once_the_lock_is_gone() {
    let scene = Scene::new().await;
    let update = scene
        .received(44, group(GROUP), MANAGER, "/register Garden")
        .await;
    // Another process holds the write lock past the store's wait for it (5 s): the
    // handler's change fails with "database is locked" (PostgreSQL: "lock timeout").
    let lock = WriteLock::take(&scene.url).await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5_600)).await;
        lock.release().await;
    });
    let started = Instant::now();
    let retry = Retry {
        attempts: 4,
        first_wait: Duration::from_millis(200),
    };
    scene.dispatch(handler_tree(), retry, update).await;
    release.await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "the first run waited for the lock and failed"
    );
    let group = scene.app.store.group(GROUP).await.unwrap();
    assert!(group.is_some_and(|g| g.active), "the group is registered");
    let (_, _, pending) = scene.app.store.outbox_counts().await.unwrap();
    assert_eq!(pending, 1, "its answer waits in the outbox");
    assert!(scene.handled(44).await);
    assert_eq!(scene.failure(44).await, None);
}

#[tokio::test]
async fn a_report_in_an_owner_group_that_could_not_be_read_fails_instead_of_passing_by() {
    let scene = Scene::new().await;
    let update = harness_text(group(GROUP), OWNER, "/repair the lift is stuck", 45);
    // Every read fails: the store is closed (the same path as a read that timed out).
    scene.app.store.close().await;
    let deps = dptree::deps![
        update,
        scene.app.clone(),
        Bot::new("7000000001:TEST"),
        MockMe::new().build()
    ];
    let outcome = handler_tree().dispatch(deps).await;
    match outcome {
        std::ops::ControlFlow::Break(Err(e)) => {
            assert!(e.is_closing(), "the read's own error: {e}")
        }
        std::ops::ControlFlow::Break(Ok(())) => panic!("handled as if nothing failed"),
        std::ops::ControlFlow::Continue(_) => panic!("passed by as if not an owner group"),
    }
}
