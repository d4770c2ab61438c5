//! `butler migrate-to`: a SQLite database copied, table by table, into an empty
//! PostgreSQL one, in one PostgreSQL transaction.
//!
//! Both schemas are read from the databases themselves (SQLite's `sqlite_schema`,
//! PostgreSQL's catalog): the tables are copied in the order their foreign keys need
//! (parents first; `tickets` by id, as `repeat_of` points back), and a table or column
//! one side has and the other has not stops the copy before anything is written.
//! PostgreSQL's column types say how each SQLite value is read: an INTEGER 0/1 as a
//! BOOLEAN, RFC 3339 text as a TIMESTAMPTZ (read as the SQLite store reads it), a BLOB as
//! BYTEA. The user triggers (the tickets' milestones, kept from `ticket_events` and
//! `ratings`; the staff names) are off while copying: the rows they would write are
//! copied as they are. Then each identity column's sequence is moved past the largest
//! id, and every table's count is checked against the source's before the commit.
//!
//! The SQLite source is opened read-only, in one read transaction: never created, never
//! migrated (it must be at this Butler's last migration).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, TypeInfo, ValueRef};

use super::db::Conn;
use super::{Error, Sql, Store, query, query_as, query_scalar};

/// Rows per COPY statement.
const BATCH_ROWS: usize = 5000;

/// Why a copy stopped. Nothing was written to PostgreSQL in any of these cases: the
/// transaction was rolled back.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] Error),
    /// The target holds rows already: `(table, rows)` of each table that does.
    #[error(
        "the PostgreSQL database already holds Butler data ({}): migrate-to copies into an \
         empty database only; nothing was copied",
        list_counts(.0)
    )]
    NotEmpty(Vec<(String, i64)>),
    /// The two schemas differ (a table or a column on one side only, a column type the
    /// copy cannot fill, a foreign-key cycle).
    #[error("the schemas differ: {0}; nothing was copied")]
    Schema(String),
    /// The source is not at this Butler's migrations.
    #[error("{0}; nothing was copied")]
    Source(String),
    /// A value the target's column type cannot hold.
    #[error("{table}.{column}, row {row} of the copy: {problem}; nothing was copied")]
    Value {
        table: String,
        column: String,
        row: u64,
        problem: String,
    },
    /// After copying, a table's count differs from the source's.
    #[error(
        "{table}: {sqlite} rows in SQLite but {postgres} in PostgreSQL after the copy; \
         nothing was copied"
    )]
    Mismatch {
        table: String,
        sqlite: i64,
        postgres: i64,
    },
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(Error::Sqlx(e))
    }
}

