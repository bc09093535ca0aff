//! Refusals as HTTP answers: RFC 9457 problem details with the problem's id and path, never
//! a value; `IntoResponse` with the `axum` feature.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use bson::doc;
use palisade_mongo::FilterPolicy;
use palisade_test::{Canary, problem_body};

#[test]
fn a_refusal_is_a_400_problem_with_its_path_not_its_value() {
    let canary = Canary::new();
    let filter = doc! {"$or": [{"name": "ann"}, {"name": {"$where": canary.value()}}]};
    let rejected = FilterPolicy::default().guard(&filter).unwrap_err();
    assert_eq!(rejected.status(), http::StatusCode::BAD_REQUEST);
    let response = rejected.problem_details().to_response();
    canary.assert_absent("the problem", response.body());
    let body = problem_body(&response, 400);
    assert_eq!(body["type"], "urn:palisade:problem:mongo/refused");
    assert_eq!(body["problem"], "operator-not-allowed");
    assert_eq!(body["path"], "filter.$or[1].name.$where");
    #[cfg(feature = "axum")]
    {
        use axum::response::IntoResponse;
        assert_eq!(rejected.into_response().status(), 400);
    }
}
