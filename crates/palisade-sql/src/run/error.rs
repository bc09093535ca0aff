//! `QueryError`: a refusal before the statement reached the database, a binding mistake, or
//! the database's own error, shown without the statement, a value or the server's message.

use std::fmt;

use sqlx::error::ErrorKind;

use crate::{Dialect, Violation};

/// Why a [`GuardedQuery`](crate::GuardedQuery) did not run, or failed.
///
/// Nothing here shows the statement, a bound value or the server's message (which can quote a
/// duplicated value): the database's error shows its category and SQLSTATE only.
#[derive(Debug)]
#[non_exhaustive]
pub enum QueryError {
    /// The guard refused the statement; nothing was sent to the database.
    Refused(Violation),
    /// The same parameter name was bound twice.
    BindDuplicate {
        /// The parameter's name (the caller's, not a value).
        name: String,
    },
    /// A bound value could not be encoded for the driver.
    BindInvalid {
        /// The parameter's name.
        name: String,
    },
    /// The guard's policy is for another dialect than the driver's.
    DialectMismatch {
        /// The driver's dialect.
        driver: Dialect,
        /// The policy's dialect.
        policy: Dialect,
    },
    /// A placeholder could not be rewritten for the driver (a bug); nothing was sent.
    RewriteFailed,
    /// `fetch_one` found no row.
    RowNotFound,
    /// The acting user given to [`GuardedSql::as_user`](super::GuardedSql::as_user) is empty,
    /// longer than 256 bytes or holds a NUL byte; nothing was sent.
    UserInvalid,
    /// The database failed the statement.
    Database(SqlServerError),
    /// The statement uses an encrypted column in a way that would store or compare a
    /// plaintext (a value bound in clear, a literal, a comparison other than equality on its
    /// blind index); nothing was sent.
    #[cfg(feature = "crypt")]
    ColumnEncrypted {
        /// The column (or the parameter, for a value bound to nothing encrypted).
        column: String,
        /// What was asked of it.
        problem: &'static str,
    },
    /// A value could not be encrypted: the data key cannot be reached or made.
    #[cfg(feature = "crypt")]
    Crypt(palisade_crypt::CryptError),
}

impl QueryError {
    /// The HTTP status a web handler should answer with: 400 for a refused statement, 404 for
    /// no row, 409 for a unique or foreign key violation, 503 when the database cannot be
    /// reached, 500 otherwise.
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        self.problem_details().status()
    }

    /// The error as problem details, with [`status`](Self::status): a refusal carries its
    /// rule id; nothing carries the statement, a value or the server's message.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        use http::StatusCode;
        use palisade_problem::Problem;
        match self {
            Self::Refused(violation) => violation.problem_details(),
            Self::RowNotFound => {
                Problem::new("sql/not-found", "no such row", StatusCode::NOT_FOUND)
            }
            Self::Database(database) if database.is_conflict() => {
                Problem::database_conflict("sql/conflict")
            }
            Self::Database(database) if database.is_unreachable() => {
                Problem::database_unavailable("sql/unavailable")
            }
            #[cfg(feature = "crypt")]
            Self::ColumnEncrypted { column, problem } => Problem::new(
                "sql/column-encrypted",
                "an encrypted column cannot be used so",
                StatusCode::BAD_REQUEST,
            )
            .with("column", column.clone())
            .with("problem", *problem),
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) if crypt.is_unavailable() => {
                Problem::database_unavailable("sql/keys-unavailable")
            }
            #[cfg(feature = "crypt")]
            Self::Crypt(_) => Problem::internal("sql/encryption", "the query failed"),
            Self::BindDuplicate { .. }
            | Self::BindInvalid { .. }
            | Self::DialectMismatch { .. }
            | Self::RewriteFailed
            | Self::UserInvalid
            | Self::Database(_) => Problem::internal("sql/internal", "the query failed"),
        }
    }

    /// The guard's verdict, when the statement was refused.
    #[must_use]
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Refused(violation) => Some(violation),
            _ => None,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(violation) => violation.fmt(f),
            Self::BindDuplicate { name } => write!(f, "parameter :{name} is bound twice"),
            Self::BindInvalid { name } => {
                write!(f, "the value bound to :{name} cannot be encoded")
            }
            Self::DialectMismatch { driver, policy } => write!(
                f,
                "the policy is for {policy:?} but the driver speaks {driver:?}"
            ),
            Self::RewriteFailed => f.write_str("the placeholders cannot be rewritten"),
            Self::RowNotFound => f.write_str("no row was found"),
            Self::UserInvalid => {
                f.write_str("the acting user is empty, longer than 256 bytes or holds a NUL byte")
            }
            Self::Database(database) => database.fmt(f),
            #[cfg(feature = "crypt")]
            Self::ColumnEncrypted { column, problem } => {
                write!(f, "encrypted column {column} cannot be {problem}")
            }
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) => crypt.fmt(f),
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Refused(violation) => Some(violation),
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) => Some(crypt),
            // The driver's error can quote the server's message or a value: it is reachable
            // only through `SqlServerError::expose_driver_error`.
            _ => None,
        }
    }
}