fn list_counts(counts: &[(String, i64)]) -> String {
    counts
        .iter()
        .map(|(t, n)| format!("{t}: {n} rows"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One table copied: its rows on each side, and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Copied {
    pub table: String,
    pub sqlite: i64,
    pub postgres: i64,
    pub took: Duration,
}

/// The whole copy, every table's counts matching.
#[derive(Debug, Clone)]
pub struct CopyReport {
    pub tables: Vec<Copied>,
    pub took: Duration,
}

impl CopyReport {
    /// Rows copied, over all tables.
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.postgres).sum()
    }

    /// Rows per second, over the whole copy.
    pub fn rate(&self) -> f64 {
        self.rows() as f64 / self.took.as_secs_f64().max(0.001)
    }
}

/// Butler's tables on SQLite: not SQLite's own, not sqlx's record of migrations, and
/// not the full-text index (a virtual table and its shadow tables: PostgreSQL's trigram
/// indexes stand for it), in the order they were made.
const SQLITE_TABLES: &str = r"SELECT s.name FROM sqlite_schema s
    WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
      AND s.name <> '_sqlx_migrations' AND s.sql NOT LIKE 'CREATE VIRTUAL TABLE%'
      AND NOT EXISTS (SELECT 1 FROM sqlite_schema v
                      WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
                        AND s.name LIKE v.name || '\_%' ESCAPE '\')
    ORDER BY s.rowid";

/// Butler's tables on PostgreSQL, in the current schema, in the order they were made.
const POSTGRES_TABLES: &str = "SELECT c.relname::text FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND c.relname <> '_sqlx_migrations'
    ORDER BY c.oid";

/// Each foreign key of the current schema: (the table holding it, the table it names).
const POSTGRES_KEYS: &str = "SELECT child.relname::text, parent.relname::text
    FROM pg_constraint k
    JOIN pg_class child ON child.oid = k.conrelid
    JOIN pg_class parent ON parent.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace
    WHERE k.contype = 'f' AND n.nspname = current_schema()";

/// Every column of the current schema: table, column, type, whether it is an identity.
const POSTGRES_COLUMNS: &str = "SELECT table_name::text, column_name::text, data_type::text,
           is_identity::text = 'YES'
    FROM information_schema.columns
    WHERE table_schema = current_schema()
    ORDER BY table_name, ordinal_position";

/// The tables with triggers of their own (not the foreign keys' internal ones).
const POSTGRES_TRIGGERS: &str = "SELECT DISTINCT c.relname::text FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND n.nspname = current_schema()";

/// An identifier quoted for either database.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Every Butler table and its rows, by the tables' names, on either database (what
    /// `migrate-to` compares).
    pub async fn table_counts(&self) -> super::Result<Vec<(String, i64)>> {
        let tables: Vec<String> = query_scalar(Sql::each(SQLITE_TABLES, POSTGRES_TABLES))
            .fetch_all(&self.pool)
            .await?;
        let mut counts = Vec::with_capacity(tables.len());
        for table in tables {
            let n: i64 = query_scalar(format!("SELECT COUNT(*) FROM {}", quoted(&table)))
                .fetch_one(&self.pool)
                .await?;
            counts.push((table, n));
        }
        counts.sort();
        Ok(counts)
    }

    /// `butler migrate-to`: copies the SQLite database at `sqlite_url` into this store,
    /// which must be on PostgreSQL (opened, so migrated) and hold no rows. `progress` is
    /// told of each table as it is done. Either every table is copied and counted the
    /// same on both sides, or nothing is.
    pub async fn copy_from_sqlite(
        &self,
        sqlite_url: &str,
        mut progress: impl FnMut(&Copied),
    ) -> Result<CopyReport, CopyError> {
        if !self.is_postgres() {
            return Err(Error::Unsupported("migrate-to copies into PostgreSQL").into());
        }
        let started = Instant::now();
        let options = SqliteConnectOptions::from_str(sqlite_url)?
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(5));
        let mut source = sqlx::ConnectOptions::connect(&options).await?;
        let result: Result<Vec<Copied>, CopyError> = async {
            let mut read = source.begin().await?;
            check_migrations(&mut read).await?;
            let mut tx = self.write_tx().await?;
            let plan = Plan::read(&mut read, &mut tx).await?;
            refuse_unless_empty(&mut tx, &plan).await?;
            let tables = plan.copy(&mut read, &mut tx, &mut progress).await?;
            tx.commit().await?;
            Ok(tables)
        }
        .await;
        let _ = source.close().await;
        Ok(CopyReport {
            tables: result?,
            took: started.elapsed(),
        })
    }
}

/// The source must be at this Butler's SQLite migrations, no more, no fewer: else its
/// tables are not the ones PostgreSQL's schema mirrors.
async fn check_migrations(read: &mut sqlx::SqliteConnection) -> Result<(), CopyError> {
    let applied: Vec<i64> =
        query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *read)
            .await
            .map_err(|_| {
                CopyError::Source("the SQLite database holds no Butler migrations".into())
            })?;
    let applied: BTreeSet<i64> = applied.into_iter().collect();
    let known: BTreeSet<i64> = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .collect();
    if let Some(missing) = known.difference(&applied).next() {
        return Err(CopyError::Source(format!(
            "the SQLite database lacks migration {missing}: run this version of butler on it \
             once (it migrates on start), stop it, then migrate"
        )));
    }
    if let Some(newer) = applied.difference(&known).next() {
        return Err(CopyError::Source(format!(
            "the SQLite database has migration {newer}, which this butler does not know: \
             migrate with the version of butler that made it"
        )));
    }
    Ok(())
}

