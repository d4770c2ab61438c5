//! All SQL lives here. The rest of Butler sees typed rows and intent-named functions;
//! a PostgreSQL store can stand beside this one later.
//!
//! Reads that need no consistency with a change go through [`Store`]; a change and the
//! messages it causes are written through one [`Tx`] and committed together.
//!
//! One file per group of tables, each adding its methods to [`Store`] and [`Tx`]:
//! `tickets` (tickets, their events and photos), `groups` (owner groups and owners),
//! `follow_ups` (ratings and follow-ups), `staff` (the roster, dispatch), `bot_messages` (what Butler sent, per ticket),
//! `inbox` (updates received), `outbox` (messages to send, unreachable chats, files),
//! `jobs` (scheduled jobs' claims, alerts and notices), `leader` (which of several
//! instances on PostgreSQL leads, and the outbox's wake-ups between them), `kinds` (repeat repairs,
//! urgency, complaints and suggestions), `routes` (a ticket's staff
//! chat and its pauses), `sla` (a ticket's deadlines and the tickets past them), `daily`,
//! `figures` and `kind_figures` (the numbers), `seed` (demo data), `forget` (an owner
//! forgotten), `story` (one ticket's story, and search), `console` (the web console's
//! sign-in links, sessions and board), `copy` (`migrate-to`: a SQLite database copied
//! into PostgreSQL). Rows are
//! read with
//! `sqlx::FromRow`; a column that holds a
//! domain type is parsed once, here, and a value that does not parse is
//! [`Error::Corrupt`]. The store knows no message format and no Telegram type: the
//! outbox's payload is stored and handed back as the text it was given.

mod batch;
mod bot_messages;
mod console;
mod copy;
mod daily;
mod db;
mod dialect;
mod figures;
mod follow_ups;
mod forget;
mod groups;
mod inbox;
mod jobs;
mod kind_figures;
mod kinds;
mod leader;
mod outbox;
mod retention;
mod routes;
mod seed;
mod sla;
mod staff;
mod story;
#[doc(hidden)]
pub mod testing;
mod tickets;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use db::{Conn, Db};
pub(crate) use db::{Sql, query, query_as, query_scalar};

use batch::Batched;

pub use bot_messages::{BotMessage, BotMessageKind};
pub use console::{BoardPage, BoardQuery, ConsolePerson, ConsoleSession};
pub use copy::{Copied, CopyError, CopyReport};
pub use figures::OverviewParts;
pub use follow_ups::FollowUp;
pub use forget::Forgotten;
pub use groups::{Group, Owner};
pub use jobs::{AlertKind, JobOutcome, Notice, NoticeStatus, Unrated};
pub use leader::{Candidate, LEADER_LOCK, OutboxWakeups};
pub use outbox::{DueChat, OutboxRow};
pub use routes::TicketScope;
pub use seed::{DEMO_STAFF, Seeded};
pub use staff::{OpenQuery, StaffMember};
pub use tickets::{NewTicket, PhotoKind};

/// A store failure: logged with its cause chain, never shown to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database holds an unreadable value: {0}")]
    Corrupt(String),
    #[error("database: a write made together with others failed: {0}")]
    Batch(String),
    #[error("not on this database: {0}")]
    Unsupported(&'static str),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A fault that passes: no connection free in time (`PoolTimedOut`); SQLite's lock
    /// held by another connection past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`,
    /// with their extended codes); PostgreSQL's serialization failure, deadlock or lock
    /// not available (SQLSTATE 40001, 40P01, 55P03). The same work may succeed when tried
    /// again a little later; any other error would fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Sqlx(sqlx::Error::PoolTimedOut) => true,
            Error::Sqlx(sqlx::Error::Database(e)) => {
                if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    return PG_TRANSIENT.contains(&pg.code());
                }
                e.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    // The primary result code is the low byte of the extended one.
                    .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
            }
            _ => false,
        }
    }

    /// The store was closed: Butler is stopping.
    pub fn is_closing(&self) -> bool {
        matches!(self, Error::Sqlx(sqlx::Error::PoolClosed))
    }
}

/// SQLite's primary result codes for a lock held elsewhere.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

/// PostgreSQL's SQLSTATEs of a fault that passes: serialization_failure,
/// deadlock_detected, lock_not_available.
const PG_TRANSIENT: [&str; 3] = ["40001", "40P01", "55P03"];

/// A time as SQLite holds it: RFC 3339 in UTC with milliseconds, so that text order is time
/// order. (PostgreSQL holds `timestamptz`; [`db`] binds a time for each.)
pub fn ts_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored code read back as the domain type it names, or [`Error::Corrupt`].
fn decode<T>(what: &str, code: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    parse(code).ok_or_else(|| Error::Corrupt(format!("{what} {code:?}")))
}

