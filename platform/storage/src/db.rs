//! Relational storage: one pool type for both backends (PostgreSQL in production, a SQLite file in
//! the embedded mode) through sqlx's `Any` driver. Stores write the portable SQL both accept
//! (`$n` parameters, TEXT/BIGINT columns, `ON CONFLICT`, `RETURNING`), so one implementation of a
//! store trait serves both and the same contract tests run against each.

use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::migrations::Migrations;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use tokio::sync::Notify;

use event_bus::EventError;
use primitives::time::now_millis;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {url:?} is not supported: use postgres://... or sqlite://...")]
    UnsupportedUrl { url: String },
    #[error("cannot connect to the database at {address}: {source}")]
    Connect {
        /// The URL with any password left out.
        address: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to the database at {address}: no answer within {seconds} s")]
    ConnectTimeout { address: String, seconds: u64 },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// Notified when a transaction that appended events to the outbox commits: the relay
    /// publishing this database's outbox waits on it.
    outbox_committed: Arc<Notify>,
}

impl Database {
    /// Connects to `url` (`postgres://...` or `sqlite://path`; a SQLite file and its directory are
    /// created when missing), applies `migrations` and creates the platform's tables when
    /// missing (`outbox_events`, see [`crate::outbox`]; `processed_events`, see
    /// [`crate::processed`]; `idempotency_keys`, see [`crate::idempotency`]; `throttle_counts`, see
    /// [`crate::throttle`]).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        migrations: &Migrations,
    ) -> Result<Self, DbError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl { url: url.into() });
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let connect_error = |source| DbError::Connect {
            address: without_password(&url),
            source,
        };
        let options = AnyConnectOptions::from_str(&url).map_err(connect_error)?;
        // One connection first: a dead address fails now with its own reason, not after the
        // pool's acquire timeout with "pool timed out".
        const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
        let probe = tokio::time::timeout(
            CONNECT_TIMEOUT,
            <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        .map_err(|_| DbError::ConnectTimeout {
            address: without_password(&url),
            seconds: CONNECT_TIMEOUT.as_secs(),
        })?
        .map_err(connect_error)?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; waits instead of failing on a lock.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            // A connection given back still inside a transaction nobody holds is closed, not
            // reused: sqlx loses track of one when a request is cancelled between its BEGIN and
            // the answer, and on SQLite every later `BEGIN IMMEDIATE` on it would then fail
            // ("non-zero transaction depth"). A cancelled transaction whose rollback is still
            // queued is closed too; the pool opens a new connection in its place.
            .after_release(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        migrations.migrator().await?.run(&pool).await?;
        // The platform's own tables (the event outbox, processed-event marks, idempotency keys,
        // throttle counts) in every database.
        for table in crate::platform_tables::ALL {
            sqlx::raw_sql(table).execute(&pool).await?;
        }
        Ok(Self {
            pool,
            backend,
            outbox_committed: Arc::new(Notify::new()),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Records the pool's connections (idle and in use) for `service` in the
    /// `db_pool_connections` gauge; called at scrape time.
    pub fn record_pool_metrics(&self, service: &'static str) {
        let idle = self.pool.num_idle() as f64;
        let size = f64::from(self.pool.size());
        metrics::gauge!("db_pool_connections", "service" => service, "state" => "idle").set(idle);
        metrics::gauge!("db_pool_connections", "service" => service, "state" => "in_use")
            .set((size - idle).max(0.0));
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so two
    /// writers queue on the busy timeout instead of one failing when it upgrades its read lock.
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Transaction {
            inner,
            outbox_committed: self.outbox_committed.clone(),
            appended_events: false,
        })
    }

    /// Resolves when a transaction that appended events commits (see [`Transaction::commit`]).
    pub(crate) fn outbox_committed(&self) -> Arc<Notify> {
        self.outbox_committed.clone()
    }

    /// `clause`, a row lock (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`, `FOR UPDATE OF s`), on
    /// PostgreSQL; nothing on SQLite, where [`Self::begin`]'s `BEGIN IMMEDIATE` already holds
    /// every other writer off.
    pub fn row_lock(&self, clause: &'static str) -> &'static str {
        match self.backend {
            Backend::Postgres => clause,
            Backend::Sqlite => "",
        }
    }

    /// A subquery yielding the strings of a JSON array bound at `$param`, for `col IN (...)`.
    /// One parameter whatever the list's length: the statement text (and so the prepared
    /// statement) stays the same for every batch, and long lists cost no per-parameter work.
    pub fn any_of_json(&self, param: usize) -> String {
        match self.backend {
            Backend::Sqlite => format!("SELECT value FROM json_each(${param})"),
            Backend::Postgres => format!("SELECT json_array_elements_text(${param}::json)"),
        }
    }

    /// The rows of `select` (ending in the column to match, e.g. `SELECT ... FROM users WHERE
    /// id`) whose column is any of `keys`, then `rest` (e.g. an `ORDER BY`): one query for a whole
    /// batch, none for no keys.
    pub async fn fetch_any_of(
        &self,
        select: &str,
        keys: &[String],
        rest: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{select} IN ({}) {rest}", self.any_of_json(1));
        sqlx::query(&sql)
            .bind(json_list(keys))
            .fetch_all(&self.pool)
            .await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// A write transaction of a [`Database`]. Statements run on it as on sqlx's own
/// (`.execute(&mut *tx)`: it derefs to the connection). Committing one that appended events to
/// the outbox ([`crate::outbox::append`]) wakes the database's relay, so the events go out at
/// once without anyone waking it by hand.
pub struct Transaction {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    outbox_committed: Arc<Notify>,
    appended_events: bool,
}

impl Transaction {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await?;
        if self.appended_events {
            self.outbox_committed.notify_one();
        }
        Ok(())
    }

    /// Undoes the transaction (dropping it does the same).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }

    /// Marks that events were appended: committing wakes the relay.
    pub(crate) fn appended_events(&mut self) {
        self.appended_events = true;
    }
}

impl std::ops::Deref for Transaction {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Transaction {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

/// A storage failure of the embedded bus or the outbox relay, as the bus reports it.
pub(crate) fn bus_error(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> EventError {
    EventError::Backend(error.into())
}

/// `$start, $start+1, ...` for `count` parameters, for `IN (...)` lists.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (columns) VALUES ($1, ...), (...)` for `rows` rows of the comma-separated
/// `columns`, numbered in order: bind each row's values in column order, row after row.
pub fn insert_rows(table: &str, columns: &str, rows: usize) -> String {
    let width = columns.split(',').count();
    let values: Vec<String> = (0..rows)
        .map(|row| format!("({})", placeholders(row * width + 1, width)))
        .collect();
    format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        values.join(", ")
    )
}

/// The JSON array to bind for [`Database::any_of_json`].
pub fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// `url` with the password of its user info, if any, replaced by `***`, for messages.
fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// Test support: a fresh, migrated database on each backend available here.
pub mod testing {
    use super::*;

    pub const POSTGRES_URL_VAR: &str = "TEST_DATABASE_URL";
    pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// A fresh SQLite file in the temp directory.
    pub async fn sqlite(migrations: &Migrations) -> Database {
        Database::connect(&sqlite_url(), 4, migrations)
            .await
            .expect("sqlite test database")
    }

    /// The URL of a fresh, empty schema in the test PostgreSQL database (`TEST_DATABASE_URL` or
    /// the local one): every connection made with it works in that schema only.
    pub async fn postgres_url() -> String {
        let base = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
        let schema = primitives::id::new_id("test").to_lowercase();
        // A plain connection: `Database::connect` would create the event tables in the shared
        // default schema, which many tests starting at once race on.
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
            .await
            .expect("PostgreSQL must run for the tests (see README)");
        drop_stale_test_schemas(&mut admin).await;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        let _ = sqlx::Connection::close(admin).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        format!("{base}{separator}options=-c%20search_path%3D{schema}")
    }

    /// Test schemas are not dropped when a test ends (no async drop); the first test of each
    /// process drops those of earlier runs (older than an hour, by the time in their ULID).
    async fn drop_stale_test_schemas(admin: &mut sqlx::PgConnection) {
        static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        ONCE.get_or_init(|| async {
            let rows =
                sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'")
                    .fetch_all(&mut *admin)
                    .await
                    .unwrap_or_default();
            let hour_ago = now_millis() as u64 - 3_600_000;
            for row in rows {
                let Ok(name) = sqlx::Row::try_get::<String, _>(&row, "nspname") else {
                    continue;
                };
                let created = ulid::Ulid::from_string(&name["test_".len()..].to_uppercase())
                    .map(|u| u.timestamp_ms())
                    .unwrap_or(u64::MAX);
                if created < hour_ago {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .execute(&mut *admin)
                        .await;
                }
            }
        })
        .await;
    }

    /// A fresh SQLite file URL in the temp directory.
    pub fn sqlite_url() -> String {
        let path = std::env::temp_dir().join(format!("{}.db", primitives::id::new_id("test")));
        format!("sqlite://{}", path.display())
    }

    /// A fresh schema in the test PostgreSQL database, migrated.
    pub async fn postgres(migrations: &Migrations) -> Database {
        Database::connect(&postgres_url().await, 8, migrations)
            .await
            .expect("postgres test database")
    }

    /// A fresh database URL on each backend, for tests that migrate a database they filled under
    /// older migrations.
    pub async fn every_backend_url() -> Vec<String> {
        vec![sqlite_url(), postgres_url().await]
    }

    /// Both backends, for contract tests.
    pub async fn every_backend(migrations: &Migrations) -> Vec<Database> {
        vec![sqlite(migrations).await, postgres(migrations).await]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_given_back_inside_a_lost_transaction_is_not_reused() {
        for url in testing::every_backend_url().await {
            // One connection, so the next transaction would get the same one.
            let db = Database::connect(&url, 1, &crate::migrations::Migrations::NONE)
                .await
                .unwrap();
            let mut conn = db.pool().acquire().await.unwrap();
            // A transaction begun but never committed nor rolled back, as sqlx leaves one when
            // a request is cancelled between its BEGIN and the answer.
            let lost = sqlx::Connection::begin(&mut *conn).await.unwrap();
            std::mem::forget(lost);
            assert!(sqlx::Connection::is_in_transaction(&*conn));
            drop(conn);
            let mut tx = db
                .begin()
                .await
                .expect("a transaction on a fresh connection");
            sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    }

    #[test]
    fn passwords_are_left_out_of_addresses() {
        assert_eq!(
            without_password("postgres://shop:s3cret@db:5432/shop"),
            "postgres://shop:***@db:5432/shop"
        );
        assert_eq!(
            without_password("postgres://shop@db/shop"),
            "postgres://shop@db/shop"
        );
        assert_eq!(
            without_password("postgres://u:p@h/db?x=a@b"),
            "postgres://u:***@h/db?x=a@b"
        );
        assert_eq!(without_password("sqlite://data/a.db"), "sqlite://data/a.db");
    }

    #[tokio::test]
    async fn a_dead_database_address_is_named_with_its_own_reason() {
        // Nothing listens on port 1 of the loopback: the connection is refused at once.
        let error = Database::connect(
            "postgres://shop:s3cret@127.0.0.1:1/shop",
            2,
            &Migrations::NONE,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("at postgres://shop:***@127.0.0.1:1/shop"),
            "{error}"
        );
        assert!(!error.contains("s3cret"), "{error}");
        assert!(!error.contains("pool timed out"), "{error}");
    }

    #[test]
    fn placeholders_number_from_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn inserted_rows_number_their_values_row_after_row() {
        assert_eq!(
            insert_rows("t", "a, b", 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
