//! Classes 6 and 8 of the hostile-SQL suite: evidence that does not depend on literal shapes,
//! and the SQL real ORMs write, which must pass.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy};

fn refusals(guard: &SqlGuard, cases: &[&str], rule: Rule) {
    for sql in cases {
        match guard.check(sql, &Params::none()) {
            Ok(_) => panic!("admitted: {sql}"),
            Err(v) => assert_eq!(v.rule(), rule, "{sql}"),
        }
    }
}

fn lenient(dialect: Dialect) -> SqlGuard {
    SqlGuard::new(SqlPolicy::read_only(dialect).allow_literals())
}

#[test]
fn always_true_branches_without_literals_are_tautologies() {
    for dialect in Dialect::ALL {
        refusals(
            &lenient(dialect),
            &[
                "SELECT * FROM users WHERE id = 1 OR (SELECT 1) = (SELECT 1)",
                "SELECT * FROM users WHERE id = 1 OR name LIKE '%'",
                "SELECT * FROM users WHERE id = 1 OR NULL IS NULL",
                "SELECT * FROM users WHERE id = 1 OR 5 IS NOT NULL",
                "SELECT * FROM users WHERE id = 1 OR EXISTS (SELECT NULL)",
                "SELECT * FROM users WHERE id = 1 OR NOT EXISTS (SELECT 1 WHERE 1 = 0) OR id - id = id - id",
                "SELECT * FROM users WHERE id = 1 OR id - id = id - id",
                "SELECT * FROM users WHERE id = 1 OR id BETWEEN id AND id",
                "SELECT * FROM users WHERE id = 1 OR 5 BETWEEN 1 AND 10",
                "SELECT * FROM users WHERE id = 1 OR 'a' IN ('b', 'a')",
                "SELECT * FROM users WHERE id = 1 OR name IN (name)",
                "SELECT * FROM users WHERE id = 1 OR (SELECT name FROM users LIMIT 1) = (SELECT name FROM users LIMIT 1)",
                "SELECT * FROM users WHERE id = 1 OR NOT (1 = 2)",
            ],
            Rule::Tautology,
        );
    }
    // Spellings of the same column and constant conditions an outside attack found.
    refusals(
        &lenient(Dialect::Postgres),
        &[
            "SELECT a FROM t WHERE id = $1 OR (id) = id",
            r#"SELECT a FROM t WHERE id = $1 OR "id" = id"#,
            "SELECT a FROM t WHERE id = $1 OR +id = id",
            "SELECT a FROM t WHERE id = $1 OR NULL IS UNKNOWN",
            "SELECT a FROM t WHERE id = $1 OR EXISTS (SELECT FROM users)",
            "SELECT a FROM t WHERE id = $1 OR EXISTS (VALUES (current_user))",
            "SELECT a FROM t WHERE id = $1 OR EXISTS (TABLE t)",
            "SELECT a FROM t WHERE id = $1 OR CASE WHEN TRUE THEN TRUE END",
            "SELECT a FROM t WHERE id = $1 OR pi() = pi()",
            "SELECT a FROM t WHERE id = $1 OR a LIKE a",
            "SELECT a FROM t WHERE id = $1 OR a ~ a",
            "SELECT a FROM t WHERE id = $1 OR 2 = 1 + 1",
            "SELECT a FROM t WHERE id = $1 OR 'x' ~ ''",
            "SELECT a FROM t WHERE id = $1 OR a SIMILAR TO '%'",
            "SELECT a FROM t WHERE id = $1 OR 1::bool",
            "SELECT a FROM t WHERE id = $1 OR 't'",
            r#"SELECT a FROM t WHERE id = $1 OR 'a' = 'a' COLLATE "C""#,
            "SELECT a FROM t WHERE id = $1 OR COALESCE(NULL, TRUE)",
            // A whole filter that neutralizes the real condition in it.
            "SELECT a FROM t WHERE NOT (id <> $1 AND NOT TRUE)",
            "SELECT a FROM t WHERE (id = $1 OR TRUE) AND TRUE",
        ],
        Rule::Tautology,
    );
    refusals(
        &lenient(Dialect::MySql),
        &[
            "SELECT a FROM t WHERE id = ? OR `id` = id",
            "SELECT a FROM t WHERE id = ? OR IFNULL(NULL, TRUE)",
        ],
        Rule::Tautology,
    );
    refusals(
        &lenient(Dialect::Sqlite),
        &[
            "SELECT a FROM t WHERE id = ? OR likely(id = id)",
            "SELECT a FROM t WHERE id = ? OR [id] = id",
        ],
        Rule::Tautology,
    );
    // Structural tautologies without a literal: a condition and its negation, commuted
    // operands, extremes, whether a comparison is known, a COALESCE of one column.
    refusals(
        &lenient(Dialect::Postgres),
        &[
            "SELECT a FROM t WHERE id = $1 OR a IS NULL OR a IS NOT NULL",
            "SELECT a FROM t WHERE id = $1 OR a = b OR a <> b",
            "SELECT a FROM t WHERE id = $1 OR (a < b OR b <= a)",
            "SELECT a FROM t WHERE id = $1 OR a > b OR a <= b",
            "SELECT a FROM t WHERE id = $1 OR a LIKE 'x%' OR a NOT LIKE 'x%'",
            "SELECT a FROM t WHERE id = $1 OR NOT (a = 5) OR a = 5",
            "SELECT a FROM t WHERE id = $1 OR a IN (1, 2) OR a NOT IN (1, 2)",
            "SELECT a FROM t WHERE id = $1 OR (a = 5) IS TRUE OR (a = 5) IS NOT TRUE",
            "SELECT a FROM t WHERE id = $1 OR a + b = b + a",
            "SELECT a FROM t WHERE id = $1 OR a * 2 = 2 * a",
            "SELECT a FROM t WHERE id = $1 OR GREATEST(a, 5) >= a",
            "SELECT a FROM t WHERE id = $1 OR a <= GREATEST(a, b)",
            "SELECT a FROM t WHERE id = $1 OR LEAST(a, b) <= a",
            "SELECT a FROM t WHERE id = $1 OR (id = 7) IS NOT NULL",
            "SELECT a FROM t WHERE id = $1 OR COALESCE(a, a) = a",
            // A column of the select's own table against itself, qualified on one side.
            "SELECT a FROM users WHERE id = $1 OR users.id = id",
            "SELECT a FROM public.users u WHERE id = $1 OR u.a = a",
            "SELECT a FROM users WHERE id = $1 OR id IN (SELECT id FROM users)",
        ],
        Rule::Tautology,
    );
    // An outside attack on the rules above: the same tautologies in writes, inside an
    // `AND`, after more branches, as De Morgan forms, orderings and truth values that cover
    // every case, and a bare column name in place of a value.
    for dialect in Dialect::ALL {
        refusals(
            &lenient(dialect),
            &[
                "DELETE FROM users WHERE id = 1 OR a IS NULL OR a IS NOT NULL",
                "UPDATE users SET a = 1 WHERE id = 1 OR users.id = id",
                "DELETE FROM users WHERE id = 1 OR id IN (SELECT id FROM users)",
                "DELETE FROM users WHERE NOT (id <> 1 AND 1 = 0)",
                "DELETE FROM users WHERE id = id",
                "UPDATE users SET role = 1 WHERE id = id",
                "SELECT a FROM users WHERE t = 5 AND (id = 1 OR a IS NULL OR a IS NOT NULL)",
                "SELECT a FROM users WHERE (id = 1 OR a = b OR a <> b) AND t = 5",
                "SELECT a FROM users WHERE t = 5 AND (name = b OR a IS NULL OR a IS NOT NULL)",
                "SELECT a FROM users GROUP BY a HAVING t = 5 AND (a = 1 OR a IS NULL OR a IS NOT NULL)",
                "SELECT u.a FROM users u JOIN orders o ON o.uid = u.id OR u.id = 1 OR o.x IS NULL OR o.x IS NOT NULL",
                "SELECT a FROM users WHERE id = 1 OR a > b OR a < b OR a = b",
                "SELECT a FROM users WHERE id = 1 OR a >= b OR b >= a",
                "SELECT a FROM users WHERE id = 1 OR NOT (a IS NULL AND a IS NOT NULL)",
                "SELECT a FROM users WHERE id = 1 OR lower(a) = LOWER(a)",
            ],
            Rule::Tautology,
        );
    }
    refusals(
        &lenient(Dialect::Postgres),
        &[
            "SELECT a FROM users WHERE id = 1 OR a IS TRUE OR a IS FALSE OR a IS NULL",
            "SELECT a FROM users WHERE id = 1 OR a IS DISTINCT FROM b OR a IS NOT DISTINCT FROM b",
            "SELECT a FROM users WHERE id = 1 OR a ~ 'x' OR a !~ 'x'",
            "SELECT a FROM users WHERE id = 1 OR a SIMILAR TO 'x' OR a NOT SIMILAR TO 'x'",
            "SELECT a FROM users WHERE id = $1 OR a + b + c = c + b + a",
            "SELECT a FROM users WHERE id = $1 OR a = - - a",
            "SELECT a FROM users WHERE id = $1 OR CAST(a AS text) = a::text",
            "SELECT a FROM users WHERE id = $1 OR id = ANY (SELECT id FROM users)",
            "SELECT a FROM users WHERE id = $1 OR CASE WHEN a = b THEN a = a ELSE b = b END",
            "SELECT a FROM users WHERE id = $1 OR COALESCE(a = a, TRUE)",
            "SELECT a FROM users WHERE id = $1 OR (id IS NULL) IS NOT NULL",
            "SELECT a FROM users WHERE id = $1 OR NULLIF(a, a) IS NULL",
            "SELECT a FROM users WHERE id = $1 OR EXISTS (SELECT count(*) FROM users WHERE a <> a)",
        ],
        Rule::Tautology,
    );
    refusals(
        &lenient(Dialect::Sqlite),
        &[
            "SELECT a FROM users WHERE id = ? OR a IS a",
            "SELECT a FROM users WHERE id = ? OR NOT a IS NOT a",
            "SELECT a FROM users WHERE id = ? OR a GLOB a",
        ],
        Rule::Tautology,
    );
    // SQLAlchemy's empty `IN` is a builder idiom, not a probe.
    for (dialect, sql) in [
        (
            Dialect::Postgres,
            "SELECT a FROM users WHERE id IN (SELECT CAST(NULL AS INTEGER) WHERE 1!=1)",
        ),
        (
            Dialect::Sqlite,
            "SELECT a FROM users WHERE id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)",
        ),
        (
            Dialect::MySql,
            "SELECT a FROM users WHERE id IN (SELECT 1 FROM (SELECT 1) as _empty_set WHERE 1!=1)",
        ),
    ] {
        assert!(
            SqlGuard::new(SqlPolicy::read_only(dialect))
                .check(sql, &Params::none())
                .is_ok(),
            "{sql}"
        );
    }
    // A filter that is only the pair widens nothing it held (PostgreSQL's planner tests write
    // `a IS TRUE OR a IS NOT TRUE`), as `a = a` alone does not.
    for sql in [
        "SELECT a FROM t WHERE a IS TRUE OR a IS NOT TRUE",
        "SELECT a FROM t WHERE a IS NULL OR a = $1",
        "SELECT a FROM t WHERE a IS NULL OR b IS NOT NULL",
        "SELECT a FROM t WHERE a = $1 OR a <> $2",
        "SELECT a FROM t WHERE a > b OR a < b",
        "SELECT a FROM t WHERE GREATEST(a, b) > $1",
        "SELECT a FROM t WHERE a - b = b - a",
        "SELECT a FROM t WHERE (a = $1) IS NOT TRUE",
        // A correlation names the outer select's table; a semi-join reads another table.
        "SELECT a FROM orders o WHERE EXISTS (SELECT 1 FROM users WHERE o.user_id = user_id)",
        "SELECT a FROM orders WHERE user_id IN (SELECT id FROM users)",
        "SELECT a FROM orders WHERE id IN (SELECT id FROM orders WHERE owner = $1)",
        "SELECT a FROM x JOIN y ON x.k = y.k WHERE x.id = $1",
    ] {
        let params = if sql.contains("$2") {
            Params::positional(2)
        } else if sql.contains("$1") {
            Params::positional(1)
        } else {
            Params::none()
        };
        assert!(
            lenient(Dialect::Postgres).check(sql, &params).is_ok(),
            "{sql}"
        );
    }
    // A join condition compares two tables' columns: not a tautology.
    for sql in [
        "SELECT * FROM a, b WHERE a.id = b.id OR a.x = $1",
        "SELECT * FROM t WHERE a = a AND b = b",
        "SELECT * FROM t WHERE EXISTS (SELECT 1)",
    ] {
        let params = if sql.contains("$1") {
            Params::positional(1)
        } else {
            Params::none()
        };
        assert!(
            lenient(Dialect::Postgres).check(sql, &params).is_ok(),
            "{sql}"
        );
    }
    // SQL Server has no boolean literals (`TRUE` is a name there).
    for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        refusals(
            &lenient(dialect),
            &[
                "SELECT * FROM users WHERE id = 1 OR TRUE IS TRUE",
                "SELECT * FROM users WHERE id = 1 OR FALSE IS NOT TRUE",
            ],
            Rule::Tautology,
        );
    }
    // A placeholder or a function call can differ on each side: not a tautology.
    let guard = lenient(Dialect::Postgres);
    for sql in [
        "SELECT * FROM users WHERE id = 1 OR $1 = $1",
        "SELECT * FROM users WHERE id = 1 OR random() = random()",
        "SELECT * FROM users WHERE id = 1 OR name LIKE $1",
        "SELECT * FROM users WHERE id = 1 OR EXISTS (SELECT 1 FROM orders WHERE orders.user_id = users.id)",
    ] {
        let params = if sql.contains("$1") {
            Params::positional(1)
        } else {
            Params::none()
        };
        assert!(guard.check(sql, &params).is_ok(), "{sql}");
    }
}

