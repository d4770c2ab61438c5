//! Where a run's database lives: a SQLite file (the default), or, with `--postgres` (or
//! `BUTLER_BENCH_POSTGRES`), a schema in a PostgreSQL database, a fresh one for every
//! run (`butler::store::testing::new_schema`) and one cached by name for each demo
//! database (`butler_bench_…`), seeded once as `target/bench-data/` holds SQLite's.

use std::path::Path;

use anyhow::Context;
use sqlx::Connection;

/// The PostgreSQL database `--postgres` uses when no URL is named.
pub const DEFAULT_URL: &str = "postgres://127.0.0.1:5432/test";
/// The environment variable naming it (setting it also picks PostgreSQL).
pub const URL_ENV: &str = "BUTLER_BENCH_POSTGRES";

/// The database under Butler in this benchmark.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The database's URL (no schema chosen).
    Postgres(String),
}

impl Backend {
    /// A new, empty database for one run: a file in `dir`, or a fresh schema.
    pub async fn fresh(&self, dir: &Path) -> anyhow::Result<RunDb> {
        Ok(match self {
            Backend::Sqlite => RunDb {
                url: format!("sqlite://{}", dir.join("butler.db").display()),
                schema: None,
            },
            Backend::Postgres(base) => {
                let url = butler::store::testing::new_schema(base).await;
                let name = schema_of(&url).context("new_schema gave no search_path")?;
                RunDb {
                    url,
                    schema: Some((base.clone(), name)),
                }
            }
        })
    }
}

/// One run's database, as a URL for Butler's configuration.
pub struct RunDb {
    pub url: String,
    /// PostgreSQL: (database URL, schema), dropped by [`RunDb::release`].
    schema: Option<(String, String)>,
}

impl RunDb {
    /// The run's PostgreSQL schema, if it has one.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_ref().map(|(_, name)| name.as_str())
    }

    /// Drops the run's PostgreSQL schema, unless `BUTLER_BENCH_KEEP` is set (then its
    /// name is printed). A run that fails leaves its schema, named `butler_t_…`: the
    /// next fresh schema made more than an hour later drops it.
    pub async fn release(self) -> anyhow::Result<()> {
        let Some((base, name)) = self.schema else {
            return Ok(());
        };
        if std::env::var_os("BUTLER_BENCH_KEEP").is_some() {
            println!("(kept: schema {name})");
            return Ok(());
        }
        execute(&base, &format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await
    }
}

/// The schema named in a URL made by `new_schema` or [`schema_url`].
fn schema_of(url: &str) -> Option<String> {
    let rest = url.split("options[search_path]=").nth(1)?;
    Some(rest.split("%2C").next()?.to_owned())
}

/// The URL whose connections use schema `name` in the database at `base`.
pub fn schema_url(base: &str, name: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options[search_path]={name}%2Cpublic")
}

/// When the cached schema `name` was seeded (seconds since the epoch), from its comment;
/// None when it is missing or was never finished.
pub async fn seeded_at(base: &str, name: &str) -> anyhow::Result<Option<u64>> {
    let mut conn = connect(base).await?;
    let comment: Option<Option<String>> = sqlx::query_scalar(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1",
    )
    .bind(name)
    .fetch_optional(&mut conn)
    .await?;
    let _ = conn.close().await;
    Ok(comment
        .flatten()
        .and_then(|c| c.strip_prefix("seeded ")?.parse().ok()))
}

/// Drops the schema `name` if it is there and makes it again, empty.
pub async fn recreate(base: &str, name: &str) -> anyhow::Result<()> {
    execute(
        base,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    )
    .await?;
    execute(base, &format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await?;
    execute(base, &format!("CREATE SCHEMA {name}")).await
}

/// Marks the schema `name` as seeded at `at` (seconds since the epoch).
pub async fn mark_seeded(base: &str, name: &str, at: u64) -> anyhow::Result<()> {
    execute(base, &format!("COMMENT ON SCHEMA {name} IS 'seeded {at}'")).await
}

/// The server and the settings that bound a commit, in one line.
pub async fn describe(base: &str) -> anyhow::Result<String> {
    let mut conn = connect(base).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    let mut settings = Vec::new();
    for name in [
        "fsync",
        "synchronous_commit",
        "wal_sync_method",
        "shared_buffers",
        "max_connections",
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut conn)
            .await?;
        settings.push(format!("{name} = {value}"));
    }
    let _ = conn.close().await;
    Ok(format!("PostgreSQL {version} ({})", settings.join(", ")))
}

async fn connect(base: &str) -> anyhow::Result<sqlx::PgConnection> {
    sqlx::PgConnection::connect(base)
        .await
        .with_context(|| format!("PostgreSQL at {base}"))
}

async fn execute(base: &str, sql: &str) -> anyhow::Result<()> {
    let mut conn = connect(base).await?;
    sqlx::query(sql)
        .execute(&mut conn)
        .await
        .with_context(|| sql.to_owned())?;
    let _ = conn.close().await;
    Ok(())
}
