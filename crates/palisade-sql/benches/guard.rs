//! `SqlGuard::check` against sqlparser's own parse of the same statement (the floor: the
//! guard parses, then walks), and `fingerprint` against pglast's `fingerprint` (libpg_query, C)
//! on the same statements, in the same run.
//!
//! Needs `cargo xtask services up` (it installs pglast into the project venv).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    reason = "a benchmark fails loudly"
)]

use std::path::PathBuf;

use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy, fingerprint};
use palisade_test::bench::{Row, keep, median_ms, median_pair_ms, report, time_ns, time_pair};
use palisade_test::python::run_script;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// A typical application read: one join, three named parameters, order and limit (205 bytes).
const TYPICAL: &str = "SELECT o.id, o.total, o.status, c.name, c.email FROM orders o \
    JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = :customer_id \
    AND o.status = :status AND o.created_at >= :since ORDER BY o.created_at DESC LIMIT 50";

/// Statements both fingerprinters read (PostgreSQL syntax, `$n` placeholders, which
/// libpg_query knows).
const STATEMENTS: &[&str] = &[
    "SELECT o.id, o.total, o.status, c.name, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = $1 AND o.status = $2 AND o.created_at >= $3 ORDER BY o.created_at DESC LIMIT 50",
    "SELECT id, name, email FROM users WHERE org_id = 42 AND id IN (1, 2, 3, 4, 5, 6, 7, 8) AND deleted_at IS NULL",
    "INSERT INTO audit_log (actor, action, target, created_at) VALUES ($1, 'login', $2, now())",
    "UPDATE accounts SET balance = balance - 100, updated_at = now() WHERE id = 7 AND balance >= 100",
    "SELECT count(*) FROM events e WHERE e.kind = 'click' AND e.user_id IN (SELECT id FROM users WHERE plan = 'pro') AND e.at > now() - interval '1 day'",
];

/// The size cap: the worst inputs are as long as the guard reads.
const CAP: usize = 256 * 1024;

/// `head` then `item` joined by `sep` until the statement reaches the cap.
fn fill(head: &str, item: &str, sep: &str, tail: &str) -> String {
    let mut sql = String::from(head);
    sql.push_str(item);
    while sql.len() + sep.len() + item.len() + tail.len() <= CAP {
        sql.push_str(sep);
        sql.push_str(item);
    }
    sql.push_str(tail);
    sql
}

/// Hostile statements at the size cap, in the dialect each is worst in: long chains of
/// operators, deep nesting, wide lists, markers the MySQL scan looks for, many CTEs.
fn worst_cases() -> Vec<(&'static str, Dialect, String)> {
    let nested = |open: &str, close: &str| {
        let n = CAP / 2 / (open.len() + close.len());
        format!("SELECT {}1{}", open.repeat(n), close.repeat(n))
    };
    vec![
        (
            "1+1+... chain",
            Dialect::Postgres,
            fill("SELECT ", "1", "+", ""),
        ),
        (
            "OR 1=1 chain",
            Dialect::Postgres,
            fill("SELECT a FROM t WHERE ", "a = 1", " OR ", ""),
        ),
        (
            "|| chain (OR in MySQL)",
            Dialect::MySql,
            fill("SELECT a FROM t WHERE ", "1=1", " || ", ""),
        ),
        ("nested parentheses", Dialect::Postgres, nested("(", ")")),
        (
            "nested subqueries",
            Dialect::Postgres,
            nested("(SELECT ", ")"),
        ),
        (
            "nested IN subqueries",
            Dialect::Postgres,
            nested("a IN (SELECT a FROM t WHERE ", ")"),
        ),
        (
            "select list of constants",
            Dialect::Postgres,
            fill("SELECT ", "1", ",", " FROM t"),
        ),
        (
            "IN list",
            Dialect::Postgres,
            fill("SELECT a FROM t WHERE a IN (", "1", ",", ")"),
        ),
        (
            "VALUES rows",
            Dialect::Postgres,
            fill("INSERT INTO t (a) VALUES ", "(1)", ",", ""),
        ),
        (
            "CASE branches",
            Dialect::Postgres,
            fill("SELECT CASE ", "WHEN a = 1 THEN 2", " ", " END"),
        ),
        (
            "UNION chain",
            Dialect::Postgres,
            fill("", "SELECT 1", " UNION ALL ", ""),
        ),
        (
            "CTEs",
            Dialect::Postgres,
            fill("WITH ", "c AS (SELECT 1)", ", ", " SELECT * FROM c"),
        ),
        (
            "executable-comment markers in a string",
            Dialect::MySql,
            fill("SELECT '", "/*", "", "'"),
        ),
        (
            "constant comparisons",
            Dialect::Postgres,
            fill("SELECT a FROM t WHERE ", "1 = 1", " AND ", ""),
        ),
        (
            "unicode identifiers",
            Dialect::Postgres,
            fill("SELECT ", r#"U&"\0061""#, ", ", ""),
        ),
    ]
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    )
}

fn palisade_dialect(dialect: Dialect) -> Box<dyn sqlparser::dialect::Dialect> {
    match dialect {
        Dialect::MySql => Box::new(sqlparser::dialect::MySqlDialect {}),
        Dialect::Sqlite => Box::new(sqlparser::dialect::SQLiteDialect {}),
        Dialect::MsSql => Box::new(sqlparser::dialect::MsSqlDialect {}),
        _ => Box::new(PostgreSqlDialect {}),
    }
}

