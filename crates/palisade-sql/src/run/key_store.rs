//! `SqlKeyStore`: palisade-crypt's wrapped data keys in a PostgreSQL or MariaDB table.

use std::fmt;

use palisade_crypt::{
    Algorithm, CryptError, DataKeyId, DataKeyStore, KeyFuture, KeyName, KeyScope, StoredKey,
    WrappedKey,
};
use sqlx::{AssertSqlSafe, MySqlPool, PgPool};

use crate::QueryError;

enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// A [`DataKeyStore`] in a table of its own: one row per data key (`id`, `key_name`,
/// `scope`, `algorithm`, `kek_version`, `wrapped`, `created_at`), nothing secret (the keys
/// are wrapped), and one row with an empty `key_name` per destroyed scope, its `scope` the
/// SHA-256 of the destroyed one (no key is stored for it again; no erased owner named). Destroying a scope deletes its rows: keep the table's backups shorter-lived
/// than your erasure promise. [`create_table`](Self::create_table) makes the table and its
/// index; grant the service `SELECT, INSERT, DELETE` on it and nothing else.
pub struct SqlKeyStore {
    pool: Pool,
    table: String,
}

macro_rules! on_pool {
    ($store:expr, $pool:ident, $p:ident => $body:expr) => {
        match &$store.pool {
            Pool::Postgres($pool) => {
                let $p = |n: usize| format!("${n}");
                $body
            }
            Pool::MySql($pool) => {
                let $p = |_: usize| "?".to_owned();
                $body
            }
        }
    };
}

impl SqlKeyStore {
    /// Data keys in PostgreSQL table `table` (a plain lower-case name).
    ///
    /// # Errors
    /// [`QueryError::ColumnEncrypted`] naming the table when it is not a plain name.
    pub fn postgres(pool: PgPool, table: &str) -> Result<Self, QueryError> {
        Self::new(Pool::Postgres(pool), table)
    }

    /// Data keys in MySQL or MariaDB table `table`.
    ///
    /// # Errors
    /// As [`postgres`](Self::postgres).
    pub fn mysql(pool: MySqlPool, table: &str) -> Result<Self, QueryError> {
        Self::new(Pool::MySql(pool), table)
    }

    fn new(pool: Pool, table: &str) -> Result<Self, QueryError> {
        let plain = table.len() <= 63
            && table.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && table
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain {
            return Err(QueryError::ColumnEncrypted {
                column: "key store table".to_owned(),
                problem: "named except by a plain lower-case name",
            });
        }
        Ok(Self {
            pool,
            table: table.to_owned(),
        })
    }

    /// Creates the table and its index when they do not exist.
    ///
    /// # Errors
    /// The database's error.
    pub async fn create_table(&self) -> Result<(), QueryError> {
        let t = &self.table;
        match &self.pool {
            Pool::Postgres(pool) => {
                for statement in [
                    format!(
                        "CREATE TABLE IF NOT EXISTS {t} (id BYTEA PRIMARY KEY, key_name TEXT NOT NULL, \
                         scope TEXT NOT NULL, algorithm SMALLINT NOT NULL, kek_version BIGINT NOT NULL, \
                         wrapped BYTEA NOT NULL, created_at BIGINT NOT NULL)"
                    ),
                    format!(
                        "CREATE INDEX IF NOT EXISTS {t}_scope ON {t} (scope, key_name, created_at)"
                    ),
                ] {
                    sqlx::query(AssertSqlSafe(statement)).execute(pool).await?;
                }
            }
            Pool::MySql(pool) => {
                let statement = format!(
                    "CREATE TABLE IF NOT EXISTS {t} (id BINARY(16) PRIMARY KEY, key_name VARCHAR(64) NOT NULL, \
                     scope VARCHAR(200) NOT NULL, algorithm SMALLINT NOT NULL, kek_version BIGINT NOT NULL, \
                     wrapped VARBINARY(8192) NOT NULL, created_at BIGINT NOT NULL, \
                     INDEX {t}_scope (scope, key_name, created_at))"
                );
                sqlx::query(AssertSqlSafe(statement)).execute(pool).await?;
            }
        }
        Ok(())
    }

