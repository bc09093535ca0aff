//! Differential test (R-SEC-7): every DSN of a generated corpus is read by the drivers' own
//! parsers (libpq through psycopg's `conninfo_to_dict`, pymongo's `parse_uri`, SQLAlchemy's
//! `make_url`; `tests/python/dsn.py`, pinned in `xtask/python/dsn.txt`) and by [`Dsn`]. Dsn
//! may refuse what a driver takes (it is stricter), but where both read a DSN they must see
//! the same hosts, and Dsn must never call a DSN local, or encrypted, when the driver would
//! connect elsewhere or in the clear.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use palisade_secrets::{Dsn, Engine, TlsPolicy, TlsVerdict};
use palisade_test::python::run_script;
use serde_json::Value;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/dsn.py")
}

/// Each DSN of the corpus with what the drivers' parsers read.
fn read_by_drivers() -> Vec<Value> {
    let corpus = run_script(&script(), &["corpus"], "");
    run_script(&script(), &["parse"], &corpus)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The parser that decides for the engine: the driver's own where one is pinned.
fn reference(engine: Engine) -> Option<&'static str> {
    match engine {
        Engine::Postgres => Some("libpq"),
        Engine::MongoDb => Some("pymongo"),
        Engine::MySql => Some("sqlalchemy"),
        _ => None,
    }
}

/// The hosts a parser reports, lower-cased (host names are case-insensitive).
fn hosts_of(result: &Value) -> Vec<String> {
    result["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0].as_str().unwrap_or_default().to_ascii_lowercase())
        .collect()
}

/// Whether the DSN names its hosts in the query (libpq's `host=`/`hostaddr=` override the
/// URL's), where [`Dsn::hosts`] reports the URL's.
fn hosts_in_query(dsn: &Dsn) -> bool {
    dsn.engine() == Engine::Postgres
        && (dsn.param("host").is_some() || dsn.param("hostaddr").is_some())
}

#[test]
fn dsn_reads_hosts_and_tls_as_the_drivers_do() {
    let records = read_by_drivers();
    assert!(records.len() >= 300, "corpus of {}", records.len());
    let (mut compared, mut stricter, mut host_mismatches, mut unsafe_verdicts) =
        (0usize, 0usize, Vec::new(), Vec::new());
    for record in &records {
        let text = record["dsn"].as_str().unwrap();
        let Ok(dsn) = Dsn::parse(text) else {
            if record["parsers"]
                .as_object()
                .unwrap()
                .values()
                .any(|r| r.get("error").is_none())
            {
                stricter += 1;
            }
            continue;
        };
        let Some(result) = reference(dsn.engine()).and_then(|name| record["parsers"].get(name))
        else {
            continue;
        };
        if result.get("error").is_some() || result.get("hosts_error").is_some() {
            continue;
        }
        compared += 1;
        let theirs = hosts_of(result);
        let ours: Vec<String> = dsn
            .hosts()
            .into_iter()
            .map(|host| host.name.to_ascii_lowercase())
            .collect();
        // SQLAlchemy neither splits host lists nor decodes hosts: compare single plain hosts.
        let comparable = match dsn.engine() {
            Engine::MySql => ours.len() == 1 && !text.contains('%'),
            Engine::Postgres => !hosts_in_query(&dsn) && !ours.is_empty(),
            _ => true,
        };
        if comparable && ours != theirs {
            host_mismatches.push(format!("{text}: ours {ours:?}, driver {theirs:?}"));
        }
        let verdict = dsn.check_tls(TlsPolicy::Development);
        let all_loopback = result["loopback"]
            .as_array()
            .is_some_and(|flags| !flags.is_empty() && flags.iter().all(|f| f == true));
        if verdict == Ok(TlsVerdict::Local) && !all_loopback {
            unsafe_verdicts.push(format!("{text}: local, but the driver reaches {theirs:?}"));
        }
        // libpq's effective sslmode is what counts for PostgreSQL: verified means
        // `verify-full`, encrypted at least `require`.
        let sslmode = result["tls"]["sslmode"].as_str();
        let tls = matches!(
            verdict,
            Ok(TlsVerdict::Encrypted { .. } | TlsVerdict::Verified { .. })
        );
        if dsn.engine() == Engine::Postgres
            && tls
            && !matches!(sslmode, Some("require" | "verify-ca" | "verify-full"))
        {
            unsafe_verdicts.push(format!("{text}: encrypted, libpq's sslmode is {sslmode:?}"));
        }
        if dsn.engine() == Engine::Postgres
            && matches!(verdict, Ok(TlsVerdict::Verified { .. }))
            && sslmode != Some("verify-full")
        {
            unsafe_verdicts.push(format!("{text}: verified, libpq's sslmode is {sslmode:?}"));
        }
        if dsn.engine() == Engine::MongoDb && tls && result["tls"]["tls"] != true {
            unsafe_verdicts.push(format!("{text}: encrypted, pymongo's tls is off"));
        }
    }
    let figures = format!(
        "{} DSNs: {compared} read by both Dsn and the driver, {stricter} refused by Dsn only",
        records.len()
    );
    assert!(compared >= 120, "{figures}");
    assert!(
        unsafe_verdicts.is_empty(),
        "{figures}\n{unsafe_verdicts:#?}"
    );
    assert!(
        host_mismatches.is_empty(),
        "{figures}\n{host_mismatches:#?}"
    );
}
