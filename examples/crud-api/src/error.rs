//! Every failure a handler returns, as RFC 9457 problem details: what is wrong, never a
//! value, a password or a token.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use palisade_auth::TokenRefused;
use palisade_mongo::DriverError;
use palisade_problem::Problem;
use palisade_sql::QueryError;

/// A handler's failure.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A problem of our own.
    Problem(Problem),
    /// The guard, the scope or the database (`palisade-mongo` maps each to its status).
    Mongo(DriverError),
    /// The SQL guard or the database (`palisade-sql` maps each to its status).
    Sql(QueryError),
    /// A bearer token refused (`401` with `WWW-Authenticate`).
    Token(TokenRefused),
}

impl ApiError {
    pub(crate) fn bad_request(kind: &'static str, title: &'static str) -> Self {
        Self::Problem(Problem::new(kind, title, StatusCode::BAD_REQUEST))
    }

    pub(crate) fn not_found() -> Self {
        Self::Problem(Problem::new(
            "crud/not-found",
            "no such record",
            StatusCode::NOT_FOUND,
        ))
    }

    /// The one answer to every failed sign-in: unknown email and wrong password alike.
    pub(crate) fn signin_refused() -> Self {
        Self::Problem(Problem::new(
            "auth/signin-refused",
            "the email or the password is wrong",
            StatusCode::UNAUTHORIZED,
        ))
    }

    /// A token that verified but names no usable account or organization.
    pub(crate) fn unauthorized() -> Self {
        Self::Problem(Problem::new(
            "auth/token-refused",
            "the token is not accepted",
            StatusCode::UNAUTHORIZED,
        ))
    }

    /// A MongoDB failure outside a scoped collection, with the status `palisade-mongo` gives
    /// it (`503` when the server cannot be reached).
    pub(crate) fn mongo(error: mongodb::error::Error) -> Self {
        Self::Mongo(error.into())
    }

    /// The one-time code store (Redis) cannot be reached (`503`).
    pub(crate) fn store_unavailable() -> Self {
        Self::Problem(Problem::database_unavailable("crud/store-unavailable"))
    }

    pub(crate) fn internal() -> Self {
        Self::Problem(Problem::internal("crud/internal", "the request failed"))
    }
}

impl From<DriverError> for ApiError {
    fn from(error: DriverError) -> Self {
        Self::Mongo(error)
    }
}

impl From<TokenRefused> for ApiError {
    fn from(refused: TokenRefused) -> Self {
        Self::Token(refused)
    }
}

impl From<crate::sessions::GenerationsUnavailable> for ApiError {
    fn from(_: crate::sessions::GenerationsUnavailable) -> Self {
        Self::store_unavailable()
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        Self::Sql(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Problem(problem) => problem.into_response(),
            Self::Mongo(error) => error.into_response(),
            Self::Sql(error) => error.into_response(),
            Self::Token(refused) => refused.into_response(),
        }
    }
}