/// A PostgreSQL column's type, as far as the copy fills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BigInt,
    Int,
    Bool,
    Text,
    Time,
    Bytes,
    Float,
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" => Kind::BigInt,
            "integer" => Kind::Int,
            "boolean" => Kind::Bool,
            "text" | "character varying" => Kind::Text,
            "timestamp with time zone" => Kind::Time,
            "bytea" => Kind::Bytes,
            "double precision" | "real" => Kind::Float,
            _ => return None,
        })
    }
}

/// A column to copy: its name, its PostgreSQL type, and whether it is an identity.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    identity: bool,
}

/// One table to copy: its columns (PostgreSQL's order), and SQLite's primary key.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    order_by: Vec<String>,
}

/// What to copy, in which order, and which tables' triggers to hold off.
#[derive(Debug)]
struct Plan {
    tables: Vec<Table>,
    triggers: Vec<String>,
}

impl Plan {
    /// Both schemas, compared: the tables and columns must be the same on both sides.
    async fn read(read: &mut sqlx::SqliteConnection, tx: &mut Conn<'_>) -> Result<Plan, CopyError> {
        let sqlite_tables: Vec<String> = query_scalar(SQLITE_TABLES).fetch_all(&mut *read).await?;
        let pg_tables: Vec<String> = query_scalar(POSTGRES_TABLES).fetch_all(&mut *tx).await?;
        same_names("tables", "", &sqlite_tables, &pg_tables)?;
        let keys: Vec<(String, String)> = query_as(POSTGRES_KEYS).fetch_all(&mut *tx).await?;
        let columns: Vec<(String, String, String, bool)> =
            query_as(POSTGRES_COLUMNS).fetch_all(&mut *tx).await?;
        let mut by_table: BTreeMap<String, Vec<Column>> = BTreeMap::new();
        for (table, name, data_type, identity) in columns {
            let kind = Kind::of(&data_type).ok_or_else(|| {
                CopyError::Schema(format!(
                    "{table}.{name} is {data_type} in PostgreSQL, which migrate-to cannot fill"
                ))
            })?;
            by_table.entry(table).or_default().push(Column {
                name,
                kind,
                identity,
            });
        }
        let mut tables = Vec::new();
        for name in in_key_order(&pg_tables, &keys)? {
            let columns = by_table.remove(&name).unwrap_or_default();
            let (sqlite_columns, order_by) = sqlite_columns(read, &name).await?;
            let pg_columns: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            same_names("columns", &name, &sqlite_columns, &pg_columns)?;
            tables.push(Table {
                name,
                columns,
                order_by,
            });
        }
        let triggers = query_scalar(POSTGRES_TRIGGERS).fetch_all(&mut *tx).await?;
        Ok(Plan { tables, triggers })
    }

    /// Copies every table, triggers off, then moves the sequences on; each table's count
    /// is checked as it is done.
    async fn copy(
        &self,
        read: &mut sqlx::SqliteConnection,
        tx: &mut Conn<'_>,
        progress: &mut impl FnMut(&Copied),
    ) -> Result<Vec<Copied>, CopyError> {
        for table in &self.triggers {
            query(format!(
                "ALTER TABLE {} DISABLE TRIGGER USER",
                quoted(table)
            ))
            .execute(&mut *tx)
            .await?;
        }
        let mut done = Vec::with_capacity(self.tables.len());
        for table in &self.tables {
            let started = Instant::now();
            let count = format!("SELECT COUNT(*) FROM {}", quoted(&table.name));
            let sqlite: i64 = query_scalar(&count).fetch_one(&mut *read).await?;
            copy_rows(read, tx, table).await?;
            let postgres: i64 = query_scalar(&count).fetch_one(&mut *tx).await?;
            let copied = Copied {
                table: table.name.clone(),
                sqlite,
                postgres,
                took: started.elapsed(),
            };
            progress(&copied);
            if sqlite != postgres {
                return Err(CopyError::Mismatch {
                    table: table.name.clone(),
                    sqlite,
                    postgres,
                });
            }
            done.push(copied);
        }
        for table in &self.tables {
            move_sequences_on(tx, table).await?;
        }
        for table in &self.triggers {
            query(format!("ALTER TABLE {} ENABLE TRIGGER USER", quoted(table)))
                .execute(&mut *tx)
                .await?;
        }
        Ok(done)
    }
}

