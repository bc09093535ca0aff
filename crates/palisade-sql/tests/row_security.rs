//! R-SQL-5 on the real PostgreSQL of `cargo xtask services up`: statements run as a user see
//! and write only that user's rows through the table's policy, whatever the guard admitted
//! (a statement without a filter, a tautology, a UNION, a stream); a pooled connection never
//! carries one user's setting to the next; a statement run without a user sees nothing.
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use futures_util::TryStreamExt as _;
use palisade_sql::{Dialect, GuardedSql, QueryError, SqlGuard, SqlPolicy};
use palisade_test::{Service, unique_name};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Executor as _, PgPool, Postgres, Row as _};

/// The application's role: no superuser, no BYPASSRLS, not the table's owner.
const APP_ROLE: &str = "palisade_rls_app";

/// A table with the owner policy, its rows for two users, and a pool of one connection
/// logged in as the application's role (one connection: every statement reuses it).
async fn setup() -> (String, PgPool) {
    let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let table = unique_name("rls_notes").replace('-', "_");
    let statements = [
        format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN \
             CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ),
        format!(
            "CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL)"
        ),
        format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
        format!(
            "CREATE POLICY {table}_owner ON {table} \
             USING (owner = NULLIF(current_setting('app.user_id', true), '')) \
             WITH CHECK (owner = NULLIF(current_setting('app.user_id', true), ''))"
        ),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}"),
        format!("GRANT USAGE ON SEQUENCE {table}_id_seq TO {APP_ROLE}"),
    ];
    for statement in statements {
        admin.execute(AssertSqlSafe(statement)).await.unwrap();
    }
    let url = Service::Postgres
        .url()
        .replacen("postgres@", &format!("{APP_ROLE}@"), 1);
    let app = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let db = GuardedSql::<Postgres>::read_write();
    let insert = format!("INSERT INTO {table} (owner, title) VALUES (:owner, :title)");
    for (owner, title) in [
        ("u-1", "a"),
        ("u-1", "b"),
        ("u-2", "c"),
        ("u-2", "d"),
        ("u-2", "e"),
    ] {
        db.as_user(owner)
            .sql(&insert)
            .bind("owner", owner)
            .bind("title", title)
            .execute(&app)
            .await
            .unwrap();
    }
    (table, app)
}

fn titles(rows: &[sqlx::postgres::PgRow]) -> Vec<String> {
    let mut titles: Vec<String> = rows.iter().map(|r| r.get("title")).collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn every_statement_the_guard_admits_sees_only_the_acting_users_rows() {
    let (table, app) = setup().await;
    let db = GuardedSql::<Postgres>::read_write();
    let all = format!("SELECT title FROM {table}");
    let rows = db.as_user("u-1").sql(&all).fetch_all(&app).await.unwrap();
    assert_eq!(titles(&rows), ["a", "b"]);
    let rows = db.as_user("u-2").sql(&all).fetch_all(&app).await.unwrap();
    assert_eq!(titles(&rows), ["c", "d", "e"]);

    // An always-true filter the guard admits (a column compared with itself, with no `OR`
    // for an injection to hang on): the policy still filters.
    let lenient = GuardedSql::<Postgres>::with_guard(SqlGuard::new(
        SqlPolicy::read_only(Dialect::Postgres).allow_literals(),
    ))
    .unwrap();
    for tautology in [
        format!("SELECT title FROM {table} WHERE title = title"),
        format!("SELECT title FROM {table} WHERE title IS NOT NULL OR owner = :other"),
    ] {
        let query = lenient.as_user("u-1").sql(&tautology);
        let query = if tautology.contains(":other") {
            query.bind("other", "u-2")
        } else {
            query
        };
        let rows = query.fetch_all(&app).await.unwrap();
        assert_eq!(titles(&rows), ["a", "b"], "{tautology}");
    }
    let union =
        format!("SELECT title FROM {table} WHERE owner = :owner UNION SELECT title FROM {table}");
    let rows = db
        .as_user("u-1")
        .sql(&union)
        .bind("owner", "u-2")
        .fetch_all(&app)
        .await
        .unwrap();
    assert_eq!(titles(&rows), ["a", "b"]);

    // A stream, in a transaction of the user's.
    let mut tx = db.as_user("u-2").begin(&app).await.unwrap();
    let streamed: Vec<_> = db.sql(&all).fetch(&mut *tx).try_collect().await.unwrap();
    assert_eq!(titles(&streamed), ["c", "d", "e"]);
    tx.commit().await.unwrap();

    // Writes: another user's rows are out of reach, and no row can be written for them.
    let steal = format!("UPDATE {table} SET title = :title");
    let done = db
        .as_user("u-1")
        .sql(&steal)
        .bind("title", "x")
        .execute(&app)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 2);
    let forge = format!("INSERT INTO {table} (owner, title) VALUES (:owner, :title)");
    let refused = db
        .as_user("u-1")
        .sql(&forge)
        .bind("owner", "u-2")
        .bind("title", "forged")
        .execute(&app)
        .await
        .unwrap_err();
    let QueryError::Database(database) = &refused else {
        panic!("{refused}")
    };
    assert_eq!(database.code().as_deref(), Some("42501"), "{refused}");
    let rows = db.as_user("u-2").sql(&all).fetch_all(&app).await.unwrap();
    assert_eq!(titles(&rows), ["c", "d", "e"]);
}

