//! The pieces of SQL that SQLite and PostgreSQL spell differently, for statements built
//! once for each ([`Dialect::both`]): the figures' JSON columns, time spans, counts of
//! rows that match.

use super::Sql;

/// Which database a statement's text is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

use Dialect::{Postgres, Sqlite};

impl Dialect {
    /// A statement's two texts, each built by `build` for its dialect.
    pub(super) fn both(build: impl Fn(Dialect) -> String) -> Sql<'static> {
        Sql::each(build(Sqlite), build(Postgres))
    }

    /// A JSON array of `expr` over the rows, as text (`[]` for none), its elements in
    /// `order`: the rows' order on SQLite, where every array of one query follows the
    /// same pass over the rows; PostgreSQL sorts each array by `order` (unique), so the
    /// arrays of one query line up element by element.
    pub(super) fn agg(self, expr: &str, order: &str) -> String {
        match self {
            Sqlite => format!("json_group_array({expr})"),
            Postgres => format!("COALESCE(json_agg({expr} ORDER BY {order})::text, '[]')"),
        }
    }

    /// Whole seconds from `a` to `b`, two times (SQLite's RFC 3339 text, PostgreSQL's
    /// `timestamptz`), as an integer.
    pub(super) fn seconds(self, a: &str, b: &str) -> String {
        match self {
            Sqlite => {
                format!("CAST(ROUND((julianday({b}) - julianday({a})) * 86400.0) AS INTEGER)")
            }
            Postgres => format!("ROUND(EXTRACT(EPOCH FROM ({b} - {a})))::bigint"),
        }
    }

    /// The larger of two integers.
    pub(super) fn greatest(self, a: &str, b: &str) -> String {
        match self {
            Sqlite => format!("MAX({a}, {b})"),
            Postgres => format!("GREATEST({a}, {b})"),
        }
    }

    /// 1 when `cond` holds, 0 when not (NULL when it is NULL), as an integer.
    pub(super) fn flag(self, cond: &str) -> String {
        match self {
            Sqlite => cond.to_owned(),
            Postgres => format!("({cond})::int"),
        }
    }

    /// How many rows `cond` holds for (0 for none), as an integer.
    pub(super) fn count_if(self, cond: &str) -> String {
        match self {
            Sqlite => format!("COALESCE(SUM({cond}), 0)"),
            Postgres => format!("COUNT(*) FILTER (WHERE {cond})"),
        }
    }

    /// The name PostgreSQL wants for a subquery in FROM, with its space (SQLite's text
    /// goes without).
    pub(super) fn subquery_alias(self) -> &'static str {
        match self {
            Sqlite => "",
            Postgres => " u",
        }
    }

    /// The time `minutes` before the time `param` (a placeholder).
    pub(super) fn minutes_before(self, param: &str, minutes: u32) -> String {
        match self {
            Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {param}, '-{minutes} minutes')"),
            Postgres => format!("({param} - interval '{minutes} minutes')"),
        }
    }
}

/// PostgreSQL's plan for `sql` (SQLite's placeholders) with the values `args` (typed:
/// PostgreSQL plans with them) and sequential scans priced out, one line per node
/// (`Index Only Scan using tickets_done on tickets t`): a `Seq Scan` left in it is a
/// table no index serves.
#[cfg(test)]
pub(super) async fn postgres_plan(
    store: &super::Store,
    sql: &str,
    args: sqlx::postgres::PgArguments,
) -> Vec<String> {
    use sqlx::Connection;
    let super::db::Db::Postgres(pool) = &store.pool else {
        panic!("a PostgreSQL store");
    };
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let explain = format!("EXPLAIN (COSTS OFF) {}", super::db::numbered(sql));
    let lines: Vec<String> = sqlx::query_scalar_with(&explain, args)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    // Nodes are the lines that are not a node's detail ("Index Cond: …", "Filter: …").
    lines
        .iter()
        .map(|l| l.trim_start().trim_start_matches("->").trim().to_owned())
        .filter(|l| !l.contains(": "))
        .collect()
}

/// Whether a plan of [`postgres_plan`] reads some table through an index: an index scan,
/// an index-only scan or a bitmap index scan (which the planner picks as it likes on
/// tables this small).
#[cfg(test)]
pub(super) fn reads_an_index(steps: &[String]) -> bool {
    steps
        .iter()
        .any(|s| s.contains("Index Scan") || s.contains("Index Only Scan"))
}

/// The values of the figures' plans on PostgreSQL: November 2026, any scope (`?1`–`?5`),
/// then `more`.
#[cfg(test)]
pub(super) fn plan_args(more: &[&str]) -> sqlx::postgres::PgArguments {
    use sqlx::Arguments;
    let from: chrono::DateTime<chrono::Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let mut args = sqlx::postgres::PgArguments::default();
    args.add(from).unwrap();
    args.add(from + chrono::Duration::days(30)).unwrap();
    args.add(None::<i64>).unwrap();
    args.add(None::<String>).unwrap();
    args.add(None::<i64>).unwrap();
    for value in more {
        args.add(*value).unwrap();
    }
    args
}
