//! Tables, views and sequences: ownership, row writes (column grants included), grant
//! options, and sequence use.

use sqlx::{PgConnection, Row as _};

use super::super::{Excess, Expect, VerifyError};

/// Every relation of the schemas the login (or a role it may act as) can use, with what
/// those roles may do to it. Names are quoted as identifiers (`format('%I.%I')`), so
/// `public."app.t"` is never `app.t`.
const RELATIONS: &str = "\
WITH member AS (SELECT oid FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER'))
SELECT format('%I.%I', n.nspname, c.relname) AS name,
       c.relkind = 'S' AS sequence,
       pg_has_role(session_user, c.relowner, 'MEMBER') AS owned,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_any_column_privilege(m.oid, c.oid, 'INSERT')) AS can_insert,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_any_column_privilege(m.oid, c.oid, 'UPDATE')) AS can_update,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_table_privilege(m.oid, c.oid, 'DELETE')) AS can_delete,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_table_privilege(m.oid, c.oid, 'TRUNCATE')) AS can_truncate,
       c.relkind = 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_sequence_privilege(m.oid, c.oid, 'USAGE')) AS seq_usage,
       c.relkind = 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_sequence_privilege(m.oid, c.oid, 'UPDATE')) AS seq_update,
       EXISTS (SELECT 1 FROM aclexplode(c.relacl) a
           WHERE a.is_grantable AND a.grantee <> 0 AND a.grantee <> c.relowner
             AND pg_has_role(session_user, a.grantee, 'MEMBER')) AS grant_option,
       (SELECT format('%I.%I', tn.nspname, t.relname)
          FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) AS serves
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
   AND (pg_has_role(session_user, n.nspowner, 'MEMBER')
        OR EXISTS (SELECT 1 FROM member m WHERE has_schema_privilege(m.oid, n.oid, 'USAGE')))";

pub(super) async fn assess(
    conn: &mut PgConnection,
    expect: &Expect,
    excesses: &mut Vec<Excess>,
) -> Result<(), VerifyError> {
    for row in sqlx::query(RELATIONS).fetch_all(&mut *conn).await? {
        let name: String = row.try_get("name")?;
        if row.try_get::<bool, _>("owned")? {
            excesses.push(Excess::OwnsTable {
                table: name.clone(),
            });
        }
        if row.try_get::<bool, _>("grant_option")? {
            excesses.push(Excess::GrantOption {
                scope: name.clone(),
            });
        }
        if row.try_get::<bool, _>("sequence")? {
            // A sequence that serves a column of a table the credential may write is used by
            // its inserts (`nextval`); `setval` (UPDATE) is never needed.
            let serves: Option<String> = row.try_get("serves")?;
            let feeds_writable =
                serves.is_some_and(|table| expect.may_write(&table, Some("public")));
            for (column, privilege) in [("seq_usage", "USAGE"), ("seq_update", "UPDATE")] {
                let allowed = privilege == "USAGE" && feeds_writable;
                if !allowed && row.try_get::<bool, _>(column)? {
                    excesses.push(Excess::Privilege {
                        privilege: privilege.to_owned(),
                        scope: format!("sequence {name}"),
                    });
                }
            }
            continue;
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
    Ok(())
}
