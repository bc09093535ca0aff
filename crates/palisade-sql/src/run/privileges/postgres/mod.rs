//! PostgreSQL: what the login role (`session_user`, whatever role the session has switched
//! to, since it can always switch back) can do through every role it may `SET ROLE` to
//! (`pg_has_role(.., 'MEMBER')`: inherited or not), read from the catalogs of the connected
//! database.

mod objects;
mod relations;

use sqlx::{Executor as _, PgConnection, Postgres, Row as _};

use super::{Excess, Expect, PrivilegeReport, VerifyError, VerifyPrivileges};

impl VerifyPrivileges for Postgres {
    async fn verify(
        conn: &mut PgConnection,
        expect: &Expect,
    ) -> Result<PrivilegeReport, VerifyError> {
        verify(conn, expect).await
    }
}

/// The login role's attributes and the role the session acts as.
const ROLE: &str = "SELECT session_user::text AS login, current_user::text AS acting, \
     rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication \
     FROM pg_roles WHERE rolname = session_user";

/// Roles the login may act as that carry an attribute, and the predefined roles
/// (`pg_write_server_files`, `pg_execute_server_program`, `pg_read_all_data`, ...) but
/// `pg_database_owner`, whose power is the database's ownership (reported as such).
const PRIVILEGED_MEMBERSHIPS: &str = "SELECT r.rolname::text AS role FROM pg_roles r \
     WHERE r.rolname <> session_user AND pg_has_role(session_user, r.oid, 'MEMBER') \
     AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication \
          OR (r.rolname LIKE 'pg\\_%' AND r.rolname <> 'pg_database_owner'))";

/// The session's TLS cipher (hidden by the server when the session acts as another role).
const TLS: &str =
    "SELECT CASE WHEN ssl THEN cipher END FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

/// The search path the session had, read before the check pins its own.
const SEARCH_PATH: &str = "SELECT pg_catalog.current_setting('search_path')";

/// For the check's own transaction: every name it uses resolves in `pg_catalog`, whatever
/// the role, database or DSN set (a function or table of the same name in another schema,
/// or a temporary one, would otherwise answer in the catalog's place).
const PIN_SEARCH_PATH: &str = "SET LOCAL search_path TO pg_catalog, pg_temp";

async fn verify(conn: &mut PgConnection, expect: &Expect) -> Result<PrivilegeReport, VerifyError> {
    let search_path: String = sqlx::query_scalar(SEARCH_PATH)
        .fetch_one(&mut *conn)
        .await?;
    // A transaction of its own (a savepoint inside the caller's), rolled back at the end:
    // the pinned path goes with it, and the check writes nothing.
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    tx.execute(PIN_SEARCH_PATH).await?;
    let report = check(&mut tx, expect, search_path).await;
    tx.rollback().await?;
    report
}

async fn check(
    conn: &mut PgConnection,
    expect: &Expect,
    search_path: String,
) -> Result<PrivilegeReport, VerifyError> {
    let role = sqlx::query(ROLE).fetch_one(&mut *conn).await?;
    let login: String = role.try_get("login")?;
    let acting: String = role.try_get("acting")?;
    let mut excesses = Vec::new();
    if acting != login {
        excesses.push(Excess::SessionRole { role: acting });
    }
    for (column, excess) in [
        ("rolsuper", Excess::Superuser),
        ("rolbypassrls", Excess::BypassRls),
        ("rolcreaterole", Excess::CreateRole),
        ("rolcreatedb", Excess::CreateDb),
        ("rolreplication", Excess::Replication),
    ] {
        if role.try_get::<bool, _>(column)? {
            excesses.push(excess);
        }
    }
    for member in sqlx::query(PRIVILEGED_MEMBERSHIPS)
        .fetch_all(&mut *conn)
        .await?
    {
        excesses.push(Excess::MemberOfPrivileged {
            role: member.try_get("role")?,
        });
    }
    let superuser = role.try_get::<bool, _>("rolsuper")?;
    relations::assess(conn, expect, superuser, &mut excesses).await?;
    let unchecked_databases = objects::assess(conn, superuser, &mut excesses).await?;
    let tls_cipher: Option<String> = sqlx::query_scalar(TLS)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let mut report = PrivilegeReport::new(login, excesses, tls_cipher, search_path);
    report.unchecked_databases = unchecked_databases;
    Ok(report)
}
