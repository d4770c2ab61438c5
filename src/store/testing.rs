//! For tests: a new, empty database for each store a test opens, on SQLite or on
//! PostgreSQL.
//!
//! `BUTLER_TEST_STORE=postgres` runs the tests' stores on PostgreSQL, at the URL in
//! `BUTLER_TEST_POSTGRES` (`postgres://127.0.0.1:5432/test` on the development and CI
//! machines): each store gets a schema of its own (`butler_t_…`, first on its
//! `search_path`), so tests run side by side as they do on SQLite files. Schemas left by
//! runs more than an hour old are dropped on the way.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the PostgreSQL database tests may use.
pub const POSTGRES_ENV: &str = "BUTLER_TEST_POSTGRES";
/// The environment variable that puts every test's store on PostgreSQL (`postgres`).
pub const STORE_ENV: &str = "BUTLER_TEST_STORE";

/// Whether this run's stores are on PostgreSQL (`BUTLER_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var(STORE_ENV).is_ok_and(|v| v == "postgres")
}

/// The PostgreSQL database tests may use, if one is named. Under CI (`CI` set) a missing
/// one is a failure, as a missing browser is; elsewhere the caller says SKIPPED.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{POSTGRES_ENV} is not set, and CI needs the PostgreSQL tests to run")
        }
        _ => None,
    }
}

/// A database URL for a new store: a SQLite file in `dir`, or a new PostgreSQL schema
/// when [`on_postgres`].
pub async fn database_url(dir: &Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}", dir.join("butler.db").display());
    }
    let base = postgres_url().unwrap_or_else(|| {
        panic!("{STORE_ENV}=postgres needs {POSTGRES_ENV}, the database to test on")
    });
    new_schema(&base).await
}

/// A new schema in the PostgreSQL database at `base`, as a URL whose connections use it.
pub async fn new_schema(base: &str) -> String {
    use sqlx::Connection;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let now = chrono::Utc::now().timestamp();
    let name = format!(
        "butler_t_{now}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base}: {e}"));
    // One copy of the extension in the database, in `public`, for every schema; two
    // processes creating it at once may collide, and then it is there.
    let _ = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        .execute(&mut conn)
        .await;
    drop_old_schemas(&mut conn, now - 3600).await;
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("creating schema {name}: {e}"));
    let _ = conn.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options[search_path]={name}%2Cpublic")
}

/// Drops the test schemas made before `before` (seconds since the epoch).
async fn drop_old_schemas(conn: &mut sqlx::PgConnection, before: i64) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'butler\\_t\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    else {
        return;
    };
    for name in names {
        let made = name.split('_').nth(2).and_then(|t| t.parse::<i64>().ok());
        if made.is_some_and(|t| t < before) {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// Opens every connection of `store`'s PostgreSQL pool now, on the caller's runtime (a
/// no-op on SQLite). A socket belongs to the runtime that opened it and dies with it:
/// teloxide_tests' MockBot runs each dispatch on a runtime of its own, which ends with the
/// dispatch, and a connection the pool opened there would fail the next query that
/// draws it ("the Tokio context is being shut down"). Opened here, on the test's own
/// runtime, the pool never needs to open one during a dispatch.
pub async fn open_every_connection(store: &super::Store) {
    if !store.is_postgres() {
        return;
    }
    let mut held = Vec::new();
    for _ in 0..super::PG_CONNECTIONS {
        held.push(store.begin_read().await.expect("a PostgreSQL connection"));
    }
}
