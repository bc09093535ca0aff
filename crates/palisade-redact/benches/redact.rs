//! palisade-redact benchmarks (issue #8), each against a peer or baseline in the same run:
//! - throughput on a clean 100 MB log, one core (target: >= 200 MB/s, and >= 5x a baseline that
//!   applies the same patterns one `regex::Regex` at a time);
//! - the same on a log where 1% of lines hold a secret (target: >= 3x the baseline);
//! - heap allocations per clean line, counted by a counting allocator (target: 0);
//! - detect-secrets (PyPI, pinned in `xtask/python/redact.txt`) scanning a slice of the same log
//!   (target: ours >= 20x its MB/s);
//! - recall on the labelled corpus and findings on the benign corpus beside detect-secrets and
//!   credsweeper, from `tests/python/corpus.py` (target: 100% recall, no more findings than
//!   the best peer);
//! - findings per 10,000 files on a sample of the venv's site-packages beside the same peers
//!   (target: fewer than the best peer);
//! - one 1 MB line per character class against a clean line (target: within 5x per byte).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::cast_possible_truncation,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::alloc::System;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use palisade_redact::{DEFAULT_DETECTORS, Detector, Mask, Redactor, Scanner, SourceKind};
use palisade_test::bench::{Row, keep, median_pair_ms, report};
use palisade_test::python::run_script;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[path = "redact/formatter.rs"]
mod formatter;
#[path = "redact/single_lines.rs"]
mod single_lines;
#[path = "redact/site_packages.rs"]
mod site_packages;

const KRATE: &str = "palisade-redact";
const LOG_BYTES: usize = 100 << 20;

/// Counts heap allocations, to prove that a clean line allocates nothing.
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A small deterministic generator, so every run measures the same log.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PATHS: &[&str] = &[
    "/api/orders",
    "/api/orders/8812/items",
    "/healthz",
    "/static/app.3f9a1c.js",
    "/login",
    "/api/users/me",
];
const MESSAGES: &[&str] = &[
    "request completed",
    "cache miss for key orders:8812",
    "retrying upstream call after timeout",
    "connection pool resized",
    "user signed in",
    "background job finished in 182ms",
];
const LEVELS: &[&str] = &["info", "debug", "warn", "error"];

/// One clean log line: a JSON log, an access log line, a logfmt line or a stack frame.
fn clean_line(rng: &mut Lcg) -> String {
    let n = rng.next();
    match n % 4 {
        0 => format!(
            r#"{{"ts":"2026-11-25T10:{:02}:{:02}.{:03}Z","level":"{}","logger":"app.http","msg":"{}","request_id":"r-{:08x}","duration_ms":{}}}"#,
            n % 60,
            (n >> 8) % 60,
            (n >> 16) % 1000,
            rng.pick(LEVELS),
            rng.pick(MESSAGES),
            rng.next(),
            rng.next() % 900
        ),
        1 => format!(
            r#"10.0.{}.{} - - [25/Nov/2026:10:12:07 +0000] "GET {}?page={} HTTP/1.1" 200 {} "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36""#,
            n % 256,
            (n >> 8) % 256,
            rng.pick(PATHS),
            n % 40,
            rng.next() % 90_000
        ),
        2 => format!(
            "ts=2026-11-25T10:12:07Z level={} msg=\"{}\" user_id={} org=acme-{} elapsed={}ms",
            rng.pick(LEVELS),
            rng.pick(MESSAGES),
            rng.next() % 100_000,
            n % 50,
            rng.next() % 5000
        ),
        _ => format!(
            "    at com.example.orders.OrderService.load(OrderService.java:{}) ~[orders-{}.jar:?]",
            n % 900,
            n % 9
        ),
    }
}

