//! Butler's database, opened beside the running binary: to count what it stored, or to
//! make a fault there (a "full disk" refusing some writes). On whichever database the run
//! uses: the SQLite file, or with `BUTLER_TEST_STORE=postgres` the PostgreSQL schema made
//! for the test (`butler::store::testing::database_url`). Reads and writes Butler has a
//! store method for go through [`butler::store::Store`] instead (see `Story::store`).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{PgPool, SqlitePool};

/// One of the two databases, by its pool.
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`), as Butler finds it:
    /// never created, never migrated.
    pub async fn open(url: &str) -> sqlx::Result<Database> {
        if butler::store::is_postgres_url(url) {
            let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
            return Ok(Database::Postgres(pool));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(Duration::from_secs(10));
        Ok(Database::Sqlite(SqlitePool::connect_with(options).await?))
    }

    /// The number `sql` counts: one `SELECT COUNT(…)` that both databases read alike (no
    /// placeholders).
    pub async fn count(&self, sql: &str) -> sqlx::Result<i64> {
        match self {
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
    }

    /// From now on the database refuses `event` (`INSERT`, `UPDATE OF sent_at`, …) on
    /// `table` with the error `message`, as a full or failing disk would: a trigger
    /// named `name`, until [`Database::allow`].
    pub async fn refuse(&self, name: &str, event: &str, table: &str, message: &str) {
        let made = match self {
            Database::Sqlite(pool) => sqlx::raw_sql(&format!(
                "CREATE TRIGGER {name} BEFORE {event} ON {table}
                 BEGIN SELECT RAISE(ABORT, '{message}'); END"
            ))
            .execute(pool)
            .await
            .map(drop),
            Database::Postgres(pool) => sqlx::raw_sql(&format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql
                   AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$;
                 CREATE TRIGGER {name} BEFORE {event} ON {table}
                   FOR EACH ROW EXECUTE FUNCTION {name}();"
            ))
            .execute(pool)
            .await
            .map(drop),
        };
        made.unwrap_or_else(|e| panic!("making the fault {name}: {e}"));
    }

    /// The writes [`Database::refuse`] refused as `name` on `table` are taken again.
    pub async fn allow(&self, name: &str, table: &str) {
        let dropped = match self {
            Database::Sqlite(pool) => sqlx::raw_sql(&format!("DROP TRIGGER {name}"))
                .execute(pool)
                .await
                .map(drop),
            Database::Postgres(pool) => sqlx::raw_sql(&format!(
                "DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();"
            ))
            .execute(pool)
            .await
            .map(drop),
        };
        dropped.unwrap_or_else(|e| panic!("removing the fault {name}: {e}"));
    }
}
