//! `VerifyError`: why a credential check could not finish.

use std::fmt;

use sqlx::error::DatabaseError;

use crate::SqlServerError;

/// Why [`verify_privileges`](super::verify_privileges) could not read what the role can do.
/// Nothing here holds the DSN, a password or the server's message.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// The server could not be reached (connection refused, TLS handshake or certificate
    /// failure, no connection available in time).
    Unreachable(SqlServerError),
    /// The server refused the login: a wrong user or password, no rule admitting the client
    /// (a role that requires TLS, asked without), or the database not open to the role.
    LoginRefused(SqlServerError),
    /// The role may not read what the check needs (PostgreSQL catalogs, MariaDB grants).
    CatalogDenied(SqlServerError),
    /// The DSN's options are not ones the driver accepts (an unknown `sslmode`, a CA file
    /// that cannot be read).
    DsnInvalid(SqlServerError),
    /// Any other failure.
    Database(SqlServerError),
}

impl VerifyError {
    /// The server's error, classified.
    pub(super) fn classify(error: sqlx::Error) -> Self {
        let class = match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed => Class::Unreachable,
            sqlx::Error::Database(database) => database_class(database.as_ref()),
            sqlx::Error::Configuration(_) => Class::Dsn,
            _ => Class::Other,
        };
        let error = SqlServerError::from_sqlx(error);
        match class {
            Class::Unreachable => Self::Unreachable(error),
            Class::Login => Self::LoginRefused(error),
            Class::Catalog => Self::CatalogDenied(error),
            Class::Dsn => Self::DsnInvalid(error),
            Class::Other => Self::Database(error),
        }
    }

    /// The same error met after the login succeeded: a refusal that reads as a login's
    /// (MariaDB's 1044, access denied to a database) is then a denied read.
    pub(super) fn after_login(self) -> Self {
        match self {
            Self::LoginRefused(error) => Self::CatalogDenied(error),
            other => other,
        }
    }

    /// The server's error (category and code only).
    #[must_use]
    pub fn server_error(&self) -> &SqlServerError {
        match self {
            Self::Unreachable(error)
            | Self::LoginRefused(error)
            | Self::CatalogDenied(error)
            | Self::DsnInvalid(error)
            | Self::Database(error) => error,
        }
    }
}

impl From<sqlx::Error> for VerifyError {
    fn from(error: sqlx::Error) -> Self {
        Self::classify(error)
    }
}

enum Class {
    Unreachable,
    Login,
    Catalog,
    Dsn,
    Other,
}

/// PostgreSQL's SQLSTATEs (class 28 is the login, 42501 a privilege) and MariaDB's error
/// numbers (1045 and 1044 at login, 1142, 1141, 1227 and 1370 for statements denied).
fn database_class(database: &dyn DatabaseError) -> Class {
    if let Some(mysql) = database.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return match mysql.number() {
            1044 | 1045 | 1698 | 3159 => Class::Login,
            1141 | 1142 | 1143 | 1227 | 1370 => Class::Catalog,
            _ => Class::Other,
        };
    }
    match database.code().as_deref() {
        Some(code) if code.starts_with("28") => Class::Login,
        Some("3D000") => Class::Login,
        Some("42501") => Class::Catalog,
        _ => Class::Other,
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, error) = match self {
            Self::Unreachable(error) => ("the database server cannot be reached", error),
            Self::LoginRefused(error) => ("the database server refused the login", error),
            Self::CatalogDenied(error) => (
                "the role may not read the catalogs or grants the check needs",
                error,
            ),
            Self::DsnInvalid(error) => ("the DSN's options are not valid for the driver", error),
            Self::Database(error) => ("the privilege check failed", error),
        };
        match self {
            // The category of a database error says no more than `what`: its code does.
            Self::LoginRefused(_) | Self::CatalogDenied(_) => {
                f.write_str(what)?;
                match error.code() {
                    Some(code) => write!(f, " (code {code})"),
                    None => Ok(()),
                }
            }
            Self::DsnInvalid(_) => f.write_str(what),
            Self::Unreachable(_) | Self::Database(_) => write!(f, "{what}: {error}"),
        }
    }
}

impl std::error::Error for VerifyError {}