    async fn load_now(&self, id: &DataKeyId) -> Result<Option<StoredKey>, CryptError> {
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!(
                "SELECT key_name, scope, algorithm, kek_version, wrapped, created_at FROM {t} WHERE id = {}",
                p(1)
            );
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(id.as_bytes().to_vec())
                .fetch_optional(pool)
                .await
                .map_err(store_error)?;
            row.map(|row| stored(&row, Some(*id))).transpose()
        })
    }

    async fn current_now(
        &self,
        key_name: &KeyName,
        scope: &KeyScope,
        not_before: u64,
    ) -> Result<Option<StoredKey>, CryptError> {
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!(
                "SELECT id, key_name, scope, algorithm, kek_version, wrapped, created_at FROM {t} \
                 WHERE scope = {} AND key_name = {} AND created_at >= {} \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
                p(1), p(2), p(3)
            );
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(scope.as_str().to_owned())
                .bind(key_name.as_str().to_owned())
                .bind(i64::try_from(not_before).unwrap_or(i64::MAX))
                .fetch_optional(pool)
                .await
                .map_err(store_error)?;
            row.map(|row| stored(&row, None)).transpose()
        })
    }

    async fn insert_now(&self, key: &StoredKey) -> Result<(), CryptError> {
        if self.destroyed(&key.scope).await? {
            return Err(CryptError::KeyDestroyed);
        }
        self.insert_row(key).await?;
        // Destroyed meanwhile: the destruction may have deleted before this insert landed.
        if self.destroyed(&key.scope).await? {
            self.delete_row(&key.id).await?;
            return Err(CryptError::KeyDestroyed);
        }
        Ok(())
    }

    async fn insert_row(&self, key: &StoredKey) -> Result<(), CryptError> {
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!(
                "INSERT INTO {t} (id, key_name, scope, algorithm, kek_version, wrapped, created_at) \
                 VALUES ({}, {}, {}, {}, {}, {}, {})",
                p(1), p(2), p(3), p(4), p(5), p(6), p(7)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(key.id.as_bytes().to_vec())
                .bind(key.key_name.as_str().to_owned())
                .bind(key.scope.as_str().to_owned())
                .bind(i16::from(key.algorithm.id()))
                .bind(i64::from(key.wrapped.kek_version))
                .bind(key.wrapped.blob.clone())
                .bind(i64::try_from(key.created_at).unwrap_or(i64::MAX))
                .execute(pool)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    async fn delete_row(&self, id: &DataKeyId) -> Result<(), CryptError> {
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!("DELETE FROM {t} WHERE id = {}", p(1));
            sqlx::query(AssertSqlSafe(sql))
                .bind(id.as_bytes().to_vec())
                .execute(pool)
                .await
                .map_err(store_error)?;
            Ok(())
        })
    }

    /// Whether `scope` was destroyed: its tombstone, a row whose `key_name` is empty (no key
    /// has an empty name) and whose `scope` is [`KeyScope::tombstone`] (naming no erased
    /// owner), exists.
    async fn destroyed(&self, scope: &KeyScope) -> Result<bool, CryptError> {
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!("SELECT 1 FROM {t} WHERE scope = {} AND key_name = ''", p(1));
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(scope.tombstone())
                .fetch_optional(pool)
                .await
                .map_err(store_error)?;
            Ok(row.is_some())
        })
    }

    async fn destroy_now(&self, scope: &KeyScope) -> Result<u64, CryptError> {
        // The tombstone first: an insert that lands after it is refused by its own check.
        if !self.destroyed(scope).await? {
            let id = DataKeyId::random()?;
            let t = &self.table;
            on_pool!(self, pool, p => {
                let sql = format!(
                    "INSERT INTO {t} (id, key_name, scope, algorithm, kek_version, wrapped, created_at) \
                     VALUES ({}, '', {}, 0, 0, {}, 0)",
                    p(1), p(2), p(3)
                );
                sqlx::query(AssertSqlSafe(sql))
                    .bind(id.as_bytes().to_vec())
                    .bind(scope.tombstone())
                    .bind(Vec::<u8>::new())
                    .execute(pool)
                    .await
                    .map_err(store_error)?;
            });
        }
        let t = &self.table;
        on_pool!(self, pool, p => {
            let sql = format!("DELETE FROM {t} WHERE scope = {} AND key_name <> ''", p(1));
            let done = sqlx::query(AssertSqlSafe(sql))
                .bind(scope.as_str().to_owned())
                .execute(pool)
                .await
                .map_err(store_error)?;
            Ok(done.rows_affected())
        })
    }
}

/// A stored key from a row (its `id` column read unless given); a row that is not one
/// (edited by hand) opens nothing.
fn stored<R>(row: &R, id: Option<DataKeyId>) -> Result<StoredKey, CryptError>
where
    R: sqlx::Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i16: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let read = || -> Option<StoredKey> {
        let id = match id {
            Some(id) => id,
            None => DataKeyId::from_bytes(
                <[u8; 16]>::try_from(row.try_get::<Vec<u8>, _>("id").ok()?).ok()?,
            ),
        };
        Some(StoredKey {
            id,
            key_name: KeyName::new(&row.try_get::<String, _>("key_name").ok()?).ok()?,
            scope: KeyScope::new(row.try_get::<String, _>("scope").ok()?).ok()?,
            algorithm: Algorithm::from_id(
                u8::try_from(row.try_get::<i16, _>("algorithm").ok()?).ok()?,
            )?,
            wrapped: WrappedKey {
                kek_version: u32::try_from(row.try_get::<i64, _>("kek_version").ok()?).ok()?,
                blob: row.try_get("wrapped").ok()?,
            },
            created_at: u64::try_from(row.try_get::<i64, _>("created_at").ok()?).ok()?,
        })
    };
    read().ok_or(CryptError::Undecryptable)
}

/// The database's failure, as the store's (its category and SQLSTATE only).
fn store_error(error: sqlx::Error) -> CryptError {
    CryptError::Store {
        source: Box::new(QueryError::from(error)),
    }
}

impl DataKeyStore for SqlKeyStore {
    fn load<'a>(&'a self, id: &'a DataKeyId) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::new(self.load_now(id))
    }

    fn current<'a>(
        &'a self,
        key_name: &'a KeyName,
        scope: &'a KeyScope,
        not_before: u64,
    ) -> KeyFuture<'a, Option<StoredKey>> {
        KeyFuture::new(self.current_now(key_name, scope, not_before))
    }

    fn insert<'a>(&'a self, key: &'a StoredKey) -> KeyFuture<'a, ()> {
        KeyFuture::new(self.insert_now(key))
    }

    fn destroy_scope<'a>(&'a self, scope: &'a KeyScope) -> KeyFuture<'a, u64> {
        KeyFuture::new(self.destroy_now(scope))
    }
}

impl fmt::Debug for SqlKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = match self.pool {
            Pool::Postgres(_) => "postgres",
            Pool::MySql(_) => "mysql",
        };
        f.debug_struct("SqlKeyStore")
            .field("server", &server)
            .field("table", &self.table)
            .finish()
    }
}