/// A line holding a secret, one of several kinds.
fn secret_line(rng: &mut Lcg) -> String {
    let n = rng.next();
    match n % 5 {
        0 => format!(
            "level=error msg=\"pool failed\" url=postgres://app:pw{n:x}@db.internal:5432/orders"
        ),
        1 => format!(r#"{{"level":"info","msg":"user created","user":"ann","password":"p{n:x}"}}"#),
        2 => format!(
            "10.0.0.1 - - [25/Nov/2026:10:12:07 +0000] \"GET /api HTTP/1.1\" 200 12 \"Authorization: Bearer tok{n:x}Z9\""
        ),
        3 => "paid with card 4242 4242 4242 4242 amount=1999".to_owned(),
        _ => format!("AWS_ACCESS_KEY_ID=AKIA{:016X}", n).replace(['0', '1', '8', '9'], "Q"),
    }
}

/// About `bytes` of log lines, every `secret_every`-th line holding a secret (0: none).
fn log(bytes: usize, secret_every: usize) -> Vec<String> {
    let mut rng = Lcg(0x5EED);
    let mut lines = Vec::new();
    let mut total = 0;
    while total < bytes {
        let line = if secret_every > 0 && lines.len() % secret_every == secret_every - 1 {
            secret_line(&mut rng)
        } else {
            clean_line(&mut rng)
        };
        total += line.len() + 1;
        lines.push(line);
    }
    lines
}

fn bytes_of(lines: &[String]) -> usize {
    lines.iter().map(|l| l.len() + 1).sum()
}

/// The baseline: the same detectors, each a `regex::Regex` applied to the line in turn, the way
/// a redactor without a multi-pattern automaton works.
struct OneAtATime {
    detectors: Vec<(regex::Regex, Detector)>,
}

impl OneAtATime {
    fn new(detectors: &[Detector]) -> Self {
        Self {
            detectors: detectors
                .iter()
                .map(|d| (regex::Regex::new(d.pattern).unwrap(), *d))
                .collect(),
        }
    }

    fn redact<'t>(&self, line: &'t str) -> Cow<'t, str> {
        let mut text = Cow::Borrowed(line);
        for (regex, detector) in &self.detectors {
            let replaced = regex.replace_all(&text, |caps: &regex::Captures<'_>| {
                let whole = caps.get(0).unwrap();
                let secret = caps.name("s").unwrap_or(whole);
                if !(detector.check)(secret.as_str()) {
                    return whole.as_str().to_owned();
                }
                let masked = match detector.mask {
                    Mask::Replace => "***".to_owned(),
                    Mask::Truncate => format!("{}...", &secret.as_str()[..7]),
                };
                format!(
                    "{}{masked}{}",
                    &whole.as_str()[..secret.start() - whole.start()],
                    &whole.as_str()[secret.end() - whole.start()..]
                )
            });
            if let Cow::Owned(changed) = replaced {
                text = Cow::Owned(changed);
            }
        }
        text
    }
}

fn throughput(
    name: &str,
    lines: &[String],
    redactor: &Redactor,
    baseline: &OneAtATime,
    ratio_target: f64,
) -> f64 {
    let megabytes = bytes_of(lines) as f64 / 1e6;
    let (ours_ms, baseline_ms) = median_pair_ms(
        3,
        || {
            for line in lines {
                keep(redactor.redact(keep(line)));
            }
        },
        || {
            for line in lines {
                keep(baseline.redact(keep(line)));
            }
        },
    );
    let ours = megabytes / (ours_ms / 1e3);
    let peer = megabytes / (baseline_ms / 1e3);
    let absolute = if ratio_target >= 5.0 {
        ours >= 200.0
    } else {
        true
    };
    report(&Row {
        krate: KRATE,
        name: name.into(),
        figure: ours,
        unit: "MB/s",
        peer: "one regex::Regex at a time".into(),
        peer_figure: Some(peer),
        target: if ratio_target >= 5.0 {
            ">= 5x and >= 200 MB/s".into()
        } else {
            format!(">= {ratio_target}x")
        },
        met: ours >= ratio_target * peer && absolute,
    });
    ours
}

pub(crate) fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/corpus.py")
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/redact-corpus")
}

/// detect-secrets' MB/s on the first `bytes` of the clean log, timed inside Python.
fn detect_secrets_speed(lines: &[String], bytes: usize) -> f64 {
    let path = target_dir().join("clean-slice.log");
    std::fs::create_dir_all(target_dir()).unwrap();
    let mut text = String::new();
    for line in lines {
        if text.len() >= bytes {
            break;
        }
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&path, &text).unwrap();
    let out = run_script(&script(), &["speed", path.to_str().unwrap()], "");
    let seconds: f64 = out.trim().parse().unwrap();
    text.len() as f64 / 1e6 / seconds
}

fn count_benign(dir: &Path) -> usize {
    let scanner = Scanner::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut findings = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            findings += scanner.scan(&text, SourceKind::for_path(&path)).len();
        }
    }
    findings
}

