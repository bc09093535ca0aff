//! The hostile-SQL suite on the real servers of `cargo xtask services up`: what the statement
//! the guard refuses would have done, run as an unprivileged PostgreSQL role (and as the
//! services file's MariaDB user, which cannot grant a narrower one), next to the refusal;
//! and the PostgreSQL function catalog checked against the guard's function classes.
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use palisade_sql::{Dialect, Params, Rule, SqlGuard, SqlPolicy};
use palisade_test::{Service, unique_name};
use std::str::FromStr as _;

use sqlx::mysql::MySqlConnectOptions;
use sqlx::{AssertSqlSafe, Executor as _, MySqlPool, PgPool, Row as _};

/// A scratch schema with `notes` (the table the policy allows) and `secrets` (one it does
/// not), and a fresh login role that can read both and nothing else: the server's own
/// privileges would not stop any of what follows.
struct Scratch {
    admin: PgPool,
    role: String,
    schema: String,
    user: PgPool,
}

impl Scratch {
    async fn new() -> Self {
        let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
        let schema = unique_name("hostile").replace('-', "_");
        let role = format!("{schema}_app");
        for sql in [
            format!("CREATE SCHEMA {schema}"),
            format!("CREATE TABLE {schema}.notes (id int, owner int, body text)"),
            format!("CREATE TABLE {schema}.secrets (secret text)"),
            format!("INSERT INTO {schema}.notes VALUES (1, 1, 'mine'), (2, 2, 'theirs')"),
            format!("INSERT INTO {schema}.secrets VALUES ('hunter2')"),
            format!("CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
            format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
            format!("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"),
            format!("ALTER ROLE {role} SET search_path = {schema}"),
        ] {
            admin.execute(AssertSqlSafe(sql)).await.unwrap();
        }
        let url = Service::Postgres
            .url()
            .replacen("postgres@", &format!("{role}@"), 1);
        let user = PgPool::connect(&url).await.unwrap();
        Self {
            admin,
            role,
            schema,
            user,
        }
    }

    /// Every value of every row `sql` returns, as text, run as the unprivileged role.
    async fn run(&self, sql: &str) -> Vec<String> {
        let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&self.user)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter()
            .flat_map(|row| {
                (0..row.len()).map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                })
            })
            .collect()
    }

    async fn drop(self) {
        self.user.close().await;
        for sql in [
            format!("DROP SCHEMA {} CASCADE", self.schema),
            format!("DROP ROLE {}", self.role),
        ] {
            self.admin.execute(AssertSqlSafe(sql)).await.unwrap();
        }
    }
}

