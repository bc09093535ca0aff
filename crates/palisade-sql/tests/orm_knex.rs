//! Class 8 of the hostile-SQL suite with SQL made by a JavaScript ORM's own query builder:
//! knex (npm, pinned in `xtask/node`, installed by `cargo xtask services up`; the builder
//! under Objection and Bookshelf) renders a CRUD back end's statements for PostgreSQL,
//! MySQL, SQLite and SQL Server without a connection (`tests/node/knex.js`), and the default
//! (strict) policy admits every one as it is.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::path::PathBuf;

use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy};
use serde_json::Value;

#[test]
fn knex_statements_pass_the_default_policy() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node/knex.js");
    let output = palisade_test::node::run(&script, "knex", &[], "");
    let mut refused = Vec::new();
    let mut checked = 0;
    for line in output.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        let sql = record["sql"].as_str().unwrap();
        let bindings = usize::try_from(record["bindings"].as_u64().unwrap()).unwrap();
        let (dialect, params) = match record["dialect"].as_str().unwrap() {
            "postgres" => (Dialect::Postgres, Params::positional(bindings)),
            "mysql" => (Dialect::MySql, Params::positional(bindings)),
            "sqlite" => (Dialect::Sqlite, Params::positional(bindings)),
            "mssql" => {
                let names: Vec<String> = (0..bindings).map(|i| format!("p{i}")).collect();
                (
                    Dialect::MsSql,
                    Params::named(names.iter().map(String::as_str)),
                )
            }
            other => panic!("knex.js bug: dialect {other}"),
        };
        checked += 1;
        if let Err(violation) = SqlGuard::new(SqlPolicy::read_write(dialect)).check(sql, &params) {
            refused.push(format!("{dialect:?} {}: {sql}", violation.rule().id()));
        }
    }
    assert!(checked >= 35, "only {checked} statements");
    assert!(refused.is_empty(), "knex statements refused: {refused:#?}");
}

/// The SQL Server forms admitted for EF Core and knex are exact: a paging parameter is a
/// parameter (checked against the ones declared), and only `SELECT @@ROWCOUNT` right after
/// one write statement is dropped.
#[test]
fn the_sql_server_paging_and_row_count_forms_are_exact() {
    let guard = SqlGuard::new(SqlPolicy::read_write(Dialect::MsSql));
    let params = |names: &[&str]| Params::named(names.iter().copied());
    let paging = "SELECT [id] FROM [t] ORDER BY [id] OFFSET @p0 ROWS FETCH NEXT @p1 ROWS ONLY";
    assert!(guard.check(paging, &params(&["p0", "p1"])).is_ok());
    assert!(
        guard.check(paging, &params(&["p0"])).is_err(),
        "an undeclared parameter"
    );
    let update = "UPDATE [t] SET [a] = @p0 WHERE [id] = @p1; SELECT @@ROWCOUNT;";
    assert!(guard.check(update, &params(&["p0", "p1"])).is_ok());
    for sql in [
        "UPDATE [t] SET [a] = @p0 WHERE [id] = @p1; SELECT @@ROWCOUNT; DROP TABLE [t]",
        "UPDATE [t] SET [a] = @p0 WHERE [id] = @p1; SELECT @@VERSION",
        "UPDATE [t] SET [a] = @p0; UPDATE [u] SET [b] = @p1; SELECT @@ROWCOUNT",
        "SELECT [a] FROM [t] WHERE [id] = @p0; SELECT @@ROWCOUNT",
        "UPDATE [t] SET [a] = @p0 WHERE [id] = @p1; SELECT @@ROWCOUNT -- ; DROP TABLE [t]",
        "UPDATE [t] SET [a] = @p0 WHERE [id] = @p1; SELECT @@ROWCOUNT /* x */",
    ] {
        let refused = guard.check(sql, &params(&["p0", "p1"])).unwrap_err();
        assert_eq!(
            refused.rule(),
            palisade_sql::Rule::MultipleStatements,
            "{sql}"
        );
    }
}
