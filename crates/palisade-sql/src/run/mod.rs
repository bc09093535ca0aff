//! The `sqlx` feature: raw SQL with named parameters, checked by the guard, rewritten to the
//! driver's placeholders, bound and run (R-SQL-2 on the path applications take).

mod error;
mod rewrite;

use std::fmt;
use std::marker::PhantomData;

use sqlx::error::BoxDynError;
use sqlx::query::Query;
use sqlx::{
    Arguments as _, AssertSqlSafe, Database, Encode, Executor, FromRow, IntoArguments, Type,
};

use crate::{Dialect, Params, SqlGuard, SqlPolicy};
pub use error::{QueryError, SqlServerError};
use rewrite::rewrite;

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::Postgres {}
    impl Sealed for sqlx::MySql {}
}

/// A database whose driver [`GuardedSql`] can run guarded statements on: `sqlx::Postgres` (named
/// parameters become `$1, $2, ...`) and `sqlx::MySql`, also for MariaDB (they become `?`).
pub trait Driver: Database<Arguments: IntoArguments<Self>> + sealed::Sealed {
    /// The dialect its statements are parsed in.
    const DIALECT: Dialect;
}

impl Driver for sqlx::Postgres {
    const DIALECT: Dialect = Dialect::Postgres;
}

impl Driver for sqlx::MySql {
    const DIALECT: Dialect = Dialect::MySql;
}

/// Guarded raw SQL for one database driver, in the style SQLAlchemy users know:
/// `db.sql("... WHERE id = :id").bind("id", v).fetch_all(&pool)`. Every statement is checked
/// against the guard's policy with the bound names as its parameters before anything reaches
/// the database; a read-only handle refuses writes.
///
/// ```
/// use palisade_sql::{QueryError, Rule, GuardedSql};
///
/// let db = GuardedSql::<sqlx::Postgres>::read_only();
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// // A pool that never connects: the guard refuses before any connection is asked for.
/// let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://localhost/app").unwrap();
/// let refused = db
///     .sql("DELETE FROM users WHERE id = :id")
///     .bind("id", 7_i64)
///     .execute(&pool)
///     .await
///     .unwrap_err();
/// assert_eq!(refused.violation().unwrap().rule(), Rule::StatementNotAllowed);
/// assert_eq!(refused.status(), 400);
/// # });
/// ```
pub struct GuardedSql<DB: Driver> {
    guard: SqlGuard,
    driver: PhantomData<fn() -> DB>,
}

impl<DB: Driver> GuardedSql<DB> {
    /// A handle whose statements must be reads ([`SqlPolicy::read_only`]).
    #[must_use]
    pub fn read_only() -> Self {
        Self::unchecked(SqlGuard::new(SqlPolicy::read_only(DB::DIALECT)))
    }

    /// A handle that also runs `INSERT`, `UPDATE`, `DELETE` and `MERGE`
    /// ([`SqlPolicy::read_write`]).
    #[must_use]
    pub fn read_write() -> Self {
        Self::unchecked(SqlGuard::new(SqlPolicy::read_write(DB::DIALECT)))
    }

    /// A handle with this guard (a policy with tables, literals or an allow-list of its own).
    ///
    /// # Errors
    /// [`QueryError::DialectMismatch`] when the guard's policy is for another dialect.
    pub fn with_guard(guard: SqlGuard) -> Result<Self, QueryError> {
        let policy = guard.policy().dialect();
        if policy != DB::DIALECT {
            return Err(QueryError::DialectMismatch {
                driver: DB::DIALECT,
                policy,
            });
        }
        Ok(Self::unchecked(guard))
    }

    fn unchecked(guard: SqlGuard) -> Self {
        Self {
            guard,
            driver: PhantomData,
        }
    }

    /// The guard every statement passes.
    #[must_use]
    pub fn guard(&self) -> &SqlGuard {
        &self.guard
    }

    /// A statement with named placeholders (`:name`), to bind and run.
    #[must_use]
    pub fn sql<'q>(&'q self, sql: &'q str) -> GuardedQuery<'q, DB> {
        GuardedQuery {
            guard: &self.guard,
            sql,
            binds: Vec::new(),
        }
    }
}

impl<DB: Driver> Clone for GuardedSql<DB> {
    fn clone(&self) -> Self {
        Self::unchecked(self.guard.clone())
    }
}