#[tokio::test]
async fn what_the_guard_refuses_does_harm_on_postgresql() {
    let db = Scratch::new().await;
    let guard = SqlGuard::new(
        SqlPolicy::read_only(Dialect::Postgres)
            .allow_literals()
            .with_tables(["notes"]),
    );
    // (statement, the rule that refuses it, what the server returned that it should not).
    let cases: &[(&str, Rule, &str)] = &[
        // Another table through a set operation's TABLE branch.
        (
            "SELECT body FROM notes WHERE id = 1 UNION TABLE secrets",
            Rule::TableNotAllowed,
            "hunter2",
        ),
        // A CTE named like the real table hides it only inside its own query.
        (
            "SELECT s.secret FROM (WITH secrets AS (SELECT 1) SELECT * FROM secrets) x, secrets s",
            Rule::TableNotAllowed,
            "hunter2",
        ),
        // A CTE's own body still reads the real table of its name.
        (
            "WITH secrets AS (SELECT * FROM secrets) SELECT secret FROM secrets",
            Rule::TableNotAllowed,
            "hunter2",
        ),
        (
            "WITH y AS (SELECT * FROM secrets), secrets AS (SELECT 1) SELECT * FROM y",
            Rule::TableNotAllowed,
            "hunter2",
        ),
        // SQL text given as a value runs, whatever the table allow-list says.
        (
            "SELECT query_to_xml('SELECT secret FROM secrets', true, true, '')::text",
            Rule::DangerousFunction,
            "hunter2",
        ),
        (
            "SELECT table_to_xml('secrets', true, true, '')::text",
            Rule::DangerousFunction,
            "hunter2",
        ),
        // Tautologies without the literal shapes pattern lists look for.
        (
            "SELECT body FROM notes WHERE owner = 1 OR (SELECT 1) = (SELECT 1)",
            Rule::Tautology,
            "theirs",
        ),
        (
            "SELECT body FROM notes WHERE owner = 1 OR body LIKE '%'",
            Rule::Tautology,
            "theirs",
        ),
        (
            "SELECT body FROM notes WHERE owner = 1 OR id BETWEEN id AND id",
            Rule::Tautology,
            "theirs",
        ),
        // A UNION branch that reads another table through a scalar subquery.
        (
            "SELECT body FROM notes WHERE owner = 1 UNION SELECT (SELECT secret FROM secrets LIMIT 1)",
            Rule::UnionProbe,
            "hunter2",
        ),
    ];
    for (sql, rule, leaked) in cases {
        let refused = guard.check(sql, &Params::none()).unwrap_err();
        assert_eq!(refused.rule(), *rule, "{sql}");
        let values = db.run(sql).await;
        assert!(
            values.iter().any(|v| v.contains(leaked)),
            "{sql} did not return {leaked} on the server: {values:?}"
        );
    }

    // The server reads U&"..." as the name it spells: a settings write through a read-only
    // handle, which the guard refuses in every policy.
    let sql = r#"SELECT U&"set\005fconfig"('application_name', 'written', false)"#;
    assert_eq!(
        guard.check(sql, &Params::none()).unwrap_err().rule(),
        Rule::DangerousFunction
    );
    let mut conn = db.user.acquire().await.unwrap();
    sqlx::query(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .unwrap();
    let now: String = sqlx::query_scalar("SELECT current_setting('application_name')")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(now, "written");
    drop(conn);
    db.drop().await;
}

/// Every function of PostgreSQL's own catalog that belongs to a dangerous class (by name
/// pattern, or because an argument is SQL text) is refused by the guard: a function the
/// server gains in a new release fails this test until the guard knows it.
#[tokio::test]
async fn the_postgresql_catalog_has_no_dangerous_function_the_guard_admits() {
    let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let role = unique_name("fresh").replace('-', "_");
    admin
        .execute(AssertSqlSafe(format!("CREATE ROLE {role}")))
        .await
        .unwrap();
    // Classes: sleeps, files and directories, large objects, other servers, SQL text or
    // tables read by name (to_xml, ts_stat), signals and administration, replication,
    // statistics resets, backups, advisory locks, sequences, settings, notifications.
    let rows = sqlx::query(AssertSqlSafe(format!(
        r"SELECT DISTINCT p.proname::text,
                 has_function_privilege('{role}', p.oid, 'EXECUTE') AS fresh_may_run
          FROM pg_proc p
          WHERE p.proname ~ '(sleep|^pg_read|^pg_ls_|^pg_stat_file|^pg_file_|^lo_|^lo(read|write)$|dblink|_to_xml|^ts_(stat|rewrite)$|terminate|^pg_cancel|^pg_signal|reload_conf|rotate_log|^pg_promote|switch_wal|restore_point|^pg_backup|advisory|^set_config$|^setval$|^nextval$|^pg_notify$|^pg_(create|drop|copy)_[a-z]*_?replication_slot|replication_slot_advance|^pg_logical_(slot|emit)|^pg_stat_reset|^pg_current_logfile|^pg_import|^pg_export_snapshot|^pg_log_backend|replication_origin|wal_replay|prewarm|(start|stop)_backup|standby_snapshot|stat_statements_reset|stat_clear_snapshot|xact_id$|^txid_current$|^pg_hba|^current_setting$|^pg_config$|^pg_get_)'
             OR EXISTS (SELECT 1 FROM unnest(p.proargnames) AS a(n)
                        WHERE a.n IN ('query', 'sqlquery'))"
    )))
    .fetch_all(&admin)
    .await
    .unwrap();
    admin
        .execute(AssertSqlSafe(format!("DROP ROLE {role}")))
        .await
        .unwrap();
    assert!(rows.len() > 80, "only {} functions matched", rows.len());
    let reader = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    let mut admitted = Vec::new();
    let mut fresh = 0;
    for row in &rows {
        let name: String = row.get(0);
        let fresh_may_run: bool = row.get(1);
        fresh += usize::from(fresh_may_run);
        // pg_stat_get_activity reports other sessions' queries; it is a catalog view's
        // source, read through pg_stat_activity, and no sink.
        if name == "pg_stat_get_activity" || name == "pg_prepared_statement" {
            continue;
        }
        for sql in [
            format!("SELECT {name}(1)"),
            format!("SELECT pg_catalog.{name}(1)"),
            format!("SELECT * FROM {name}(1)"),
        ] {
            match reader.check(&sql, &Params::none()) {
                Err(v)
                    if matches!(
                        v.rule(),
                        Rule::DangerousFunction | Rule::StatementNotAllowed | Rule::CatalogRead
                    ) => {}
                Err(v) => admitted.push(format!("{sql}: {}", v.rule().id())),
                Ok(_) => admitted.push(sql),
            }
        }
    }
    assert!(admitted.is_empty(), "admitted: {admitted:#?}");
    // A fresh role may run many of them (sleeps, sequences, locks, text functions): the
    // server's privileges are not the guard.
    assert!(fresh > 10, "a fresh role may run only {fresh}");
}

#[tokio::test]
async fn what_the_guard_refuses_does_harm_on_mariadb() {
    // sqlx turns on PIPES_AS_CONCAT; a server's default mode (and the mysql client) reads
    // `||` as OR, which is what the guard assumes.
    let options = MySqlConnectOptions::from_str(&Service::Mariadb.url())
        .unwrap()
        .pipes_as_concat(false);
    let pool = MySqlPool::connect_with(options).await.unwrap();
    let notes = unique_name("notes").replace('-', "_");
    let secrets = unique_name("secrets").replace('-', "_");
    // Another table whose name differs from `notes` only in case: a Linux server keeps both.
    let shouting = notes.to_uppercase();
    for sql in [
        format!("CREATE TABLE {shouting} (body TEXT)"),
        format!("INSERT INTO {shouting} VALUES ('hunter2')"),
        format!("CREATE TABLE {notes} (id INT, owner INT, body TEXT)"),
        format!("CREATE TABLE {secrets} (secret TEXT)"),
        format!("INSERT INTO {notes} VALUES (1, 1, 'mine'), (2, 2, 'theirs')"),
        format!("INSERT INTO {secrets} VALUES ('hunter2')"),
    ] {
        pool.execute(AssertSqlSafe(sql)).await.unwrap();
    }
    let guard = SqlGuard::new(
        SqlPolicy::read_only(Dialect::MySql)
            .allow_literals()
            .with_tables([notes.as_str()]),
    );
    let cases = [
        (
            format!("SELECT body FROM {shouting}"),
            Rule::TableNotAllowed,
            "hunter2",
        ),
        // A CTE's own body still reads the real table of its name.
        (
            format!(
                "WITH {notes} AS (SELECT secret AS body FROM {secrets}) SELECT body FROM {notes}"
            ),
            Rule::TableNotAllowed,
            "hunter2",
        ),
        // `||` is OR in MariaDB's default mode.
        (
            format!("SELECT body FROM {notes} WHERE owner = 1 || 1=1"),
            Rule::Tautology,
            "theirs",
        ),
        // An executable comment right after a string literal.
        (
            format!("SELECT 'a'/*!50000 UNION SELECT secret FROM {secrets}*/"),
            Rule::ExecutableComment,
            "hunter2",
        ),
        (
            format!("SELECT body FROM {notes} WHERE owner = 1 /*M!100000 OR 1=1*/"),
            Rule::ExecutableComment,
            "theirs",
        ),
    ];
    for (sql, rule, leaked) in &cases {
        let refused = guard.check(sql, &Params::none()).unwrap_err();
        assert_eq!(refused.rule(), *rule, "{sql}");
        let rows = sqlx::query(AssertSqlSafe(sql.clone()))
            .fetch_all(&pool)
            .await
            .unwrap();
        let values: Vec<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
        assert!(
            values.iter().any(|v| v == leaked),
            "{sql} did not return {leaked}: {values:?}"
        );
    }
    for table in [notes, secrets, shouting] {
        pool.execute(AssertSqlSafe(format!("DROP TABLE {table}")))
            .await
            .unwrap();
    }
}

/// PostgreSQL marks every function that can change state or read state outside the
/// statement as volatile. Each volatile function of its catalog that SQL can call is refused
/// by a read-only guard (as dangerous, a write or a catalog read), but for the few whose only
/// effect is a fresh value: a function the server gains in a new release fails this test
/// until the guard classifies it.
#[tokio::test]
async fn every_volatile_postgresql_function_is_refused_on_a_read_only_handle() {
    const FRESH_VALUES_ONLY: &[&str] = &[
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "gen_random_uuid",
        "currval",
        "lastval",
    ];
    let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        r"SELECT DISTINCT p.proname::text FROM pg_proc p
          WHERE p.provolatile = 'v'
            AND p.pronamespace = 'pg_catalog'::regnamespace
            AND p.prokind = 'f'
            AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype,
                'index_am_handler'::regtype, 'table_am_handler'::regtype,
                'language_handler'::regtype, 'tsm_handler'::regtype, 'fdw_handler'::regtype)
            AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]))",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(names.len() > 150, "only {} volatile functions", names.len());
    let reader = SqlGuard::new(SqlPolicy::read_only(Dialect::Postgres).allow_literals());
    let admitted: Vec<&String> = names
        .iter()
        .filter(|name| !FRESH_VALUES_ONLY.contains(&name.as_str()))
        .filter(|name| {
            reader
                .check(&format!("SELECT {name}(1)"), &Params::none())
                .is_ok()
        })
        .collect();
    assert!(admitted.is_empty(), "volatile and admitted: {admitted:?}");
}
