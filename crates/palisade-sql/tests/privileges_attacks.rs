//! R-SQL-5: the credentials an outside review built to slip past `verify_privileges`, each
//! able to write, change the schema or escalate on the real server while a first version of
//! the check called it read-only. Every one is now reported. Each PostgreSQL case gets a
//! database of its own (its objects would otherwise show in the other tests' checks).
#![cfg(feature = "sqlx")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use palisade_sql::{Excess, Expect, PrivilegeReport, verify_privileges};
use palisade_test::{Service, unique_name};
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, MySqlConnection, PgConnection};

/// A fresh database with `app.t` and a unique role `login` (made by `role_sql`, where
/// `{role}` is its name and `{db}` the database's) plus `setup` run in the database as the
/// superuser; the check as `login` against it.
async fn postgres_case(
    role_sql: &str,
    setup: &[&str],
    expect: &Expect,
) -> (String, PrivilegeReport) {
    let db = unique_name("pgatk").replace('-', "_");
    let role = unique_name("atk").replace('-', "_");
    let fill = |sql: &str| sql.replace("{role}", &role).replace("{db}", &db);
    let mut admin = PgConnection::connect(&Service::Postgres.url())
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .unwrap();
    admin.execute(AssertSqlSafe(fill(role_sql))).await.unwrap();
    let mut inside = PgConnection::connect(&Service::Postgres.url_as("postgres", None, &db, ""))
        .await
        .unwrap();
    inside
        .execute("CREATE SCHEMA app; CREATE TABLE app.t (id INT PRIMARY KEY, secret TEXT)")
        .await
        .unwrap();
    inside
        .execute(AssertSqlSafe(fill(
            "GRANT USAGE ON SCHEMA app TO {role}; GRANT SELECT ON app.t TO {role}",
        )))
        .await
        .unwrap();
    for statement in setup {
        inside
            .execute(AssertSqlSafe(fill(statement)))
            .await
            .unwrap();
    }
    let mut conn = PgConnection::connect(&Service::Postgres.url_as(&role, None, &db, ""))
        .await
        .unwrap();
    let report = verify_privileges(&mut conn, expect).await.unwrap();
    // The database and the roles go; nothing else depends on them.
    conn.close().await.unwrap();
    inside.close().await.unwrap();
    admin
        .execute(AssertSqlSafe(format!("DROP DATABASE {db} WITH (FORCE)")))
        .await
        .unwrap();
    for suffix in ["", "_base", "_w", "_maker"] {
        admin
            .execute(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}{suffix}")))
            .await
            .unwrap();
    }
    (role, report)
}

fn has(report: &PrivilegeReport, excess: &Excess) -> bool {
    report.excesses.contains(excess)
}

fn privilege(privilege: &str, scope: &str) -> Excess {
    Excess::Privilege {
        privilege: privilege.to_owned(),
        scope: scope.to_owned(),
    }
}

#[tokio::test]
async fn postgres_a_session_role_hides_no_login_power() {
    // A superuser whose sessions start as a harmless role: it can RESET ROLE.
    let (role, report) = postgres_case(
        "CREATE ROLE {role}_base; CREATE ROLE {role} LOGIN SUPERUSER; \
         GRANT {role}_base TO {role}; ALTER ROLE {role} SET role = '{role}_base'",
        &[],
        &Expect::ReadOnly,
    )
    .await;
    assert_eq!(report.role, role);
    assert!(has(&report, &Excess::Superuser), "{:?}", report.excesses);
    assert!(
        has(
            &report,
            &Excess::SessionRole {
                role: format!("{role}_base")
            }
        ),
        "{:?}",
        report.excesses
    );
}

#[tokio::test]
async fn postgres_writes_through_noinherit_membership_and_column_grants() {
    let (_, report) = postgres_case(
        "CREATE ROLE {role}_w; CREATE ROLE {role} LOGIN NOINHERIT; GRANT {role}_w TO {role}",
        &[
            "GRANT INSERT, DELETE ON app.t TO {role}_w",
            "GRANT USAGE ON SCHEMA app TO {role}_w",
            "CREATE TABLE app.c (id INT, secret TEXT)",
            "GRANT UPDATE (secret) ON app.c TO {role}",
        ],
        &Expect::ReadOnly,
    )
    .await;
    let write = |table: &str, privilege| Excess::TableWrite {
        table: table.to_owned(),
        privilege,
    };
    for excess in [
        write("app.t", "INSERT"),
        write("app.t", "DELETE"),
        write("app.c", "UPDATE"),
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }
}

