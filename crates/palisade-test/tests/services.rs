//! One smoke test per service: connect and make one real round trip, so a broken
//! `cargo xtask services up` fails CI here rather than somewhere confusing later.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use mongodb::bson::{Document, doc};
use palisade_test::{Canary, Service};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn postgres_round_trip() {
    let mut conn = sqlx::PgConnection::connect(&Service::Postgres.url())
        .await
        .unwrap();
    let (sum, version): (i32, String) =
        sqlx::query_as("SELECT $1::int4 + 1, current_setting('server_version')")
            .bind(41_i32)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(sum, 42);
    assert!(
        version.starts_with("15"),
        "Debian bookworm ships PostgreSQL 15, got {version}"
    );
}

#[tokio::test]
async fn mariadb_round_trip() {
    let mut conn = sqlx::MySqlConnection::connect(&Service::Mariadb.url())
        .await
        .unwrap();
    let (sum, version): (i64, String) = sqlx::query_as("SELECT ? + 1, VERSION()")
        .bind(41_i64)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(sum, 42);
    assert!(
        version.contains("MariaDB"),
        "expected MariaDB, got {version}"
    );
}

#[tokio::test]
async fn redis_round_trip() {
    let client = redis::Client::open(Service::Redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("palisade:smoke:{}", Canary::new().value());
    let () = redis::cmd("SET")
        .arg(&key)
        .arg("42")
        .arg("EX")
        .arg(60)
        .query_async(&mut conn)
        .await
        .unwrap();
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "42");
}

#[tokio::test]
async fn mongodb_round_trip() {
    let client = mongodb::Client::with_uri_str(Service::Mongodb.url())
        .await
        .unwrap();
    let collection = client
        .database("palisade_smoke")
        .collection::<Document>("smoke");
    let marker = Canary::new().value().to_owned();
    collection
        .insert_one(doc! { "marker": &marker, "n": 42 })
        .await
        .unwrap();
    let found = collection
        .find_one(doc! { "marker": &marker })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.get_i32("n").unwrap(), 42);
}

/// One AWS JSON-protocol call to moto (`X-Amz-Target` + `application/x-amz-json-1.1`); the
/// AWS SDK itself is exercised by `palisade-secrets-aws`.
async fn aws_call(target: &str, body: &str) -> (u16, String) {
    let url = Service::Aws.url();
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {authority}\r\nX-Amz-Target: secretsmanager.{target}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn aws_secrets_manager_round_trip() {
    let name = format!("smoke/{}", Canary::new().value());
    let (status, _) = aws_call(
        "CreateSecret",
        &format!(r#"{{"Name":"{name}","SecretString":"42"}}"#),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = aws_call("GetSecretValue", &format!(r#"{{"SecretId":"{name}"}}"#)).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["SecretString"], "42");
}