#[test]
fn probes_through_scalar_subqueries_and_conditional_orders() {
    let guard = lenient(Dialect::Postgres);
    refusals(
        &guard,
        &[
            "SELECT * FROM users WHERE id = 1 AND (SELECT 5) = (SELECT 5)",
            "SELECT * FROM users WHERE id = 1 AND (SELECT 'a') = 'a'",
            "SELECT * FROM users WHERE id = 1 AND ((SELECT 7)) <> 7",
        ],
        Rule::BooleanProbe,
    );
    refusals(
        &guard,
        &[
            "SELECT * FROM users ORDER BY (CASE WHEN (SELECT substr(password, 1, 1) FROM users LIMIT 1) = 'a' THEN id ELSE name END)",
            "SELECT * FROM users ORDER BY CASE (SELECT 1 FROM secrets LIMIT 1) WHEN 1 THEN id ELSE name END",
            "SELECT * FROM users ORDER BY name, CASE WHEN EXISTS (SELECT 1 FROM secrets) THEN 1 ELSE 2 END",
        ],
        Rule::OrderProbe,
    );
    refusals(
        &lenient(Dialect::MySql),
        &["SELECT * FROM users ORDER BY IF((SELECT 1 FROM secrets LIMIT 1) = 1, id, name)"],
        Rule::OrderProbe,
    );
    refusals(
        &guard,
        &[
            "SELECT * FROM users ORDER BY (SELECT a FROM secrets LIMIT 1) = a",
            "SELECT * FROM users ORDER BY EXISTS (SELECT 1 FROM secrets WHERE s LIKE 'a%')",
            "SELECT * FROM users ORDER BY a IN (SELECT a FROM secrets)",
            "SELECT * FROM users ORDER BY (SELECT CASE WHEN s LIKE 'a%' THEN 1 ELSE 1/0 END FROM secrets)",
            "SELECT * FROM users ORDER BY greatest((SELECT a FROM secrets LIMIT 1), a)",
        ],
        Rule::OrderProbe,
    );
    refusals(
        &lenient(Dialect::MsSql),
        &["SELECT * FROM users ORDER BY CHOOSE((SELECT TOP 1 id FROM secrets), a, id)"],
        Rule::OrderProbe,
    );
    refusals(
        &guard,
        &[
            "SELECT a FROM t WHERE id = $1 AND 1 IN (1)",
            "SELECT a FROM t WHERE id = $1 AND 'a' IN ('a', 'b')",
        ],
        Rule::BooleanProbe,
    );
    // Ordering by a subquery's value is an ORM idiom (Django's Subquery ordering).
    assert!(
        guard
            .check(
                "SELECT * FROM users ORDER BY (SELECT max(o.at) FROM orders o WHERE o.user_id = users.id) DESC",
                &Params::none()
            )
            .is_ok()
    );
    refusals(
        &guard,
        &[
            "SELECT name FROM users UNION SELECT (SELECT password FROM secrets LIMIT 1)",
            "SELECT name, id FROM users UNION ALL SELECT 'x', (SELECT count(*) FROM secrets)",
            "SELECT name FROM users UNION SELECT NULL::text",
            "SELECT name FROM users UNION SELECT CAST(NULL AS text)",
            "SELECT name FROM users UNION VALUES (current_user)",
            "SELECT name FROM users INTERSECT SELECT current_user",
            "SELECT name FROM users EXCEPT SELECT current_user",
        ],
        Rule::UnionProbe,
    );
    refusals(
        &lenient(Dialect::MsSql),
        &["SELECT name FROM users UNION SELECT current_user"],
        Rule::UnionProbe,
    );
}