/// The same names on both sides, or which are on one side only.
fn same_names(what: &str, table: &str, sqlite: &[String], pg: &[String]) -> Result<(), CopyError> {
    let s: BTreeSet<&String> = sqlite.iter().collect();
    let p: BTreeSet<&String> = pg.iter().collect();
    if s == p {
        return Ok(());
    }
    let list = |names: Vec<&&String>| {
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let of = if table.is_empty() {
        String::new()
    } else {
        format!(" of {table}")
    };
    let mut problems = Vec::new();
    let only_sqlite: Vec<_> = s.difference(&p).collect();
    if !only_sqlite.is_empty() {
        problems.push(format!("{what}{of} only in SQLite: {}", list(only_sqlite)));
    }
    let only_pg: Vec<_> = p.difference(&s).collect();
    if !only_pg.is_empty() {
        problems.push(format!("{what}{of} only in PostgreSQL: {}", list(only_pg)));
    }
    Err(CopyError::Schema(problems.join("; ")))
}

/// The tables, each after those its foreign keys name (a table naming itself, as
/// `tickets.repeat_of` does, is copied in id order instead); otherwise in the order
/// they were made.
fn in_key_order(tables: &[String], keys: &[(String, String)]) -> Result<Vec<String>, CopyError> {
    let mut placed: Vec<String> = Vec::with_capacity(tables.len());
    while placed.len() < tables.len() {
        let next = tables.iter().find(|t| {
            !placed.contains(t)
                && keys
                    .iter()
                    .filter(|(child, parent)| child == *t && parent != *t)
                    .all(|(_, parent)| placed.contains(parent))
        });
        match next {
            Some(t) => placed.push(t.clone()),
            None => {
                let left: Vec<&str> = tables
                    .iter()
                    .filter(|t| !placed.contains(t))
                    .map(String::as_str)
                    .collect();
                return Err(CopyError::Schema(format!(
                    "the foreign keys of {} name each other in a circle",
                    left.join(", ")
                )));
            }
        }
    }
    Ok(placed)
}

/// A SQLite table's columns, and its primary key's (the order rows are copied in).
async fn sqlite_columns(
    read: &mut sqlx::SqliteConnection,
    table: &str,
) -> Result<(Vec<String>, Vec<String>), CopyError> {
    let columns: Vec<(String, i64)> =
        query_as("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *read)
            .await?;
    let mut key: Vec<&(String, i64)> = columns.iter().filter(|(_, pk)| *pk > 0).collect();
    key.sort_by_key(|(_, pk)| *pk);
    let order_by = key.into_iter().map(|(name, _)| name.clone()).collect();
    Ok((
        columns.into_iter().map(|(name, _)| name).collect(),
        order_by,
    ))
}

/// A value read from SQLite, typed for its PostgreSQL column (NULL too).
#[derive(Debug, Clone, PartialEq)]
enum Val {
    BigInt(Option<i64>),
    Int(Option<i32>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
    Float(Option<f64>),
}

impl Val {
    fn null(kind: Kind) -> Val {
        match kind {
            Kind::BigInt => Val::BigInt(None),
            Kind::Int => Val::Int(None),
            Kind::Bool => Val::Bool(None),
            Kind::Text => Val::Text(None),
            Kind::Time => Val::Time(None),
            Kind::Bytes => Val::Bytes(None),
            Kind::Float => Val::Float(None),
        }
    }

    /// The value in COPY's text format: `\\N` for NULL; a backslash, tab, newline or
    /// carriage return escaped; a time in RFC 3339; bytes as `\\x` and hex.
    fn write_copy_text(&self, out: &mut String) {
        use std::fmt::Write;
        let null = || "\\N".to_owned();
        match self {
            Val::BigInt(v) => out.push_str(&v.map_or_else(null, |v| v.to_string())),
            Val::Int(v) => out.push_str(&v.map_or_else(null, |v| v.to_string())),
            Val::Bool(v) => out.push_str(v.map_or("\\N", |v| if v { "t" } else { "f" })),
            Val::Float(v) => out.push_str(&v.map_or_else(null, |v| format!("{v:?}"))),
            Val::Time(v) => out.push_str(&v.map_or_else(null, |v| {
                v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            })),
            Val::Text(None) | Val::Bytes(None) => out.push_str("\\N"),
            Val::Text(Some(text)) => {
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c => out.push(c),
                    }
                }
            }
            Val::Bytes(Some(bytes)) => {
                out.push_str("\\\\x");
                for b in bytes {
                    let _ = write!(out, "{b:02x}");
                }
            }
        }
    }
}

/// Column `i` of a SQLite row as `kind`, or what is wrong with it. SQLite keeps a
/// storage class per value (NULL, INTEGER, REAL, TEXT, BLOB); each PostgreSQL type
/// takes the class the SQLite store writes for it.
fn read_value(row: &SqliteRow, i: usize, kind: Kind) -> Result<Val, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Val::null(kind));
    }
    let class = raw.type_info().name().to_owned();
    let wrong = || format!("a {class} value where PostgreSQL's column is {kind:?}");
    let get = |e: sqlx::Error| e.to_string();
    Ok(match (kind, class.as_str()) {
        (Kind::BigInt, "INTEGER") => Val::BigInt(Some(row.try_get(i).map_err(get)?)),
        (Kind::Int, "INTEGER") => {
            let v: i64 = row.try_get(i).map_err(get)?;
            let v = i32::try_from(v).map_err(|_| format!("{v} does not fit an INTEGER"))?;
            Val::Int(Some(v))
        }
        (Kind::Bool, "INTEGER") => match row.try_get::<i64, _>(i).map_err(get)? {
            0 => Val::Bool(Some(false)),
            1 => Val::Bool(Some(true)),
            v => return Err(format!("{v} is not a flag (0 or 1)")),
        },
        (Kind::Text, "TEXT") => Val::Text(Some(row.try_get(i).map_err(get)?)),
        (Kind::Time, "TEXT") => {
            let time: DateTime<Utc> = row.try_get(i).map_err(|_| {
                let text: String = row.try_get(i).unwrap_or_default();
                format!("{text:?} is not a time")
            })?;
            Val::Time(Some(time))
        }
        (Kind::Bytes, "BLOB") => Val::Bytes(Some(row.try_get(i).map_err(get)?)),
        (Kind::Float, "REAL" | "INTEGER") => Val::Float(Some(row.try_get(i).map_err(get)?)),
        _ => return Err(wrong()),
    })
}