impl<DB: Driver> fmt::Debug for GuardedSql<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedSql")
            .field("dialect", &DB::DIALECT)
            .field("guard", &self.guard)
            .finish()
    }
}

/// Adds one bound value to the driver's arguments (as often as its name is used).
type AddValue<'q, DB> =
    Box<dyn Fn(&mut <DB as Database>::Arguments) -> Result<(), BoxDynError> + Send + 'q>;

/// A statement and its bound values, checked when it runs. Built by [`GuardedSql::sql`].
pub struct GuardedQuery<'q, DB: Driver> {
    guard: &'q SqlGuard,
    sql: &'q str,
    binds: Vec<(String, AddValue<'q, DB>)>,
}

impl<'q, DB: Driver> GuardedQuery<'q, DB> {
    /// Binds `value` to the placeholder `:name` (every occurrence of it).
    #[must_use]
    pub fn bind<T>(mut self, name: &str, value: T) -> Self
    where
        T: Encode<'q, DB> + Type<DB> + Send + 'q,
    {
        self.binds.push((
            name.to_owned(),
            Box::new(move |arguments| arguments.add(&value)),
        ));
        self
    }

    /// Checks the statement with the bound names, rewrites its placeholders for the driver and
    /// binds the values in the driver's order.
    fn prepare(self) -> Result<(String, DB::Arguments), QueryError> {
        for (index, (name, _)) in self.binds.iter().enumerate() {
            if self.binds.iter().take(index).any(|(n, _)| n == name) {
                return Err(QueryError::BindDuplicate { name: name.clone() });
            }
        }
        let params = Params::named(self.binds.iter().map(|(name, _)| name.as_str()));
        let checked = self.guard.check(self.sql, &params)?;
        let rewritten = rewrite(self.sql, DB::DIALECT, checked.placeholders_at())
            .ok_or(QueryError::RewriteFailed)?;
        let mut arguments = DB::Arguments::default();
        for name in &rewritten.arguments {
            let (_, add) = self
                .binds
                .iter()
                .find(|(n, _)| n == name)
                .ok_or(QueryError::RewriteFailed)?;
            add(&mut arguments).map_err(|_| QueryError::BindInvalid {
                name: (*name).to_owned(),
            })?;
        }
        Ok((rewritten.sql, arguments))
    }

    /// The checked, rewritten and bound statement, as sqlx runs it.
    fn query(self) -> Result<Query<'static, DB, DB::Arguments>, QueryError> {
        let (sql, arguments) = self.prepare()?;
        Ok(sqlx::query_with(AssertSqlSafe(sql), arguments))
    }

    /// Runs the statement and returns what the database reports (rows affected).
    ///
    /// # Errors
    /// [`QueryError::Refused`] (nothing sent) when the guard refuses it, a binding error, or
    /// the database's error.
    pub async fn execute<'c, E>(self, executor: E) -> Result<DB::QueryResult, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        Ok(self.query()?.execute(executor).await?)
    }

    /// Runs the statement and returns every row.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<DB::Row>, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        Ok(self.query()?.fetch_all(executor).await?)
    }

    /// Runs the statement and returns every row as `O`.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_all_as<'c, O, E>(self, executor: E) -> Result<Vec<O>, QueryError>
    where
        O: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
        E: Executor<'c, Database = DB>,
    {
        let (sql, arguments) = self.prepare()?;
        Ok(sqlx::query_as_with(AssertSqlSafe(sql), arguments)
            .fetch_all(executor)
            .await?)
    }

    /// Runs the statement and returns its first row.
    ///
    /// # Errors
    /// [`QueryError::RowNotFound`] when there is none; otherwise as
    /// [`execute`](Self::execute).
    pub async fn fetch_one<'c, E>(self, executor: E) -> Result<DB::Row, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        Ok(self.query()?.fetch_one(executor).await?)
    }

    /// Runs the statement and returns its first row, if any.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_optional<'c, E>(self, executor: E) -> Result<Option<DB::Row>, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        Ok(self.query()?.fetch_optional(executor).await?)
    }
}

impl<DB: Driver> fmt::Debug for GuardedQuery<'_, DB> {
    /// The parameter names only: never the statement or a value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedQuery")
            .field("dialect", &DB::DIALECT)
            .field(
                "bound",
                &self
                    .binds
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
