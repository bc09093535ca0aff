//! Everything beyond relations that lets a role write or change the database: schemas and the
//! database it can create in or owns, functions it owns or runs with their owner's rights,
//! large objects, and default privileges that hand it future tables.

use sqlx::{PgConnection, Row as _};

use super::super::{Excess, VerifyError};

const MEMBER: &str =
    "WITH member AS (SELECT oid FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER'))";

/// Schemas (but the system's) the login owns or may create in.
const SCHEMAS: &str = "\
SELECT format('%I', n.nspname) AS name,
       pg_has_role(session_user, n.nspowner, 'MEMBER') AS owned,
       EXISTS (SELECT 1 FROM member m WHERE has_schema_privilege(m.oid, n.oid, 'CREATE')) AS can_create
  FROM pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// The connected database: owned, or open to `CREATE` (schemas). `TEMP`, which PUBLIC has by
/// default, makes session-local tables only and is not counted.
const DATABASE: &str = "\
SELECT format('%I', d.datname) AS name,
       pg_has_role(session_user, d.datdba, 'MEMBER') AS owned,
       EXISTS (SELECT 1 FROM member m WHERE has_database_privilege(m.oid, d.oid, 'CREATE')) AS can_create
  FROM pg_database d WHERE d.datname = current_database()";

/// The other databases the login may connect to: this check cannot see into them.
const OTHER_DATABASES: &str = "\
SELECT d.datname::text FROM pg_database d
 WHERE d.datname <> current_database() AND d.datallowconn
   AND has_database_privilege(session_user, d.oid, 'CONNECT') ORDER BY 1";

/// Functions (but the system's) the login owns, or may run with another role's rights.
const FUNCTIONS: &str = "\
SELECT p.oid::regprocedure::text AS name,
       pg_has_role(session_user, p.proowner, 'MEMBER') AS owned
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND (pg_has_role(session_user, p.proowner, 'MEMBER')
        OR (p.prosecdef AND EXISTS (SELECT 1 FROM member m
                WHERE has_function_privilege(m.oid, p.oid, 'EXECUTE'))))";

/// Large objects the login owns or may write.
const LARGE_OBJECTS: &str = "\
SELECT l.oid::text AS name, pg_has_role(session_user, l.lomowner, 'MEMBER') AS owned
  FROM pg_largeobject_metadata l
 WHERE pg_has_role(session_user, l.lomowner, 'MEMBER')
    OR EXISTS (SELECT 1 FROM aclexplode(l.lomacl) a WHERE a.privilege_type = 'UPDATE'
               AND (a.grantee = 0 OR pg_has_role(session_user, a.grantee, 'MEMBER')))";

/// Default privileges that give the login row writes on tables other roles create later.
const DEFAULT_PRIVILEGES: &str = "\
SELECT coalesce('schema ' || format('%I', n.nspname), 'every schema') AS place,
       r.rolname::text AS creator, a.privilege_type::text AS privilege
  FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
 WHERE d.defaclobjtype = 'r' AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
   AND NOT pg_has_role(session_user, d.defaclrole, 'MEMBER')
   AND (a.grantee = 0 OR pg_has_role(session_user, a.grantee, 'MEMBER'))";

/// Adds the excesses of every object but relations; returns the other databases the login
/// may connect to.
pub(super) async fn assess(
    conn: &mut PgConnection,
    excesses: &mut Vec<Excess>,
) -> Result<Vec<String>, VerifyError> {
    for (query, kind) in [(SCHEMAS, "schema"), (DATABASE, "database")] {
        let query = format!("{MEMBER} {query}");
        for row in sqlx::query(sqlx::AssertSqlSafe(query))
            .fetch_all(&mut *conn)
            .await?
        {
            let name: String = row.try_get("name")?;
            if row.try_get::<bool, _>("owned")? {
                excesses.push(Excess::Owns {
                    kind,
                    name: name.clone(),
                });
            } else if row.try_get::<bool, _>("can_create")? {
                excesses.push(Excess::Privilege {
                    privilege: "CREATE".to_owned(),
                    scope: format!("{kind} {name}"),
                });
            }
        }
    }
    for row in sqlx::query(sqlx::AssertSqlSafe(format!("{MEMBER} {FUNCTIONS}")))
        .fetch_all(&mut *conn)
        .await?
    {
        let function: String = row.try_get("name")?;
        excesses.push(if row.try_get::<bool, _>("owned")? {
            Excess::Owns {
                kind: "function",
                name: function,
            }
        } else {
            Excess::SecurityDefiner { function }
        });
    }
    for row in sqlx::query(LARGE_OBJECTS).fetch_all(&mut *conn).await? {
        let name: String = row.try_get("name")?;
        excesses.push(if row.try_get::<bool, _>("owned")? {
            Excess::Owns {
                kind: "large object",
                name,
            }
        } else {
            Excess::Privilege {
                privilege: "UPDATE".to_owned(),
                scope: format!("large object {name}"),
            }
        });
    }
    for row in sqlx::query(DEFAULT_PRIVILEGES)
        .fetch_all(&mut *conn)
        .await?
    {
        let place: String = row.try_get("place")?;
        let creator: String = row.try_get("creator")?;
        excesses.push(Excess::Privilege {
            privilege: row.try_get("privilege")?,
            scope: format!("tables {creator} creates later in {place} (default privileges)"),
        });
    }
    Ok(sqlx::query_scalar(OTHER_DATABASES)
        .fetch_all(&mut *conn)
        .await?)
}
