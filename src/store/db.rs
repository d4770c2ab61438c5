//! One statement, either database: the store's queries are written once and run on SQLite
//! or PostgreSQL, whichever [`Store`](super::Store) was opened on.
//!
//! [`query`], [`query_as`] and [`query_scalar`] read like sqlx's own; they keep the bound
//! values ([`Arg`]) until the statement runs, then bind them for the database at hand:
//! a time as SQLite's text (see [`ts`](super::ts)) or PostgreSQL's `timestamptz`.
//! Placeholders are written SQLite's way (`?`, `?1`) and numbered for PostgreSQL
//! (`$1`). Where the two dialects differ, [`Sql::each`] carries both texts.

use std::borrow::Cow;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{
    Arguments, Decode, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection,
    SqlitePool, Transaction, Type,
};

/// A pool of either database.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either database.
pub(crate) enum Conn<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl Conn<'_> {
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Conn::Sqlite(tx) => tx.commit().await,
            Conn::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Db {
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// Where a statement runs: a pool or a transaction's connection.
pub(crate) enum Exec<'e> {
    SqlitePool(&'e SqlitePool),
    Sqlite(&'e mut SqliteConnection),
    PgPool(&'e PgPool),
    Postgres(&'e mut PgConnection),
}

impl<'e> From<&'e Db> for Exec<'e> {
    fn from(db: &'e Db) -> Self {
        match db {
            Db::Sqlite(p) => Exec::SqlitePool(p),
            Db::Postgres(p) => Exec::PgPool(p),
        }
    }
}

impl<'e> From<&'e mut Conn<'_>> for Exec<'e> {
    fn from(conn: &'e mut Conn<'_>) -> Self {
        match conn {
            Conn::Sqlite(tx) => Exec::Sqlite(tx),
            Conn::Postgres(tx) => Exec::Postgres(tx),
        }
    }
}

impl<'e> From<&'e mut SqliteConnection> for Exec<'e> {
    fn from(conn: &'e mut SqliteConnection) -> Self {
        Exec::Sqlite(conn)
    }
}

/// A statement's text: the same for both databases, or one for each.
#[derive(Clone, Debug)]
pub(crate) enum Sql<'q> {
    Same(Cow<'q, str>),
    Each {
        sqlite: Cow<'q, str>,
        postgres: Cow<'q, str>,
    },
}

impl<'q> Sql<'q> {
    /// One text for SQLite and another for PostgreSQL.
    pub(crate) fn each(sqlite: impl Into<Cow<'q, str>>, postgres: impl Into<Cow<'q, str>>) -> Self {
        Sql::Each {
            sqlite: sqlite.into(),
            postgres: postgres.into(),
        }
    }

    fn sqlite(&self) -> &str {
        match self {
            Sql::Same(s) | Sql::Each { sqlite: s, .. } => s,
        }
    }

    fn postgres(&self) -> Cow<'_, str> {
        match self {
            Sql::Same(s) | Sql::Each { postgres: s, .. } => numbered(s),
        }
    }
}

impl<'q> From<&'q str> for Sql<'q> {
    fn from(s: &'q str) -> Self {
        Sql::Same(Cow::Borrowed(s))
    }
}

impl<'q> From<&'q String> for Sql<'q> {
    fn from(s: &'q String) -> Self {
        Sql::Same(Cow::Borrowed(s))
    }
}

impl From<String> for Sql<'_> {
    fn from(s: String) -> Self {
        Sql::Same(Cow::Owned(s))
    }
}

impl<'q> From<&Sql<'q>> for Sql<'q> {
    fn from(s: &Sql<'q>) -> Self {
        s.clone()
    }
}

/// SQLite's placeholders as PostgreSQL's: `?N` becomes `$N`, a bare `?` the next number.
/// Quoted text ('…', "…") and `--` comments are left as they are.
pub(crate) fn numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '-') if chars.peek() == Some(&'-') => quote = Some('\n'),
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    next += 1;
                    digits = next.to_string();
                } else {
                    next = next.max(digits.parse().unwrap_or(0));
                }
                out.push('$');
                out.push_str(&digits);
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A value bound to a statement, kept until the database is known.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    I64(Option<i64>),
    I32(Option<i32>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
}

/// A Rust value that binds as an [`Arg`] (and `None` of it as a typed NULL).
pub(crate) trait IntoArg {
    fn into_arg(self) -> Arg;
    fn null() -> Arg;
}

macro_rules! into_arg {
    ($($t:ty => $variant:ident($conv:expr)),* $(,)?) => {$(
        impl IntoArg for $t {
            fn into_arg(self) -> Arg {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(Some(($conv)(self)))
            }
            fn null() -> Arg {
                Arg::$variant(None)
            }
        }
    )*};
}

