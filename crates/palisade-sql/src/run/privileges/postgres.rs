//! PostgreSQL: the role's attributes, memberships, owned tables and table privileges, read
//! from the catalogs.

use sqlx::{PgConnection, Postgres, Row as _};

use super::{Excess, Expect, PrivilegeReport, VerifyError, VerifyPrivileges};

impl VerifyPrivileges for Postgres {
    async fn verify(
        conn: &mut PgConnection,
        expect: &Expect,
    ) -> Result<PrivilegeReport, VerifyError> {
        verify(conn, expect).await
    }
}

async fn verify(conn: &mut PgConnection, expect: &Expect) -> Result<PrivilegeReport, VerifyError> {
    let role = sqlx::query(
        "SELECT rolname::text AS role, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb \
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut excesses = Vec::new();
    for (column, excess) in [
        ("rolsuper", Excess::Superuser),
        ("rolbypassrls", Excess::BypassRls),
        ("rolcreaterole", Excess::CreateRole),
        ("rolcreatedb", Excess::CreateDb),
    ] {
        if role.try_get::<bool, _>(column)? {
            excesses.push(excess);
        }
    }
    let members = sqlx::query(
        "SELECT r.rolname::text AS role FROM pg_roles r \
         WHERE r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER') \
         AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb)",
    )
    .fetch_all(&mut *conn)
    .await?;
    for member in members {
        excesses.push(Excess::MemberOfPrivileged {
            role: member.try_get("role")?,
        });
    }
    let tables = sqlx::query(
        "SELECT n.nspname::text || '.' || c.relname::text AS name, \
         pg_has_role(c.relowner, 'USAGE') AS owned, \
         has_table_privilege(c.oid, 'INSERT') AS can_insert, \
         has_table_privilege(c.oid, 'UPDATE') AS can_update, \
         has_table_privilege(c.oid, 'DELETE') AS can_delete, \
         has_table_privilege(c.oid, 'TRUNCATE') AS can_truncate \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
         AND has_schema_privilege(n.oid, 'USAGE')",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in tables {
        let name: String = row.try_get("name")?;
        if row.try_get::<bool, _>("owned")? {
            excesses.push(Excess::OwnsTable {
                table: name.clone(),
            });
        }
        for (column, privilege) in [
            ("can_insert", "INSERT"),
            ("can_update", "UPDATE"),
            ("can_delete", "DELETE"),
            ("can_truncate", "TRUNCATE"),
        ] {
            let allowed = privilege != "TRUNCATE" && expect.may_write(&name, Some("public"));
            if !allowed && row.try_get::<bool, _>(column)? {
                excesses.push(Excess::TableWrite {
                    table: name.clone(),
                    privilege,
                });
            }
        }
    }
    let tls_cipher: Option<String> = sqlx::query_scalar(
        "SELECT CASE WHEN ssl THEN cipher END FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let search_path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *conn)
        .await?;
    Ok(PrivilegeReport::new(
        role.try_get("role")?,
        excesses,
        tls_cipher,
        search_path,
    ))
}
