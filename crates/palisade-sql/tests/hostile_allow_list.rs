//! Class 7 of the hostile-SQL suite: a sound allow-list. Two statements of one fingerprint
//! read the same relations, call the same functions and are the same kind of statement, so
//! a learned shape admits nothing the learned statement could not do.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::BTreeMap;

use palisade_sql::{AllowList, Dialect, Params, Rule, SqlGuard, SqlPolicy, fingerprint};
use proptest::prelude::*;

/// What a statement can do, as the guard reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reach {
    kind: String,
    tables: Vec<String>,
    functions: Vec<String>,
}

fn lenient(dialect: Dialect) -> SqlGuard {
    SqlGuard::new(SqlPolicy::read_write(dialect).allow_literals())
}

fn reach(guard: &SqlGuard, sql: &str) -> Option<Reach> {
    let checked = guard.check(sql, &Params::none()).ok()?;
    let debug = format!("{:?}", checked.statement());
    let kind = debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut tables = checked.tables().to_vec();
    tables.sort();
    let mut functions = checked.functions().to_vec();
    functions.sort();
    Some(Reach {
        kind,
        tables,
        functions,
    })
}

/// A value slot: literals and parameters (which a shape may merge) or things that reach
/// further (which it must not).
fn slot() -> impl Strategy<Value = String> {
    prop_oneof![
        (0_u32..1000).prop_map(|n| n.to_string()),
        "[a-z]{0,3}".prop_map(|s| format!("'{s}'")),
        Just("NULL".to_owned()),
        Just("TRUE".to_owned()),
        Just("-5".to_owned()),
        Just("DEFAULT".to_owned()),
        Just("a".to_owned()),
        Just("lower(a)".to_owned()),
        Just("upper('x')".to_owned()),
        (1_u32..3).prop_map(|n| format!("(SELECT b FROM t{n})")),
        (1_u32..3).prop_map(|n| format!("(SELECT max(b) FROM t{n} WHERE c = 1)")),
    ]
}

fn row(width: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(slot(), width).prop_map(|s| format!("({})", s.join(", ")))
}

fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(row(2), 1..4)
            .prop_map(|rows| format!("INSERT INTO t (a, b) VALUES {}", rows.join(", "))),
        prop::collection::vec(slot(), 1..5)
            .prop_map(|s| format!("SELECT a FROM t WHERE a IN ({})", s.join(", "))),
        (slot(), slot()).prop_map(|(x, y)| format!("SELECT a FROM t WHERE a = {x} AND b = {y}")),
        (slot(), slot()).prop_map(|(x, y)| format!("UPDATE t SET a = {x} WHERE b = {y}")),
        (slot(), slot()).prop_map(|(x, y)| format!("SELECT a FROM t WHERE a = {x} OR {y} = 1")),
        prop::collection::vec(slot(), 1..3)
            .prop_map(|s| format!("SELECT a FROM t ORDER BY a LIMIT {}", s.join(" + "))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn one_fingerprint_one_reach(statements in prop::collection::vec(statement(), 64)) {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let guard = lenient(dialect);
            let mut seen: BTreeMap<String, (String, Reach)> = BTreeMap::new();
            for sql in &statements {
                let (Some(reach), Ok(shape)) = (reach(&guard, sql), fingerprint(sql, dialect))
                else {
                    continue;
                };
                match seen.get(shape.text()) {
                    Some((first, known)) => prop_assert_eq!(
                        known,
                        &reach,
                        "{} and {} share the shape {}",
                        first,
                        sql,
                        shape.text()
                    ),
                    None => {
                        seen.insert(shape.text().to_owned(), (sql.clone(), reach));
                    }
                }
            }
        }
    }
}

#[test]
fn a_learned_insert_admits_more_plain_rows_but_no_row_that_reaches_further() {
    let mut list = AllowList::new(Dialect::Postgres);
    list.learn("INSERT INTO notes (owner, body) VALUES (:owner, :body)")
        .unwrap();
    let guard = SqlGuard::new(SqlPolicy::read_write(Dialect::Postgres)).with_allow_list(list);
    let params = Params::named(["owner", "body", "o2", "b2"]);
    guard
        .check(
            "INSERT INTO notes (owner, body) VALUES (:owner, :body), (:o2, :b2)",
            &params,
        )
        .unwrap();
    for sql in [
        "INSERT INTO notes (owner, body) VALUES (:owner, :body), (:o2, (SELECT password FROM users WHERE id = :b2))",
        "INSERT INTO notes (owner, body) VALUES (:owner, :body), (:o2, lower(:b2))",
        "INSERT INTO notes (owner, body) VALUES (:owner, :body), (:o2, :b2 || current_user)",
    ] {
        let refused = guard.check(sql, &params).unwrap_err();
        assert_eq!(refused.rule(), Rule::ShapeNotAllowed, "{sql}: {refused}");
    }
    let list = {
        let mut list = AllowList::new(Dialect::Postgres);
        list.learn("SELECT a FROM t WHERE id IN (:a, :b)").unwrap();
        list
    };
    assert!(
        list.admit("SELECT a FROM t WHERE id IN (:a, :b, :c)")
            .is_ok()
    );
    assert!(
        list.admit("SELECT a FROM t WHERE id IN (:a, (SELECT id FROM secrets))")
            .is_err()
    );
}

#[test]
fn quoted_names_keep_their_escapes_in_a_shape() {
    for (dialect, a, b) in [
        (
            Dialect::MsSql,
            "SELECT [a]] FROM secret WHERE [b] FROM users WHERE [c] = @p",
            "SELECT [a] FROM secret WHERE [b]] FROM users WHERE [c] = @p",
        ),
        (
            Dialect::Postgres,
            r#"SELECT "a"" FROM secret WHERE ""b" FROM users"#,
            r#"SELECT "a" FROM secret WHERE "b" FROM users"#,
        ),
        (
            Dialect::MySql,
            "SELECT `a`` FROM secret WHERE ``b` FROM users",
            "SELECT `a` FROM secret WHERE `b` FROM users",
        ),
    ] {
        let (x, y) = (
            fingerprint(a, dialect).unwrap(),
            fingerprint(b, dialect).unwrap(),
        );
        assert_ne!(x, y, "{a} and {b}");
    }
}

#[test]
fn option_values_and_string_table_names_stay_in_a_shape() {
    for (dialect, a, b) in [
        (
            Dialect::Postgres,
            "EXPLAIN (ANALYZE 0) DELETE FROM t WHERE a = $1",
            "EXPLAIN (ANALYZE 1) DELETE FROM t WHERE a = $1",
        ),
        (
            Dialect::Sqlite,
            "SELECT a FROM 't' WHERE id = ?",
            "SELECT a FROM 'secret' WHERE id = ?",
        ),
        (
            Dialect::Sqlite,
            "SELECT a FROM t, 'u' WHERE id = ?",
            "SELECT a FROM t, 'secret' WHERE id = ?",
        ),
        (
            Dialect::MySql,
            r#"SELECT a FROM "users" WHERE id = ?"#,
            r#"SELECT a FROM "secret" WHERE id = ?"#,
        ),
    ] {
        let (x, y) = (
            fingerprint(a, dialect).unwrap(),
            fingerprint(b, dialect).unwrap(),
        );
        assert_ne!(x, y, "{a} and {b}");
    }
    // Values stay values.
    assert_eq!(
        fingerprint("SELECT a FROM t WHERE b = 'x'", Dialect::Sqlite).unwrap(),
        fingerprint("SELECT a FROM t WHERE b = 'y'", Dialect::Sqlite).unwrap()
    );
}
