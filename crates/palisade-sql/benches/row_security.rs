//! Row-level security on the real PostgreSQL of `cargo xtask services up`: a one-statement
//! transaction run as a user (`as_user`: `BEGIN` and the setting in one round trip, the
//! statement, `COMMIT`) against the same transaction without a user (`begin`, the statement,
//! `commit`), alternated query by query in one process, on a table with an owner policy,
//! as a role the policy binds. Target: at most 1.3x.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::indexing_slicing,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::time::{Duration, Instant};

use palisade_sql::GuardedSql;
use palisade_test::bench::{Row, keep, median, report};
use palisade_test::{Service, unique_name};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Executor as _, PgPool, Postgres};

const KRATE: &str = "palisade-sql";
const QUERIES: usize = 2000;
const RUNS: usize = 11;
const APP_ROLE: &str = "palisade_rls_app";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
        let table = unique_name("rls_bench").replace('-', "_");
        for statement in [
            format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
                 CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
            ),
            format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL)"),
            format!("INSERT INTO {table} SELECT g, 'u-' || (g % 10), 'title-' || g FROM generate_series(0, 999) g"),
            format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
            format!(
                "CREATE POLICY {table}_owner ON {table} USING (owner = NULLIF(current_setting('app.user_id', true), ''))"
            ),
            format!("GRANT SELECT ON {table} TO {APP_ROLE}"),
        ] {
            admin.execute(AssertSqlSafe(statement)).await.unwrap();
        }
        let url = Service::Postgres.url().replacen("postgres@", &format!("{APP_ROLE}@"), 1);
        let app = PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        let db = GuardedSql::<Postgres>::read_only();
        let sql = format!("SELECT title FROM {table} WHERE id = :id");
        let (mut ours, mut peer) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let (mut scoped, mut plain) = (Duration::ZERO, Duration::ZERO);
            for i in 0..QUERIES {
                let id = (i % 1000) as i64;
                let start = Instant::now();
                let rows = db.as_user("u-3").sql(&sql).bind("id", id).fetch_all(&app).await.unwrap();
                scoped += start.elapsed();
                keep(rows);
                let start = Instant::now();
                let mut tx = app.begin().await.unwrap();
                let rows = db.sql(&sql).bind("id", id).fetch_all(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
                plain += start.elapsed();
                keep(rows);
            }
            ours.push(scoped.as_nanos() as f64 / QUERIES as f64 / 1000.0);
            peer.push(plain.as_nanos() as f64 / QUERIES as f64 / 1000.0);
        }
        admin.execute(AssertSqlSafe(format!("DROP TABLE {table}"))).await.unwrap();
        let (ours, peer) = (median(ours), median(peer));
        report(&Row {
            krate: KRATE,
            name: "one-statement transaction as a user (row-level security)".into(),
            figure: ours,
            unit: "µs/transaction",
            peer: "the same transaction without a user (begin, statement, commit)".into(),
            peer_figure: Some(peer),
            target: "<= 1.3x".into(),
            met: ours <= 1.3 * peer,
        });
    });
}
