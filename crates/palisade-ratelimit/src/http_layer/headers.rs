//! The `429` response and the `RateLimit-*` headers (draft-ietf-httpapi-ratelimit-headers-06).

use std::time::Duration;

use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Response};

use crate::{Admitted, Limit, NotUntil};

static POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Whole seconds, rounded up: a client that waits this long is not refused for being early.
fn seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn number(value: u64) -> HeaderValue {
    HeaderValue::from(value)
}

fn describe(headers: &mut HeaderMap, limit: Limit, remaining: u32, reset: Duration) {
    let policy = format!("{};w={}", limit.count(), limit.period().as_secs());
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(POLICY.clone(), policy);
    }
    headers.insert(LIMIT.clone(), number(u64::from(limit.count().get())));
    headers.insert(REMAINING.clone(), number(u64::from(remaining)));
    headers.insert(RESET.clone(), number(seconds(reset)));
}

/// Adds the tightest limit's state to an admitted request's response.
pub(super) fn admitted(headers: &mut HeaderMap, admitted: &Admitted) {
    describe(
        headers,
        admitted.limit(),
        admitted.remaining(),
        admitted.full_in(),
    );
}

/// `429 Too Many Requests` as problem details, with `Retry-After` and the refusing limit's
/// state.
pub(super) fn refused<B: From<String>>(refused: &NotUntil) -> Response<B> {
    let mut response = refused.problem_details().to_response();
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, number(seconds(refused.wait()).max(1)));
    describe(headers, refused.limit(), 0, refused.wait());
    response.map(B::from)
}

/// A server-side failure (no peer address to key by), as problem details.
pub(super) fn misconfigured<B: From<String>>() -> Response<B> {
    palisade_problem::Problem::internal("ratelimit/unkeyed", "the request cannot be rate limited")
        .to_response()
        .map(B::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds(Duration::ZERO), 0);
        assert_eq!(seconds(Duration::from_millis(1)), 1);
        assert_eq!(seconds(Duration::from_secs(12)), 12);
        assert_eq!(seconds(Duration::from_millis(12_001)), 13);
    }
}