#[test]
fn literals_smuggled_as_scalar_subqueries_are_literals_under_the_strict_policy() {
    let strict = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres));
    refusals(
        &strict,
        &[
            "SELECT name FROM users WHERE id = (SELECT 5)",
            "SELECT name FROM users WHERE id IN ((SELECT 5), :id)",
            "SELECT name FROM users WHERE name = (SELECT 'admin')",
        ],
        Rule::LiteralValue,
    );
}

#[test]
fn heavy_queries_are_refused_and_ordinary_sizes_pass() {
    let guard = lenient(Dialect::Postgres);
    refusals(
        &guard,
        &[
            "SELECT count(*) FROM generate_series(1, 100000000)",
            "SELECT * FROM users WHERE id = 1 AND 1 = (SELECT count(*) FROM generate_series(1, 1e10))",
            "SELECT lpad('x', 2000000000, 'y')",
            "SELECT count(*) FROM generate_series(1, '1000000000')",
            "SELECT count(*) FROM generate_series(1, 1000 * 1000 * 1000)",
            "SELECT repeat(repeat('x', 30000), 30000)",
            "SELECT array_fill(1, ARRAY[1000000000])",
        ],
        Rule::DangerousFunction,
    );
    assert!(
        guard
            .check(
                "SELECT * FROM generate_series(1, 100) AS g",
                &Params::none()
            )
            .is_ok()
    );
    assert!(
        lenient(Dialect::Sqlite)
            .check("SELECT hex(randomblob(16))", &Params::none())
            .is_ok()
    );
}

