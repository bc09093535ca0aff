//! `verify_privileges` on a database of 1,000 tables, as `palisade db verify` runs it: one
//! login, the check, a close, on the PostgreSQL and the MariaDB of `cargo xtask services up`.
//! Target: under 1 s each. The peer is what a DBA runs by hand on PostgreSQL, one login and
//! `information_schema.table_privileges` for the role, in the same process.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::indexing_slicing,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::time::Instant;

use palisade_sql::{Expect, verify_privileges};
use palisade_test::Service;
use palisade_test::bench::{Row, keep, median, report};
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, MySqlConnection, PgConnection};

const KRATE: &str = "palisade-sql";
const TABLES: usize = 1000;
const RUNS: usize = 7;
const DATABASE: &str = "palisade_bench_1000";

/// The benchmark's own login, so the provisioned ones the tests check stay as they are.
const USER: &str = "palisade_bench";

/// The database with its tables, readable by the benchmark's role, one of them writable.
async fn setup_postgres() {
    let mut admin = PgConnection::connect(&Service::Postgres.url())
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{USER}') THEN \
             CREATE ROLE {USER} LOGIN; END IF; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )))
        .await
        .unwrap();
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(DATABASE)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
    if exists.is_none() {
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
            .await
            .unwrap();
    }
    let mut db = PgConnection::connect(&Service::Postgres.url_as("postgres", None, DATABASE, ""))
        .await
        .unwrap();
    db.execute(AssertSqlSafe(format!(
        "DO $$ BEGIN FOR i IN 1..{TABLES} LOOP \
         EXECUTE format('CREATE TABLE IF NOT EXISTS t%s (id BIGINT PRIMARY KEY, v TEXT)', i); \
         EXECUTE format('GRANT SELECT ON t%s TO {USER}', i); END LOOP; END $$"
    )))
    .await
    .unwrap();
    db.execute(AssertSqlSafe(format!("GRANT INSERT ON t1 TO {USER}")))
        .await
        .unwrap();
}

async fn setup_mariadb() {
    let mut admin = MySqlConnection::connect(&Service::Mariadb.url())
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!(
            "CREATE USER IF NOT EXISTS '{USER}'@'127.0.0.1' IDENTIFIED BY '{USER}'"
        )))
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!(
            "CREATE DATABASE IF NOT EXISTS {DATABASE}"
        )))
        .await
        .unwrap();
    for i in 1..=TABLES {
        admin
            .execute(AssertSqlSafe(format!(
                "CREATE TABLE IF NOT EXISTS {DATABASE}.t{i} (id BIGINT PRIMARY KEY, v TEXT)"
            )))
            .await
            .unwrap();
    }
    admin
        .execute(AssertSqlSafe(format!(
            "GRANT SELECT, INSERT ON `palisade\\_bench\\_1000`.* TO '{USER}'@'127.0.0.1'"
        )))
        .await
        .unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        setup_postgres().await;
        setup_mariadb().await;
        let pg = Service::Postgres.url_as(USER, None, DATABASE, "");
        let maria = Service::Mariadb.url_as(USER, Some(USER), DATABASE, "");
        let (mut ours_pg, mut ours_maria, mut peer) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut conn = PgConnection::connect(&pg).await.unwrap();
            let report = verify_privileges(&mut conn, &Expect::ReadOnly)
                .await
                .unwrap();
            conn.close().await.unwrap();
            ours_pg.push(start.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(report.excesses.len(), 1, "{:?}", report.excesses);

            let start = Instant::now();
            let mut conn = MySqlConnection::connect(&maria).await.unwrap();
            let report = verify_privileges(&mut conn, &Expect::ReadOnly)
                .await
                .unwrap();
            conn.close().await.unwrap();
            ours_maria.push(start.elapsed().as_secs_f64() * 1000.0);
            // One INSERT per table, and the database-wide grant itself.
            assert_eq!(report.excesses.len(), TABLES + 1);

            let start = Instant::now();
            let mut conn = PgConnection::connect(&pg).await.unwrap();
            let rows = sqlx::query(
                "SELECT table_schema, table_name, privilege_type \
                 FROM information_schema.table_privileges WHERE grantee = current_user",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
            peer.push(start.elapsed().as_secs_f64() * 1000.0);
            keep(rows);
        }
        let peer = median(peer);
        for (engine, ours) in [
            ("PostgreSQL", median(ours_pg)),
            ("MariaDB", median(ours_maria)),
        ] {
            report(&Row {
                krate: KRATE,
                name: format!("verify_privileges, 1,000 tables, login to close ({engine})"),
                figure: ours,
                unit: "ms",
                peer: "one login and information_schema.table_privileges for the role (PostgreSQL)"
                    .into(),
                peer_figure: Some(peer),
                target: "< 1000 ms".into(),
                met: ours < 1000.0,
            });
        }
    });
}
