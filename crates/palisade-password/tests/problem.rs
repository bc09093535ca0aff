//! Sign-in failures as HTTP answers: one 401 problem for a wrong password and for every other
//! failure of the check (no account oracle), 503 when busy; never the password or the hash.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_password::Error;

#[test]
fn every_sign_in_failure_is_the_same_401_problem() {
    let bodies: Vec<(u16, String)> = [
        Error::Mismatch,
        Error::FormatUnknown,
        Error::PasswordTooLong { max: 4096 },
    ]
    .iter()
    .map(|error| {
        let response = error.problem_details().to_response();
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        (response.status().as_u16(), response.body().clone())
    })
    .collect();
    assert!(
        bodies.iter().all(|answer| *answer == bodies[0]),
        "{bodies:?}"
    );
    assert_eq!(bodies[0].0, 401);
    let body: serde_json::Value = serde_json::from_str(&bodies[0].1).unwrap();
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