#[tokio::test]
async fn postgres_functions_predefined_roles_replication_and_sequences() {
    let (role, report) = postgres_case(
        "CREATE ROLE {role} LOGIN REPLICATION; GRANT pg_write_server_files TO {role}",
        &[
            "CREATE FUNCTION app.wr(i INT) RETURNS VOID LANGUAGE sql SECURITY DEFINER \
             AS $$ INSERT INTO app.t VALUES (i, 'x') $$",
            "CREATE FUNCTION app.mine() RETURNS INT LANGUAGE sql AS $$ SELECT 1 $$",
            "ALTER FUNCTION app.mine() OWNER TO {role}",
            "CREATE SEQUENCE app.s",
            "GRANT USAGE, UPDATE ON SEQUENCE app.s TO {role}",
            "GRANT SELECT ON app.t TO {role} WITH GRANT OPTION",
        ],
        &Expect::ReadOnly,
    )
    .await;
    for excess in [
        Excess::Replication,
        Excess::MemberOfPrivileged {
            role: "pg_write_server_files".to_owned(),
        },
        Excess::SecurityDefiner {
            function: "app.wr(integer)".to_owned(),
        },
        Excess::Owns {
            kind: "function",
            name: "app.mine()".to_owned(),
        },
        privilege("USAGE", "sequence app.s"),
        privilege("UPDATE", "sequence app.s"),
        Excess::GrantOption {
            scope: "app.t".to_owned(),
        },
    ] {
        assert!(
            has(&report, &excess),
            "{excess:?} in {:?} ({role})",
            report.excesses
        );
    }
}

#[tokio::test]
async fn postgres_schemas_the_database_large_objects_and_default_privileges() {
    let (role, report) = postgres_case(
        "CREATE ROLE {role} LOGIN; CREATE ROLE {role}_maker",
        &[
            "GRANT CREATE ON SCHEMA app TO {role}",
            "CREATE SCHEMA mine AUTHORIZATION {role}",
            "GRANT CREATE ON DATABASE {db} TO {role}",
            "SELECT lo_create(424242)",
            "ALTER LARGE OBJECT 424242 OWNER TO {role}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {role}_maker IN SCHEMA app \
             GRANT INSERT ON TABLES TO {role}",
            // A table whose name holds a dot: `app.t` allows `app`.`t` only.
            "CREATE TABLE public.\"app.t\" (id INT)",
            "GRANT INSERT ON public.\"app.t\" TO {role}",
        ],
        &Expect::ReadWrite {
            tables: vec!["app.t".to_owned()],
        },
    )
    .await;
    for excess in [
        privilege("CREATE", "schema app"),
        Excess::Owns {
            kind: "schema",
            name: "mine".to_owned(),
        },
        Excess::Owns {
            kind: "large object",
            name: "424242".to_owned(),
        },
        privilege(
            "INSERT",
            &format!("tables {role}_maker creates later in schema app (default privileges)"),
        ),
        Excess::TableWrite {
            table: "public.\"app.t\"".to_owned(),
            privilege: "INSERT",
        },
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }
    assert!(
        report
            .excesses
            .iter()
            .any(|e| matches!(e, Excess::Privilege { privilege, scope } if privilege == "CREATE" && scope.starts_with("database pgatk"))),
        "{:?}",
        report.excesses
    );
    // The check sees one database; the others the login may enter are listed.
    assert!(
        report.unchecked_databases.iter().any(|d| d == "postgres"),
        "{:?}",
        report.unchecked_databases
    );
}

#[tokio::test]
async fn postgres_a_search_path_cannot_blind_the_check() {
    // The role puts its own pg_has_role before the catalog's, for every session.
    let (role, report) = postgres_case(
        "CREATE ROLE {role} LOGIN",
        &[
            "GRANT INSERT ON app.t TO {role}",
            "CREATE SCHEMA evil AUTHORIZATION {role}",
            "CREATE FUNCTION evil.pg_has_role(name, oid, text) RETURNS boolean \
             LANGUAGE sql AS 'SELECT false'",
            "CREATE FUNCTION evil.has_any_column_privilege(oid, oid, text) RETURNS boolean \
             LANGUAGE sql AS 'SELECT false'",
            "ALTER ROLE {role} SET search_path = evil, pg_catalog",
        ],
        &Expect::ReadOnly,
    )
    .await;
    assert_eq!(report.search_path, "evil, pg_catalog", "{role}");
    for excess in [
        Excess::TableWrite {
            table: "app.t".to_owned(),
            privilege: "INSERT",
        },
        Excess::Owns {
            kind: "schema",
            name: "evil".to_owned(),
        },
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }
}