#[derive(Clone)]
pub struct Store {
    /// Reads, on several connections at once (SQLite's WAL lets them run beside a writer).
    pool: Db,
    /// Writes. On SQLite, one connection: SQLite has one write lock per file, and a second
    /// writer of ours would only find it taken and sleep (1, 2, 5, 10 … ms) before trying
    /// again, leaving the lock idle meanwhile; waiting for this connection instead, writers
    /// queue in order and each gets the lock the moment the last one is done. On
    /// PostgreSQL the same pool as reads: a change takes [`WRITE_LOCK`] instead.
    writer: Db,
    /// "Handled" marks of updates, written together (see [`batch`]).
    handled: Arc<Batched<(i32, DateTime<Utc>)>>,
    /// "Sent" marks and message ids of outbox rows, written together.
    sent: Arc<Batched<outbox::Sent>>,
}

/// The `application_id` ("BTLS") of a database the sandbox made: its `--db` deletes
/// only such a file. Set by [`Store::mark_as_sandbox`].
pub const SANDBOX_APPLICATION_ID: u32 = u32::from_be_bytes(*b"BTLS");

/// How long a write waits for the write connection, as SQLite's busy timeout would.
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// How long a read waits for a reader connection. Reads never wait for the writer (WAL),
/// only for each other, and the longest (a year's figures) take a few seconds: a longer
/// wait means the pool is stuck, and failing sooner lets the update be handled again
/// sooner (`inbox::track`). sqlx's default is 30 s.
const READ_WAIT: Duration = Duration::from_secs(10);

/// The PostgreSQL advisory lock every change takes for its transaction: changes are made
/// one at a time, across every instance on the same database and schema, as on SQLite.
/// A ticket's rules read and then write (is it still waiting? then take it), and this
/// keeps them true without retrying serialization failures. The lock is the pair
/// ([`WRITE_LOCK`], the schema's hash): Butlers in other schemas of the database (the
/// tests') do not wait for each other. ("BTLW", Butler's writes.)
pub const WRITE_LOCK: i32 = i32::from_be_bytes(*b"BTLW");

/// Connections to PostgreSQL per instance.
pub(crate) const PG_CONNECTIONS: u32 = 8;

pub use crate::config::is_postgres_url;

impl Store {
    /// Opens and migrates the database at `url`: a SQLite file (created if missing), or a
    /// PostgreSQL database (`postgres://…`).
    pub async fn open(url: &str) -> Result<Self> {
        let (pool, writer) = if is_postgres_url(url) {
            let pg = open_postgres(url).await?;
            (pg.clone(), pg)
        } else {
            open_sqlite(url).await?
        };
        Ok(Self {
            pool,
            writer,
            handled: Batched::new(|store, marks| Box::pin(store.write_handled(marks))),
            sent: Batched::new(|store, sent| Box::pin(store.write_sent(sent))),
        })
    }

    /// Whether this store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pool.is_postgres()
    }

    /// Stamps the database as a sandbox's: SQLite's `application_id` in its header (see
    /// [`SANDBOX_APPLICATION_ID`]), written to the main file when the store is closed.
    pub async fn mark_as_sandbox(&self) -> Result<()> {
        let Db::Sqlite(writer) = &self.writer else {
            return Err(Error::Unsupported("the sandbox runs on SQLite"));
        };
        sqlx::query("PRAGMA application_id = 1112820819")
            .execute(writer)
            .await?;
        // Into the file itself at once, not only the WAL: the stamp is read from the
        // file's header, and closing the pool does not promise the last checkpoint has
        // run by the time it returns.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(writer)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE): a
    /// deferred one that reads and then writes fails with "database is locked" when
    /// another writer committed in between, and busy_timeout cannot help it. On
    /// PostgreSQL it takes [`WRITE_LOCK`], for the same order, waiting for it at most
    /// [`WRITE_WAIT`] as SQLite's busy timeout would (then `lock_not_available`, a fault
    /// that passes: see [`Error::is_transient`]).
    async fn write_tx(&self) -> Result<Conn<'static>> {
        Ok(match &self.writer {
            Db::Sqlite(writer) => Conn::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "SELECT set_config('lock_timeout', $1, true),
                            pg_advisory_xact_lock($2, hashtext(current_schema()))",
                )
                .bind(format!("{}ms", WRITE_WAIT.as_millis()))
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
                Conn::Postgres(tx)
            }
        })
    }

    /// Runs `work` in a write transaction whose commit is on the disk when this returns,
    /// not only in the operating system's cache: SQLite's `synchronous = FULL` for this
    /// commit (the WAL is synced), `NORMAL` again after it. For what Telegram is told to
    /// forget next ([`Store::inbox_receive`]). The WAL is written in order, so the sync
    /// also makes every earlier commit durable. (PostgreSQL syncs every commit.)
    async fn durably<T>(&self, work: impl AsyncFnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        use sqlx::Connection;
        let Db::Sqlite(writer) = &self.writer else {
            let mut tx = self.write_tx().await?;
            let out = work(&mut tx).await?;
            tx.commit().await?;
            return Ok(out);
        };
        let mut conn = writer.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await?;
        let result = async {
            let mut tx = Conn::Sqlite(conn.begin_with("BEGIN IMMEDIATE").await?);
            let out = work(&mut tx).await?;
            tx.commit().await?;
            Ok(out)
        }
        .await;
        // If this fails the connection stays FULL: slower, never less safe.
        if let Err(e) = sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await
        {
            tracing::warn!(error = %e, "setting synchronous back to NORMAL failed");
        }
        result
    }

    /// A read-only view for long reads (figures, exports) that must not hold up writers.
    /// Writing through it may fail under contention: use [`Store::begin`] for changes.
    pub async fn begin_read(&self) -> Result<Tx<'static>> {
        Ok(Tx(match &self.pool {
            Db::Sqlite(pool) => Conn::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Conn::Postgres(pool.begin().await?),
        }))
    }

    /// Starts a change: state, events and messages, committed together.
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(Tx(self.write_tx().await?))
    }

    /// A consistent copy of the database at `path`, taken while the bot runs (SQLite; on
    /// PostgreSQL, `pg_dump` does this).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        let Db::Sqlite(pool) = &self.pool else {
            return Err(Error::Unsupported("on PostgreSQL, back up with pg_dump"));
        };
        sqlx::query("VACUUM INTO ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(pool)
            .await?;
        Ok(())
    }
}

