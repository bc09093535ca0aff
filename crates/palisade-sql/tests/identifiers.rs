//! `Ident` on real PostgreSQL and MariaDB (started by `cargo xtask services up`): tables and
//! columns named with quotes, backticks, spaces, reserved words, comment and placeholder
//! syntax and non-ASCII are created and queried through `Ident`, and the server's catalog
//! holds exactly the name given. A property test does the same with random names.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use palisade_sql::{Dialect, Ident, IdentError};
use palisade_test::{Service, unique_name};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlx::{AssertSqlSafe, Column as _, Connection, MySqlConnection, PgConnection, Row as _};

/// Names an attacker or an unlucky user might send.
const NAMES: &[&str] = &[
    r#"a"b"#,
    "a`b",
    "a]b",
    "a'b",
    "a b",
    "select",
    "order",
    "TABLE",
    "x'; DROP TABLE users; --",
    "x\"; DROP TABLE users; --",
    "x`; DROP TABLE users; #",
    "-- comment",
    "/* open",
    "*/",
    "$1",
    "?",
    ":id",
    "@p1",
    "\\",
    "\\\"",
    "naïve",
    "表",
    "Ünïcödé ß",
    "%",
    "1",
];

/// Table names end with a unique suffix, so runs never collide; the tricky part comes first.
fn table_name(base: &str) -> String {
    let suffix = unique_name("t");
    format!(
        "{base}_{}",
        suffix.rsplit('-').take(2).collect::<Vec<_>>().join("_")
    )
}

async fn postgres() -> PgConnection {
    PgConnection::connect(&Service::Postgres.url())
        .await
        .unwrap()
}

async fn mariadb() -> MySqlConnection {
    MySqlConnection::connect(&Service::Mariadb.url())
        .await
        .unwrap()
}

/// `async fn $name(conn, table, column)`: creates a table and a column named through `Ident`
/// for `$dialect`, inserts and selects a value bound with the `$param` placeholder, finds both
/// names byte for byte with the `$catalog` query, and drops the table. (A macro: the two
/// drivers' connection types share no trait that binds and decodes without a wall of bounds.)
macro_rules! round_trip {
    ($name:ident, $connection:ty, $dialect:expr, $param:literal, $catalog:literal) => {
        async fn $name(conn: &mut $connection, table: &str, column: &str) {
            let t = Ident::new(table, $dialect).unwrap();
            let c = Ident::new(column, $dialect).unwrap();
            sqlx::raw_sql(AssertSqlSafe(format!("CREATE TABLE {t} ({c} int)")))
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("create {table:?}.{column:?}: {e}"));
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {t} ({c}) VALUES ({})",
                $param
            )))
            .bind(42_i32)
            .execute(&mut *conn)
            .await
            .unwrap();
            let (value,): (i32,) = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {c} FROM {t} WHERE {c} = {}",
                $param
            )))
            .bind(42_i32)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            assert_eq!(value, 42);
            let (found,): (i64,) = sqlx::query_as($catalog)
                .bind(table)
                .bind(column)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(
                found, 1,
                "{table:?}.{column:?} is not in the catalog as given"
            );
            sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE {t}")))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    };
}

round_trip!(
    round_trip_postgres,
    PgConnection,
    Dialect::Postgres,
    "$1",
    "SELECT count(*) FROM pg_attribute a JOIN pg_class r ON a.attrelid = r.oid \
     WHERE r.relname = $1 AND a.attname = $2"
);

// BINARY: information_schema compares case- and accent-insensitively.
round_trip!(
    round_trip_mariadb,
    MySqlConnection,
    Dialect::MySql,
    "?",
    "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
     AND BINARY table_name = ? AND BINARY column_name = ?"
);

#[tokio::test]
async fn tricky_names_are_one_identifier_on_postgres() {
    let mut conn = postgres().await;
    for name in NAMES {
        round_trip_postgres(&mut conn, &table_name(name), name).await;
    }
    // Beyond the BMP, and the longest name PostgreSQL keeps whole.
    round_trip_postgres(&mut conn, &table_name("😀"), "😀").await;
    let longest = "é".repeat(31) + "x"; // 63 bytes
    round_trip_postgres(&mut conn, &table_name("long"), &longest).await;
}

