//! R-SQL-5 on the real servers of `cargo xtask services up`, which provision a database
//! `palisade_privileges` with one login per case on each server: `verify_privileges`
//! reports exactly what each credential can do beyond what is expected, the session's TLS
//! cipher and search path, and a typed error for a login refused, a server unreachable or
//! catalogs denied.
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use palisade_sql::{Excess, Expect, PrivilegeReport, VerifyError, verify_privileges};
use palisade_test::Service;
use sqlx::{MySqlPool, PgPool};

const DATABASE: &str = "palisade_privileges";

async fn postgres(role: &str, expect: &Expect) -> PrivilegeReport {
    let pool = PgPool::connect(&Service::Postgres.url_as(role, None, DATABASE, ""))
        .await
        .unwrap();
    verify_privileges(&pool, expect).await.unwrap()
}

/// MariaDB users' passwords are their names.
async fn mariadb(user: &str, expect: &Expect) -> PrivilegeReport {
    let pool = MySqlPool::connect(&Service::Mariadb.url_as(user, Some(user), DATABASE, ""))
        .await
        .unwrap();
    verify_privileges(&pool, expect).await.unwrap()
}

fn write(table: &str, privilege: &'static str) -> Excess {
    Excess::TableWrite {
        table: table.to_owned(),
        privilege,
    }
}

fn sorted(mut excesses: Vec<Excess>) -> Vec<Excess> {
    excesses.sort();
    excesses
}

#[tokio::test]
async fn postgres_each_role_is_reported_exactly() {
    let report = postgres("palisade_ro", &Expect::ReadOnly).await;
    assert_eq!(report.role, "palisade_ro");
    assert_eq!(report.excesses, []);
    assert!(
        report.tls_cipher.is_some(),
        "sqlx's default sslmode=prefer takes the TLS the server offers"
    );
    assert!(
        report.search_path.contains("public"),
        "{}",
        report.search_path
    );
    let plain = PgPool::connect(&Service::Postgres.url_as(
        "palisade_ro",
        None,
        DATABASE,
        "sslmode=disable",
    ))
    .await
    .unwrap();
    let report = verify_privileges(&plain, &Expect::ReadOnly).await.unwrap();
    assert_eq!(report.tls_cipher, None, "a plain TCP session");

    let report = postgres("palisade_stray", &Expect::ReadOnly).await;
    assert_eq!(report.excesses, [write("public.accounts", "INSERT")]);
    // Expected to write that table (bare or qualified), the same role is exactly right.
    for table in ["accounts", "public.accounts"] {
        let expect = Expect::ReadWrite {
            tables: vec![table.to_owned()],
        };
        assert_eq!(postgres("palisade_stray", &expect).await.excesses, []);
    }

    let report = postgres("palisade_super", &Expect::ReadOnly).await;
    assert_eq!(report.excesses.first(), Some(&Excess::Superuser));

    let report = postgres("palisade_owner", &Expect::ReadOnly).await;
    let mut expected = vec![Excess::OwnsTable {
        table: "public.owned_notes".to_owned(),
    }];
    for privilege in ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
        expected.push(write("public.owned_notes", privilege));
    }
    // An owner may also add triggers and foreign keys.
    for privilege in ["TRIGGER", "REFERENCES"] {
        expected.push(Excess::Privilege {
            privilege: privilege.to_owned(),
            scope: "public.owned_notes".to_owned(),
        });
    }
    assert_eq!(report.excesses, sorted(expected));

    // Write inherited through membership in a NOLOGIN role.
    let report = postgres("palisade_member", &Expect::ReadOnly).await;
    assert_eq!(
        report.excesses,
        sorted(vec![
            write("public.orders", "INSERT"),
            write("public.orders", "UPDATE")
        ])
    );
    for line in report.excesses.iter().map(ToString::to_string) {
        assert!(line.starts_with("the role has "), "{line}");
    }
}

#[tokio::test]
async fn mariadb_each_user_is_reported_exactly() {
    let report = mariadb("palisade_ro", &Expect::ReadOnly).await;
    assert_eq!(report.role, "palisade_ro@127.0.0.1");
    assert_eq!(report.excesses, []);
    assert!(
        report.tls_cipher.is_some(),
        "sqlx's default ssl-mode=PREFERRED takes the TLS the server offers"
    );
    assert_eq!(report.search_path, DATABASE);
    let plain = MySqlPool::connect(&Service::Mariadb.url_as(
        "palisade_ro",
        Some("palisade_ro"),
        DATABASE,
        "ssl-mode=DISABLED",
    ))
    .await
    .unwrap();
    let report = verify_privileges(&plain, &Expect::ReadOnly).await.unwrap();
    assert_eq!(report.tls_cipher, None, "a plain TCP session");

    let report = mariadb("palisade_stray", &Expect::ReadOnly).await;
    assert_eq!(
        report.excesses,
        [write("palisade_privileges.accounts", "INSERT")]
    );
    for table in ["accounts", "palisade_privileges.accounts"] {
        let expect = Expect::ReadWrite {
            tables: vec![table.to_owned()],
        };
        assert_eq!(mariadb("palisade_stray", &expect).await.excesses, []);
    }

    let report = mariadb("palisade_super", &Expect::ReadOnly).await;
    assert_eq!(
        report.excesses,
        [Excess::Privilege {
            privilege: "SUPER".to_owned(),
            scope: "*.*".to_owned()
        }]
    );

    // `palisade_privilege_` (an unescaped `_`) matches `palisade_privileges` and any
    // database made later whose name fits.
    let report = mariadb("palisade_wild", &Expect::ReadOnly).await;
    assert_eq!(
        report.excesses,
        [Excess::WildcardDatabase {
            pattern: "palisade_privilege_".to_owned()
        }]
    );

    // Write through a role it holds (its default role, which any role it can SET is too).
    let report = mariadb("palisade_member", &Expect::ReadOnly).await;
    assert_eq!(
        report.excesses,
        sorted(vec![
            Excess::MemberOfPrivileged {
                role: "palisade_writer".to_owned()
            },
            write("palisade_privileges.orders", "INSERT"),
            write("palisade_privileges.orders", "UPDATE"),
        ])
    );

    // The tests' own administrator: everything, everywhere.
    let pool = MySqlPool::connect(&Service::Mariadb.url()).await.unwrap();
    let report = verify_privileges(&pool, &Expect::ReadOnly).await.unwrap();
    assert!(
        report.excesses.contains(&Excess::AllPrivileges {
            scope: "*.*".to_owned()
        }),
        "{:?}",
        report.excesses
    );
}