#[tokio::test]
async fn a_pooled_connection_never_carries_a_user_and_no_user_sees_nothing() {
    let (table, app) = setup().await;
    let db = GuardedSql::<Postgres>::read_only();
    let all = format!("SELECT title FROM {table}");
    db.as_user("u-1").sql(&all).fetch_all(&app).await.unwrap();
    // The one connection of the pool, right after u-1's transaction: no user set.
    let setting: Option<String> = sqlx::query_scalar("SELECT current_setting('app.user_id', true)")
        .fetch_one(&app)
        .await
        .unwrap();
    assert!(setting.as_deref().is_none_or(str::is_empty), "{setting:?}");
    // Without a user the policy matches no owner: nothing to read, nothing to write (fail
    // closed, with no error to tell a caller what is there).
    let rows = db.sql(&all).fetch_all(&app).await.unwrap();
    assert!(rows.is_empty());
    let rows = db.as_user("u-2").sql(&all).fetch_all(&app).await.unwrap();
    assert_eq!(titles(&rows), ["c", "d", "e"]);
    // A user the guard cannot send is refused before anything is sent.
    for bad in ["", "a\0b"] {
        let refused = db.as_user(bad).sql(&all).fetch_all(&app).await.unwrap_err();
        assert!(matches!(refused, QueryError::UserInvalid), "{refused}");
    }
    // Quotes and backslashes stay inside the setting.
    let tricky = r"u-1', true); DROP TABLE x; --\";
    let rows = db.as_user(tricky).sql(&all).fetch_all(&app).await.unwrap();
    assert!(rows.is_empty());
}

/// What the server saw as the acting user, read inside the user's own transaction as the hex
/// of its UTF-8 bytes (plain ASCII whatever the connection's client encoding).
async fn seen_by_server(db: &GuardedSql<Postgres>, pool: &PgPool, user: &str) -> String {
    // The guard refuses `current_setting` (a catalog read), so the check goes around it.
    let mut tx = db.as_user(user).begin(pool).await.unwrap();
    sqlx::query_scalar(
        "SELECT encode(convert_to(current_setting('app.user_id', true), 'UTF8'), 'hex')",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap()
}

fn hex(user: &str) -> String {
    user.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A connection whose session settings were changed by the application's own unguarded SQL
/// (the guard refuses `set_config`): every reading of string literals, and client encodings
/// in which a multibyte character can swallow a backslash or a quote.
async fn poisoned_pool(settings: &'static str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(settings).await?;
                Ok(())
            })
        })
        .connect(&Service::Postgres.url())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_user_reaches_the_server_byte_for_byte_whatever_the_session_settings() {
    let db = GuardedSql::<Postgres>::read_only();
    let users = [
        "u-1".to_owned(),
        r"o'brien".to_owned(),
        r"a\'b".to_owned(),
        r"trailing\".to_owned(),
        r"\\'; SELECT 1; --".to_owned(),
        "'')--".to_owned(),
        "$$ ; $tag$".to_owned(),
        "line\nbreak\ttab\r".to_owned(),
        "ünïcødé ✓ 𝔘 \u{202e}".to_owned(),
        r"\x27\u0027\047".to_owned(),
        // A lead byte of SJIS, BIG5, GBK and GB18030 before a backslash and a quote: in
        // those encodings the pair can read as one character and free the quote.
        "\u{81}\\', true); SELECT set_config($$app.user_id$$, $$bob$$, true); --".to_owned(),
        "é\u{80}\u{ff}\\\\''".to_owned(),
        "x".repeat(256),
    ];
    for settings in [
        "SET standard_conforming_strings = on; SET backslash_quote = on",
        "SET standard_conforming_strings = off; SET backslash_quote = off",
        "SET standard_conforming_strings = off; SET backslash_quote = on; SET client_encoding = 'SJIS'",
        "SET backslash_quote = on; SET client_encoding = 'BIG5'",
        "SET backslash_quote = on; SET client_encoding = 'GBK'",
        "SET backslash_quote = on; SET client_encoding = 'GB18030'",
        "SET client_encoding = 'LATIN1'",
        "SET client_encoding = 'SQL_ASCII'",
    ] {
        let pool = poisoned_pool(settings).await;
        for user in &users {
            let seen = seen_by_server(&db, &pool, user).await;
            assert_eq!(seen, hex(user), "{settings}: {user:?}");
        }
    }
}

