//! Everything beyond relations that lets a role write, change the database or read its
//! secrets: schemas and the database it can create in or owns, functions it owns or runs
//! with another role's rights, other owned objects, foreign servers, tablespaces, large
//! objects, views over the secret catalogs, and default privileges for objects made later.

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

/// Functions the login owns, may run with another role's rights (`SECURITY DEFINER`, in any
/// schema: the system's own have none), or may run though PUBLIC may not (a system function
/// such as `pg_read_file` or `lo_export` granted to it). `$1`: the login is a superuser,
/// whose power over the system's functions is reported once.
const FUNCTIONS: &str = "\
SELECT p.oid::regprocedure::text AS name,
       pg_has_role(session_user, p.proowner, 'MEMBER') AS owned,
       p.prosecdef AS definer
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE (n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND pg_has_role(session_user, p.proowner, 'MEMBER'))
    OR (NOT pg_has_role(session_user, p.proowner, 'MEMBER')
        AND EXISTS (SELECT 1 FROM member m WHERE has_function_privilege(m.oid, p.oid, 'EXECUTE'))
        AND (p.prosecdef
             OR (n.nspname IN ('pg_catalog', 'information_schema') AND NOT $1
                 AND NOT has_function_privilege('public', p.oid, 'EXECUTE'))))";

/// Other objects the login owns: it can alter or drop them, and with them the columns and
/// tables that use them (`DROP TYPE ... CASCADE`).
const OWNED: &str = "\
SELECT kind, name FROM (
  SELECT 'type' AS kind, format('%I.%I', n.nspname, t.typname) AS name, t.typowner AS owner,
         n.nspname AS schema
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typrelid = 0 AND (t.typelem = 0 OR t.typtype = 'd')
  UNION ALL
  SELECT 'collation', format('%I.%I', n.nspname, c.collname), c.collowner, n.nspname
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
  UNION ALL
  SELECT 'operator', format('%I.%s', n.nspname, o.oprname), o.oprowner, n.nspname
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
  UNION ALL
  SELECT 'text search configuration', format('%I.%I', n.nspname, c.cfgname), c.cfgowner, n.nspname
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
  UNION ALL
  SELECT 'text search dictionary', format('%I.%I', n.nspname, d.dictname), d.dictowner, n.nspname
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
  UNION ALL
  SELECT 'conversion', format('%I.%I', n.nspname, c.conname), c.conowner, n.nspname
    FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace
  UNION ALL
  SELECT 'statistics object', format('%I.%I', n.nspname, s.stxname), s.stxowner, n.nspname
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
  UNION ALL
  SELECT 'operator family', format('%I.%I', n.nspname, f.opfname), f.opfowner, n.nspname
    FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace
  UNION ALL
  SELECT 'publication', format('%I', p.pubname), p.pubowner, '' FROM pg_publication p
  UNION ALL
  SELECT 'foreign server', format('%I', s.srvname), s.srvowner, '' FROM pg_foreign_server s
  UNION ALL
  SELECT 'foreign data wrapper', format('%I', w.fdwname), w.fdwowner, '' FROM pg_foreign_data_wrapper w
) owned
 WHERE schema NOT IN ('pg_catalog', 'information_schema')
   AND pg_has_role(session_user, owner, 'MEMBER')";

/// Foreign servers and wrappers the login may use: a user mapping on a server writes
/// wherever it points, with the mapped role's rights; a wrapper lets it create servers.
const FOREIGN: &str = "\
SELECT 'foreign server ' || format('%I', s.srvname) AS scope FROM pg_foreign_server s
 WHERE NOT pg_has_role(session_user, s.srvowner, 'MEMBER')
   AND EXISTS (SELECT 1 FROM member m WHERE has_server_privilege(m.oid, s.oid, 'USAGE'))
UNION ALL
SELECT 'foreign data wrapper ' || format('%I', w.fdwname) FROM pg_foreign_data_wrapper w
 WHERE NOT pg_has_role(session_user, w.fdwowner, 'MEMBER')
   AND EXISTS (SELECT 1 FROM member m
               WHERE has_foreign_data_wrapper_privilege(m.oid, w.oid, 'USAGE'))";

/// Tablespaces the login may create in (none but their owner's by default).
const TABLESPACES: &str = "\
SELECT format('%I', t.spcname) AS name FROM pg_tablespace t
 WHERE NOT pg_has_role(session_user, t.spcowner, 'MEMBER')
   AND EXISTS (SELECT 1 FROM member m WHERE has_tablespace_privilege(m.oid, t.oid, 'CREATE'))";

