//! palisade-audit's costs, each beside a peer run in the same process:
//! - one statement's events (start and end, one no-op subscriber) against one `tracing`
//!   event formatted as JSON into `io::sink` (what a service logging its queries pays);
//!   target under 1 µs;
//! - `ChainedLog` appends with a `fdatasync` per batch of 4,096 records, against plain JSON
//!   lines written and synced the same way; target at least 200,000 events/s;
//! - verification throughput against `sha256sum` of the same files; target at least
//!   200 MB/s.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::indexing_slicing,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use palisade_audit::{
    Audit, ChainKey, ChainOptions, ChainedLog, DbSystem, QueryInfo, QueryTarget, SecurityEvent,
    SecurityKind, Sink as _, log_files, verify_files,
};
use palisade_secrets::SecretValue;
use palisade_test::bench::{Row, keep, report, time_pair};

const KRATE: &str = "palisade-audit";
const EVENTS: usize = 400_000;
const BATCH: usize = 4096;

fn key() -> ChainKey {
    ChainKey::new(&SecretValue::from_string(
        "a benchmark key of thirty-two bytes or more".into(),
    ))
    .unwrap()
}

fn event(i: usize) -> SecurityEvent {
    let kind = SecurityKind::ALL[i % SecurityKind::ALL.len()];
    SecurityEvent::new(kind, "bench")
        .with_reason("mismatch")
        .with_user("user-1234567")
}

fn hook_cost() {
    let audit = Audit::builder()
        .on_query(|e| {
            keep(e.id());
        })
        .build();
    let target = Arc::new(
        QueryTarget::new(DbSystem::PostgreSql)
            .with_namespace("app")
            .with_server("db", 5432),
    );
    let sql = "SELECT id, name FROM users WHERE id = ?";
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::sink)
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let (ours, peer) = time_pair(
        || {
            let info =
                QueryInfo::new(Arc::clone(&target), "SELECT", ["users"]).with_text(sql.to_owned());
            audit.start_query(info).succeeded(Some(1));
        },
        || {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::info!(target: "app::sql", kind = "query", db.query.text = sql, db.response.returned_rows = 1_u64);
            });
        },
    );
    // palisade-sql remembers each statement's description and passes a clone of its Arc.
    let remembered = Arc::new(
        QueryInfo::new(Arc::clone(&target), "SELECT", ["users"]).with_text(sql.to_owned()),
    );
    let (shared, _) = time_pair(
        || {
            audit
                .start_query(Arc::clone(&remembered))
                .succeeded(Some(1));
        },
        || {},
    );
    audit.flush();
    report(&Row {
        krate: KRATE,
        name: "one remembered statement's start and end events (one no-op subscriber)".into(),
        figure: shared,
        unit: "ns/op",
        peer: "one tracing event as JSON into io::sink".into(),
        peer_figure: Some(peer),
        target: "< 1000 ns".into(),
        met: shared < 1000.0,
    });
    let stats = audit.stats();
    eprintln!(
        "events emitted {}, delivered {}, dropped {}",
        stats.emitted, stats.delivered, stats.dropped
    );
    report(&Row {
        krate: KRATE,
        name: "one statement's start and end events (one no-op subscriber)".into(),
        figure: ours,
        unit: "ns/op",
        peer: "one tracing event as JSON into io::sink".into(),
        peer_figure: Some(peer),
        target: "< 1000 ns".into(),
        met: ours < 1000.0,
    });
}

/// Plain JSON lines of the same events, written and synced per batch.
fn plain_json(dir: &Path) -> f64 {
    let path = dir.join("plain.jsonl");
    let mut file = fs::File::create(&path).unwrap();
    let mut buffer = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    for i in 0..EVENTS {
        let e = event(i);
        serde_json::to_writer(
            &mut buffer,
            &serde_json::json!({"type": "security", "security.kind": e.kind().name(), "security.reason": e.reason(), "user.id": "user-1234567"}),
        )
        .unwrap();
        buffer.push(b'\n');
        if (i + 1) % BATCH == 0 {
            file.write_all(&buffer).unwrap();
            file.sync_data().unwrap();
            buffer.clear();
        }
    }
    file.write_all(&buffer).unwrap();
    file.sync_data().unwrap();
    EVENTS as f64 / start.elapsed().as_secs_f64()
}

fn chained(dir: &Path) -> f64 {
    let mut log = ChainedLog::open(dir, key(), ChainOptions::default()).unwrap();
    let start = Instant::now();
    for i in 0..EVENTS {
        log.on_security(&event(i));
        if (i + 1) % BATCH == 0 {
            log.flush();
        }
    }
    drop(log);
    EVENTS as f64 / start.elapsed().as_secs_f64()
}

fn append_rate(dir: &Path) {
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for round in 0..5 {
        let chain_dir = dir.join(format!("chain-{round}"));
        ours.push(chained(&chain_dir));
        peer.push(plain_json(dir));
        fs::remove_dir_all(&chain_dir).unwrap();
    }
    ours.sort_by(f64::total_cmp);
    peer.sort_by(f64::total_cmp);
    let (ours, peer) = (ours[2], peer[2]);
    report(&Row {
        krate: KRATE,
        name: "ChainedLog appends, fdatasync per 4,096-record batch".into(),
        figure: ours,
        unit: "events/s",
        peer: "plain JSON lines, fdatasync per batch".into(),
        peer_figure: Some(peer),
        target: ">= 200,000 events/s".into(),
        met: ours >= 200_000.0,
    });
}

fn verify_rate(dir: &Path) {
    let log_dir = dir.join("verify");
    let mut log = ChainedLog::open(
        &log_dir,
        key(),
        ChainOptions::default().max_file_bytes(64 << 20),
    )
    .unwrap();
    for i in 0..EVENTS * 2 {
        log.on_security(&event(i));
        if (i + 1) % BATCH == 0 {
            log.flush();
        }
    }
    drop(log);
    let files: Vec<PathBuf> = log_files(&log_dir, "audit").unwrap();
    let bytes: u64 = files.iter().map(|f| fs::metadata(f).unwrap().len()).sum();
    let mb = bytes as f64 / 1e6;
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let start = Instant::now();
        let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
        keep(verified);
        ours.push(mb / start.elapsed().as_secs_f64());
        let start = Instant::now();
        let status = Command::new("sha256sum")
            .args(&files)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        peer.push(mb / start.elapsed().as_secs_f64());
    }
    ours.sort_by(f64::total_cmp);
    peer.sort_by(f64::total_cmp);
    let (ours, peer) = (ours[3], peer[3]);
    eprintln!("verified {mb:.0} MB in {} files", files.len());
    report(&Row {
        krate: KRATE,
        name: "audit log verification (hash chain and checkpoint MACs)".into(),
        figure: ours,
        unit: "MB/s",
        peer: "sha256sum of the same files".into(),
        peer_figure: Some(peer),
        target: ">= 200 MB/s".into(),
        met: ours >= 200.0,
    });
}

fn main() {
    let dir = std::env::temp_dir().join(format!("palisade-audit-bench-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    hook_cost();
    append_rate(&dir);
    verify_rate(&dir);
    fs::remove_dir_all(&dir).unwrap();
}