into_arg! {
    i64 => I64(|v| v),
    u64 => I64(|v: u64| v as i64),
    u32 => I64(i64::from),
    i32 => I32(|v| v),
    u8 => I64(i64::from),
    f64 => F64(|v| v),
    bool => Bool(|v| v),
    String => Text(|v| v),
    &str => Text(str::to_owned),
    DateTime<Utc> => Time(|v| v),
    Vec<u8> => Bytes(|v| v),
    &[u8] => Bytes(<[u8]>::to_vec),
}

impl<T: IntoArg + Clone> IntoArg for &T {
    fn into_arg(self) -> Arg {
        self.clone().into_arg()
    }
    fn null() -> Arg {
        T::null()
    }
}

impl<T: IntoArg> IntoArg for Option<T> {
    fn into_arg(self) -> Arg {
        match self {
            Some(v) => v.into_arg(),
            None => T::null(),
        }
    }
    fn null() -> Arg {
        T::null()
    }
}

impl Arg {
    fn add_sqlite(self, args: &mut SqliteArguments<'_>) -> Result<(), sqlx::error::BoxDynError> {
        match self {
            Arg::I64(v) => args.add(v),
            Arg::I32(v) => args.add(v),
            Arg::F64(v) => args.add(v),
            Arg::Bool(v) => args.add(v),
            Arg::Text(v) => args.add(v),
            Arg::Time(v) => args.add(v.map(super::ts_text)),
            Arg::Bytes(v) => args.add(v),
        }
    }

    fn add_postgres(self, args: &mut PgArguments) -> Result<(), sqlx::error::BoxDynError> {
        match self {
            Arg::I64(v) => args.add(v),
            Arg::I32(v) => args.add(v),
            Arg::F64(v) => args.add(v),
            Arg::Bool(v) => args.add(v),
            Arg::Text(v) => args.add(v),
            Arg::Time(v) => args.add(v),
            Arg::Bytes(v) => args.add(v),
        }
    }
}

fn sqlite_args<'q>(args: Vec<Arg>) -> sqlx::Result<SqliteArguments<'q>> {
    let mut out = SqliteArguments::default();
    for a in args {
        a.add_sqlite(&mut out).map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

fn postgres_args(args: Vec<Arg>) -> sqlx::Result<PgArguments> {
    let mut out = PgArguments::default();
    for a in args {
        a.add_postgres(&mut out).map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// A statement and its values.
#[derive(Clone, Debug)]
pub(crate) struct Query<'q> {
    sql: Sql<'q>,
    args: Vec<Arg>,
}

/// A statement whose rows are read as `T` ([`query_as`]).
pub(crate) struct QueryAs<'q, T> {
    query: Query<'q>,
    row: PhantomData<fn() -> T>,
}

/// A statement whose rows' first column is read as `T` ([`query_scalar`]).
pub(crate) struct QueryScalar<'q, T> {
    query: Query<'q>,
    value: PhantomData<fn() -> T>,
}

pub(crate) fn query<'q>(sql: impl Into<Sql<'q>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

pub(crate) fn query_as<'q, T>(sql: impl Into<Sql<'q>>) -> QueryAs<'q, T> {
    QueryAs {
        query: query(sql),
        row: PhantomData,
    }
}

pub(crate) fn query_scalar<'q, T>(sql: impl Into<Sql<'q>>) -> QueryScalar<'q, T> {
    QueryScalar {
        query: query(sql),
        value: PhantomData,
    }
}

/// A row's columns as text, by name ([`Query::fetch_texts`]).
#[derive(Debug, Clone)]
pub(crate) struct Texts(Vec<(String, Option<String>)>);

impl Texts {
    /// Column `name`'s text; `None` when it is NULL or there is no such column.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// What a statement changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done {
    rows: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows
    }
}

/// A row type both databases can read.
pub(crate) trait Row:
    Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{
}
impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// A column type both databases can read.
pub(crate) trait Value:
    Send
    + Unpin
    + for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
{
}
impl<T> Value for T where
    T: Send
        + Unpin
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
{
}

impl<'q> Query<'q> {
    pub(crate) fn bind(mut self, value: impl IntoArg) -> Self {
        self.args.push(value.into_arg());
        self
    }

