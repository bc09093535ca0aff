//! Row-level security on PostgreSQL: statements run inside a transaction whose `app.user_id`
//! setting names the acting user, so the table's policies filter every row the statement
//! touches, whatever the guard admitted.

use std::fmt::Write as _;

use sqlx::{AssertSqlSafe, Encode, PgPool, Postgres, Transaction, Type};

use super::{GuardedQuery, GuardedSql, QueryError};

/// The setting policies read: `current_setting('app.user_id', true)`.
pub const USER_SETTING: &str = "app.user_id";

/// The longest acting user accepted, in bytes.
const MAX_USER_BYTES: usize = 256;

impl GuardedSql<Postgres> {
    /// Statements run as `user`: each in a transaction that first sets
    /// [`USER_SETTING`] with `set_config(.., true)` (transaction-local: a pooled connection
    /// never carries it to the next request). `BEGIN` and the setting travel in one round
    /// trip, so a one-statement transaction costs what it costs without a user.
    ///
    /// The table's policies do the filtering:
    ///
    /// ```sql
    /// ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
    /// ALTER TABLE notes FORCE ROW LEVEL SECURITY;  -- the owner too
    /// CREATE POLICY notes_owner ON notes
    ///     USING (owner = NULLIF(current_setting('app.user_id', true), ''))
    ///     WITH CHECK (owner = NULLIF(current_setting('app.user_id', true), ''));
    /// ```
    ///
    /// A statement run without a user (outside `as_user`) sees no row and writes none: the
    /// setting is then unset (`NULL`) on a fresh connection and `''` on one that has run a
    /// user's transaction, and `NULLIF` makes both match no owner (fail closed; without it,
    /// rows owned by `''` would be readable and writable there). The guard refuses
    /// `set_config` in every policy, so a guarded statement cannot change the user, the role,
    /// `search_path` or the client encoding for itself or for the connection's next user. Policies bind every role
    /// but superusers and roles with `BYPASSRLS`: the application's role must be neither.
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) -> Result<(), palisade_sql::QueryError> {
    /// use palisade_sql::GuardedSql;
    ///
    /// let db = GuardedSql::<sqlx::Postgres>::read_write();
    /// let mine = db
    ///     .as_user("u-42")
    ///     .sql("SELECT id, title FROM notes WHERE archived = :archived")
    ///     .bind("archived", false)
    ///     .fetch_all(&pool)
    ///     .await?;
    ///
    /// // Several statements (or a stream) in one transaction:
    /// let mut tx = db.as_user("u-42").begin(&pool).await?;
    /// db.sql("UPDATE notes SET archived = :a").bind("a", true).execute(&mut *tx).await?;
    /// tx.commit().await.map_err(palisade_sql::QueryError::from)?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn as_user<'a>(&'a self, user: &'a str) -> AsUser<'a> {
        AsUser { db: self, user }
    }
}

/// Statements as one user: see [`GuardedSql::as_user`].
#[derive(Debug, Clone, Copy)]
pub struct AsUser<'a> {
    db: &'a GuardedSql<Postgres>,
    user: &'a str,
}

impl<'a> AsUser<'a> {
    /// A transaction whose statements run as the user; commit it (or drop it to roll back).
    ///
    /// # Errors
    /// [`QueryError::UserInvalid`] (nothing sent), or the database's error.
    pub async fn begin(&self, pool: &PgPool) -> Result<Transaction<'static, Postgres>, QueryError> {
        let begin = begin_as(self.user)?;
        Ok(pool.begin_with(AssertSqlSafe(begin)).await?)
    }

    /// A statement run as the user in a transaction of its own.
    #[must_use]
    pub fn sql(&self, sql: &'a str) -> AsUserQuery<'a> {
        AsUserQuery {
            scope: *self,
            query: self.db.sql(sql),
        }
    }
}

/// One statement as one user, in a transaction of its own. Built by [`AsUser::sql`].
#[derive(Debug)]
pub struct AsUserQuery<'a> {
    scope: AsUser<'a>,
    query: GuardedQuery<'a, Postgres>,
}

impl<'a> AsUserQuery<'a> {
    /// Binds `value` to `:name` (see [`GuardedQuery::bind`]).
    #[must_use]
    pub fn bind<T>(mut self, name: &str, value: T) -> Self
    where
        T: Encode<'a, Postgres> + Type<Postgres> + std::fmt::Debug + Send + 'a,
    {
        self.query = self.query.bind(name, value);
        self
    }

    /// Runs it and returns the rows written.
    ///
    /// # Errors
    /// As [`GuardedQuery::execute`], and [`QueryError::UserInvalid`].
    pub async fn execute(self, pool: &PgPool) -> Result<sqlx::postgres::PgQueryResult, QueryError> {
        let mut tx = self.scope.begin(pool).await?;
        let done = self.query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Runs it and returns every row the policies let the user see.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_all(self, pool: &PgPool) -> Result<Vec<sqlx::postgres::PgRow>, QueryError> {
        let mut tx = self.scope.begin(pool).await?;
        let rows = self.query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Runs it and returns the first row the user may see, if any.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_optional(
        self,
        pool: &PgPool,
    ) -> Result<Option<sqlx::postgres::PgRow>, QueryError> {
        let mut tx = self.scope.begin(pool).await?;
        let row = self.query.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(row)
    }
}

/// `BEGIN` and the transaction-local setting of the acting user, as one simple query that is
/// pure ASCII: the user travels as the hex of its UTF-8 bytes, turned back into text by the
/// server (`convert_from(decode('..', 'hex'), 'UTF8')`). No client encoding, quoting rule or
/// escape setting a connection may carry (`client_encoding`, `standard_conforming_strings`,
/// `backslash_quote`) can read a hex digit as anything else, so the user can neither end the
/// literal nor arrive changed. Nothing comes back (`SELECT FROM`): a user the client encoding
/// cannot represent is never converted for the client. A NUL byte (which no PostgreSQL text
/// holds) is refused.
fn begin_as(user: &str) -> Result<String, QueryError> {
    if user.is_empty() || user.len() > MAX_USER_BYTES || user.contains('\0') {
        return Err(QueryError::UserInvalid);
    }
    let mut hex = String::with_capacity(user.len() * 2);
    for byte in user.bytes() {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(format!(
        "BEGIN; SELECT FROM set_config('{USER_SETTING}', convert_from(decode('{hex}', 'hex'), 'UTF8'), true)"
    ))
}

#[cfg(test)]
mod tests {
    use super::begin_as;

    #[test]
    fn the_user_travels_as_hex_in_an_ascii_query() {
        assert_eq!(
            begin_as("u-1").unwrap(),
            "BEGIN; SELECT FROM set_config('app.user_id', convert_from(decode('752d31', 'hex'), 'UTF8'), true)"
        );
        let hostile = begin_as("\u{81}\\', true); SELECT 1; --é").unwrap();
        assert!(hostile.is_ascii());
        assert_eq!(hostile.matches('\'').count(), 8, "{hostile}");
        assert!(begin_as("").is_err());
        assert!(begin_as("a\0b").is_err());
        assert!(begin_as(&"x".repeat(257)).is_err());
    }
}
