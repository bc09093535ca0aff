//! R-SQL-5 on the real PostgreSQL of `cargo xtask services up`: `verify_privileges` reports
//! exactly what each credential can do beyond what is expected: nothing for a correct
//! read-only role; a stray INSERT; a superuser; a table's owner; write inherited through a
//! role membership; and the session's TLS state and search_path.
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use palisade_sql::{Excess, Expect, verify_privileges};
use palisade_test::{Service, unique_name};
use sqlx::{AssertSqlSafe, Executor as _, PgPool};

async fn as_role(role: &str) -> PgPool {
    let url = Service::Postgres
        .url()
        .replacen("postgres@", &format!("{role}@"), 1);
    PgPool::connect(&url).await.unwrap()
}

fn write(table: &str, privilege: &'static str) -> Excess {
    Excess::TableWrite {
        table: format!("public.{table}"),
        privilege,
    }
}

#[tokio::test]
async fn each_credential_is_reported_exactly() {
    let admin = PgPool::connect(&Service::Postgres.url()).await.unwrap();
    let read = unique_name("priv_read").replace('-', "_");
    let owned = unique_name("priv_owned").replace('-', "_");
    let mut setup = vec![
        format!("CREATE TABLE {read} (id BIGINT PRIMARY KEY)"),
        format!("CREATE TABLE {owned} (id BIGINT PRIMARY KEY)"),
    ];
    for (role, attributes) in [
        ("palisade_priv_ro", "NOSUPERUSER"),
        ("palisade_priv_stray", "NOSUPERUSER"),
        ("palisade_priv_super", "SUPERUSER"),
        ("palisade_priv_owner", "NOSUPERUSER"),
        ("palisade_priv_writer", "NOLOGIN"),
        ("palisade_priv_member", "NOSUPERUSER"),
    ] {
        setup.push(format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN \
             CREATE ROLE {role} LOGIN; END IF; END $$"
        ));
        setup.push(format!("ALTER ROLE {role} {attributes}"));
    }
    setup.extend([
        format!(
            "GRANT SELECT ON {read} TO palisade_priv_ro, palisade_priv_stray, palisade_priv_member"
        ),
        format!("GRANT INSERT ON {read} TO palisade_priv_stray"),
        format!("ALTER TABLE {owned} OWNER TO palisade_priv_owner"),
        format!("GRANT INSERT, UPDATE ON {read} TO palisade_priv_writer"),
        "GRANT palisade_priv_writer TO palisade_priv_member".to_owned(),
    ]);
    for statement in setup {
        admin.execute(AssertSqlSafe(statement)).await.unwrap();
    }

    let report = verify_privileges(&as_role("palisade_priv_ro").await, &Expect::ReadOnly)
        .await
        .unwrap();
    assert_eq!(report.role, "palisade_priv_ro");
    assert_eq!(report.excesses, []);
    assert_eq!(report.tls_cipher, None, "the test server speaks no TLS yet");
    assert!(
        report.search_path.contains("public"),
        "{}",
        report.search_path
    );

    let report = verify_privileges(&as_role("palisade_priv_stray").await, &Expect::ReadOnly)
        .await
        .unwrap();
    assert_eq!(report.excesses, [write(&read, "INSERT")]);
    // Expected to write that table, the same role is exactly right.
    let expect = Expect::ReadWrite {
        tables: vec![read.clone()],
    };
    let report = verify_privileges(&as_role("palisade_priv_stray").await, &expect)
        .await
        .unwrap();
    assert_eq!(report.excesses, []);

    let report = verify_privileges(&as_role("palisade_priv_super").await, &Expect::ReadOnly)
        .await
        .unwrap();
    assert_eq!(report.excesses.first(), Some(&Excess::Superuser));

    let report = verify_privileges(&as_role("palisade_priv_owner").await, &Expect::ReadOnly)
        .await
        .unwrap();
    let mut expected = vec![Excess::OwnsTable {
        table: format!("public.{owned}"),
    }];
    for privilege in ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
        expected.push(write(&owned, privilege));
    }
    expected.sort();
    assert_eq!(report.excesses, expected);

    let report = verify_privileges(&as_role("palisade_priv_member").await, &Expect::ReadOnly)
        .await
        .unwrap();
    let mut expected = vec![write(&read, "INSERT"), write(&read, "UPDATE")];
    expected.sort();
    assert_eq!(report.excesses, expected);
    for line in report.excesses.iter().map(ToString::to_string) {
        assert!(line.starts_with("the role has "), "{line}");
    }
}