fn main() {
    let guard =
        SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).with_tables(["orders", "customers"]));
    let params = Params::named(["customer_id", "status", "since"]);
    guard.check(TYPICAL, &params).unwrap();
    let dialect = PostgreSqlDialect {};
    let (check_ns, parse_ns) = time_pair(
        || {
            keep(guard.check(keep(TYPICAL), &params).unwrap());
        },
        || {
            keep(Parser::parse_sql(&dialect, keep(TYPICAL)).unwrap());
        },
    );
    report(&Row {
        krate: "palisade-sql",
        name: format!(
            "check of a typical one-join query ({} bytes)",
            TYPICAL.len()
        ),
        figure: check_ns,
        unit: "ns/op",
        peer: "sqlparser 0.64 Parser::parse_sql of the same query (the floor)".into(),
        peer_figure: Some(parse_ns),
        target: "<= 1.3x the parse".into(),
        met: check_ns <= 1.3 * parse_ns,
    });

    // The worst cases at the size cap. A statement the guard refuses for its depth (chains,
    // nesting) is refused on its tokens, before any parse: under 50 ms. One it admits (a wide
    // list) costs sqlparser's parse of 256 KiB, which is the floor: at most 1.5x of it.
    // Fingerprints read tokens only: under 50 ms each.
    let mut refused_worst = (0.0_f64, "");
    let mut admitted_worst = (0.0_f64, 0.0_f64, "");
    let mut fingerprint_worst = (0.0_f64, "");
    for (name, dialect, sql) in worst_cases() {
        let guard = SqlGuard::new(
            SqlPolicy::read_write(dialect)
                .allow_literals()
                .with_recursion_limit(SqlPolicy::MAX_RECURSION_LIMIT),
        );
        let parser_dialect = palisade_dialect(dialect);
        let admitted = guard.check(&sql, &Params::none()).is_ok();
        let check = || {
            keep(guard.check(keep(&sql), &Params::none()).is_ok());
        };
        // sqlparser's own parse is the floor only for what the guard parses too: a refused
        // chain's tree would be as deep as the chain, and dropping it overflows the stack.
        let (check_ms, parse_ms) = if admitted {
            median_pair_ms(5, check, || {
                keep(Parser::parse_sql(parser_dialect.as_ref(), keep(&sql)).is_ok());
            })
        } else {
            (median_ms(5, check), 0.0)
        };
        let fingerprint_ms = median_ms(5, || {
            keep(fingerprint(keep(&sql), dialect).is_ok());
        });
        // The slowest admitted statement: where the parse is the cost, it must stay the cost.
        if admitted && check_ms > admitted_worst.0 {
            admitted_worst = (check_ms, parse_ms, name);
        }
        if !admitted && check_ms > refused_worst.0 {
            refused_worst = (check_ms, name);
        }
        if fingerprint_ms > fingerprint_worst.0 {
            fingerprint_worst = (fingerprint_ms, name);
        }
    }
    report(&Row {
        krate: "palisade-sql",
        name: format!(
            "check, worst refused 256 KiB chain or nesting ({})",
            refused_worst.1
        ),
        figure: refused_worst.0,
        unit: "ms",
        peer: "none: an absolute bound".into(),
        peer_figure: None,
        target: "< 50 ms".into(),
        met: refused_worst.0 < 50.0,
    });
    report(&Row {
        krate: "palisade-sql",
        name: format!(
            "check, slowest admitted 256 KiB statement ({})",
            admitted_worst.2
        ),
        figure: admitted_worst.0,
        unit: "ms",
        peer: "sqlparser's parse of the same text (the floor)".into(),
        peer_figure: Some(admitted_worst.1),
        target: "<= 1.5x the parse".into(),
        met: admitted_worst.0 <= 1.5 * admitted_worst.1,
    });
    report(&Row {
        krate: "palisade-sql",
        name: format!(
            "fingerprint, worst hostile 256 KiB statement ({})",
            fingerprint_worst.1
        ),
        figure: fingerprint_worst.0,
        unit: "ms",
        peer: "none: an absolute bound".into(),
        peer_figure: None,
        target: "< 50 ms".into(),
        met: fingerprint_worst.0 < 50.0,
    });

    for statement in STATEMENTS {
        fingerprint(statement, Dialect::Postgres).unwrap();
    }
    let ours_ns = time_ns(|| {
        for statement in STATEMENTS {
            keep(fingerprint(keep(statement), Dialect::Postgres).unwrap());
        }
    }) / STATEMENTS.len() as f64;
    let file = target_dir().join("bench-fingerprint-statements.sql");
    std::fs::write(&file, STATEMENTS.join("\n")).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/corpus.py");
    let out = run_script(&script, &["fingerprint-speed", file.to_str().unwrap()], "");
    let peer: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let pglast_ns = peer["ns_per_statement"].as_f64().unwrap();
    report(&Row {
        krate: "palisade-sql",
        name: format!(
            "fingerprint of typical statements (mean of {})",
            STATEMENTS.len()
        ),
        figure: ours_ns,
        unit: "ns/op",
        peer: "pglast 8.8 fingerprint() (libpg_query, C) from Python".into(),
        peer_figure: Some(pglast_ns),
        target: "<= 1.0x the peer".into(),
        met: ours_ns <= pglast_ns,
    });
}