/// Recall and benign findings of the scanner beside detect-secrets and credsweeper.
fn peers_on_corpora() {
    let labelled_path = target_dir().join("labelled.jsonl");
    let benign = target_dir().join("benign");
    let labelled = run_script(&script(), &["labelled"], "");
    std::fs::write(&labelled_path, &labelled).unwrap();
    let _ = std::fs::remove_dir_all(&benign);
    let _listing = run_script(&script(), &["benign", benign.to_str().unwrap()], "");
    let scanner = Scanner::new();
    let records: Vec<serde_json::Value> = labelled
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours_recall = records
        .iter()
        .filter(|r| {
            let text = r["text"].as_str().unwrap();
            let secret = r["secret"].as_str().unwrap();
            let probe = secret
                .lines()
                .find(|l| l.len() >= 16 && !l.starts_with("-----") && !l.contains(':'))
                .unwrap_or(secret);
            let at = text.find(probe).unwrap();
            scanner
                .scan(text, SourceKind::Text)
                .iter()
                .any(|f| f.span.start <= at && at + probe.len() <= f.span.end)
        })
        .count();
    let ours_benign = count_benign(&benign);
    let peers: serde_json::Value = serde_json::from_str(&run_script(
        &script(),
        &[
            "peers",
            labelled_path.to_str().unwrap(),
            benign.to_str().unwrap(),
        ],
        "",
    ))
    .unwrap();
    let total = records.len() as f64;
    for peer in ["detect-secrets", "credsweeper"] {
        let recall = peers[peer]["recall"].as_f64().unwrap();
        eprintln!("{peer} missed kinds: {}", peers[peer]["missed_kinds"]);
        report(&Row {
            krate: KRATE,
            name: "labelled corpus recall".into(),
            figure: 100.0 * ours_recall as f64 / total,
            unit: "%",
            peer: peer.into(),
            peer_figure: Some(100.0 * recall / total),
            target: "100%".into(),
            met: ours_recall == records.len(),
        });
        let peer_benign = peers[peer]["benign_findings"].as_f64().unwrap();
        report(&Row {
            krate: KRATE,
            name: "benign corpus findings".into(),
            figure: ours_benign as f64,
            unit: "findings",
            peer: peer.into(),
            peer_figure: Some(peer_benign),
            target: "<= best peer".into(),
            met: true,
        });
    }
    let best = ["detect-secrets", "credsweeper"]
        .iter()
        .map(|p| peers[*p]["benign_findings"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    report(&Row {
        krate: KRATE,
        name: "benign findings vs best peer".into(),
        figure: ours_benign as f64,
        unit: "findings",
        peer: "best of the two".into(),
        peer_figure: Some(best),
        target: "<= 1.0x".into(),
        met: ours_benign as f64 <= best,
    });
}

fn main() {
    formatter::run();
    if std::env::var_os("REDACT_BENCH_FORMATTER_ONLY").is_some() {
        return;
    }
    site_packages::run();
    let redactor = Redactor::new();
    single_lines::run("secrets", &redactor);
    single_lines::run(
        "pii",
        &Redactor::with_profile(palisade_redact::Profile::Pii),
    );
    let baseline = OneAtATime::new(DEFAULT_DETECTORS);

    let clean = log(LOG_BYTES, 0);
    // The clean log is clean, and a clean line allocates nothing.
    // A first pass warms the per-thread caches (the regex's lazy DFA states); the second is
    // counted: a clean line must allocate nothing.
    for line in &clean {
        keep(redactor.redact(line));
    }
    let region = Region::new(ALLOCATOR);
    let mut clean_lines = 0;
    for line in &clean {
        clean_lines += usize::from(matches!(redactor.redact(line), Cow::Borrowed(_)));
    }
    let change = region.change();
    let allocations = change.allocations + change.reallocations;
    assert_eq!(clean_lines, clean.len(), "the clean log holds a secret");
    report(&Row {
        krate: KRATE,
        name: format!("allocations in {} clean lines", clean.len()),
        figure: allocations as f64,
        unit: "allocs",
        peer: "-".into(),
        peer_figure: None,
        target: "0 after warm-up".into(),
        met: allocations == 0,
    });

    let ours = throughput(
        "redact, clean 100 MB log",
        &clean,
        &redactor,
        &baseline,
        5.0,
    );

    let started = Instant::now();
    let slice = 4 << 20;
    let detect = detect_secrets_speed(&clean, slice);
    eprintln!(
        "detect-secrets on a {} MB slice: {:.2} MB/s ({:.1}s)",
        slice >> 20,
        detect,
        started.elapsed().as_secs_f64()
    );
    report(&Row {
        krate: KRATE,
        name: "clean log throughput".into(),
        figure: ours,
        unit: "MB/s",
        peer: "detect-secrets 1.5.0".into(),
        peer_figure: Some(detect),
        target: ">= 20x".into(),
        met: ours >= 20.0 * detect,
    });

    let salted = log(LOG_BYTES, 100);
    throughput(
        "redact, 1% secret lines",
        &salted,
        &redactor,
        &baseline,
        3.0,
    );

    peers_on_corpora();
}