#[tokio::test]
async fn postgres_system_schemas_foreign_servers_owned_types_and_secret_views() {
    let (role, report) = postgres_case(
        "CREATE ROLE {role} LOGIN; CREATE ROLE {role}_maker",
        &[
            "GRANT SELECT ON pg_catalog.pg_authid TO {role}",
            "GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO {role}",
            "CREATE FUNCTION pg_catalog.palisade_wipe() RETURNS VOID LANGUAGE sql \
             SECURITY DEFINER AS 'DELETE FROM app.t'",
            "CREATE TABLE information_schema.palisade_hidden (id INT)",
            "GRANT INSERT ON information_schema.palisade_hidden TO {role}",
            "CREATE FOREIGN DATA WRAPPER palisade_fdw",
            "CREATE SERVER palisade_srv FOREIGN DATA WRAPPER palisade_fdw",
            "GRANT USAGE ON FOREIGN SERVER palisade_srv TO {role}",
            "CREATE TYPE app.mood AS ENUM ('ok')",
            "ALTER TYPE app.mood OWNER TO {role}",
            "GRANT TRIGGER ON app.t TO {role}",
            "CREATE VIEW app.secrets AS SELECT rolname, rolpassword FROM pg_authid",
            "GRANT SELECT ON app.secrets TO {role}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {role}_maker GRANT UPDATE ON SEQUENCES TO {role}",
            "ALTER ROLE {role} SET lo_compat_privileges = on",
        ],
        &Expect::ReadOnly,
    )
    .await;
    for excess in [
        privilege("SELECT", "pg_catalog.pg_authid"),
        privilege("EXECUTE", "function pg_read_file(text)"),
        Excess::SecurityDefiner {
            function: "palisade_wipe()".to_owned(),
        },
        Excess::TableWrite {
            table: "information_schema.palisade_hidden".to_owned(),
            privilege: "INSERT",
        },
        privilege("USAGE", "foreign server palisade_srv"),
        Excess::Owns {
            kind: "type",
            name: "app.mood".to_owned(),
        },
        privilege("TRIGGER", "app.t"),
        privilege(
            "SELECT",
            "app.secrets (a view over password hashes or other secrets)",
        ),
        privilege(
            "UPDATE",
            &format!("sequences {role}_maker creates later in every schema (default privileges)"),
        ),
        privilege("lo_compat_privileges", "every large object"),
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }
}

#[tokio::test]
async fn postgres_writes_through_an_inheritance_parent_reach_its_children() {
    let (_, report) = postgres_case(
        "CREATE ROLE {role} LOGIN",
        &[
            "CREATE TABLE app.parent (id INT)",
            "CREATE TABLE app.child () INHERITS (app.parent)",
            "GRANT INSERT, UPDATE, DELETE ON app.parent TO {role}",
        ],
        &Expect::ReadWrite {
            tables: vec!["app.parent".to_owned()],
        },
    )
    .await;
    assert_eq!(
        report.excesses,
        [
            Excess::TableWrite {
                table: "app.child".to_owned(),
                privilege: "DELETE",
            },
            Excess::TableWrite {
                table: "app.child".to_owned(),
                privilege: "UPDATE",
            },
        ]
    );
}

/// A MariaDB user made by `setup` (`{user}` is its name; its password is its name), checked.
async fn mariadb_case(setup: &[&str], database: &str) -> PrivilegeReport {
    let user = unique_name("atk").replace('-', "_");
    let mut admin = MySqlConnection::connect(&Service::Mariadb.url())
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{user}'"
        )))
        .await
        .unwrap();
    for statement in setup {
        admin
            .execute(AssertSqlSafe(statement.replace("{user}", &user)))
            .await
            .unwrap();
    }
    let mut conn =
        MySqlConnection::connect(&Service::Mariadb.url_as(&user, Some(&user), database, ""))
            .await
            .unwrap();
    verify_privileges(&mut conn, &Expect::ReadOnly)
        .await
        .unwrap()
}

