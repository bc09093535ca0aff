//! Starting the service in-process on an ephemeral port with databases of its own, and
//! calling it over real HTTP with `reqwest`, checking the header preset on every response.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::net::SocketAddr;
use std::sync::Arc;

use crud_api::{AppState, MemoryOutbox, Settings};
use palisade_test::{Service, unique_name};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// A running service.
pub(crate) struct Started {
    /// `http://127.0.0.1:PORT/api/v1`.
    pub(crate) base: String,
    /// Its accounts' database (organizations' databases are `{mongo_db}_org_{id}`).
    pub(crate) mongo_db: String,
    /// Where its reset codes go.
    pub(crate) outbox: Arc<MemoryOutbox>,
}

impl Started {
    /// The organization database of the account that `token` signs in.
    pub(crate) fn tenant_database(&self, organization: &str) -> String {
        format!("{}_org_{organization}", self.mongo_db)
    }
}

/// A MongoDB database name of at most 32 characters, unique to this run.
pub(crate) fn database_name() -> String {
    let mut hasher = DefaultHasher::new();
    unique_name("crud").hash(&mut hasher);
    format!("crud_{:016x}", hasher.finish())
}

/// The environment of a test service: `MODE=test`, the services' databases (PostgreSQL
/// under the provisioned crud-api logins) and an accounts' database of its own.
pub(crate) fn settings_env(mongo_db: &str) -> Vec<(String, String)> {
    vec![
        ("MODE".to_owned(), "test".to_owned()),
        ("MONGO_URL".to_owned(), Service::Mongodb.url()),
        ("MONGO_DB".to_owned(), mongo_db.to_owned()),
        (
            "DATABASE_URL".to_owned(),
            Service::Postgres.url_as("crud_api", None, "crud_api", ""),
        ),
        (
            "DATABASE_READ_ONLY_URL".to_owned(),
            Service::Postgres.url_as("crud_api_reader", None, "crud_api", ""),
        ),
        (
            "DATABASE_OWNER_URL".to_owned(),
            Service::Postgres.url_as("crud_api_owner", None, "crud_api", ""),
        ),
        ("REDIS_URL".to_owned(), Service::Redis.url()),
    ]
}

/// The settings of [`settings_env`] with `extra` over them.
pub(crate) fn settings(mongo_db: &str, extra: &[(&str, String)]) -> Settings {
    let mut values: HashMap<String, String> = settings_env(mongo_db).into_iter().collect();
    for (key, value) in extra {
        values.insert((*key).to_owned(), value.clone());
    }
    Settings::from_lookup(|key| values.get(key).cloned()).unwrap()
}

/// The service with the test settings.
pub(crate) async fn start() -> Started {
    start_with(&[]).await
}

/// The service with `extra` settings over the test settings.
pub(crate) async fn start_with(extra: &[(&str, String)]) -> Started {
    let mongo_db = database_name();
    start_on(&mongo_db, extra).await
}

/// The service on the accounts' database `mongo_db` (a second instance of one deployment).
pub(crate) async fn start_on(mongo_db: &str, extra: &[(&str, String)]) -> Started {
    serve_on(bind().await, mongo_db, extra).await
}

/// A loopback listener on an ephemeral port, for a service whose settings name its own
/// address (an OpenID redirect URI).
pub(crate) async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// The service on `listener`.
pub(crate) async fn serve_on(
    listener: tokio::net::TcpListener,
    mongo_db: &str,
    extra: &[(&str, String)],
) -> Started {
    serve_with_clock(
        listener,
        mongo_db,
        extra,
        Arc::new(palisade_clock::SystemClock),
    )
    .await
}

/// The service on `listener`, reading time from `clock`.
pub(crate) async fn serve_with_clock(
    listener: tokio::net::TcpListener,
    mongo_db: &str,
    extra: &[(&str, String)],
    clock: Arc<dyn palisade_clock::Clock>,
) -> Started {
    let settings = settings(mongo_db, extra);
    let outbox = Arc::new(MemoryOutbox::default());
    let state = AppState::with_clock(&settings, outbox.clone(), clock)
        .await
        .unwrap();
    let app = crud_api::router(&settings, state);
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Started {
        base: format!("http://{address}/api/v1"),
        mongo_db: mongo_db.to_owned(),
        outbox,
    }
}

