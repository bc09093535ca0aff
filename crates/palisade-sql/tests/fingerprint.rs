//! Fingerprints keep apart what digests of other tools conflate, and an allow-list admits
//! exactly the learned shapes.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_sql::{
    AllowList, AllowListError, Dialect, Params, Rule, SqlGuard, SqlPolicy, fingerprint,
};

fn shape(sql: &str) -> String {
    fingerprint(sql, Dialect::Postgres)
        .unwrap()
        .text()
        .to_owned()
}

#[test]
fn shapes_that_must_stay_apart_do() {
    // Pairs that pg_query's or pt-fingerprint's digests conflate, or that a careless
    // normalizer would: a colliding allow-list entry admits the attacker's query.
    for (a, b) in [
        (
            "SELECT * FROM users u WHERE u.id = 1",
            "SELECT * FROM accounts u WHERE u.id = 1",
        ),
        ("SELECT * FROM public.t", "SELECT * FROM evil.t"),
        (
            "SELECT * FROM orders_2024_01",
            "SELECT * FROM orders_2025_02",
        ),
        ("SELECT a, b FROM t", "SELECT b, a FROM t"),
        (
            "SELECT * FROM t WHERE a = 1 OR 1 = 1",
            "SELECT * FROM t WHERE a = 1 OR 2 = 3",
        ),
        (
            "SELECT * FROM t WHERE a = 1 OR 'x' = 'x'",
            "SELECT * FROM t WHERE a = 1 OR 'x' = 'y'",
        ),
        (
            "SELECT * FROM t WHERE a = 1 OR b = b",
            "SELECT * FROM t WHERE a = 1 OR b = c",
        ),
        (
            "SELECT * FROM t WHERE a = 1",
            "SELECT * FROM t WHERE a = 1 UNION SELECT NULL",
        ),
        (
            "SELECT * FROM t WHERE a = TRUE",
            "SELECT * FROM t WHERE a = FALSE",
        ),
        (
            "SELECT * FROM t WHERE a IN (1, 2)",
            "SELECT * FROM t WHERE a IN (1, b)",
        ),
    ] {
        assert_ne!(shape(a), shape(b), "{a}  vs  {b}");
    }
    let long_a = format!(
        "SELECT {} FROM t WHERE x = 1",
        (0..400)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let long_b = long_a.replace("x = 1", "y = 1");
    assert_ne!(
        shape(&long_a),
        shape(&long_b),
        "long statements were truncated into one digest"
    );
    assert!(shape(&long_a).len() > 2_000);
}

#[test]
fn shapes_that_are_one_are_one() {
    for (a, b) in [
        (
            "SELECT * FROM t WHERE id = 1",
            "SELECT  *\n FROM t  WHERE id = 99999",
        ),
        (
            "SELECT * FROM t WHERE id = 1 -- note",
            "/* hi */ SELECT * FROM t WHERE id = 2",
        ),
        (
            "SELECT * FROM t WHERE id IN (1, 2, 3)",
            "SELECT * FROM t WHERE id IN ($1)",
        ),
        (
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
            "INSERT INTO t (a, b) VALUES (:a, :b)",
        ),
        (
            "SELECT * FROM t WHERE name = 'ann'",
            "select * from t where name = 'bob'",
        ),
        (
            "SELECT * FROM t WHERE 1 = 1 AND a = 5",
            "SELECT * FROM t WHERE 2 = 2 AND a = 6",
        ),
    ] {
        assert_eq!(shape(a), shape(b), "{a}  vs  {b}");
    }
    assert_eq!(
        shape("SELECT * FROM t WHERE a = 1 OR 1 = 1"),
        "SELECT * FROM t WHERE a = ? OR true"
    );
    let one = fingerprint("SELECT 1", Dialect::Postgres).unwrap();
    assert_eq!(one.id_hex().len(), 16);
    assert_eq!(
        fingerprint("SELECT 2", Dialect::Postgres).unwrap().id(),
        one.id()
    );
    assert_eq!(
        fingerprint("SELECT 1; SELECT 2", Dialect::Postgres)
            .unwrap_err()
            .rule(),
        Rule::MultipleStatements
    );
}

#[test]
fn allow_lists_learn_save_and_enforce() {
    let mut list = AllowList::new(Dialect::Postgres);
    list.learn("SELECT name FROM users WHERE id = 1").unwrap();
    list.learn("SELECT name FROM users WHERE id = 2").unwrap();
    list.learn("UPDATE users SET name = 'x' WHERE id = 3")
        .unwrap();
    assert_eq!(list.len(), 2);
    let dir = std::env::temp_dir().join(palisade_test::unique_name("allow-list"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shapes.jsonl");
    list.save(&path).unwrap();
    let loaded = AllowList::load(Dialect::Postgres, &path).unwrap();
    assert_eq!(loaded, list);
    assert!(loaded.admit("SELECT name FROM users WHERE id = 99").is_ok());
    for attack in [
        "SELECT name FROM users WHERE id = 99 OR 1 = 1",
        "SELECT name FROM users WHERE id = 99 UNION SELECT password FROM users",
        "SELECT name FROM accounts WHERE id = 99",
    ] {
        assert_eq!(
            loaded.admit(attack).unwrap_err().rule(),
            Rule::ShapeNotAllowed,
            "{attack}"
        );
    }

    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replacen("users", "accounts", 1);
    assert!(matches!(
        AllowList::from_json_lines(Dialect::Postgres, &tampered),
        Err(AllowListError::IdMismatch { line: 1 })
    ));
    assert!(matches!(
        AllowList::from_json_lines(Dialect::Postgres, "{\"id\": 1}\n"),
        Err(AllowListError::LineInvalid { line: 1 })
    ));
    std::fs::remove_dir_all(&dir).unwrap();

    // In a guard, the allow-list comes after every rule.
    let guard = SqlGuard::new(SqlPolicy::read_write(Dialect::Postgres).allow_literals())
        .with_allow_list(loaded);
    assert!(
        guard
            .check(
                "UPDATE users SET name = :n WHERE id = :id",
                &Params::named(["n", "id"])
            )
            .is_ok()
    );
    let unknown = guard
        .check("DELETE FROM users WHERE id = 1", &Params::none())
        .unwrap_err();
    assert_eq!(unknown.rule(), Rule::ShapeNotAllowed);
}