#[tokio::test]
async fn mariadb_system_databases_empty_databases_and_global_reads() {
    let report = mariadb_case(
        &[
            "GRANT INSERT, UPDATE ON mysql.* TO '{user}'@'127.0.0.1'",
            "GRANT SELECT ON mysql.global_priv TO '{user}'@'127.0.0.1'",
            "CREATE DATABASE IF NOT EXISTS palisade_atk_empty",
            "GRANT INSERT ON `palisade\\_atk\\_empty`.* TO '{user}'@'127.0.0.1'",
        ],
        "",
    )
    .await;
    for excess in [
        privilege("INSERT", "mysql.*"),
        privilege("UPDATE", "mysql.*"),
        privilege("SELECT", "mysql.global_priv"),
        // A database-wide write reaches tables created later, so it counts with no table yet.
        privilege("INSERT", "`palisade\\_atk\\_empty`.*"),
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }
    let report = mariadb_case(&["GRANT SELECT ON *.* TO '{user}'@'127.0.0.1'"], "").await;
    assert_eq!(report.excesses, [privilege("SELECT", "*.*")]);
}

#[tokio::test]
async fn mariadb_roles_nested_inactive_public_and_too_many() {
    let tag = unique_name("r").replace('-', "_");
    let setup = format!(
        "CREATE ROLE {tag}_outer; CREATE ROLE {tag}_inner; CREATE ROLE {tag}_other; \
         GRANT INSERT ON palisade_privileges.accounts TO {tag}_inner; \
         GRANT {tag}_inner TO {tag}_outer; \
         GRANT DELETE ON palisade_privileges.orders TO {tag}_other; \
         GRANT {tag}_outer TO '{{user}}'@'127.0.0.1'; GRANT {tag}_other TO '{{user}}'@'127.0.0.1'; \
         SET DEFAULT ROLE {tag}_outer FOR '{{user}}'@'127.0.0.1'"
    );
    let report = mariadb_case(&[&setup], "palisade_privileges").await;
    for excess in [
        Excess::TableWrite {
            table: "palisade_privileges.accounts".to_owned(),
            privilege: "INSERT",
        },
        Excess::TableWrite {
            table: "palisade_privileges.orders".to_owned(),
            privilege: "DELETE",
        },
        Excess::MemberOfPrivileged {
            role: format!("{tag}_inner"),
        },
        Excess::MemberOfPrivileged {
            role: format!("{tag}_other"),
        },
    ] {
        assert!(has(&report, &excess), "{excess:?} in {:?}", report.excesses);
    }

    // A role granted to PUBLIC: no user can enter it, and its grants come with PUBLIC's, so
    // it is no reason to call a credential unchecked. (It holds nothing here: a PUBLIC grant
    // reaches every account on the server, those of the tests running beside this one too.)
    let setup = format!("CREATE ROLE {tag}_pub; GRANT {tag}_pub TO PUBLIC");
    let report = mariadb_case(&[&setup], "").await;
    let mut admin = MySqlConnection::connect(&Service::Mariadb.url())
        .await
        .unwrap();
    admin
        .execute(AssertSqlSafe(format!("REVOKE {tag}_pub FROM PUBLIC")))
        .await
        .unwrap();
    assert_eq!(report.excesses, []);

    // Seventy empty roles, then one with every privilege: the check does not stop quietly.
    let mut setup = vec![];
    for i in 0..70 {
        setup.push(format!(
            "CREATE ROLE {tag}_m{i:02}; GRANT {tag}_m{i:02} TO '{{user}}'@'127.0.0.1'"
        ));
    }
    setup.push(format!(
        "CREATE ROLE {tag}_zadmin; GRANT ALL PRIVILEGES ON *.* TO {tag}_zadmin; \
         GRANT {tag}_zadmin TO '{{user}}'@'127.0.0.1'"
    ));
    let setup: Vec<&str> = setup.iter().map(String::as_str).collect();
    let report = mariadb_case(&setup, "").await;
    assert!(
        report.excesses.iter().any(
            |e| matches!(e, Excess::Unchecked { reason } if reason.contains("more than 64 roles"))
        ),
        "{:?}",
        report.excesses
    );
}
