//! The SQL side: each document's index row in PostgreSQL, written with the read-write login
//! and read (reports, exports) with the read-only one, every statement through
//! palisade-sql's guard and as the signed-in user, so row-level security holds even if a
//! statement forgot its `WHERE`.

mod report;

use std::time::Duration;

use palisade_audit::{Audit, DbSystem, QueryTarget};
use palisade_secrets::Dsn;
use palisade_sql::{Dialect, GuardedSql, Ident, QueryError};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row as _, Transaction};

pub(crate) use report::{ReportError, ReportQuery};

/// The schema, applied by the owner login.
const SCHEMA: &str = include_str!("../../schema.sql");

/// An arbitrary constant: concurrent starts apply the schema one at a time.
const SCHEMA_LOCK: i64 = 0x6372_7564_5f61_7069;

/// How long a request waits for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The two pools and the guarded executors over them.
#[derive(Debug)]
pub(crate) struct Sql {
    writer: PgPool,
    reader: PgPool,
    write: GuardedSql<Postgres>,
    read: GuardedSql<Postgres>,
}

/// A pool that connects lazily (a database down at start is a 503 per request, not a
/// service that cannot start), with the DSN's options (TLS included).
fn pool(dsn: &Dsn, connections: u32) -> Result<PgPool, String> {
    let options: PgConnectOptions = dsn
        .expose_secret()
        .parse()
        .map_err(|_| "not a PostgreSQL connection string".to_owned())?;
    Ok(PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options))
}

/// Applies [`SCHEMA`] as the owner and grants the service's logins their privileges.
///
/// # Errors
/// A message naming the step, never the server's text.
pub(crate) async fn migrate(owner: &Dsn, writer: &Dsn, reader: &Dsn) -> Result<(), String> {
    let login = |dsn: &Dsn, name: &str| -> Result<Ident, String> {
        let user = dsn
            .username()
            .ok_or_else(|| format!("{name} names no user"))?;
        Ident::new(&user, Dialect::Postgres).map_err(|e| format!("{name}: {e}"))
    };
    let (writer, reader) = (
        login(writer, "DATABASE_URL")?,
        login(reader, "DATABASE_READ_ONLY_URL")?,
    );
    let failed = |step: &str| {
        let step = step.to_owned();
        move |e: sqlx::Error| {
            let code = e
                .as_database_error()
                .and_then(|e| e.code().map(|c| c.into_owned()))
                .unwrap_or_else(|| "no SQLSTATE".to_owned());
            format!("DATABASE_OWNER_URL: {step} failed ({code})")
        }
    };
    let pool = pool(owner, 1).map_err(|e| format!("DATABASE_OWNER_URL: {e}"))?;
    let mut tx = pool.begin().await.map_err(failed("connecting"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(failed("locking the schema"))?;
    sqlx::raw_sql(AssertSqlSafe(SCHEMA))
        .execute(&mut *tx)
        .await
        .map_err(failed("applying schema.sql"))?;
    let grants = format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON documents TO {writer}; \
         GRANT SELECT ON documents TO {reader}"
    );
    sqlx::raw_sql(AssertSqlSafe(grants))
        .execute(&mut *tx)
        .await
        .map_err(failed("granting the logins"))?;
    tx.commit().await.map_err(failed("committing the schema"))?;
    pool.close().await;
    Ok(())
}

impl Sql {
    /// The pools of the read-write and read-only logins.
    ///
    /// # Errors
    /// A message naming the setting.
    pub(crate) fn new(writer: &Dsn, reader: &Dsn, audit: &Audit) -> Result<Self, String> {
        let target = |dsn: &Dsn| {
            let mut target = QueryTarget::new(DbSystem::PostgreSql);
            if let Some(database) = dsn.database() {
                target = target.with_namespace(database.into_owned());
            }
            target
        };
        Ok(Self {
            writer: pool(writer, 16).map_err(|e| format!("DATABASE_URL: {e}"))?,
            reader: pool(reader, 8).map_err(|e| format!("DATABASE_READ_ONLY_URL: {e}"))?,
            write: GuardedSql::read_write().with_audit(audit.clone(), target(writer)),
            read: GuardedSql::read_only().with_audit(audit.clone(), target(reader)),
        })
    }

    /// Writes a document's index row as MongoDB has the document now (inserted, or its
    /// references brought up to date): the index follows the documents, never the other way.
    pub(crate) async fn upsert_document(
        &self,
        user: &str,
        organization: &str,
        document: &Document<'_>,
    ) -> Result<(), QueryError> {
        self.write
            .as_user(user)
            .sql(
                "INSERT INTO documents (id, user_id, organization_id, project_id, client_id) \
                 VALUES (:id, :user_id, :organization_id, :project_id, :client_id) \
                 ON CONFLICT (id) DO UPDATE \
                 SET project_id = EXCLUDED.project_id, client_id = EXCLUDED.client_id",
            )
            .bind("id", document.id)
            .bind("user_id", user)
            .bind("organization_id", organization)
            .bind("project_id", document.project_id)
            .bind("client_id", document.client_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Removes a document's index row in a transaction as the user, left open so the
    /// caller commits it only once the document itself is gone.
    pub(crate) async fn unindex_document(
        &self,
        user: &str,
        id: &str,
    ) -> Result<Transaction<'static, Postgres>, QueryError> {
        let mut tx = self.write.as_user(user).begin(&self.writer).await?;
        self.write
            .sql("DELETE FROM documents WHERE id = :id")
            .bind("id", id)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Every row the user owns, for the export.
    pub(crate) async fn export(&self, user: &str) -> Result<Value, QueryError> {
        let rows = self
            .read
            .as_user(user)
            .sql(
                "SELECT id, organization_id, project_id, client_id, \
                 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at \
                 FROM documents ORDER BY id",
            )
            .fetch_all(&self.reader)
            .await?;
        let rows: Vec<Value> = rows
            .iter()
            .map(|row| {
                json!({
                    "id": row.try_get::<String, _>("id").ok(),
                    "organization_id": row.try_get::<String, _>("organization_id").ok(),
                    "project_id": row.try_get::<Option<String>, _>("project_id").ok().flatten(),
                    "client_id": row.try_get::<Option<String>, _>("client_id").ok().flatten(),
                    "created_at": row.try_get::<String, _>("created_at").ok(),
                })
            })
            .collect();
        Ok(json!({ "documents": rows }))
    }

    /// Erases every row the user owns; returns how many are left (0 when complete).
    pub(crate) async fn erase(&self, user: &str) -> Result<i64, QueryError> {
        self.write
            .as_user(user)
            .sql("DELETE FROM documents WHERE user_id = :user_id")
            .bind("user_id", user)
            .execute(&self.writer)
            .await?;
        let left = self
            .read
            .as_user(user)
            .sql("SELECT count(*) AS left_rows FROM documents WHERE user_id = :user_id")
            .bind("user_id", user)
            .fetch_optional(&self.reader)
            .await?;
        Ok(left
            .and_then(|row| row.try_get::<i64, _>("left_rows").ok())
            .unwrap_or(i64::MAX))
    }
}

/// A document's index row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Document<'a> {
    pub(crate) id: &'a str,
    pub(crate) project_id: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
}
