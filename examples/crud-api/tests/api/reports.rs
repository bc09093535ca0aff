//! The SQL report through the read-only login as the user (row security holds), its
//! parameters refused when they carry SQL, and the references of a document checked: another
//! user's or organization's project or client is a 422 and nothing is written anywhere.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::common::{
    call, claims, create, new_user, raw_postgres, rows_in_postgres, start, with_query,
};

fn counts(report: &Value) -> Vec<(String, i64)> {
    report
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["project_id"].as_str().unwrap().to_owned(),
                row["documents"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_report_counts_the_users_own_documents_per_project() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let ann = new_user(&http, base, "ann").await;
    let bob = new_user(&http, base, "bob").await;
    let client = create(&http, base, &ann, "clients", json!({"name": "Acme"})).await;
    let site = create(&http, base, &ann, "projects", json!({"name": "Site"})).await;
    let app = create(&http, base, &ann, "projects", json!({"name": "App"})).await;
    for (project, n) in [(&site, 3), (&app, 1)] {
        for i in 0..n {
            create(
                &http,
                base,
                &ann,
                "documents",
                json!({"title": format!("doc {i}"), "project_id": project, "client_id": client}),
            )
            .await;
        }
    }
    let bob_project = create(&http, base, &bob, "projects", json!({"name": "Bob's"})).await;
    create(
        &http,
        base,
        &bob,
        "documents",
        json!({"title": "Bob's", "project_id": bob_project}),
    )
    .await;

    let report = format!("{base}/reports/documents-per-project");
    let (status, rows) = call(
        http.get(with_query(&report, &[("sort", "documents:desc")]))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(counts(&rows), [(site.clone(), 3), (app.clone(), 1)]);
    let (_, rows) = call(
        http.get(with_query(&report, &[("sort", "documents:asc")]))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(counts(&rows), [(app.clone(), 1), (site.clone(), 3)]);
    let (_, rows) = call(
        http.get(with_query(&report, &[("project_id", app.as_str())]))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(counts(&rows), [(app.clone(), 1)]);
    // Bob sees only his own project; Ann's project id in his query finds nothing.
    let (_, rows) = call(http.get(&report).bearer_auth(&bob)).await;
    assert_eq!(counts(&rows), [(bob_project.clone(), 1)]);
    let (_, rows) = call(
        http.get(with_query(&report, &[("project_id", site.as_str())]))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(rows, json!([]));

    // Report parameters carrying SQL: the sort is refused by the allow-list, the project id
    // is a bound value that matches nothing.
    for sort in [
        "documents; DROP TABLE documents",
        "(SELECT 1)",
        "documents desc, pg_sleep(1)",
        "user_id",
        "1",
        "documents:desc,project_id:asc,documents",
    ] {
        let (status, body) = call(
            http.get(with_query(&report, &[("sort", sort)]))
                .bearer_auth(&ann),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sort}: {body}");
    }
    for project in [
        "' OR '1'='1",
        "x' UNION SELECT user_id, 1 FROM documents --",
        "\0",
    ] {
        let (status, body) = call(
            http.get(with_query(&report, &[("project_id", project)]))
                .bearer_auth(&bob),
        )
        .await;
        // Not an id, so never sent: a 400 naming the parameter.
        assert_eq!(status, StatusCode::BAD_REQUEST, "{project}: {body}");
        assert_eq!(body["type"], "urn:palisade:problem:crud/project-id-invalid");
    }
    let (status, _) = call(http.get(&report)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The table is intact, and row security keeps the read-only login to the acting user
    // even in a statement without a WHERE.
    let ann_id = claims(&ann)["user_id"].as_str().unwrap().to_owned();
    assert_eq!(rows_in_postgres(&ann_id).await, 4);
    let reader = sqlx::PgPool::connect(&palisade_test::Service::Postgres.url_as(
        "crud_api_reader",
        None,
        "crud_api",
        "",
    ))
    .await
    .unwrap();
    let seen: i64 = sqlx::query("SELECT count(*) AS n FROM documents")
        .fetch_one(&reader)
        .await
        .unwrap()
        .get("n");
    assert_eq!(seen, 0, "the read-only login without a user sees no row");
    let written = sqlx::query("DELETE FROM documents").execute(&reader).await;
    assert!(written.is_err(), "the read-only login deleted rows");
}

#[tokio::test]
async fn references_to_anything_but_the_users_own_records_are_refused() {
    let started = start().await;
    let base = &started.base;
    let http = Client::new();
    let ann = new_user(&http, base, "ann").await;
    let bob = new_user(&http, base, "bob").await;
    let anns_project = create(&http, base, &ann, "projects", json!({"name": "Ann's"})).await;
    let anns_client = create(&http, base, &ann, "clients", json!({"name": "Ann's"})).await;
    let bobs_project = create(&http, base, &bob, "projects", json!({"name": "Bob's"})).await;
    let documents = format!("{base}/documents");

    // Ann's project and client from Bob (another user, another organization), ids that
    // exist nowhere, an id of the wrong collection: 422. A malformed id: 400.
    for (body, expected) in [
        (
            json!({"title": "x", "project_id": anns_project}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x", "project_id": bobs_project, "client_id": anns_client}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x", "project_id": "65a1b2c3d4e5f60718293a4b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x", "client_id": bobs_project}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x", "project_id": "not-an-id"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"title": "x", "project_id": {"$ne": null}}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, problem) = call(http.post(&documents).bearer_auth(&bob).json(&body)).await;
        assert_eq!(status, expected, "{body}: {problem}");
        assert_eq!(problem["status"], expected.as_u16(), "{problem}");
    }
    // A document of Bob's cannot be moved to Ann's project either.
    let bobs = create(
        &http,
        base,
        &bob,
        "documents",
        json!({"title": "Bob's", "project_id": bobs_project}),
    )
    .await;
    let (status, _) = call(
        http.patch(format!("{documents}/{bobs}"))
            .bearer_auth(&bob)
            .json(&json!({"project_id": anns_project})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing was written: Bob has one document, in his project, in MongoDB and PostgreSQL.
    let (_, listed) = call(http.get(&documents).bearer_auth(&bob)).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["project_id"]["$oid"], bobs_project.as_str());
    let bob_id = claims(&bob)["user_id"].as_str().unwrap().to_owned();
    let rows = sqlx::query("SELECT project_id FROM documents WHERE user_id = $1")
        .bind(&bob_id)
        .fetch_all(&raw_postgres().await)
        .await
        .unwrap();
    let projects: Vec<String> = rows.iter().map(|row| row.get("project_id")).collect();
    assert_eq!(projects, [bobs_project]);
}