    pub(crate) async fn execute<'e>(self, db: impl Into<Exec<'e>>) -> sqlx::Result<Done> {
        let Query { sql, args } = self;
        let rows = match db.into() {
            Exec::SqlitePool(p) => sqlx::query_with(sql.sqlite(), sqlite_args(args)?)
                .execute(p)
                .await?
                .rows_affected(),
            Exec::Sqlite(c) => sqlx::query_with(sql.sqlite(), sqlite_args(args)?)
                .execute(c)
                .await?
                .rows_affected(),
            Exec::PgPool(p) => sqlx::query_with(&sql.postgres(), postgres_args(args)?)
                .execute(p)
                .await?
                .rows_affected(),
            Exec::Postgres(c) => sqlx::query_with(&sql.postgres(), postgres_args(args)?)
                .execute(c)
                .await?
                .rows_affected(),
        };
        Ok(Done { rows })
    }

    /// The same statement, its rows read as `T`.
    pub(crate) fn into_as<T>(self) -> QueryAs<'q, T> {
        QueryAs {
            query: self,
            row: PhantomData,
        }
    }

    /// The same statement, its rows' first column read as `T`.
    pub(crate) fn into_scalar<T>(self) -> QueryScalar<'q, T> {
        QueryScalar {
            query: self,
            value: PhantomData,
        }
    }

    /// The one row of a statement whose columns are all text (or NULL), by name: for
    /// the figures' queries, whose columns are JSON arrays.
    pub(crate) async fn fetch_texts<'e>(self, db: impl Into<Exec<'e>>) -> sqlx::Result<Texts> {
        fn texts<R: sqlx::Row>(row: &R) -> sqlx::Result<Texts>
        where
            for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            use sqlx::Column;
            let mut out = Vec::with_capacity(row.columns().len());
            for (i, c) in row.columns().iter().enumerate() {
                out.push((c.name().to_owned(), row.try_get::<Option<String>, _>(i)?));
            }
            Ok(Texts(out))
        }
        let Query { sql, args } = self;
        match db.into() {
            Exec::SqlitePool(p) => texts(
                &sqlx::query_with(sql.sqlite(), sqlite_args(args)?)
                    .fetch_one(p)
                    .await?,
            ),
            Exec::Sqlite(c) => texts(
                &sqlx::query_with(sql.sqlite(), sqlite_args(args)?)
                    .fetch_one(c)
                    .await?,
            ),
            Exec::PgPool(p) => {
                let text = sql.postgres();
                texts(
                    &sqlx::query_with(&text, postgres_args(args)?)
                        .fetch_one(p)
                        .await?,
                )
            }
            Exec::Postgres(c) => {
                let text = sql.postgres();
                texts(
                    &sqlx::query_with(&text, postgres_args(args)?)
                        .fetch_one(c)
                        .await?,
                )
            }
        }
    }
}

/// Runs `$q` (a `sqlx::query_as_with`/`query_scalar_with` function) on whichever
/// database `$db` is, fetching with `$fetch`.
macro_rules! run {
    ($self:ident, $db:expr, $with:path, $fetch:ident) => {{
        let Query { sql, args } = $self;
        match $db.into() {
            Exec::SqlitePool(p) => $with(sql.sqlite(), sqlite_args(args)?).$fetch(p).await,
            Exec::Sqlite(c) => $with(sql.sqlite(), sqlite_args(args)?).$fetch(c).await,
            Exec::PgPool(p) => {
                let text = sql.postgres();
                $with(&text, postgres_args(args)?).$fetch(p).await
            }
            Exec::Postgres(c) => {
                let text = sql.postgres();
                $with(&text, postgres_args(args)?).$fetch(c).await
            }
        }
    }};
}

/// `bind` and the three fetches of a typed statement (`$ty`, its rows read by `$with`).
macro_rules! typed_statement {
    ($ty:ident, $bound:path, $with:path) => {
        impl<'q, T: $bound> $ty<'q, T> {
            pub(crate) fn bind(mut self, value: impl IntoArg) -> Self {
                self.query = self.query.bind(value);
                self
            }

            pub(crate) async fn fetch_all<'e>(
                self,
                db: impl Into<Exec<'e>>,
            ) -> sqlx::Result<Vec<T>> {
                let q = self.query;
                run!(q, db, $with, fetch_all)
            }

            pub(crate) async fn fetch_one<'e>(self, db: impl Into<Exec<'e>>) -> sqlx::Result<T> {
                let q = self.query;
                run!(q, db, $with, fetch_one)
            }

            pub(crate) async fn fetch_optional<'e>(
                self,
                db: impl Into<Exec<'e>>,
            ) -> sqlx::Result<Option<T>> {
                let q = self.query;
                run!(q, db, $with, fetch_optional)
            }
        }
    };
}

typed_statement!(QueryAs, Row, sqlx::query_as_with);
typed_statement!(QueryScalar, Value, sqlx::query_scalar_with);

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_quoted_text_is_left_alone() {
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
        assert_eq!(
            numbered("UPDATE t SET a = ? WHERE b = ? AND c = '?'"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c = '?'"
        );
        assert_eq!(
            numbered("SELECT ?1 WHERE x = ?2 OR y = ?1 AND \"q?\" = ?3"),
            "SELECT $1 WHERE x = $2 OR y = $1 AND \"q?\" = $3"
        );
        assert_eq!(
            numbered("SELECT ? -- the owner's?\n, ?"),
            "SELECT $1 -- the owner's?\n, $2"
        );
    }
}
