//! `cargo xtask load`: crud-api under wrk on loopback, in one run: steady mixed traffic from
//! many connections (latency, throughput, statuses, memory, the audit chain afterwards), the
//! cost of Palisade's layers (the same reads with and without them, one connection at a
//! time so the figure is the service time, not queueing), and faults injected under load
//! (PostgreSQL backends terminated, Redis and SecantusDB restarted), each effect
//! asserted. Every figure goes to `BENCHMARKS.md`.
//!
//! `LOAD_SECONDS` (default 60) and `LOAD_CONNECTIONS` (default 200) size the steady run.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::print_stderr,
    reason = "a benchmark fails loudly and reports on stderr"
)]

mod bare;
mod cleanup;
mod consistency;
mod faults;
mod seed;
mod wrk;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_audit::{ChainKey, log_files, verify_files};
use palisade_secrets::SecretValue;
use palisade_test::Service;
use palisade_test::bench::{Row, report};

const JWT_KEY: &str = "the load run's token key, thirty-two bytes or more";
const AUDIT_KEY: &str = "the load run's audit checkpoint key, 32 bytes+";
const USERS: usize = 200;
/// Rounds of the overhead comparison, with and without the layers in turn.
const ROUNDS: u32 = 5;

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A file holding `value`, as a `file:` reference.
fn secret_file(dir: &Path, name: &str, value: &str) -> String {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(value.as_bytes()).unwrap();
    format!("file:{}", path.display())
}

/// The resident memory of this process, in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib / 1024.0
}

