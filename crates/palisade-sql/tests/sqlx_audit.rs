//! R-AUD-1 on real PostgreSQL and MariaDB (`cargo xtask services up`): every statement the
//! sqlx executor runs yields exactly one start and one end event (reads, writes, streams,
//! transactions, errors, streams dropped early); a refused statement yields `GuardRefused`
//! and reaches no server; no bound secret reaches an event, a log line or the audit file.
#![cfg(feature = "audit")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use futures_util::{StreamExt as _, TryStreamExt as _};
use palisade_audit::{
    Audit, ChainKey, ChainOptions, ChainedLog, DbSystem, QueryOutcome, QueryTarget, Recorder,
    SecurityEvent, SecurityKind, TracingSink, log_files,
};
use palisade_redact::FieldMasker;
use palisade_sql::{Dialect, Driver, GuardedSql, Ident, QueryError};
use palisade_test::{Canary, Service, unique_name};
use sqlx::{AssertSqlSafe, Executor as _, MySql, MySqlPool, PgPool, Postgres};

/// Each statement as `operation collection outcome`, in start order (the recorder checks
/// that each has exactly one start followed by exactly one end).
fn statements(recorder: &Recorder, audit: &Audit) -> Vec<String> {
    audit.flush();
    let ended = recorder.take_ended().unwrap();
    ended
        .iter()
        .map(|end| {
            let outcome = match end.outcome().unwrap() {
                QueryOutcome::Succeeded { returned_rows } => format!("ok {returned_rows:?}"),
                QueryOutcome::Failed {
                    error_type,
                    status_code,
                } => format!(
                    "failed {error_type} {}",
                    status_code.as_deref().unwrap_or("-")
                ),
                QueryOutcome::Abandoned { returned_rows } => format!("abandoned {returned_rows}"),
                other => format!("{other:?}"),
            };
            let info = end.info();
            format!(
                "{} {} {outcome}",
                info.operation(),
                info.collection().unwrap_or("-")
            )
        })
        .collect()
}

fn table(dialect: Dialect) -> String {
    let name = unique_name("audited").replace('-', "_");
    Ident::new(&name, dialect).unwrap().quoted().to_string()
}

/// Every statement kind through `GuardedSql<DB>` with auditing on; returns the statements.
async fn every_kind<DB: Driver>(
    pool: &sqlx::Pool<DB>,
    t: &str,
    system: DbSystem,
) -> (Vec<String>, Vec<SecurityEvent>, String)
where
    for<'e> &'e sqlx::Pool<DB>: sqlx::Executor<'e, Database = DB>,
    for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let recorder = Recorder::new();
    let audit = Audit::builder().sink(recorder.clone()).build();
    // The target read from the pool's connect options (sqlx::MySql says `mysql`, also for
    // MariaDB).
    let target = DB::audit_target(pool);
    assert_eq!(target.system(), system);
    assert!(target.namespace().is_some(), "{target:?}");
    assert!(target.server_address().is_some() && target.server_port().is_some());
    let db = GuardedSql::<DB>::read_write().with_audit(audit.clone(), target);
    let insert = format!("INSERT INTO {t} (owner, name) VALUES (:owner, :name)");
    for (owner, name) in [(1_i64, "a"), (1, "b"), (1, "c"), (2, "d")] {
        db.sql(&insert)
            .bind("owner", owner)
            .bind("name", name)
            .execute(pool)
            .await
            .unwrap();
    }
    let select = format!("SELECT name FROM {t} WHERE owner = :owner ORDER BY name");
    let all = db
        .sql(&select)
        .bind("owner", 1_i64)
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    db.sql(&select)
        .bind("owner", 1_i64)
        .fetch_one(pool)
        .await
        .unwrap();
    let none = db
        .sql(&select)
        .bind("owner", 9_i64)
        .fetch_optional(pool)
        .await
        .unwrap();
    assert!(none.is_none());
    let missing = db
        .sql(&select)
        .bind("owner", 9_i64)
        .fetch_one(pool)
        .await
        .err()
        .unwrap();
    assert!(matches!(missing, QueryError::RowNotFound));
    // A stream read to its end, and one dropped after its first row.
    let streamed: Vec<_> = db
        .sql(&select)
        .bind("owner", 1_i64)
        .fetch(pool)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 3);
    let mut early = db.sql(&select).bind("owner", 1_i64).fetch(pool);
    early.next().await.unwrap().unwrap();
    drop(early);
    // A write and a read inside a transaction.
    let mut tx = pool.begin().await.unwrap();
    let update = format!("UPDATE {t} SET name = :name WHERE owner = :owner");
    db.sql(&update)
        .bind("name", "e")
        .bind("owner", 2_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    db.sql(&select)
        .bind("owner", 2_i64)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A unique violation: the code, never the server's message (which quotes the value).
    let duplicate = db
        .sql(&insert)
        .bind("owner", 3_i64)
        .bind("name", "a")
        .execute(pool)
        .await
        .err()
        .unwrap();
    assert!(matches!(duplicate, QueryError::Database(_)));
    let delete = format!("DELETE FROM {t} WHERE owner = :owner");
    db.sql(&delete)
        .bind("owner", 2_i64)
        .execute(pool)
        .await
        .unwrap();
    // Refused by the guard: a security event, no query event, nothing sent.
    let tautology = format!("SELECT name FROM {t} WHERE owner = :owner OR 1 = 1");
    db.sql(&tautology)
        .bind("owner", 1_i64)
        .fetch_all(pool)
        .await
        .err()
        .unwrap();
    let refused_stream: Vec<_> = db
        .sql(&tautology)
        .bind("owner", 1_i64)
        .fetch(pool)
        .collect()
        .await;
    assert!(matches!(refused_stream[..], [Err(QueryError::Refused(_))]));
    let statements = statements(&recorder, &audit);
    let security = recorder.take_security();
    (statements, security, t.trim_matches(['"', '`']).to_owned())
}

