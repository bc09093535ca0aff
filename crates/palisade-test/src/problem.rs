//! Checking an RFC 9457 problem response the way every crate's tests do.

use http::Response;

/// The JSON body of `response`, after checking that it is a problem with `status`
/// (`application/problem+json`).
///
/// # Panics
/// When the status or the content type differ, or the body is not JSON: the test fails.
#[must_use]
#[allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test kit fails the test whose response is not the problem it expects"
)]
pub fn problem_body(response: &Response<String>, status: u16) -> serde_json::Value {
    assert_eq!(response.status(), status, "{}", response.body());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    serde_json::from_str(response.body())
        .unwrap_or_else(|e| panic!("the problem body is not JSON: {e}"))
}
