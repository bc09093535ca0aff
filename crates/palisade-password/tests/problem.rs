//! Sign-in failures as HTTP answers: one 401 problem for a wrong password and for every other
//! failure of the check (no account oracle), 503 when busy; never the password or the hash.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_password::Error;
use palisade_test::problem_body;

#[test]
fn every_sign_in_failure_is_the_same_401_problem() {
    let bodies: Vec<serde_json::Value> = [
        Error::Mismatch,
        Error::FormatUnknown,
        Error::PasswordTooLong { max: 4096 },
    ]
    .iter()
    .map(|error| problem_body(&error.problem_details().to_response(), 401))
    .collect();
    assert!(
        bodies.iter().all(|answer| *answer == bodies[0]),
        "{bodies:?}"
    );
    let body = &bodies[0];
    assert_eq!(
        body["type"],
        "urn:palisade:problem:password/invalid-credentials"
    );
    assert_eq!(Error::Busy.status(), 503);
    #[cfg(feature = "axum")]
    {
        use axum::response::IntoResponse;
        assert_eq!(Error::Mismatch.into_response().status(), 401);
    }
}
