//! The `sqlx` feature on real PostgreSQL and MariaDB (started by `cargo xtask services up`):
//! named parameters are checked, rewritten and bound; a value that looks like SQL stays a
//! value; refused statements never reach the server; database errors show no value.
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use palisade_sql::{Dialect, Driver, GuardedSql, Ident, QueryError, Rule, SqlGuard, SqlPolicy};
use palisade_test::{Canary, Service, unique_name};
use sqlx::{AssertSqlSafe, Executor as _, MySql, MySqlPool, PgPool, Postgres, Row as _};

async fn postgres() -> PgPool {
    PgPool::connect(&Service::Postgres.url()).await.unwrap()
}

async fn mariadb() -> MySqlPool {
    MySqlPool::connect(&Service::Mariadb.url()).await.unwrap()
}

/// A fresh table `(id, owner, name)` with a unique name, quoted for `dialect`.
fn table(dialect: Dialect) -> String {
    let name = unique_name("notes").replace('-', "_");
    Ident::new(&name, dialect).unwrap().quoted().to_string()
}

async fn count<'c, DB, E>(executor: E, table: &str) -> i64
where
    DB: Driver,
    E: sqlx::Executor<'c, Database = DB>,
    for<'r> i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let row = sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(executor)
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn postgres_named_parameters_are_bound_and_sql_in_a_value_stays_a_value() {
    let pool = postgres().await;
    let t = table(Dialect::Postgres);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, owner BIGINT NOT NULL, name TEXT NOT NULL UNIQUE)"
    )))
    .await
    .unwrap();
    let writer = GuardedSql::<Postgres>::read_write();
    let insert = format!("INSERT INTO {t} (owner, name) VALUES (:owner, :name)");
    for (owner, name) in [(1_i64, "alpha"), (1, "beta"), (2, "gamma")] {
        let done = writer
            .sql(&insert)
            .bind("owner", owner)
            .bind("name", name)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
    }

    let reader = GuardedSql::<Postgres>::read_only();
    // One name used twice becomes one `$n`, bound once.
    let select = format!(
        "SELECT name FROM {t} WHERE owner = :owner AND (name = :name OR name > :name) ORDER BY name"
    );
    let rows = reader
        .sql(&select)
        .bind("owner", 1_i64)
        .bind("name", "alpha")
        .fetch_all(&pool)
        .await
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get("name")).collect();
    assert_eq!(names, ["alpha", "beta"]);

    // The classic payload is a value, compared as a whole: no row has that name.
    let rows = reader
        .sql(&format!("SELECT name FROM {t} WHERE name = :name"))
        .bind("name", "x' OR '1'='1")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(rows.is_empty());

    let typed: Vec<(i64, String)> = reader
        .sql(&format!("SELECT owner, name FROM {t} WHERE owner = :owner"))
        .bind("owner", 2_i64)
        .fetch_all_as(&pool)
        .await
        .unwrap();
    assert_eq!(typed, [(2, "gamma".to_owned())]);

    let missing = reader
        .sql(&format!("SELECT name FROM {t} WHERE owner = :owner"))
        .bind("owner", 99_i64)
        .fetch_one(&pool)
        .await
        .unwrap_err();
    assert!(matches!(missing, QueryError::RowNotFound));
    assert_eq!(missing.status(), 404);
    let none = reader
        .sql(&format!("SELECT name FROM {t} WHERE owner = :owner"))
        .bind("owner", 99_i64)
        .fetch_optional(&pool)
        .await
        .unwrap();
    assert!(none.is_none());

    pool.execute(AssertSqlSafe(format!("DROP TABLE {t}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn mariadb_binds_a_repeated_name_at_each_question_mark() {
    let pool = mariadb().await;
    let t = table(Dialect::MySql);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner BIGINT NOT NULL, name VARCHAR(100) NOT NULL UNIQUE)"
    )))
    .await
    .unwrap();
    let writer = GuardedSql::<MySql>::read_write();
    for (owner, name) in [(1_i64, "alpha"), (1, "beta"), (2, "gamma")] {
        writer
            .sql(&format!(
                "INSERT INTO {t} (owner, name) VALUES (:owner, :name)"
            ))
            .bind("name", name)
            .bind("owner", owner)
            .execute(&pool)
            .await
            .unwrap();
    }
    let reader = GuardedSql::<MySql>::read_only();
    let rows: Vec<(String,)> = reader
        .sql(&format!(
            "SELECT name FROM {t} WHERE (owner = :owner AND name <> :skip) OR (owner = :owner AND name = :skip) ORDER BY name"
        ))
        .bind("skip", "beta")
        .bind("owner", 1_i64)
        .fetch_all_as(&pool)
        .await
        .unwrap();
    assert_eq!(rows, [("alpha".to_owned(),), ("beta".to_owned(),)]);

    let rows = reader
        .sql(&format!("SELECT name FROM {t} WHERE name = :name"))
        .bind("name", "x' OR '1'='1' -- ")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(rows.is_empty());

    // A write through the read-only handle is refused before the server sees it.
    let refused = reader
        .sql(&format!("DELETE FROM {t} WHERE owner = :owner"))
        .bind("owner", 1_i64)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(
        refused.violation().unwrap().rule(),
        Rule::StatementNotAllowed
    );
    assert_eq!(count(&pool, &t).await, 3);

    pool.execute(AssertSqlSafe(format!("DROP TABLE {t}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn refused_statements_never_reach_postgres() {
    let pool = postgres().await;
    let t = table(Dialect::Postgres);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, owner BIGINT NOT NULL, name TEXT NOT NULL)"
    )))
    .await
    .unwrap();
    pool.execute(AssertSqlSafe(format!(
        "INSERT INTO {t} (owner, name) VALUES (1, 'a'), (2, 'b')"
    )))
    .await
    .unwrap();
    let reader = GuardedSql::<Postgres>::read_only();
    let writer = GuardedSql::<Postgres>::read_write();
    let cases: Vec<(String, Vec<&str>, Rule)> = vec![
        (
            format!("DELETE FROM {t} WHERE owner = :owner"),
            vec!["owner"],
            Rule::StatementNotAllowed,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = 1 OR 1=1"),
            vec![],
            Rule::Tautology,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = 1"),
            vec![],
            Rule::LiteralValue,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = :owner; DROP TABLE {t}"),
            vec!["owner"],
            Rule::MultipleStatements,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = :owner -- x"),
            vec!["owner"],
            Rule::Comment,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = :owner"),
            vec![],
            Rule::PlaceholderUnbound,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = 2 AND :owner IS NULL OR pg_sleep(1) IS NULL"),
            vec!["owner"],
            Rule::LiteralValue,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = :owner"),
            vec!["owner", "name"],
            Rule::ParameterUnused,
        ),
        (
            format!("DELETE FROM {t} WHERE owner = $1"),
            vec!["owner"],
            Rule::PlaceholderStyle,
        ),
    ];
    for (index, (sql, names, rule)) in cases.iter().enumerate() {
        let db = if index == 0 { &reader } else { &writer };
        let mut query = db.sql(sql);
        for name in names {
            query = query.bind(name, 1_i64);
        }
        let error = query.execute(&pool).await.unwrap_err();
        assert_eq!(
            error.violation().map(|v| v.rule()),
            Some(*rule),
            "case {index}"
        );
        assert_eq!(error.status(), 400);
    }
    let twice = writer
        .sql(&format!("DELETE FROM {t} WHERE owner = :owner"))
        .bind("owner", 1_i64)
        .bind("owner", 2_i64)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(matches!(twice, QueryError::BindDuplicate { ref name } if name == "owner"));
    assert_eq!(
        count(&pool, &t).await,
        2,
        "a refused statement deleted rows"
    );
    pool.execute(AssertSqlSafe(format!("DROP TABLE {t}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_duplicate_key_error_shows_its_code_not_the_value() {
    let pool = postgres().await;
    let t = table(Dialect::Postgres);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
    )))
    .await
    .unwrap();
    let canary = Canary::new();
    let writer = GuardedSql::<Postgres>::read_write();
    let insert = format!("INSERT INTO {t} (name) VALUES (:name)");
    writer
        .sql(&insert)
        .bind("name", canary.value())
        .execute(&pool)
        .await
        .unwrap();
    let error = writer
        .sql(&insert)
        .bind("name", canary.value())
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 409);
    assert_eq!(
        error.to_string(),
        "the database refused the statement (code 23505)"
    );
    // The server's own error quotes the value (in its detail); ours does not, anywhere.
    let QueryError::Database(database) = &error else {
        panic!("{error:?}")
    };
    assert!(format!("{:?}", database.expose_driver_error()).contains(canary.value()));
    canary.assert_not_in_display(&error);
    canary.assert_not_in_debug(&error);
    canary.assert_not_in_error(&error);
    assert_eq!(
        format!("{database:?}"),
        r#"SqlServerError { category: "the database refused the statement", code: Some("23505") }"#
    );
    pool.execute(AssertSqlSafe(format!("DROP TABLE {t}")))
        .await
        .unwrap();
}

