//! axum's `Json`, `Query` and `Path` with their rejections as problem details, so a
//! malformed body, query string or path is a `4xx` problem+json like every other error.

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use palisade_problem::Problem;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body (`400`, `413`, `415` or `422` problem details when it is not one).
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

/// A query string.
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

/// Path segments.
#[derive(Debug)]
pub(crate) struct Segments<T>(pub(crate) T);

fn refused(
    kind: &'static str,
    title: &'static str,
    rejection: impl axum::response::IntoResponse,
) -> ApiError {
    ApiError::Problem(Problem::new(
        kind,
        title,
        rejection.into_response().status(),
    ))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Self(value))
            .map_err(|r| {
                refused(
                    "crud/body-invalid",
                    "the body is not the JSON this route takes",
                    r,
                )
            })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|r| {
                refused(
                    "crud/query-invalid",
                    "the query string is not what this route takes",
                    r,
                )
            })
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|r| {
                refused(
                    "crud/path-invalid",
                    "the path is not what this route takes",
                    r,
                )
            })
    }
}