/// Views (outside the system schemas) the login may read that read the catalogs holding
/// secrets: password hashes (`pg_authid`, `pg_shadow`), user mappings' options, column
/// statistics, large objects' contents. A view runs with its owner's rights, so its readers
/// see what it does. System catalogs are pinned (no `pg_depend` rows), so the view's stored
/// query tree is searched for their relation ids; a view that reaches them through a
/// function is not seen.
const SECRET_VIEWS: &str = "\
SELECT DISTINCT format('%I.%I', n.nspname, v.relname) AS name
  FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
  JOIN pg_namespace n ON n.oid = v.relnamespace,
       unnest(ARRAY['pg_authid'::regclass, 'pg_shadow'::regclass, 'pg_user_mapping'::regclass,
                    'pg_user_mappings'::regclass, 'pg_statistic'::regclass,
                    'pg_largeobject'::regclass]::oid[]) AS secret(oid)
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND strpos(r.ev_action::text, ':relid ' || secret.oid::text || ' ') > 0
   AND NOT pg_has_role(session_user, v.relowner, 'MEMBER')
   AND EXISTS (SELECT 1 FROM member m WHERE has_any_column_privilege(m.oid, v.oid, 'SELECT'))";

/// Large objects the login owns or may write.
const LARGE_OBJECTS: &str = "\
SELECT l.oid::text AS name, pg_has_role(session_user, l.lomowner, 'MEMBER') AS owned
  FROM pg_largeobject_metadata l
 WHERE pg_has_role(session_user, l.lomowner, 'MEMBER')
    OR EXISTS (SELECT 1 FROM aclexplode(l.lomacl) a WHERE a.privilege_type = 'UPDATE'
               AND (a.grantee = 0 OR pg_has_role(session_user, a.grantee, 'MEMBER')))";

/// Default privileges that give the login, on objects other roles create later, row writes
/// (tables), `USAGE` or `UPDATE` (sequences) or `CREATE` (schemas).
const DEFAULT_PRIVILEGES: &str = "\
SELECT CASE WHEN n.nspname IS NULL THEN 'every schema'
            ELSE 'schema ' || format('%I', n.nspname) END AS place,
       r.rolname::text AS creator, a.privilege_type::text AS privilege,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
            ELSE 'schemas' END AS objects
  FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole
  LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
 WHERE ((d.defaclobjtype = 'r' AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                                         'TRIGGER', 'REFERENCES'))
        OR (d.defaclobjtype = 'S' AND a.privilege_type IN ('USAGE', 'UPDATE'))
        OR (d.defaclobjtype = 'n' AND a.privilege_type = 'CREATE'))
   AND NOT pg_has_role(session_user, d.defaclrole, 'MEMBER')
   AND (a.grantee = 0 OR pg_has_role(session_user, a.grantee, 'MEMBER'))";

/// Adds the excesses of every object but relations; returns the other databases the login
/// may connect to.
pub(super) async fn assess(
    conn: &mut PgConnection,
    superuser: bool,
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
        .bind(superuser)
        .fetch_all(&mut *conn)
        .await?
    {
        let function: String = row.try_get("name")?;
        excesses.push(if row.try_get::<bool, _>("owned")? {
            Excess::Owns {
                kind: "function",
                name: function,
            }
        } else if row.try_get::<bool, _>("definer")? {
            Excess::SecurityDefiner { function }
        } else {
            Excess::Privilege {
                privilege: "EXECUTE".to_owned(),
                scope: format!("function {function}"),
            }
        });
    }
    for row in sqlx::query(OWNED).fetch_all(&mut *conn).await? {
        excesses.push(Excess::Owns {
            kind: owned_kind(&row.try_get::<String, _>("kind")?),
            name: row.try_get("name")?,
        });
    }
    for (query, privilege) in [(FOREIGN, "USAGE"), (TABLESPACES, "CREATE")] {
        for scope in
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("{MEMBER} {query}")))
                .fetch_all(&mut *conn)
                .await?
        {
            let scope = if privilege == "CREATE" {
                format!("tablespace {scope}")
            } else {
                scope
            };
            excesses.push(Excess::Privilege {
                privilege: privilege.to_owned(),
                scope,
            });
        }
    }
    for view in
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("{MEMBER} {SECRET_VIEWS}")))
            .fetch_all(&mut *conn)
            .await?
    {
        excesses.push(Excess::Privilege {
            privilege: "SELECT".to_owned(),
            scope: format!("{view} (a view over password hashes or other secrets)"),
        });
    }
    // With it on, every large object is anyone's to read and write.
    let compat: String =
        sqlx::query_scalar("SELECT pg_catalog.current_setting('lo_compat_privileges')")
            .fetch_one(&mut *conn)
            .await?;
    if compat == "on" {
        excesses.push(Excess::Privilege {
            privilege: "lo_compat_privileges".to_owned(),
            scope: "every large object".to_owned(),
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
        let objects: String = row.try_get("objects")?;
        excesses.push(Excess::Privilege {
            privilege: row.try_get("privilege")?,
            scope: format!("{objects} {creator} creates later in {place} (default privileges)"),
        });
    }
    Ok(sqlx::query_scalar(OTHER_DATABASES)
        .fetch_all(&mut *conn)
        .await?)
}

/// The kind names of [`OWNED`], as `'static` text.
fn owned_kind(kind: &str) -> &'static str {
    [
        "type",
        "collation",
        "operator",
        "text search configuration",
        "text search dictionary",
        "conversion",
        "statistics object",
        "operator family",
        "publication",
        "foreign server",
        "foreign data wrapper",
    ]
    .into_iter()
    .find(|known| *known == kind)
    .unwrap_or("object")
}
