//! The `sqlx` feature: raw SQL with named parameters, checked by the guard, rewritten to the
//! driver's placeholders, bound and run (R-SQL-2 on the path applications take).

#[cfg(feature = "audit")]
mod audit;
#[cfg(feature = "crypt")]
mod encrypted;
mod error;
#[cfg(feature = "crypt")]
mod key_store;
mod privileges;
#[cfg(feature = "crypt")]
mod reencrypt;
mod rewrite;
mod rows;
mod user;

use std::fmt;
use std::marker::PhantomData;

use sqlx::error::BoxDynError;
use sqlx::query::Query;
use sqlx::{
    Arguments as _, AssertSqlSafe, Database, Encode, Executor, FromRow, IntoArguments, Type,
};

use crate::{Dialect, Params, SqlGuard, SqlPolicy};
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use encrypted::EncryptedQuery;
pub use error::{QueryError, SqlServerError};
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use key_store::SqlKeyStore;
pub use privileges::{
    Excess, Expect, PrivilegeReport, VerifyError, VerifyPrivileges, verify_privileges,
};
#[cfg(feature = "crypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
pub use reencrypt::{Reencrypted, reencrypt_rows};
use rewrite::rewrite;
pub use rows::RowStream;
pub use user::{AsUser, AsUserQuery, USER_SETTING};

/// The end event a running statement still owes (nothing without the `audit` feature).
#[cfg(feature = "audit")]
type Running = Option<palisade_audit::RunningQuery>;
#[cfg(not(feature = "audit"))]
type Running = ();

/// Emits the end of `running` for `result`.
#[cfg_attr(
    not(feature = "audit"),
    allow(
        clippy::needless_pass_by_value,
        reason = "one signature with and without the feature"
    )
)]
fn finish<T>(
    running: Running,
    result: &Result<T, QueryError>,
    rows: impl FnOnce(&T) -> Option<u64>,
) {
    #[cfg(feature = "audit")]
    audit::finish(running, result, rows);
    #[cfg(not(feature = "audit"))]
    let _ = (running, result, rows);
}

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

    /// The rows a statement wrote, as the driver reports them.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The audit target of `pool`: `db.system.name` for the driver (`mysql` for
    /// `sqlx::MySql`: say `DbSystem::MariaDb` yourself for MariaDB), the database and the
    /// server its connect options name.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    fn audit_target(pool: &sqlx::Pool<Self>) -> palisade_audit::QueryTarget;
}

/// `Driver` for a sqlx database: the two differ only in their dialect and audit system
/// name (their connect options share method names but no trait).
macro_rules! driver {
    ($database:ty, $dialect:expr, $system:ident) => {
        impl Driver for $database {
            const DIALECT: Dialect = $dialect;

            fn rows_affected(result: &Self::QueryResult) -> u64 {
                result.rows_affected()
            }

            #[cfg(feature = "audit")]
            fn audit_target(pool: &sqlx::Pool<Self>) -> palisade_audit::QueryTarget {
                let options = pool.connect_options();
                audit::target(
                    palisade_audit::DbSystem::$system,
                    options.get_database(),
                    options.get_host(),
                    options.get_port(),
                )
            }
        }
    };
}

driver!(sqlx::Postgres, Dialect::Postgres, PostgreSql);
driver!(sqlx::MySql, Dialect::MySql, MySql);

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
    #[cfg(feature = "audit")]
    audit: Option<audit::SqlAudit>,
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
            #[cfg(feature = "audit")]
            audit: None,
            driver: PhantomData,
        }
    }

    /// Emits one start and one end event to `audit` for every statement this handle runs
    /// (reads, writes, streams, statements in a transaction; the end also on error and when
    /// a stream or future is dropped early), and a `GuardRefused` security event for every
    /// statement the guard refuses. `target` names the database (`db.system.name`: say
    /// `DbSystem::MariaDb` for MariaDB through `sqlx::MySql`), its name and server.
    ///
    /// The events carry the statement's fingerprint (literals out, at most 500
    /// characters), its relations and parameter names; values only when the audit handle
    /// records them, redacted.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(
        mut self,
        audit: palisade_audit::Audit,
        target: palisade_audit::QueryTarget,
    ) -> Self {
        self.audit = Some(audit::SqlAudit::new(audit, target));
        self
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
            #[cfg(feature = "audit")]
            audit: self.audit.as_ref(),
            sql,
            binds: Vec::new(),
        }
    }
}

impl<DB: Driver> Clone for GuardedSql<DB> {
    fn clone(&self) -> Self {
        Self {
            guard: self.guard.clone(),
            #[cfg(feature = "audit")]
            audit: self.audit.clone(),
            driver: PhantomData,
        }
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

/// One bound value: its name, how it is added to the driver's arguments and, when the audit
/// records values, its redacted form.
struct Bind<'q, DB: Driver> {
    name: String,
    add: AddValue<'q, DB>,
    #[cfg(feature = "audit")]
    recorded: Option<palisade_audit::Parameter>,
}

/// A statement and its bound values, checked when it runs. Built by [`GuardedSql::sql`].
pub struct GuardedQuery<'q, DB: Driver> {
    guard: &'q SqlGuard,
    #[cfg(feature = "audit")]
    audit: Option<&'q audit::SqlAudit>,
    sql: &'q str,
    binds: Vec<Bind<'q, DB>>,
}

/// A statement ready for the driver, and the end event it owes.
struct Prepared<DB: Driver> {
    sql: String,
    arguments: DB::Arguments,
    running: Running,
}