/// Statements as ORMs write them, from each tool's documented output; the strict default
/// policy (literals refused) admits them with their parameters.
#[test]
fn orm_sql_passes_the_strict_policy() {
    let cases: &[(Dialect, &str, Params)] = &[
        // PostgreSQL JSON operators with a key (SQLAlchemy, Django, Diesel, SeaORM).
        (
            Dialect::Postgres,
            "SELECT id FROM users WHERE data ->> 'email' = $1",
            Params::positional(1),
        ),
        (
            Dialect::Postgres,
            "SELECT data -> 'profile' ->> 'name' FROM users WHERE data #>> '{address,city}' = $1",
            Params::positional(1),
        ),
        // sqlcommenter's trailing comment (Django, Rails, Spring via OpenTelemetry).
        (
            Dialect::Postgres,
            "SELECT * FROM users WHERE id = $1 /*action='index',controller='users',framework='django%3A4.2',traceparent='00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01'*/",
            Params::positional(1),
        ),
        (
            Dialect::MySql,
            "SELECT `users`.* FROM `users` WHERE `users`.`id` = ? LIMIT 1 /*application='Shop',controller='users',action='show'*/",
            Params::positional(1),
        ),
        // EF Core.
        (
            Dialect::MsSql,
            "SELECT TOP(1) [u].[Id], [u].[Email] FROM [Users] AS [u] WHERE [u].[Email] = @__email_0",
            Params::named(["__email_0"]),
        ),
        (
            Dialect::MsSql,
            "SELECT [u].[Id] FROM [Users] AS [u] ORDER BY [u].[Id] OFFSET @__p_0 ROWS",
            Params::named(["__p_0"]),
        ),
        // Hibernate.
        (
            Dialect::MySql,
            "select u1_0.id,u1_0.email from users u1_0 where u1_0.email=? limit ?,?",
            Params::positional(3),
        ),
        // Rails' Active Record.
        (
            Dialect::Postgres,
            r#"SELECT "users".* FROM "users" WHERE "users"."email" = $1 LIMIT $2"#,
            Params::positional(2),
        ),
        (
            Dialect::Sqlite,
            r#"INSERT INTO "users" ("email", "created_at", "updated_at") VALUES (?, ?, ?) RETURNING "id""#,
            Params::positional(3),
        ),
        // Diesel.
        (
            Dialect::Postgres,
            r#"SELECT "users"."id", "users"."name" FROM "users" WHERE ("users"."name" = $1) ORDER BY "users"."id" LIMIT $2"#,
            Params::positional(2),
        ),
        (
            Dialect::Postgres,
            r#"INSERT INTO "users" ("name") VALUES ($1), ($2) RETURNING "users"."id""#,
            Params::positional(2),
        ),
        // SeaORM (sea-query).
        (
            Dialect::Postgres,
            r#"SELECT "cake"."id", "cake"."name" FROM "cake" WHERE "cake"."name" LIKE $1 AND "cake"."id" IN ($2, $3)"#,
            Params::positional(3),
        ),
        (
            Dialect::MySql,
            "SELECT `cake`.`id` FROM `cake` INNER JOIN `fruit` ON `cake`.`id` = `fruit`.`cake_id` WHERE `fruit`.`name` = ? ORDER BY `cake`.`id` ASC",
            Params::positional(1),
        ),
    ];
    for (dialect, sql, params) in cases {
        let writer = SqlGuard::new(SqlPolicy::read_write(*dialect));
        if let Err(v) = writer.check(sql, params) {
            panic!("{dialect}: {sql}: {v}");
        }
    }
    // Only sqlcommenter's own form, and only at the end.
    let strict = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres));
    refusals(
        &strict,
        &[
            "SELECT * FROM users WHERE id = $1 /*action='index'*/ OR TRUE",
            "SELECT * FROM users WHERE id = $1 /* free text */",
            "SELECT * FROM users WHERE id = $1 /*action=index*/",
            "SELECT * FROM users WHERE id = $1 /*a='x' OR 1=1*/",
        ],
        Rule::Comment,
    );
}