impl From<Violation> for QueryError {
    fn from(violation: Violation) -> Self {
        Self::Refused(violation)
    }
}

impl From<sqlx::Error> for QueryError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::RowNotFound,
            other => Self::Database(SqlServerError::from_sqlx(other)),
        }
    }
}

/// The database's error: its category and SQLSTATE are shown, its message is not.
pub struct SqlServerError {
    inner: sqlx::Error,
}

impl SqlServerError {
    /// The driver's error, kept for its category and code.
    pub(crate) fn from_sqlx(inner: sqlx::Error) -> Self {
        Self { inner }
    }

    /// The server's SQLSTATE (PostgreSQL) or error code (MySQL), when it answered with one.
    #[must_use]
    pub fn code(&self) -> Option<String> {
        match &self.inner {
            sqlx::Error::Database(database) => database.code().map(|c| c.into_owned()),
            _ => None,
        }
    }

    /// Whether a unique or foreign key constraint refused the write.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(&self.inner, sqlx::Error::Database(database)
            if matches!(database.kind(), ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation))
    }

    /// Whether the database could not be reached or dropped the connection: I/O, TLS, the
    /// pool timed out or closed, or the server answered that the connection is gone or
    /// cannot be served (PostgreSQL's class `08` connection exceptions, `57P01` to `57P03`
    /// for a terminated backend or a server shutting down or starting, `53300` too many
    /// connections; MariaDB's 1040 too many connections, 1053 shutting down, 1927 connection
    /// killed). A request that met one may succeed when retried.
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        match &self.inner {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(database) => {
                database.code().is_some_and(|code| connection_lost(&code))
            }
            _ => false,
        }
    }

    /// The driver's own error, whose message can quote values from the server (a duplicated
    /// key): for handling, not for logs or responses.
    #[must_use]
    pub fn expose_driver_error(&self) -> &sqlx::Error {
        &self.inner
    }

    /// OpenTelemetry's `error.type`: a low-cardinality class of the failure.
    #[cfg_attr(
        not(feature = "audit"),
        allow(dead_code, reason = "read by the audit feature")
    )]
    pub(crate) fn error_type(&self) -> &'static str {
        match &self.inner {
            sqlx::Error::Database(_) => "database",
            sqlx::Error::Io(_) => "io",
            sqlx::Error::Tls(_) => "tls",
            sqlx::Error::PoolTimedOut => "pool_timed_out",
            sqlx::Error::PoolClosed => "pool_closed",
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. } => "decode",
            sqlx::Error::Protocol(_) => "protocol",
            _ => "other",
        }
    }

    fn category(&self) -> &'static str {
        match &self.inner {
            sqlx::Error::Database(_) => "the database refused the statement",
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => "the connection failed",
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => "no connection is available",
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
                "a row does not match the application's type"
            }
            _ => "the database operation failed",
        }
    }
}

impl fmt::Display for SqlServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.category())?;
        match self.code() {
            Some(code) => write!(f, " (code {code})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for SqlServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlServerError")
            .field("category", &self.category())
            .field("code", &self.code())
            .finish()
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for QueryError {
    fn into_response(self) -> axum::response::Response {
        self.problem_details().into_response()
    }
}

/// Whether a server's error code says the connection is gone or cannot be served.
fn connection_lost(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "1040" | "1053" | "1927"
        )
}