/// A backend terminated under a pooled connection (a failover, an administrator, a
/// connection limit) is a 503 the client may retry, never a 500.
#[tokio::test]
async fn a_terminated_backend_is_unavailable_not_internal() {
    let pool = postgres().await;
    let admin = postgres().await;
    let reader = GuardedSql::<Postgres>::read_only();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
            .bind(pid)
            .fetch_one(&admin)
            .await
            .unwrap();
        assert!(terminated);
        let error = reader
            .sql("SELECT 1 AS one")
            .fetch_one(&mut *conn)
            .await
            .unwrap_err();
        assert_eq!(error.status(), 503, "{error:?}");
    }
    // The pool replaces the connections it lost.
    assert!(reader.sql("SELECT 1 AS one").fetch_one(&pool).await.is_ok());
}

#[tokio::test]
async fn a_killed_mariadb_connection_is_unavailable_not_internal() {
    let pool = mariadb().await;
    let admin = mariadb().await;
    let reader = GuardedSql::<MySql>::read_only();
    let mut conn = pool.acquire().await.unwrap();
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!("KILL CONNECTION {id}")))
        .await
        .unwrap();
    let error = reader
        .sql("SELECT 1 AS one")
        .fetch_one(&mut *conn)
        .await
        .unwrap_err();
    assert_eq!(error.status(), 503, "{error:?}");
}

#[test]
fn a_guard_for_another_dialect_is_refused() {
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::MySql));
    let error = GuardedSql::<Postgres>::with_guard(guard).unwrap_err();
    assert!(matches!(
        error,
        QueryError::DialectMismatch {
            driver: Dialect::Postgres,
            policy: Dialect::MySql
        }
    ));
    let guard = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).with_tables(["users"]));
    let db = GuardedSql::<Postgres>::with_guard(guard).unwrap();
    assert_eq!(db.guard().policy().dialect(), Dialect::Postgres);
}

#[test]
fn debug_shows_parameter_names_never_the_statement_or_values() {
    let canary = Canary::new();
    let db = GuardedSql::<MySql>::read_only();
    let sql = format!(
        "SELECT name FROM notes WHERE name = :name AND note = '{}'",
        canary.value()
    );
    let query = db.sql(&sql).bind("name", canary.value().to_owned());
    assert_eq!(
        format!("{query:?}"),
        r#"GuardedQuery { dialect: MySql, bound: ["name"], .. }"#
    );
    canary.assert_not_in_debug(&query);
}
