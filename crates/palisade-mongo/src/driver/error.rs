//! `DriverError`: a refusal, a routing or secret failure, or the database's own error, shown
//! without anything the client or the server echoed back.

use std::fmt;

use mongodb::error::{ErrorKind, WriteFailure};
use palisade_secrets::SecretError;

use crate::{Rejected, TenantError};

/// MongoDB's duplicate key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Why a [`ScopedCollection`](crate::ScopedCollection) or
/// [`TenantClients`](crate::TenantClients) call failed.
///
/// Messages never carry a filter, a document, a connection string or a server message (which
/// can quote a duplicated value): the database's error shows its category and code only.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverError {
    /// The client's filter, update, document or pipeline was refused before reaching the
    /// server (400), or a reference it makes does not exist (422).
    Rejected(Rejected),
    /// The organization cannot be routed.
    Tenant(TenantError),
    /// The tenant's connection string could not be read from its secret source (shared by
    /// the concurrent first requests that waited on the same read).
    Secret(std::sync::Arc<SecretError>),
    /// The tenant's connection string was read but is not one the driver accepts; nothing of
    /// it is shown.
    ConnectionStringInvalid,
    /// A document of the application's type could not be converted to BSON.
    Serialize,
    /// The database failed the operation.
    Database(MongoServerError),
    /// An encrypted field could not be encrypted or decrypted: its data key was shredded or
    /// cannot be reached, or the stored value does not decrypt where it is.
    #[cfg(feature = "crypt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "crypt")))]
    Crypt(palisade_crypt::CryptError),
}

impl DriverError {
    /// The HTTP status a web handler should answer with: the refusal's own (400 or 422), 400
    /// for an unroutable organization or an operation the server refused as malformed, 409
    /// for a duplicate key, 410 for data whose keys were shredded, 503 when the database (or
    /// a key store) cannot be reached, 500 otherwise.
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        self.problem_details().status()
    }

    /// The error as problem details, with [`status`](Self::status): a refusal carries its
    /// problem id and path; nothing carries a filter, a document, a connection string or a
    /// server message.
    #[must_use]
    pub fn problem_details(&self) -> palisade_problem::Problem {
        use http::StatusCode;
        use palisade_problem::Problem;
        match self {
            Self::Rejected(rejected) => rejected.problem_details(),
            Self::Tenant(_) => Problem::new(
                "mongo/tenant",
                "the organization cannot be routed",
                StatusCode::BAD_REQUEST,
            ),
            Self::Database(database) if database.is_duplicate_key() => {
                Problem::database_conflict("mongo/conflict")
            }
            Self::Database(database) if database.is_unreachable() => {
                Problem::database_unavailable("mongo/unavailable")
            }
            Self::Database(database) if database.is_invalid_request() => Problem::new(
                "mongo/invalid-request",
                "the database refused the request as malformed",
                StatusCode::BAD_REQUEST,
            ),
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) if crypt.is_unavailable() => {
                Problem::database_unavailable("mongo/keys-unavailable")
            }
            // The owner's keys were shredded (an erased account): the data is gone for good.
            #[cfg(feature = "crypt")]
            Self::Crypt(palisade_crypt::CryptError::KeyDestroyed) => Problem::new(
                "mongo/keys-destroyed",
                "the data was erased",
                StatusCode::GONE,
            ),
            #[cfg(feature = "crypt")]
            Self::Crypt(_) => Problem::internal("mongo/undecryptable", "the operation failed"),
            Self::Secret(_)
            | Self::ConnectionStringInvalid
            | Self::Serialize
            | Self::Database(_) => Problem::internal("mongo/internal", "the operation failed"),
        }
    }

    /// The refusal, when the input was refused.
    #[must_use]
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Self::Rejected(rejected) => Some(rejected),
            _ => None,
        }
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(rejected) => rejected.fmt(f),
            Self::Tenant(tenant) => tenant.fmt(f),
            Self::Secret(secret) => {
                write!(f, "cannot read the tenant's connection string: {secret}")
            }
            Self::ConnectionStringInvalid => {
                f.write_str("the tenant's connection string is not a valid MongoDB URI")
            }
            Self::Serialize => f.write_str("the document cannot be converted to BSON"),
            Self::Database(database) => database.fmt(f),
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) => crypt.fmt(f),
        }
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rejected(rejected) => Some(rejected),
            Self::Tenant(tenant) => Some(tenant),
            Self::Secret(secret) => Some(secret.as_ref()),
            // The driver's error can quote the server's message (a duplicated value): it is
            // reachable only through `MongoServerError::expose_driver_error`.
            Self::ConnectionStringInvalid | Self::Serialize | Self::Database(_) => None,
            #[cfg(feature = "crypt")]
            Self::Crypt(crypt) => Some(crypt),
        }
    }
}