/// The API preset's headers and a request id, on every response whatever its status.
pub(crate) fn assert_headers(response: &Response) {
    assert_headers_with_id(response, None);
}

/// [`assert_headers`], with the request id a trusted proxy sent kept as it was.
fn assert_headers_with_id(response: &Response, kept: Option<&str>) {
    let headers = response.headers();
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
    match kept {
        Some(kept) => assert_eq!(request_id, Some(kept)),
        None => assert!(
            request_id.is_some_and(|id| id.len() >= 16 && id != "client-chosen-id"),
            "x-request-id {request_id:?} on a {} response",
            response.status()
        ),
    }
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on a {} response",
            response.status()
        );
    }
    if !response.status().is_success() && response.status() != StatusCode::NOT_MODIFIED {
        let kind = headers.get("content-type").and_then(|v| v.to_str().ok());
        assert_eq!(
            kind,
            Some("application/problem+json"),
            "a {} response",
            response.status()
        );
    }
}

/// Sends, checks the headers, returns the status and the JSON body (null when empty).
pub(crate) async fn call(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    // A request id from a client that is no trusted proxy is replaced by the server's own.
    send(request.header("x-request-id", "client-chosen-id"), None).await
}

/// [`call`] through a trusted proxy, whose request id is kept.
pub(crate) async fn call_via_proxy(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    send(
        request.header("x-request-id", "proxy-request-0001"),
        Some("proxy-request-0001"),
    )
    .await
}

async fn send(request: reqwest::RequestBuilder, kept_id: Option<&str>) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    assert_headers_with_id(&response, kept_id);
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// `url?name=value`, encoded.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> reqwest::Url {
    let mut url = reqwest::Url::parse(url).unwrap();
    for (name, value) in pairs {
        url.query_pairs_mut().append_pair(name, value);
    }
    url
}

/// `url?filters=<filters>`, encoded.
pub(crate) fn filtered(url: &str, filters: &str) -> reqwest::Url {
    with_query(url, &[("filters", filters)])
}

/// Signs up; returns the token.
pub(crate) async fn sign_up(http: &Client, base: &str, email: &str, password: &str) -> String {
    let (status, body) = call(
        http.post(format!("{base}/signup"))
            .json(&json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A new account with a unique email; returns its token.
pub(crate) async fn new_user(http: &Client, base: &str, name: &str) -> String {
    let email = format!("{}@example.com", unique_name(name));
    sign_up(http, base, &email, &format!("{name}'s long password")).await
}

/// Creates a record; returns its id.
pub(crate) async fn create(
    http: &Client,
    base: &str,
    token: &str,
    entity: &str,
    body: Value,
) -> String {
    let (status, created) = call(
        http.post(format!("{base}/{entity}"))
            .bearer_auth(token)
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["_id"]["$oid"].as_str().unwrap().to_owned()
}

/// The claims of one of the service's tokens (its payload, unverified: the test's own).
pub(crate) fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The header of one of the service's tokens.
pub(crate) fn header(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A raw MongoDB client: how the databases look without the service.
pub(crate) async fn raw_mongo() -> mongodb::Client {
    mongodb::Client::with_uri_str(Service::Mongodb.url())
        .await
        .unwrap()
}

/// A raw PostgreSQL connection to crud-api's database as its owner (row security forced:
/// the superuser sees every row).
pub(crate) async fn raw_postgres() -> sqlx::PgPool {
    sqlx::PgPool::connect(&Service::Postgres.url_as("postgres", None, "crud_api", ""))
        .await
        .unwrap()
}

/// A secret in a file of its own (owner-only), as a `file:` reference.
pub(crate) fn secret_file(value: &str) -> String {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("crud-api-secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(unique_name("secret"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(value.as_bytes()).unwrap();
    format!("file:{}", path.display())
}

/// How many index rows PostgreSQL holds for `user` (read as the superuser, past row
/// security).
pub(crate) async fn rows_in_postgres(user: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM documents WHERE user_id = $1")
        .bind(user)
        .fetch_one(&raw_postgres().await)
        .await
        .unwrap()
}
