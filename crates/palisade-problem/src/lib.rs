#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value};

/// The media type of a problem details document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem details document: `type` (`urn:palisade:problem:KIND`), `title`,
/// `status` and extension members. Built by the crates from what an error is, never from
/// what the request held.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    kind: &'static str,
    title: &'static str,
    status: StatusCode,
    extensions: Map<String, Value>,
}

impl Problem {
    /// A problem of `kind` (`sql/tautology`, `mongo/operator-not-allowed`), with a fixed
    /// `title` and the `status` to answer with.
    #[must_use]
    pub fn new(kind: &'static str, title: &'static str, status: StatusCode) -> Self {
        Self {
            kind,
            title,
            status,
            extensions: Map::new(),
        }
    }

    /// A write the database refused because it conflicts with existing data (a unique or
    /// foreign key): 409, the same title from every crate.
    #[must_use]
    pub fn database_conflict(kind: &'static str) -> Self {
        Self::new(
            kind,
            "the change conflicts with existing data",
            StatusCode::CONFLICT,
        )
    }

    /// A database that cannot be reached: 503, the same title from every crate.
    #[must_use]
    pub fn database_unavailable(kind: &'static str) -> Self {
        Self::new(
            kind,
            "the database cannot be reached",
            StatusCode::SERVICE_UNAVAILABLE,
        )
    }

    /// A failure that is the service's, not the request's: 500 with a fixed `title`.
    #[must_use]
    pub fn internal(kind: &'static str, title: &'static str) -> Self {
        Self::new(kind, title, StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// With the extension member `name` (`rule`, `path`), which must not hold a value from
    /// the request.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(name.to_owned(), value.into());
        self
    }

    /// The status to answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem's kind, the last part of its `type`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The document as JSON.
    #[must_use]
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".to_owned(),
            Value::String(format!("urn:palisade:problem:{}", self.kind)),
        );
        body.insert("title".to_owned(), Value::String(self.title.to_owned()));
        body.insert("status".to_owned(), Value::from(self.status.as_u16()));
        for (name, value) in &self.extensions {
            body.entry(name.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(body)
    }

    /// An HTTP response: the status, `Content-Type: application/problem+json` and the
    /// document.
    #[must_use]
    pub fn to_response(&self) -> Response<String> {
        let mut response = Response::new(self.body().to_string());
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for Problem {
    fn into_response(self) -> axum::response::Response {
        self.to_response().map(axum::body::Body::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_never_replace_the_standard_ones() {
        let problem = Problem::new("x/y", "a title", StatusCode::CONFLICT)
            .with("status", 200)
            .with("type", "forged")
            .with("path", "filter.a");
        let body = problem.body();
        assert_eq!(body["status"], 409);
        assert_eq!(body["type"], "urn:palisade:problem:x/y");
        assert_eq!(body["path"], "filter.a");
    }
}