impl From<Rejected> for DriverError {
    fn from(rejected: Rejected) -> Self {
        Self::Rejected(rejected)
    }
}

impl From<TenantError> for DriverError {
    fn from(tenant: TenantError) -> Self {
        Self::Tenant(tenant)
    }
}

impl From<mongodb::error::Error> for DriverError {
    fn from(error: mongodb::error::Error) -> Self {
        Self::Database(MongoServerError { inner: error })
    }
}

/// The database's error: its category and code are shown, its message is not.
pub struct MongoServerError {
    inner: mongodb::error::Error,
}

impl MongoServerError {
    /// The server's error code, when the server answered with one.
    #[must_use]
    pub fn code(&self) -> Option<i32> {
        code_of(&self.inner)
    }

    /// Whether a unique index refused the write.
    #[must_use]
    pub fn is_duplicate_key(&self) -> bool {
        self.code() == Some(DUPLICATE_KEY)
    }

    /// Whether the server refused the operation as malformed, so the request that carried it
    /// is the client's to fix: `BadValue` (2, a date out of range), `FailedToParse` (9),
    /// `TypeMismatch` (14), `PathNotViable` (28, a dotted path into a value that is not a
    /// document), `ConflictingUpdateOperators` (40), `DollarPrefixedFieldName` (52),
    /// `InvalidDBRef` (55), `EmptyFieldName` (56), `DottedFieldName` (57),
    /// `ImmutableField` (66, a changed `_id`) and `DocumentValidationFailure` (121).
    #[must_use]
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self.code(),
            Some(2 | 9 | 14 | 28 | 40 | 52 | 55 | 56 | 57 | 66 | 121)
        )
    }

    /// Whether the server could not be reached (no server selected, or the connection failed).
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.inner.kind.as_ref(),
            ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
        )
    }

    /// The driver's own error, whose message can quote values from the server (a duplicated
    /// key): for handling, not for logs or responses.
    #[must_use]
    pub fn expose_driver_error(&self) -> &mongodb::error::Error {
        &self.inner
    }

    fn category(&self) -> &'static str {
        match self.inner.kind.as_ref() {
            ErrorKind::Command(_) => "the server refused the command",
            ErrorKind::Write(_) | ErrorKind::InsertMany(_) | ErrorKind::BulkWrite(_) => {
                "the server refused the write"
            }
            ErrorKind::Authentication { .. } => "authentication failed",
            ErrorKind::ServerSelection { .. } => "no server is available",
            ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => "the connection failed",
            ErrorKind::BsonDeserialization(_) => {
                "a stored document does not match the application's type"
            }
            _ => "the database operation failed",
        }
    }
}

impl fmt::Display for MongoServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.category())?;
        match self.code() {
            Some(code) => write!(f, " (code {code})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for MongoServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoServerError")
            .field("category", &self.category())
            .field("code", &self.code())
            .finish()
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for DriverError {
    fn into_response(self) -> axum::response::Response {
        self.problem_details().into_response()
    }
}

/// The server's error code in `error`, when the server answered with one.
pub(super) fn code_of(error: &mongodb::error::Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => Some(concern.code),
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|first| first.code)
            .or_else(|| insert.write_concern_error.as_ref().map(|c| c.code)),
        _ => None,
    }
}

/// OpenTelemetry's `error.type` for `error`: a low-cardinality class.
#[cfg_attr(
    not(feature = "audit"),
    allow(dead_code, reason = "read by the audit feature")
)]
pub(super) fn error_type_of(error: &mongodb::error::Error) -> &'static str {
    match error.kind.as_ref() {
        ErrorKind::Command(_) => "command",
        ErrorKind::Write(_) | ErrorKind::InsertMany(_) => "write",
        ErrorKind::ServerSelection { .. } => "server_selection",
        ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => "io",
        ErrorKind::Authentication { .. } => "authentication",
        ErrorKind::BsonDeserialization(_) | ErrorKind::BsonSerialization(_) => "bson",
        _ => "other",
    }
}