#[tokio::test]
async fn postgres_every_statement_yields_one_start_and_one_end() {
    let pool = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let t = table(Dialect::Postgres);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, owner BIGINT NOT NULL, name TEXT NOT NULL UNIQUE)"
    )))
    .await
    .unwrap();
    let (statements, security, name) =
        every_kind::<Postgres>(&pool, &t, DbSystem::PostgreSql).await;
    let expected: Vec<String> = [
        "INSERT {t} ok Some(1)",
        "INSERT {t} ok Some(1)",
        "INSERT {t} ok Some(1)",
        "INSERT {t} ok Some(1)",
        "SELECT {t} ok Some(3)",
        "SELECT {t} ok Some(1)",
        "SELECT {t} ok Some(0)",
        "SELECT {t} ok Some(0)",
        "SELECT {t} ok Some(3)",
        "SELECT {t} abandoned 1",
        "UPDATE {t} ok Some(1)",
        "SELECT {t} ok Some(1)",
        "INSERT {t} failed database 23505",
        "DELETE {t} ok Some(1)",
    ]
    .iter()
    .map(|s| s.replace("{t}", &name))
    .collect();
    assert_eq!(statements, expected);
    assert_eq!(security.len(), 2);
    assert!(
        security
            .iter()
            .all(|e| e.kind() == SecurityKind::GuardRefused && e.reason() == Some("tautology"))
    );
}

#[tokio::test]
async fn mariadb_every_statement_yields_one_start_and_one_end() {
    let pool = MySqlPool::connect(&Service::Mariadb.url()).await.unwrap();
    let t = table(Dialect::MySql);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner BIGINT NOT NULL, name VARCHAR(64) NOT NULL UNIQUE)"
    )))
    .await
    .unwrap();
    let (statements, security, name) = every_kind::<MySql>(&pool, &t, DbSystem::MySql).await;
    assert_eq!(statements.len(), 14, "{statements:#?}");
    assert_eq!(
        statements[12],
        format!("INSERT {name} failed database 23000")
    );
    assert_eq!(statements[9], format!("SELECT {name} abandoned 1"));
    assert_eq!(statements[10], format!("UPDATE {name} ok Some(1)"));
    assert_eq!(security.len(), 2);
}

#[tokio::test]
async fn a_bound_secret_reaches_no_event_log_line_or_audit_file() {
    let pool = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let t = table(Dialect::Postgres);
    pool.execute(AssertSqlSafe(format!(
        "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, note TEXT, password TEXT)"
    )))
    .await
    .unwrap();
    let canary = Canary::new();
    let dir = std::env::temp_dir().join(unique_name("sql-audit-log"));
    let key = ChainKey::new(&palisade_secrets_value()).unwrap();
    let log = ChainedLog::open(&dir, key, ChainOptions::default()).unwrap();
    let capture = palisade_test::LogCapture::start();
    let recorder = Recorder::new();
    for values in [false, true] {
        let mut builder = Audit::builder()
            .sink(TracingSink::new())
            .sink(recorder.clone());
        if values {
            builder = builder.parameter_values(FieldMasker::new());
        }
        let audit = builder.build();
        let db = GuardedSql::<Postgres>::read_write()
            .with_audit(audit.clone(), QueryTarget::new(DbSystem::PostgreSql));
        let insert = format!("INSERT INTO {t} (note, password) VALUES (:note, :password)");
        let note = if values { "plain note" } else { canary.value() };
        db.sql(&insert)
            .bind("note", note)
            .bind("password", canary.value())
            .execute(&pool)
            .await
            .unwrap();
        let select = format!("SELECT note FROM {t} WHERE password = :password");
        db.sql(&select)
            .bind("password", canary.value())
            .fetch_all(&pool)
            .await
            .unwrap();
        audit.flush();
    }
    // The chained log gets the same events.
    let events = recorder.take_queries();
    let audit = Audit::builder().sink(log).build();
    for event in &events {
        let info = event.info().clone();
        audit.start_query(info).succeeded(None);
    }
    drop(audit);
    assert_eq!(events.len(), 8);
    canary.assert_absent("query events", &format!("{events:?}"));
    canary.assert_absent("log lines", &capture.text());
    for file in log_files(&dir, "audit").unwrap() {
        canary.assert_absent("the audit file", &std::fs::read_to_string(file).unwrap());
    }
    let with_values = events.last().unwrap().info().parameters();
    assert_eq!(with_values[0].value(), Some("[REDACTED]"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn palisade_secrets_value() -> palisade_secrets::SecretValue {
    palisade_secrets::SecretValue::from_string("a chain key for this test, long enough".into())
}
