//! Refusals as HTTP answers: RFC 9457 problem details with the rule's id, never the
//! statement; `IntoResponse` with the `axum` feature.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy};
use palisade_test::{Canary, problem_body};

#[test]
fn a_refusal_is_a_400_problem_naming_its_rule_not_the_statement() {
    let canary = Canary::new();
    let sql = format!(
        "SELECT a FROM users WHERE name = '{}' OR 1 = 1",
        canary.value()
    );
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    let violation = guard.check(&sql, &Params::none()).unwrap_err();
    let response = violation.problem_details().to_response();
    canary.assert_absent("the problem", response.body());
    let body = problem_body(&response, 400);
    assert_eq!(body["type"], "urn:palisade:problem:sql/refused");
    assert_eq!(body["status"], 400);
    assert_eq!(body["rule"], "tautology");
    #[cfg(feature = "axum")]
    {
        use axum::response::IntoResponse;
        let answered = violation.into_response();
        assert_eq!(answered.status(), 400);
        assert_eq!(
            answered.headers()["content-type"],
            "application/problem+json"
        );
    }
}