/// Copies one table's rows, [`BATCH_ROWS`] a statement.
async fn copy_rows(
    read: &mut sqlx::SqliteConnection,
    tx: &mut Conn<'_>,
    table: &Table,
) -> Result<(), CopyError> {
    let names: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
    let mut select = format!("SELECT {} FROM {}", names.join(", "), quoted(&table.name));
    if !table.order_by.is_empty() {
        let key: Vec<String> = table.order_by.iter().map(|c| quoted(c)).collect();
        select.push_str(&format!(" ORDER BY {}", key.join(", ")));
    }
    let per_batch = BATCH_ROWS;
    let mut rows = sqlx::query(&select).fetch(&mut *read);
    let mut batch: Vec<Val> = Vec::with_capacity(per_batch * table.columns.len());
    let mut row_number = 0u64;
    while let Some(row) = rows.try_next().await? {
        row_number += 1;
        for (i, column) in table.columns.iter().enumerate() {
            let value = read_value(&row, i, column.kind).map_err(|problem| CopyError::Value {
                table: table.name.clone(),
                column: column.name.clone(),
                row: row_number,
                problem,
            })?;
            batch.push(value);
        }
        if batch.len() == per_batch * table.columns.len() {
            copy_in(tx, table, &names, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        copy_in(tx, table, &names, &batch).await?;
    }
    Ok(())
}

/// One `COPY … FROM STDIN` (text format) of the rows in `values` (a row's columns after
/// each other): several times faster than INSERTs of the same rows, and one statement
/// per batch keeps the foreign keys' checks (queued to the statement's end) bounded.
async fn copy_in(
    tx: &mut Conn<'_>,
    table: &Table,
    names: &[String],
    values: &[Val],
) -> Result<(), CopyError> {
    let Conn::Postgres(pg) = tx else {
        return Err(Error::Unsupported("migrate-to copies into PostgreSQL").into());
    };
    let mut text = String::with_capacity(values.len() * 16);
    for row in values.chunks(names.len()) {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                text.push('\t');
            }
            value.write_copy_text(&mut text);
        }
        text.push('\n');
    }
    let statement = format!(
        "COPY {} ({}) FROM STDIN",
        quoted(&table.name),
        names.join(", ")
    );
    let mut copy = pg.copy_in_raw(&statement).await?;
    if let Err(e) = copy.send(text.into_bytes()).await {
        let _ = copy.abort("migrate-to failed").await;
        return Err(e.into());
    }
    copy.finish().await?;
    Ok(())
}