#[tokio::test]
async fn no_guarded_statement_changes_the_user_and_an_unset_user_owns_nothing() {
    let (table, app) = setup().await;
    let db = GuardedSql::<Postgres>::read_write();
    // The attacks of an outside review: switching the user inside the statement, for this
    // transaction or the whole pooled connection.
    for sql in [
        format!("SELECT n.title FROM (SELECT set_config(:k, :v, true) AS x) s, {table} n"),
        format!("SELECT title, set_config(:k, :v, false) FROM {table}"),
        format!("INSERT INTO {table} (owner, title) SELECT :v, set_config(:k, :v, true)"),
    ] {
        let refused = db
            .as_user("u-1")
            .sql(&sql)
            .bind("k", palisade_sql::USER_SETTING)
            .bind("v", "u-2")
            .fetch_all(&app)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, QueryError::Refused(v) if v.rule() == palisade_sql::Rule::DangerousFunction),
            "{sql}: {refused}"
        );
    }
    // The one connection has run users' transactions: the setting is now '' rather than
    // unset, and the NULLIF of the policy still matches no owner, '' included.
    let insert = format!("INSERT INTO {table} (owner, title) VALUES (:owner, :title)");
    let refused = db
        .sql(&insert)
        .bind("owner", "")
        .bind("title", "ownerless")
        .execute(&app)
        .await
        .unwrap_err();
    // 42501: the row violates the policy's WITH CHECK.
    assert!(
        matches!(&refused, QueryError::Database(e) if e.code().as_deref() == Some("42501")),
        "{refused}"
    );
    let rows = db
        .sql(&format!("SELECT title FROM {table}"))
        .fetch_all(&app)
        .await
        .unwrap();
    assert!(rows.is_empty());
}

/// A loopback TCP proxy that counts round trips: each time the client starts sending after
/// the server has answered is one more.
async fn counting_proxy(upstream: String) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let trips = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&trips);
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            // Whether the server spoke last: the client's next bytes start a round trip.
            let server_spoke = Arc::new(AtomicBool::new(true));
            let (spoke, counter) = (Arc::clone(&server_spoke), Arc::clone(&counter));
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 64 * 1024];
                while let Ok(n @ 1..) = client_read.read(&mut buf).await {
                    if spoke.swap(false, Ordering::SeqCst) {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 64 * 1024];
                while let Ok(n @ 1..) = server_read.read(&mut buf).await {
                    server_spoke.store(true, Ordering::SeqCst);
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, trips)
}

/// The acting user costs no round trip: `BEGIN` and the setting travel together, so a
/// one-statement transaction as a user takes as many round trips as the same transaction
/// without one (the target allows one more).
#[tokio::test]
async fn a_user_adds_no_round_trip_to_a_transaction() {
    use std::sync::atomic::Ordering;
    let (table, _app) = setup().await;
    let url = Service::Postgres
        .url()
        .replacen("postgres@", &format!("{APP_ROLE}@"), 1);
    let address = url
        .split_once('@')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let (port, trips) = counting_proxy(address.clone()).await;
    let proxied = url.replacen(&address, &format!("127.0.0.1:{port}"), 1);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&proxied)
        .await
        .unwrap();
    let db = GuardedSql::<Postgres>::read_only();
    let sql = format!("SELECT title FROM {table} WHERE owner = :owner");
    const TRANSACTIONS: usize = 10;
    // Both forms once, so the driver's statement cache holds the prepared statement.
    db.as_user("u-1")
        .sql(&sql)
        .bind("owner", "u-1")
        .fetch_all(&pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    db.sql(&sql)
        .bind("owner", "u-1")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    trips.store(0, Ordering::SeqCst);
    for _ in 0..TRANSACTIONS {
        let rows = db
            .as_user("u-1")
            .sql(&sql)
            .bind("owner", "u-1")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
    }
    let as_user = trips.swap(0, Ordering::SeqCst);
    for _ in 0..TRANSACTIONS {
        let mut tx = pool.begin().await.unwrap();
        db.sql(&sql)
            .bind("owner", "u-1")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let plain = trips.swap(0, Ordering::SeqCst);
    assert!(
        plain >= 3 * TRANSACTIONS,
        "the proxy counted {plain} round trips"
    );
    assert!(
        as_user <= plain,
        "as a user: {as_user} round trips for {TRANSACTIONS} transactions; without: {plain}"
    );
}