fn row(
    name: String,
    figure: f64,
    unit: &'static str,
    peer: &str,
    peer_figure: Option<f64>,
    target: &str,
    met: bool,
) {
    report(&Row {
        krate: "crud-api",
        name,
        figure,
        unit,
        peer: peer.to_owned(),
        peer_figure,
        target: target.to_owned(),
        met,
    });
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

/// The service's log as the service writes it (its JSON format, redacted, a line at a time),
/// to `dir/service.log` (the access lines name each answer's route and status); and the
/// switch that turns it off and on.
fn log_to(dir: &Path) -> crud_api::logs::LogSwitch {
    let file = std::fs::File::create(dir.join("service.log")).unwrap();
    crud_api::logs::install(crud_api::LogFormat::Json, std::sync::Mutex::new(file))
}

/// The access lines of `dir/service.log` with a 5xx status other than 503.
fn server_errors(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("service.log"))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(r#""status":5"#) && !line.contains(r#""status":503"#))
        .map(str::to_owned)
        .collect()
}

async fn run() {
    let seconds = setting("LOAD_SECONDS", 60);
    let connections = setting("LOAD_CONNECTIONS", 200);
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/load")
        .join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_switch = log_to(&dir);
    let left = cleanup::drop_databases("load").await;
    if left > 0 {
        eprintln!("load: dropped {left} databases earlier runs left behind");
    }
    let accounts = format!("load_{}", std::process::id());
    let bao = palisade_test::OpenBao::start_own(false);
    let _ = bao.cli(&["kv", "put", "secret/crud-api", &format!("jwt={JWT_KEY}")]);
    let clock = palisade_test::FakeClock::new();
    let mongo_url = format!("{}&serverSelectionTimeoutMS=2000", Service::Mongodb.url());
    let values = [
        ("MODE", "test".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("MONGO_URL", mongo_url.clone()),
        ("MONGO_DB", accounts.clone()),
        (
            "DATABASE_URL",
            Service::Postgres.url_as("crud_api", None, "crud_api", ""),
        ),
        (
            "DATABASE_READ_ONLY_URL",
            Service::Postgres.url_as("crud_api_reader", None, "crud_api", ""),
        ),
        (
            "DATABASE_OWNER_URL",
            Service::Postgres.url_as("crud_api_owner", None, "crud_api", ""),
        ),
        ("REDIS_URL", Service::Redis.url()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        // The token key lives in Vault (a private OpenBao this run seals), read through the
        // secret cache on the run's clock.
        ("VAULT_ADDR", bao.url().to_owned()),
        (
            "VAULT_TOKEN",
            secret_file(&dir, "vault.token", bao.root_token()),
        ),
        ("JWT_SECRET", "vault:secret/crud-api#jwt".to_owned()),
        ("SECRETS_CACHE_TTL", "60".to_owned()),
        ("SECRETS_MAX_STALE", "600".to_owned()),
        ("AUDIT_LOG_DIR", dir.join("audit").display().to_string()),
        ("AUDIT_KEY", secret_file(&dir, "audit.key", AUDIT_KEY)),
    ];
    let settings = crud_api::Settings::from_lookup(|name| {
        values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap();
    let state = crud_api::AppState::with_clock(
        &settings,
        Arc::new(crud_api::NoOutbox),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let app = crud_api::router(&settings, state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let bare = bare::serve(&mongo_url, &accounts, JWT_KEY.as_bytes()).await;
    let base = format!("{origin}/api/v1");

    eprintln!("load: seeding {USERS} users");
    // One more user than wrk sends as: the faults' probe, whose token generation no recent
    // request has left in the service's memory.
    let mut users = seed::users(&base, USERS + 1).await;
    let probe = users.pop().unwrap();
    let data = dir.join("users.txt");
    let lines: Vec<String> = users
        .iter()
        .map(|u| format!("{} {} {}", u.token, u.client, u.project))
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();

    // `LOAD_ONLY=overhead`: the layers' cost alone, each read apart, for profiling
    // (`LOAD_SECONDS` long each, `LOAD_ROWS` to pick rows); no steady run, no faults.
    if std::env::var("LOAD_ONLY").is_ok_and(|only| only == "overhead") {
        for (mix, logged) in [
            ("list", true),
            ("get", true),
            ("reads", true),
            ("list", false),
            ("get", false),
            ("reads", false),
        ] {
            // `LOAD_ROWS=reads:off,get:on` runs only those rows.
            let row = format!("{mix}:{}", if logged { "on" } else { "off" });
            if std::env::var("LOAD_ROWS").is_ok_and(|rows| !rows.split(',').any(|r| r == row)) {
                continue;
            }
            log_switch(logged);
            let Comparison {
                with,
                without,
                with_cpu_us,
                without_cpu_us,
            } = compare(&origin, &bare, &data, mix, seconds).await;
            eprintln!(
                "load: {mix}, log {}: p50 {} µs with every layer, {} µs without ({:+} µs); p90 {} / {} µs; CPU per request {with_cpu_us} / {without_cpu_us} µs; statuses {:?}",
                if logged { "on" } else { "off" },
                with.p50_us,
                without.p50_us,
                with.p50_us as i64 - without.p50_us as i64,
                with.p90_us,
                without.p90_us,
                with.statuses,
            );
        }
        log_switch(true);
        let _ = stop.send(());
        server.await.unwrap();
        cleanup::drop_databases(&accounts).await;
        return;
    }

    // The steady run, memory sampled every second.
    eprintln!("load: {seconds} s of mixed traffic from {connections} connections");
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sampling = {
        let samples = Arc::clone(&samples);
        tokio::spawn(async move {
            loop {
                samples.lock().unwrap().push(rss_mib());
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    let steady = {
        let (origin, data) = (origin.clone(), data.clone());
        tokio::task::spawn_blocking(move || {
            wrk::run(&origin, &data, "mix", 2, connections, seconds)
        })
        .await
        .unwrap()
    };
    sampling.abort();
    let samples = samples.lock().unwrap().clone();
    let rss_end = rss_mib();
    let rss_warm = samples[samples.len().min(10).saturating_sub(1)];
    eprintln!("load: {steady:?}");
    // Allowed: successes, the failing sign-ins (401) and their limit (429), the write
    // limit (429).
    let unexpected = steady.unexpected(&[200, 201, 401, 429]);
    let clean = unexpected.is_empty() && steady.socket_errors == 0;
    row(
        format!(
            "mixed traffic, {connections} connections, {seconds} s: p50 (p90 {} µs, p99 {} µs; statuses {:?})",
            steady.p90_us, steady.p99_us, steady.statuses
        ),
        steady.p50_us as f64,
        "µs",
        "-",
        None,
        "no status but 2xx, 401, 429",
        clean,
    );
    row(
        format!("mixed traffic, {connections} connections: throughput"),
        steady.per_second(),
        "requests/s",
        "-",
        None,
        "recorded",
        true,
    );

    // The layers' cost: the same reads, one connection, with and without Palisade.
    eprintln!("load: the same reads with and without Palisade, one connection");
    // Twice: as the service runs (every request's access line and every query's line in the
    // redacted JSON log), and with the log off (the layers alone: headers, context, token,
    // limits, guard, scope, the chained audit log).
    for logged in [true, false] {
        log_switch(logged);
        let reads = compare(&origin, &bare, &data, "reads", 15).await;
        let overhead = reads.with.p50_us as f64 - reads.without.p50_us as f64;
        let (what, target) = if logged {
            ("every layer and the service's log", "recorded")
        } else {
            ("every layer, log off", "< +50 µs at p50")
        };
        row(
            format!(
                "reads (list and get by id), one connection, {ROUNDS} alternating rounds: p50 with {what} ({overhead:+.0} µs)"
            ),
            reads.with.p50_us as f64,
            "µs",
            "the same reads on axum and the driver alone",
            Some(reads.without.p50_us as f64),
            target,
            (logged || overhead < 50.0) && reads.with.unexpected(&[200]).is_empty(),
        );
        row(
            format!(
                "the same reads with {what}: CPU per request, every thread of the process ({:+} µs)",
                reads.with_cpu_us as i64 - reads.without_cpu_us as i64
            ),
            reads.with_cpu_us as f64,
            "µs",
            "the same reads on axum and the driver alone",
            Some(reads.without_cpu_us as f64),
            "recorded",
            true,
        );
    }
    log_switch(true);

    // Faults, with wrk keeping the service busy meanwhile.
    eprintln!("load: faults under load");
    let background = {
        let (origin, data) = (origin.clone(), data.clone());
        tokio::task::spawn_blocking(move || wrk::run(&origin, &data, "mix", 1, 20, 40))
    };
    let probe = &probe;
    let mut injected = Vec::new();
    let now = || chrono_now();
    eprintln!("load: {} PostgreSQL backends terminated", now());
    injected.push(faults::postgres_backends_killed(&base, probe).await);
    eprintln!("load: {} Redis restarted", now());
    injected.push(faults::redis_restarted(&base, probe, &clock).await);
    eprintln!("load: {} SecantusDB restarted", now());
    injected.push(faults::mongo_restarted(&base, probe).await);
    eprintln!("load: {} Vault sealed", now());
    injected.push(faults::vault_sealed(&base, probe, &bao, &clock).await);
    eprintln!("load: {} faults over", now());
    let background = background.await.unwrap();
    eprintln!("load: under faults {background:?}");
    for line in server_errors(&dir).iter().take(5) {
        eprintln!("load: server error {line}");
    }
    for fault in &injected {
        let failed = fault
            .during
            .keys()
            .any(|status| ![200, 429, 503].contains(status));
        row(
            format!(
                "{}: recovery (statuses meanwhile {:?})",
                fault.name, fault.during
            ),
            fault.recovered_after.as_secs_f64(),
            "s",
            "-",
            None,
            "503 or 429 meanwhile, never 500; recovered",
            !failed,
        );
    }
    let background_clean = background.unexpected(&[200, 201, 401, 429, 503]).is_empty();
    row(
        format!("wrk during the faults: statuses {:?}", background.statuses),
        background.per_second(),
        "requests/s",
        "-",
        None,
        "no status but 2xx, 401, 429, 503",
        background_clean,
    );

    // Nothing half-written: each user's documents in MongoDB and index rows in PostgreSQL,
    // once the requests wrk left unanswered and any repair have had a few seconds to end.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (documents, mismatched) = consistency::check(&users, &accounts).await;
    row(
        format!(
            "documents written under load and faults ({documents}): users whose MongoDB and PostgreSQL counts differ"
        ),
        f64::from(mismatched),
        "users",
        "-",
        None,
        "0",
        mismatched == 0,
    );

    // Stop, then the audit chain and memory.
    let _ = stop.send(());
    server.await.unwrap();
    cleanup::drop_databases(&accounts).await;
    let files = log_files(&dir.join("audit"), "audit").unwrap();
    let key = ChainKey::new(&SecretValue::from_string(AUDIT_KEY.to_owned())).unwrap();
    let verified = verify_files(&files, Some(&key)).unwrap();
    let (records, intact) = match &verified {
        Ok(verified) => (verified.records as f64, true),
        Err(broken) => {
            eprintln!("load: audit chain broken: {broken}");
            (0.0, false)
        }
    };
    row(
        format!(
            "audit records written during the run ({} files), chain verified",
            files.len()
        ),
        records,
        "records",
        "-",
        None,
        "verifies",
        intact,
    );
    row(
        "resident memory at the end of the steady run".to_owned(),
        rss_end,
        "MiB",
        "10 s into the run",
        Some(rss_warm),
        "flat: <= 1.2x",
        rss_end <= rss_warm * 1.2,
    );
}

/// The same reads measured with every layer and without them.
struct Comparison {
    with: wrk::Outcome,
    without: wrk::Outcome,
    /// The CPU time of this process (every thread: the service's, its audit and log writers')
    /// per request.
    with_cpu_us: u64,
    without_cpu_us: u64,
}

/// The same reads (`mix`), one connection, `seconds` long in all, against the service with
/// every layer (`origin`) and without them (`bare`), each warmed first, in alternating
/// rounds.
async fn compare(
    origin: &str,
    bare: &str,
    data: &Path,
    mix: &'static str,
    seconds: u32,
) -> Comparison {
    let (origin, bare, data) = (origin.to_owned(), bare.to_owned(), data.to_owned());
    tokio::task::spawn_blocking(move || {
        // A quiet start: what the run before wrote (its log lines, its audit batches) is on
        // disk before this comparison begins (`sync` returns once it is), not written back
        // by the kernel during it.
        let _ = std::process::Command::new("sync").status();
        let _warm = wrk::run(&origin, &data, mix, 1, 1, 3);
        let _warm = wrk::run(&bare, &data, mix, 1, 1, 3);
        // Alternating rounds, so a drift in the machine or the database during the run
        // weighs on both sides alike.
        let mut with_runs = Vec::new();
        let mut without_runs = Vec::new();
        let (mut with_cpu, mut without_cpu) = (0, 0);
        for round in 0..ROUNDS {
            let first_bare = round % 2 == 1;
            for bare_turn in [first_bare, !first_bare] {
                if std::env::var("LOAD_ONLY").is_ok_and(|only| only == "overhead") {
                    // For a profiler's samples: which side ran when.
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    eprintln!(
                        "load: {mix} round {round} {} from {:.3}",
                        if bare_turn { "without" } else { "with" },
                        now.as_secs_f64()
                    );
                }
                let before = cpu_us();
                if bare_turn {
                    without_runs.push(wrk::run(&bare, &data, mix, 1, 1, seconds.div_ceil(ROUNDS)));
                    without_cpu += cpu_us() - before;
                } else {
                    with_runs.push(wrk::run(
                        &origin,
                        &data,
                        mix,
                        1,
                        1,
                        seconds.div_ceil(ROUNDS),
                    ));
                    with_cpu += cpu_us() - before;
                }
            }
        }
        let with = wrk::Outcome::merged(&with_runs);
        let without = wrk::Outcome::merged(&without_runs);
        eprintln!(
            "load: {mix}: p50 by round {:?} with every layer, {:?} without",
            with_runs.iter().map(|r| r.p50_us).collect::<Vec<_>>(),
            without_runs.iter().map(|r| r.p50_us).collect::<Vec<_>>(),
        );
        Comparison {
            with_cpu_us: with_cpu / with.requests.max(1),
            without_cpu_us: without_cpu / without.requests.max(1),
            with,
            without,
        }
    })
    .await
    .unwrap()
}

/// The CPU time this process has used so far (user and system, every thread), in µs.
fn cpu_us() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime, in clock ticks of 10 ms.
    (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) * 10_000
}

/// The time of day (UTC), for matching the run's events with the databases' timestamps.
fn chrono_now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let day = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        since.subsec_millis()
    )
}