/// Moves the sequence of each identity column of `table` past the largest value copied,
/// so that the next row PostgreSQL numbers does not collide (an empty table leaves it).
async fn move_sequences_on(tx: &mut Conn<'_>, table: &Table) -> Result<(), CopyError> {
    for column in table.columns.iter().filter(|c| c.identity) {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence(?, ?), MAX({})) FROM {}",
            quoted(&column.name),
            quoted(&table.name)
        );
        query(sql)
            .bind(quoted(&table.name))
            .bind(column.name.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Refuses a target that holds rows: a copy into it would mix two databases' ids.
async fn refuse_unless_empty(tx: &mut Conn<'_>, plan: &Plan) -> Result<(), CopyError> {
    let mut full = Vec::new();
    for table in &plan.tables {
        let n: i64 = query_scalar(format!("SELECT COUNT(*) FROM {}", quoted(&table.name)))
            .fetch_one(&mut *tx)
            .await?;
        if n > 0 {
            full.push((table.name.clone(), n));
        }
    }
    if full.is_empty() {
        Ok(())
    } else {
        Err(CopyError::NotEmpty(full))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn key(child: &str, parent: &str) -> (String, String) {
        (child.to_owned(), parent.to_owned())
    }

    #[test]
    fn tables_come_after_the_tables_their_keys_name_else_in_the_order_they_were_made() {
        let tables = names("staff_chats tickets ratings owners staff owner_groups inbox");
        let keys = [
            key("staff_chats", "staff"),
            key("tickets", "owner_groups"),
            key("tickets", "owners"),
            key("tickets", "tickets"),
            key("ratings", "tickets"),
        ];
        assert_eq!(
            in_key_order(&tables, &keys).unwrap(),
            names("owners staff staff_chats owner_groups tickets ratings inbox")
        );
    }

    #[test]
    fn keys_in_a_circle_are_refused() {
        let tables = names("a b c");
        let keys = [key("a", "b"), key("b", "a")];
        let e = in_key_order(&tables, &keys).unwrap_err().to_string();
        assert!(e.contains("a, b name each other in a circle"), "{e}");
    }

    #[test]
    fn a_table_or_column_on_one_side_only_is_named() {
        let e = same_names("tables", "", &names("a b c"), &names("a c d"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the schemas differ: tables only in SQLite: b; tables only in PostgreSQL: d; \
             nothing was copied"
        );
        let e = same_names("columns", "t", &names("x y"), &names("x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("columns of t only in SQLite: y"), "{e}");
        assert!(same_names("tables", "", &names("a b"), &names("b a")).is_ok());
    }

    #[test]
    fn postgres_types_map_to_what_the_copy_fills() {
        assert_eq!(Kind::of("timestamp with time zone"), Some(Kind::Time));
        assert_eq!(Kind::of("boolean"), Some(Kind::Bool));
        assert_eq!(Kind::of("integer"), Some(Kind::Int));
        assert_eq!(Kind::of("jsonb"), None);
    }

    #[test]
    fn values_are_written_in_copys_text_format() {
        let text = |v: Val| {
            let mut out = String::new();
            v.write_copy_text(&mut out);
            out
        };
        let at = DateTime::parse_from_rfc3339("2026-11-30T05:44:36.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            text(Val::Text(Some("a\\b\tc\nd\re ☂".into()))),
            "a\\\\b\\tc\\nd\\re ☂"
        );
        assert_eq!(text(Val::Text(None)), "\\N");
        assert_eq!(text(Val::Time(None)), "\\N");
        assert_eq!(text(Val::Time(Some(at))), "2026-11-30T05:44:36.123Z");
        assert_eq!(text(Val::Bool(Some(true))), "t");
        assert_eq!(text(Val::Bool(Some(false))), "f");
        assert_eq!(text(Val::Int(Some(-7))), "-7");
        assert_eq!(
            text(Val::BigInt(Some(-1_001_234_567_890))),
            "-1001234567890"
        );
        assert_eq!(text(Val::Bytes(Some(vec![0, 0xab, 0x10]))), "\\\\x00ab10");
        assert_eq!(text(Val::Float(Some(0.5))), "0.5");
    }

    #[tokio::test]
    async fn sqlite_values_are_read_as_their_postgres_columns_types() {
        let mut conn = <sqlx::SqliteConnection as Connection>::connect("sqlite::memory:")
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT 1, 0, 7, 3000000000, '2026-11-30T05:44:36.123Z', x'0102', 'text', NULL, 2",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-30T05:44:36.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(read_value(&row, 0, Kind::Bool), Ok(Val::Bool(Some(true))));
        assert_eq!(read_value(&row, 1, Kind::Bool), Ok(Val::Bool(Some(false))));
        assert_eq!(read_value(&row, 2, Kind::Int), Ok(Val::Int(Some(7))));
        assert!(
            read_value(&row, 3, Kind::Int)
                .unwrap_err()
                .contains("does not fit")
        );
        assert_eq!(
            read_value(&row, 3, Kind::BigInt),
            Ok(Val::BigInt(Some(3_000_000_000)))
        );
        assert_eq!(read_value(&row, 4, Kind::Time), Ok(Val::Time(Some(at))));
        assert_eq!(
            read_value(&row, 5, Kind::Bytes),
            Ok(Val::Bytes(Some(vec![1, 2])))
        );
        assert_eq!(
            read_value(&row, 6, Kind::Text),
            Ok(Val::Text(Some("text".into())))
        );
        assert_eq!(read_value(&row, 7, Kind::Time), Ok(Val::Time(None)));
        assert!(
            read_value(&row, 8, Kind::Bool)
                .unwrap_err()
                .contains("not a flag")
        );
        assert!(
            read_value(&row, 6, Kind::Time)
                .unwrap_err()
                .contains("\"text\" is not a time")
        );
        assert!(
            read_value(&row, 6, Kind::BigInt)
                .unwrap_err()
                .contains("a TEXT value")
        );
    }
}