impl<'q, DB: Driver> GuardedQuery<'q, DB> {
    /// Binds `value` to the placeholder `:name` (every occurrence of it). `Debug` is used only
    /// when an audit handle records parameter values, and then redacted.
    #[must_use]
    pub fn bind<T>(mut self, name: &str, value: T) -> Self
    where
        T: Encode<'q, DB> + Type<DB> + fmt::Debug + Send + 'q,
    {
        #[cfg(feature = "audit")]
        let recorded = self
            .audit
            .filter(|audit| audit.records_values())
            .map(|audit| audit.parameter(name, &value));
        self.binds.push(Bind {
            name: name.to_owned(),
            add: Box::new(move |arguments| arguments.add(&value)),
            #[cfg(feature = "audit")]
            recorded,
        });
        self
    }

    /// Checks the statement with the bound names, rewrites its placeholders for the driver,
    /// binds the values in the driver's order and emits the start event (or, when the guard
    /// refuses, the security event).
    fn prepare(self) -> Result<Prepared<DB>, QueryError> {
        for (index, bind) in self.binds.iter().enumerate() {
            if self.binds.iter().take(index).any(|b| b.name == bind.name) {
                return Err(QueryError::BindDuplicate {
                    name: bind.name.clone(),
                });
            }
        }
        let params = Params::named(self.binds.iter().map(|b| b.name.as_str()));
        #[cfg(feature = "audit")]
        let remembered = self.audit.and_then(|audit| audit.remembered(self.sql));
        #[cfg(feature = "audit")]
        let want_shape = self.audit.is_some() && remembered.is_none();
        #[cfg(not(feature = "audit"))]
        let want_shape = false;
        let (checked, _shape) = match self.guard.check_shaped(self.sql, &params, want_shape) {
            Ok(checked) => checked,
            Err(violation) => {
                #[cfg(feature = "audit")]
                if let Some(audit) = self.audit {
                    audit.refused(&violation);
                }
                return Err(violation.into());
            }
        };
        let rewritten = rewrite(self.sql, DB::DIALECT, checked.placeholders_at())
            .ok_or(QueryError::RewriteFailed)?;
        let mut arguments = DB::Arguments::default();
        for name in &rewritten.arguments {
            let bind = self
                .binds
                .iter()
                .find(|b| b.name == *name)
                .ok_or(QueryError::RewriteFailed)?;
            (bind.add)(&mut arguments).map_err(|_| QueryError::BindInvalid {
                name: (*name).to_owned(),
            })?;
        }
        #[cfg(feature = "audit")]
        let running = self.audit.map(|audit| match remembered {
            Some(info) => audit.start_remembered(info),
            None => {
                let parameters = self
                    .binds
                    .into_iter()
                    .map(|b| {
                        b.recorded
                            .unwrap_or_else(|| palisade_audit::Parameter::name_only(b.name))
                    })
                    .collect();
                audit.start(self.sql, &checked, _shape, parameters)
            }
        });
        #[cfg(not(feature = "audit"))]
        let running = ();
        Ok(Prepared {
            sql: rewritten.sql,
            arguments,
            running,
        })
    }

    /// The checked, rewritten and bound statement, as sqlx runs it, and its end event.
    fn query(self) -> Result<(Query<'static, DB, DB::Arguments>, Running), QueryError> {
        let prepared = self.prepare()?;
        Ok((
            sqlx::query_with(AssertSqlSafe(prepared.sql), prepared.arguments),
            prepared.running,
        ))
    }

    /// Runs the statement and streams its rows. A refused statement yields its error as the
    /// only item, and nothing is sent. The end event is emitted when the stream ends, fails,
    /// or is dropped early (as abandoned, with the rows read).
    pub fn fetch<'e, 'c: 'e, E>(self, executor: E) -> RowStream<'e, DB>
    where
        'q: 'e,
        E: Executor<'c, Database = DB> + 'e,
    {
        match self.query() {
            Ok((query, running)) => RowStream::new(query.fetch(executor), running),
            Err(error) => RowStream::refused(error),
        }
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
        let (query, running) = self.query()?;
        let result = query.execute(executor).await.map_err(QueryError::from);
        finish(running, &result, |done| Some(DB::rows_affected(done)));
        result
    }

    /// Runs the statement and returns every row.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<DB::Row>, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        let (query, running) = self.query()?;
        let result = query.fetch_all(executor).await.map_err(QueryError::from);
        finish(running, &result, |rows| Some(rows.len() as u64));
        result
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
        let prepared = self.prepare()?;
        let result = sqlx::query_as_with(AssertSqlSafe(prepared.sql), prepared.arguments)
            .fetch_all(executor)
            .await
            .map_err(QueryError::from);
        finish(prepared.running, &result, |rows| Some(rows.len() as u64));
        result
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
        let (query, running) = self.query()?;
        let result = query.fetch_one(executor).await.map_err(QueryError::from);
        finish(running, &result, |_| Some(1));
        result
    }

    /// Runs the statement and returns its first row, if any.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn fetch_optional<'c, E>(self, executor: E) -> Result<Option<DB::Row>, QueryError>
    where
        E: Executor<'c, Database = DB>,
    {
        let (query, running) = self.query()?;
        let result = query
            .fetch_optional(executor)
            .await
            .map_err(QueryError::from);
        finish(running, &result, |row| Some(u64::from(row.is_some())));
        result
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
                    .map(|b| b.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