#[tokio::test]
async fn tricky_names_are_one_identifier_on_mariadb() {
    let mut conn = mariadb().await;
    for name in NAMES {
        round_trip_mariadb(&mut conn, &table_name(name), name).await;
    }
    let longest = "é".repeat(64); // 64 characters, 128 bytes
    round_trip_mariadb(&mut conn, &table_name("long"), &longest).await;
}

/// What the servers do with the names `Ident` refuses: PostgreSQL truncates a 64-byte name
/// (two names become one), MariaDB refuses a trailing space and a character outside the BMP.
#[tokio::test]
async fn refused_names_are_ones_the_servers_mishandle_or_refuse() {
    let mut pg = postgres().await;
    let long = "a".repeat(64);
    assert_eq!(
        Ident::new(&long, Dialect::Postgres),
        Err(IdentError::TooLong {
            max: 63,
            unit: palisade_sql::LengthUnit::Bytes
        })
    );
    let row = sqlx::query(AssertSqlSafe(format!("SELECT 1 AS \"{long}\"")))
        .fetch_one(&mut pg)
        .await
        .unwrap();
    let truncated = row.column(0).name().len();
    assert_eq!(truncated, 63, "PostgreSQL no longer truncates long names");

    let mut maria = mariadb().await;
    for (name, refusal) in [
        ("trailing ", IdentError::TrailingSpace),
        ("emoji😀", IdentError::OutsideBmp),
    ] {
        assert_eq!(Ident::new(name, Dialect::MySql), Err(refusal));
        let quoted = format!("`{}`", name.replace('`', "``"));
        let created = sqlx::raw_sql(AssertSqlSafe(format!("CREATE TABLE {quoted} (a int)")))
            .execute(&mut maria)
            .await;
        assert!(created.is_err(), "MariaDB now accepts {name:?}");
    }
}

/// Names from a character set heavy in quoting, comment, placeholder and escape syntax.
fn random_name() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        8 => prop::sample::select(vec![
            '"', '`', '\'', '[', ']', ' ', ';', '-', '/', '*', '#', '$', '?', ':', '@', '\\',
            '.', ',', '(', ')', '=', '%', '_', 'a', 'Z', '0', 'é', 'ß', '表', '\u{a0}',
        ]),
        1 => any::<char>(),
    ];
    prop::collection::vec(chars, 1..24).prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn random_names_never_break_out_of_their_quotes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (pg, maria) = runtime.block_on(async { (postgres().await, mariadb().await) });
    // The runner's closure is `Fn`: the connections are borrowed mutably per case.
    let (pg, maria) = (std::cell::RefCell::new(pg), std::cell::RefCell::new(maria));
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(64)
    });
    let accepted = std::cell::Cell::new(0);
    runner
        .run(&random_name(), |name| {
            let table = table_name(&name);
            for dialect in [Dialect::Postgres, Dialect::MySql] {
                match (Ident::new(&table, dialect), Ident::new(&name, dialect)) {
                    (Ok(_), Ok(_)) => {
                        accepted.set(accepted.get() + 1);
                        match dialect {
                            Dialect::Postgres => {
                                let mut conn = pg.borrow_mut();
                                runtime.block_on(round_trip_postgres(&mut conn, &table, &name));
                            }
                            _ => {
                                let mut conn = maria.borrow_mut();
                                runtime.block_on(round_trip_mariadb(&mut conn, &table, &name));
                            }
                        }
                    }
                    (Err(refused), _) | (_, Err(refused)) => prop_assert!(
                        matches!(
                            refused,
                            IdentError::ControlCharacter
                                | IdentError::TooLong { .. }
                                | IdentError::TrailingSpace
                                | IdentError::OutsideBmp
                        ),
                        "{name:?} refused as {refused:?}"
                    ),
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(
        accepted.get() >= 64,
        "only {} random names reached the servers",
        accepted.get()
    );
}