async fn open_sqlite(url: &str) -> Result<(Db, Db)> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // A commit is in the WAL, not yet synced: a power cut may undo the last ones
        // (never corrupt the file). The inbox's commits are synced: see `durably`.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // A file in this process cannot hang up: pinging it on every acquire (sqlx's
    // default, meant for network databases) would double the trips to each
    // connection's thread.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(WRITE_WAIT)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(READ_WAIT)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok((Db::Sqlite(pool), Db::Sqlite(writer)))
}

async fn open_postgres(url: &str) -> Result<Db> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(PG_CONNECTIONS)
        .acquire_timeout(READ_WAIT)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Db::Postgres(pool))
}

/// `butler backup`: a consistent copy of the database at `url` written to `to`, also
/// while the bot runs. The source is opened read-only: never created, never migrated
/// (a missing file is an error, not a new empty database).
pub async fn backup(url: &str, to: &std::path::Path) -> Result<()> {
    if is_postgres_url(url) {
        return Err(Error::Unsupported("on PostgreSQL, back up with pg_dump"));
    }
    let options = SqliteConnectOptions::from_str(url)?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(5));
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(to.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await?;
    sqlx::Connection::close(conn).await?;
    Ok(())
}

/// A change in progress: state, events and outgoing messages, committed together.
pub struct Tx<'c>(Conn<'c>);

impl Tx<'_> {
    pub async fn commit(self) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}

/// SQLite's plan for `sql` with its first `nulls` parameters bound to NULL, one line
/// per step: for the tests that check a query reads an index, never a whole table.
#[cfg(test)]
pub(crate) async fn query_plan(store: &Store, sql: &str, nulls: usize) -> Vec<String> {
    use sqlx::Row;
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut q = sqlx::query(&explain);
    for _ in 0..nulls {
        q = q.bind(Option::<i64>::None);
    }
    let Db::Sqlite(pool) = &store.pool else {
        panic!("query plans are SQLite's");
    };
    q.fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn postgres_faults_that_pass_are_transient_and_others_are_not() {
        use sqlx::Connection;
        let Some(url) = testing::postgres_url() else {
            println!(
                "SKIPPED: {} names no PostgreSQL database",
                testing::POSTGRES_ENV
            );
            return;
        };
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        // 22021's low byte is SQLite's SQLITE_BUSY: a PostgreSQL code is not read as one.
        for (code, transient) in [
            ("40001", true),
            ("40P01", true),
            ("55P03", true),
            ("23505", false),
            ("22021", false),
        ] {
            let e = sqlx::query(&format!(
                "DO $$ BEGIN RAISE EXCEPTION 'fault' USING ERRCODE = '{code}'; END $$"
            ))
            .execute(&mut conn)
            .await
            .unwrap_err();
            assert_eq!(Error::from(e).is_transient(), transient, "SQLSTATE {code}");
        }
    }

    async fn synchronous(conn: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_inbox_commit_is_synced_and_other_commits_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let store = Store::open(&url).await.unwrap();
        // 1 is NORMAL, 2 is FULL.
        let inside = store
            .durably(async |conn| {
                let Conn::Sqlite(conn) = conn else {
                    unreachable!()
                };
                Ok(synchronous(conn).await)
            })
            .await
            .unwrap();
        assert_eq!(inside, 2, "a durable commit runs with synchronous = FULL");
        let Db::Sqlite(pool) = &store.writer else {
            unreachable!()
        };
        let mut writer = pool.acquire().await.unwrap();
        assert_eq!(synchronous(&mut writer).await, 1, "back to NORMAL after it");
        drop(writer);
        let mut tx = store.begin().await.unwrap();
        let Conn::Sqlite(conn) = &mut tx.0 else {
            unreachable!()
        };
        assert_eq!(synchronous(conn).await, 1, "other changes stay NORMAL");
        drop(tx);
        // The inbox goes through it.
        let ids = store
            .inbox_receive(&[(7, "{}".to_owned())], Utc::now())
            .await
            .unwrap();
        assert_eq!(ids, vec![7]);
        let mut writer = pool.acquire().await.unwrap();
        assert_eq!(synchronous(&mut writer).await, 1);
    }
}