/// A URL that verifies the server's certificate against the test CA, to `host`.
fn verified(service: Service, user: &str, password: Option<&str>, host: &str) -> String {
    let ca = service.field("tls_ca").unwrap();
    let query = match service {
        Service::Postgres => format!("sslmode=verify-full&sslrootcert={ca}"),
        _ => format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
    };
    service.url_as(user, password, DATABASE, &query).replacen(
        "@127.0.0.1:",
        &format!("@{host}:"),
        1,
    )
}

#[tokio::test]
async fn tls_verifies_the_server_and_a_tls_only_login_refuses_plain_text() {
    use palisade_secrets::{Dsn, TlsPolicy};
    let user = "palisade_tls_only";
    for service in [Service::Postgres, Service::Mariadb] {
        let password = (service == Service::Mariadb).then_some(user);
        // The DSN as an application holds it: palisade-secrets judges it, sqlx connects.
        let dsn = Dsn::parse(&verified(service, user, password, "localhost")).unwrap();
        dsn.check_tls(TlsPolicy::Production).unwrap();
        let report = match service {
            Service::Postgres => {
                let pool = PgPool::connect(dsn.expose_secret()).await.unwrap();
                verify_privileges(&pool, &Expect::ReadOnly).await.unwrap()
            }
            _ => {
                let pool = MySqlPool::connect(dsn.expose_secret()).await.unwrap();
                verify_privileges(&pool, &Expect::ReadOnly).await.unwrap()
            }
        };
        let cipher = report.tls_cipher.unwrap_or_default();
        assert!(cipher.starts_with("TLS_"), "{service}: {cipher:?}");
        assert_eq!(report.excesses, [], "{service}");

        // The certificate names localhost only: the same server at 127.0.0.1 is refused.
        let wrong_host = verified(service, user, password, "127.0.0.1");
        let refused = match service {
            Service::Postgres => PgPool::connect(&wrong_host).await.map(drop),
            _ => MySqlPool::connect(&wrong_host).await.map(drop),
        };
        let refused = VerifyError::from(refused.unwrap_err());
        assert!(
            matches!(refused, VerifyError::Unreachable(_)),
            "{service}: {refused:?}"
        );

        // Without TLS the server itself refuses the login.
        let plain = match service {
            Service::Postgres => service.url_as(user, None, DATABASE, "sslmode=disable"),
            _ => service.url_as(user, password, DATABASE, "ssl-mode=DISABLED"),
        };
        let refused = match service {
            Service::Postgres => PgPool::connect(&plain).await.map(drop),
            _ => MySqlPool::connect(&plain).await.map(drop),
        };
        let refused = VerifyError::from(refused.unwrap_err());
        assert!(
            matches!(refused, VerifyError::LoginRefused(_)),
            "{service}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn each_failure_is_named_and_shows_no_password() {
    let canary = "Canary-Pw-7c1e9";
    // A wrong password, on both servers.
    let refused =
        PgPool::connect(&Service::Postgres.url_as("palisade_password", Some(canary), DATABASE, ""))
            .await
            .unwrap_err();
    let refused = VerifyError::from(refused);
    assert!(
        matches!(refused, VerifyError::LoginRefused(_)),
        "{refused:?}"
    );
    let refused =
        MySqlPool::connect(&Service::Mariadb.url_as("palisade_ro", Some(canary), DATABASE, ""))
            .await
            .unwrap_err();
    let refused = VerifyError::from(refused);
    assert!(
        matches!(refused, VerifyError::LoginRefused(_)),
        "{refused:?}"
    );
    for shown in [format!("{refused}"), format!("{refused:?}")] {
        assert!(!shown.contains(canary), "{shown}");
        assert!(!shown.contains("palisade_ro"), "{shown}");
    }
    // The right password logs in.
    let pool = PgPool::connect(&Service::Postgres.url_as(
        "palisade_password",
        Some("palisade_password"),
        DATABASE,
        "",
    ))
    .await
    .unwrap();
    assert_eq!(
        verify_privileges(&pool, &Expect::ReadOnly)
            .await
            .unwrap()
            .excesses,
        []
    );

    // Nothing listens there.
    // (One connection: a pool would retry until its acquire timeout.)
    let refused = <sqlx::PgConnection as sqlx::Connection>::connect(
        "postgres://palisade_ro@127.0.0.1:1/postgres",
    )
    .await
    .unwrap_err();
    let refused = VerifyError::from(refused);
    assert!(
        matches!(refused, VerifyError::Unreachable(_)),
        "{refused:?}"
    );

    // A database whose catalogs PUBLIC may not read (`pg_class` revoked there).
    let pool =
        PgPool::connect(&Service::Postgres.url_as("palisade_ro", None, "palisade_no_catalog", ""))
            .await
            .unwrap();
    let refused = verify_privileges(&pool, &Expect::ReadOnly)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, VerifyError::CatalogDenied(_)),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("(code 42501)"), "{refused}");
}
