//! Live credential checks: what the connected role can really do, asked of the server.

use std::fmt;

use sqlx::{PgPool, Row as _};

use super::QueryError;

/// What a credential is meant to be able to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// Read, never write: no `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE` on any table, no
    /// table owned, no role attribute beyond login.
    ReadOnly,
    /// Write these tables (`schema.table` or `table` for the `public` schema) and read
    /// any; `TRUNCATE` and ownership are excesses everywhere.
    ReadWrite {
        /// The tables it may write.
        tables: Vec<String>,
    },
}

/// One thing the role can do beyond what was expected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Excess {
    /// The role is a superuser: it ignores every privilege and policy.
    Superuser,
    /// The role bypasses row-level security.
    BypassRls,
    /// The role can create roles.
    CreateRole,
    /// The role can create databases.
    CreateDb,
    /// The role is a member of a role with one of these attributes.
    MemberOfPrivileged {
        /// The role it is a member of.
        role: String,
    },
    /// The role (or a role it belongs to) owns the table: it can alter, drop and disable
    /// its policies.
    OwnsTable {
        /// `schema.table`.
        table: String,
    },
    /// The role can write the table (directly or through a role it belongs to).
    TableWrite {
        /// `schema.table`.
        table: String,
        /// `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE`.
        privilege: &'static str,
    },
}

impl fmt::Display for Excess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Superuser => f.write_str("the role is a superuser"),
            Self::BypassRls => f.write_str("the role bypasses row-level security (BYPASSRLS)"),
            Self::CreateRole => f.write_str("the role can create roles (CREATEROLE)"),
            Self::CreateDb => f.write_str("the role can create databases (CREATEDB)"),
            Self::MemberOfPrivileged { role } => {
                write!(
                    f,
                    "the role is a member of {role}, which has more attributes"
                )
            }
            Self::OwnsTable { table } => write!(f, "the role owns {table}"),
            Self::TableWrite { table, privilege } => {
                write!(f, "the role has {privilege} on {table}")
            }
        }
    }
}

/// What the server says the connected role can do, against what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrivilegeReport {
    /// The connected role.
    pub role: String,
    /// Everything beyond what was expected, sorted; empty when the credential is exactly
    /// what was expected.
    pub excesses: Vec<Excess>,
    /// The TLS cipher of this session, `None` when it is not encrypted.
    pub tls_cipher: Option<String>,
    /// The effective `search_path`.
    pub search_path: String,
}

/// Asks PostgreSQL what the role `pool` connects as can do: its attributes (`rolsuper`,
/// `rolbypassrls`, `rolcreaterole`, `rolcreatedb`), memberships in roles that have them, the
/// tables it owns and its `INSERT`, `UPDATE`, `DELETE` and `TRUNCATE` privileges on every
/// table of the schemas it can use (inherited ones included), the session's TLS cipher and
/// `search_path`.
///
/// # Errors
/// [`QueryError::Database`] when the server cannot be reached or refuses the catalog reads
/// (its message is not shown).
pub async fn verify_privileges(
    pool: &PgPool,
    expect: &Expect,
) -> Result<PrivilegeReport, QueryError> {
    let mut conn = pool.acquire().await?;
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
    let writable = |table: &str| match expect {
        Expect::ReadOnly => false,
        Expect::ReadWrite { tables } => tables.iter().any(|allowed| {
            allowed == table || table.strip_prefix("public.").is_some_and(|t| t == allowed)
        }),
    };
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
            let allowed = privilege != "TRUNCATE" && writable(&name);
            if !allowed && row.try_get::<bool, _>(column)? {
                excesses.push(Excess::TableWrite {
                    table: name.clone(),
                    privilege,
                });
            }
        }
    }
    excesses.sort();
    let tls_cipher: Option<String> = sqlx::query_scalar(
        "SELECT CASE WHEN ssl THEN cipher END FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let search_path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *conn)
        .await?;
    Ok(PrivilegeReport {
        role: role.try_get("role")?,
        excesses,
        tls_cipher,
        search_path,
    })
}
