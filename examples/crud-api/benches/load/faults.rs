//! Faults injected while wrk keeps the service busy, each effect asserted: what the clients
//! get during the fault (a documented status, never a 500) and how long until the service
//! answers as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;

use crate::seed::User;

/// What one fault did.
pub(crate) struct Fault {
    pub(crate) name: &'static str,
    /// Statuses seen by the probes from the fault until recovery.
    pub(crate) during: BTreeMap<u16, u64>,
    /// From the fault to the first probe answered as before.
    pub(crate) recovered_after: Duration,
}

/// The workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `cargo xtask services up` keeps each service's directory (and `pid` file).
fn services_dir() -> PathBuf {
    std::env::var_os("PALISADE_SERVICES_FILE").map_or_else(
        || root().join("target/services"),
        |file| PathBuf::from(file).parent().unwrap().to_path_buf(),
    )
}

/// Stops the service's process (`SIGTERM`, as a restart by its supervisor does) and waits
/// until it is gone. A `SIGKILL` would test the database's own durability instead:
/// SecantusDB loses writes it had acknowledged when killed so.
async fn stop(service: &str) {
    let pid = std::fs::read_to_string(services_dir().join(service).join("pid")).unwrap();
    let pid = pid.trim();
    let status = Command::new("kill").args(["-TERM", pid]).status().unwrap();
    assert!(status.success(), "kill {service}");
    let alive = || Path::new("/proc").join(pid).exists();
    let started = Instant::now();
    while alive() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{service} did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts what is not running again, with the project's own command.
fn services_up() {
    let xtask = root().join("target/debug/xtask");
    let mut command = if xtask.exists() {
        let mut command = Command::new(xtask);
        command.args(["services", "up"]);
        command
    } else {
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args(["xtask", "services", "up"]);
        command
    };
    let output = command.current_dir(root()).output().unwrap();
    assert!(
        output.status.success(),
        "services up: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sends `probe` until it answers `healthy` (at most 60 s), counting every status seen.
async fn until_recovered(
    name: &'static str,
    started: Instant,
    probe: impl AsyncFn() -> u16,
    healthy: u16,
    during: &mut BTreeMap<u16, u64>,
) -> Fault {
    loop {
        let status = probe().await;
        *during.entry(status).or_default() += 1;
        if status == healthy {
            return Fault {
                name,
                during: std::mem::take(during),
                recovered_after: started.elapsed(),
            };
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name}: no recovery in 60 s: {during:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    match request.timeout(Duration::from_secs(15)).send().await {
        Ok(response) => response.status().as_u16(),
        // No answer at all: recorded as 0, and fails the run below.
        Err(_) => 0,
    }
}

/// PostgreSQL's backends of both logins terminated: reports fail with 503 at most, then
/// the pools reconnect.
pub(crate) async fn postgres_backends_killed(base: &str, user: &User) -> Fault {
    let admin = sqlx::PgPool::connect(
        &palisade_test::Service::Postgres.url_as("postgres", None, "crud_api", ""),
    )
    .await
    .unwrap();
    let http = Client::new();
    let report = || {
        status(
            http.get(format!("{base}/reports/documents-per-project"))
                .bearer_auth(&user.token),
        )
    };
    let started = Instant::now();
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE usename IN ('crud_api', 'crud_api_reader')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(killed > 0, "no backend of crud-api's logins to terminate");
    let mut during = BTreeMap::new();
    until_recovered(
        "PostgreSQL backends terminated",
        started,
        report,
        200,
        &mut during,
    )
    .await
}

/// Redis stopped and started again: once the service has gone a second without following
/// the revocation feed (on the run's clock), authenticated routes answer 503, as revocations
/// cannot be checked; sign-ins 429 (the limit fails closed); afterwards the limits still hold.
pub(crate) async fn redis_restarted(
    base: &str,
    user: &User,
    clock: &palisade_test::FakeClock,
) -> Fault {
    let http = Client::new();
    let started = Instant::now();
    stop("redis").await;
    clock.advance(Duration::from_millis(1001));
    let mut during = BTreeMap::new();
    for _ in 0..3 {
        let read = status(http.get(format!("{base}/clients")).bearer_auth(&user.token)).await;
        let signin = status(
            http.post(format!("{base}/signin"))
                .header("x-forwarded-for", "192.0.2.77")
                .json(&json!({"email": "nobody@example.com", "password": "not the password"})),
        )
        .await;
        *during.entry(read).or_default() += 1;
        *during.entry(signin).or_default() += 1;
        assert_eq!((read, signin), (503, 429), "while Redis is down");
    }
    services_up();
    let read = || status(http.get(format!("{base}/clients")).bearer_auth(&user.token));
    let fault = until_recovered("Redis restarted", started, read, 200, &mut during).await;
    // The per-address limit holds after the restart: five sign-ins, then 429.
    let mut after = Vec::new();
    for _ in 0..7 {
        after.push(
            status(
                http.post(format!("{base}/signin"))
                    .header("x-forwarded-for", "192.0.2.78")
                    .json(&json!({"email": "nobody@example.com", "password": "not the password"})),
            )
            .await,
        );
    }
    assert_eq!(
        after,
        [401, 401, 401, 401, 401, 429, 429],
        "limits after the restart"
    );
    fault
}

/// SecantusDB stopped and started again: MongoDB routes answer 503, then recover.
pub(crate) async fn mongo_restarted(base: &str, user: &User) -> Fault {
    let http = Client::new();
    let started = Instant::now();
    stop("mongodb").await;
    let read = || status(http.get(format!("{base}/clients")).bearer_auth(&user.token));
    let mut during = BTreeMap::new();
    let down = read().await;
    *during.entry(down).or_default() += 1;
    assert_eq!(down, 503, "while SecantusDB is down");
    services_up();
    until_recovered("SecantusDB restarted", started, read, 200, &mut during).await
}

/// Vault sealed: the cached token key keeps serving within `SECRETS_MAX_STALE` (the run's
/// clock moved past the cache's lifetime), then authenticated routes answer 503; unsealed,
/// the service serves again after the cache's retry pause.
pub(crate) async fn vault_sealed(
    base: &str,
    user: &User,
    bao: &palisade_test::OpenBao,
    clock: &palisade_test::FakeClock,
) -> Fault {
    let http = Client::new();
    let started = Instant::now();
    let read = || status(http.get(format!("{base}/clients")).bearer_auth(&user.token));
    let _ = bao.cli(&["operator", "seal"]);
    let mut during = BTreeMap::new();
    clock.advance(Duration::from_secs(61));
    let stale = read().await;
    *during.entry(stale).or_default() += 1;
    assert_eq!(
        stale, 200,
        "within SECRETS_MAX_STALE, the cached key serves"
    );
    clock.advance(Duration::from_secs(600));
    let down = read().await;
    *during.entry(down).or_default() += 1;
    assert_eq!(down, 503, "past SECRETS_MAX_STALE");
    bao.unseal();
    clock.advance(Duration::from_secs(2));
    until_recovered("Vault sealed", started, read, 200, &mut during).await
}
