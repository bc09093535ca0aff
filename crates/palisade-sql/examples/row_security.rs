//! Row-level security on PostgreSQL with `GuardedSql::as_user`: a table whose policy reads
//! `app.user_id`, an application role that is neither superuser nor `BYPASSRLS`, and the
//! rows each acting user sees.
//!
//! ```text
//! cargo xtask services up
//! cargo run -p palisade-sql --features sqlx --example row_security -- alice bob
//! ```
//!
//! `DATABASE_URL` names an administrator's connection (default: the PostgreSQL of
//! `cargo xtask services up`); the example creates the role `palisade_example_app`, the table
//! `rls_example_notes` with its policy, connects again as the role and prints, for each user
//! given (default `alice` and `bob`), the setting the server saw and the titles visible.

use std::io::Write as _;

use palisade_sql::{GuardedSql, USER_SETTING};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor as _, PgPool, Postgres, Row as _};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:55432/postgres";
const APP_ROLE: &str = "palisade_example_app";

/// The policy pattern: row security enabled and forced (so the table's owner obeys it too),
/// one policy for reads and writes keyed on the transaction-local setting, and an
/// application role with plain table privileges only.
const SETUP: &[&str] = &[
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'palisade_example_app') \
     THEN CREATE ROLE palisade_example_app LOGIN NOSUPERUSER NOBYPASSRLS; END IF; \
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    "CREATE TABLE IF NOT EXISTS rls_example_notes (owner TEXT NOT NULL, title TEXT NOT NULL)",
    "ALTER TABLE rls_example_notes ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE rls_example_notes FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS rls_example_owner ON rls_example_notes",
    "CREATE POLICY rls_example_owner ON rls_example_notes \
     USING (owner = NULLIF(current_setting('app.user_id', true), '')) \
     WITH CHECK (owner = NULLIF(current_setting('app.user_id', true), ''))",
    "GRANT SELECT, INSERT ON rls_example_notes TO palisade_example_app",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let admin = PgPool::connect(&url).await?;
    for statement in SETUP {
        admin.execute(AssertSqlSafe(*statement)).await?;
    }
    let options: PgConnectOptions = url.parse()?;
    let app = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.username(APP_ROLE))
        .await?;

    let mut users: Vec<String> = std::env::args().skip(1).collect();
    if users.is_empty() {
        users = vec!["alice".to_owned(), "bob".to_owned()];
    }
    let db = GuardedSql::<Postgres>::read_write();
    let mut out = std::io::stdout().lock();
    for user in &users {
        // Each user writes one note of their own; the policy's WITH CHECK refuses any other
        // owner.
        db.as_user(user)
            .sql("INSERT INTO rls_example_notes (owner, title) VALUES (:owner, :title)")
            .bind("owner", user.as_str())
            .bind("title", format!("note of {user}"))
            .execute(&app)
            .await?;
    }
    for user in &users {
        // The guard refuses `current_setting` (a catalog read): read it unguarded, inside the
        // user's own transaction.
        let mut tx = db.as_user(user).begin(&app).await?;
        let seen: String = sqlx::query_scalar("SELECT current_setting($1, true)")
            .bind(USER_SETTING)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        let rows = db
            .as_user(user)
            .sql("SELECT title FROM rls_example_notes")
            .fetch_all(&app)
            .await?;
        let titles: Vec<String> = rows.iter().map(|row| row.get("title")).collect();
        writeln!(out, "{user:?}: server saw {seen:?}, visible {titles:?}")?;
    }
    // Outside `as_user` the setting is empty and the policy matches no row.
    let unscoped = db
        .sql("SELECT title FROM rls_example_notes")
        .fetch_all(&app)
        .await?;
    writeln!(out, "without a user: {} rows visible", unscoped.len())?;
    Ok(())
}
