//! Tables, views and sequences: ownership, row writes (column grants included), `TRIGGER`
//! and `REFERENCES`, grant options, sequence use, writes that reach inheritance children, and
//! reads of system relations PUBLIC may not read.

use sqlx::{PgConnection, Row as _};

use super::super::{Excess, Expect, VerifyError};

/// Every relation of the schemas the login (or a role it may act as) can use, with what
/// those roles may do to it. Names are quoted as identifiers (`format('%I.%I')`), so
/// `public."app.t"` is never `app.t`. The system schemas count too (a grant there is an
/// administrator's doing; what PUBLIC may do there, such as `UPDATE pg_settings`, which
/// changes the session's own settings, is no excess), except for a superuser, whose power is
/// reported once.
const RELATIONS: &str = "\
WITH member AS (SELECT oid FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER'))
SELECT format('%I.%I', n.nspname, c.relname) AS name,
       c.relkind = 'S' AS sequence,
       n.nspname IN ('pg_catalog', 'information_schema') AS system,
       pg_has_role(session_user, c.relowner, 'MEMBER') AS owned,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_any_column_privilege(m.oid, c.oid, 'INSERT'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_any_column_privilege('public', c.oid, 'INSERT')) AS can_insert,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_any_column_privilege(m.oid, c.oid, 'UPDATE'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_any_column_privilege('public', c.oid, 'UPDATE')) AS can_update,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_table_privilege(m.oid, c.oid, 'DELETE'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_table_privilege('public', c.oid, 'DELETE')) AS can_delete,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_table_privilege(m.oid, c.oid, 'TRUNCATE'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_table_privilege('public', c.oid, 'TRUNCATE')) AS can_truncate,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_table_privilege(m.oid, c.oid, 'TRIGGER'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_table_privilege('public', c.oid, 'TRIGGER')) AS can_trigger,
       c.relkind <> 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_any_column_privilege(m.oid, c.oid, 'REFERENCES'))
           AND NOT (n.nspname IN ('pg_catalog', 'information_schema')
                    AND has_any_column_privilege('public', c.oid, 'REFERENCES')) AS can_reference,
       c.relkind = 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_sequence_privilege(m.oid, c.oid, 'USAGE')) AS seq_usage,
       c.relkind = 'S' AND EXISTS (SELECT 1 FROM member m
           WHERE has_sequence_privilege(m.oid, c.oid, 'UPDATE')) AS seq_update,
       n.nspname IN ('pg_catalog', 'information_schema') AND c.relkind <> 'S'
           AND NOT has_any_column_privilege('public', c.oid, 'SELECT')
           AND EXISTS (SELECT 1 FROM member m
               WHERE has_any_column_privilege(m.oid, c.oid, 'SELECT')) AS reads_hidden,
       EXISTS (SELECT 1 FROM aclexplode(c.relacl) a
           WHERE a.is_grantable AND a.grantee <> 0 AND a.grantee <> c.relowner
             AND pg_has_role(session_user, a.grantee, 'MEMBER')) AS grant_option,
       (SELECT format('%I.%I', tn.nspname, t.relname)
          FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) AS serves,
       ARRAY(WITH RECURSIVE kids(oid) AS (
                 SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = c.oid
                 UNION SELECT i.inhrelid FROM pg_inherits i JOIN kids k ON i.inhparent = k.oid)
             SELECT format('%I.%I', kn.nspname, kc.relname)
               FROM kids JOIN pg_class kc ON kc.oid = kids.oid
               JOIN pg_namespace kn ON kn.oid = kc.relnamespace
              WHERE NOT kc.relispartition) AS children
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
   AND (n.nspname NOT IN ('pg_catalog', 'information_schema') OR NOT $1)
   AND (pg_has_role(session_user, n.nspowner, 'MEMBER')
        OR EXISTS (SELECT 1 FROM member m WHERE has_schema_privilege(m.oid, n.oid, 'USAGE')))";

pub(super) async fn assess(
    conn: &mut PgConnection,
    expect: &Expect,
    superuser: bool,
    excesses: &mut Vec<Excess>,
) -> Result<(), VerifyError> {
    let rows = sqlx::query(RELATIONS)
        .bind(superuser)
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        let name: String = row.try_get("name")?;
        let system: bool = row.try_get("system")?;
        let privilege = |privilege: &str| Excess::Privilege {
            privilege: privilege.to_owned(),
            scope: name.clone(),
        };
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
        if row.try_get::<bool, _>("reads_hidden")? {
            excesses.push(privilege("SELECT"));
        }
        for (column, what) in [("can_trigger", "TRIGGER"), ("can_reference", "REFERENCES")] {
            if row.try_get::<bool, _>(column)? {
                excesses.push(privilege(what));
            }
        }
        if row.try_get::<bool, _>("sequence")? {
            // A sequence that serves a column of a table the credential may write is used by
            // its inserts (`nextval`); `setval` (UPDATE) is never needed.
            let serves: Option<String> = row.try_get("serves")?;
            let feeds_writable =
                serves.is_some_and(|table| expect.may_write(&table, Some("public")));
            for (column, what) in [("seq_usage", "USAGE"), ("seq_update", "UPDATE")] {
                let allowed = what == "USAGE" && feeds_writable;
                if !allowed && row.try_get::<bool, _>(column)? {
                    excesses.push(Excess::Privilege {
                        privilege: what.to_owned(),
                        scope: format!("sequence {name}"),
                    });
                }
            }
            continue;
        }
        let allowed_table = !system && expect.may_write(&name, Some("public"));
        let children: Vec<String> = row.try_get("children")?;
        for (column, what) in [
            ("can_insert", "INSERT"),
            ("can_update", "UPDATE"),
            ("can_delete", "DELETE"),
            ("can_truncate", "TRUNCATE"),
        ] {
            if !row.try_get::<bool, _>(column)? {
                continue;
            }
            if what == "TRUNCATE" || !allowed_table {
                excesses.push(Excess::TableWrite {
                    table: name.clone(),
                    privilege: what,
                });
            } else if what != "INSERT" {
                // An UPDATE or DELETE on an inheritance parent reaches its children's rows,
                // whatever the children's own privileges say.
                for child in &children {
                    if !expect.may_write(child, Some("public")) {
                        excesses.push(Excess::TableWrite {
                            table: child.clone(),
                            privilege: what,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}
