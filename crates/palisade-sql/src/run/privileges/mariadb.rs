//! MariaDB: `SHOW GRANTS` for the user, `PUBLIC` and every role reachable from them, read as
//! privileges and held against the tables the user can see.

use std::collections::BTreeSet;

use sqlx::{AssertSqlSafe, MySql, MySqlConnection, Row as _};

use super::grants::{self, Grant, Object};
use super::{Excess, Expect, PrivilegeReport, VerifyError, VerifyPrivileges};

/// The most roles followed (each once): a deeper graph is a misconfiguration in itself.
const MAX_ROLES: usize = 64;

impl VerifyPrivileges for MySql {
    async fn verify(
        conn: &mut MySqlConnection,
        expect: &Expect,
    ) -> Result<PrivilegeReport, VerifyError> {
        verify(conn, expect).await
    }
}

/// Who holds a set of grants: the connected user, `PUBLIC`, or a role.
enum Holder {
    User,
    Public,
    Role(String),
}

async fn verify(
    conn: &mut MySqlConnection,
    expect: &Expect,
) -> Result<PrivilegeReport, VerifyError> {
    let role: String = sqlx::query_scalar("SELECT CURRENT_USER()")
        .fetch_one(&mut *conn)
        .await?;
    let default_database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await?;
    let tables = visible_tables(conn).await?;
    let context = Context {
        expect,
        default_database: default_database.as_deref(),
        tables: &tables,
    };

    let mut excesses = Vec::new();
    let mut pending = vec![Holder::User, Holder::Public];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(holder) = pending.pop() {
        let lines = grants_of(conn, &holder).await?;
        let mut found = Vec::new();
        for line in &lines {
            match grants::parse(line) {
                Some(Grant::Role { role, admin_option }) => {
                    if admin_option {
                        found.push(Excess::GrantOption {
                            scope: format!("role {role}"),
                        });
                    }
                    if seen.len() < MAX_ROLES && seen.insert(role.clone()) {
                        pending.push(Holder::Role(role));
                    }
                }
                Some(grant) => context.assess(&grant, &mut found),
                // A line in no form the server writes: counted as an excess rather than
                // passed over, so nothing unread reads as "nothing granted".
                None => found.push(Excess::Privilege {
                    privilege: "UNREADABLE GRANT".to_owned(),
                    scope: "?".to_owned(),
                }),
            }
        }
        if let Holder::Role(role) = &holder
            && !found.is_empty()
        {
            excesses.push(Excess::MemberOfPrivileged { role: role.clone() });
        }
        excesses.append(&mut found);
    }

    let tls_cipher: Option<String> = sqlx::query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get::<String, _>(1))
        .transpose()?;
    Ok(PrivilegeReport::new(
        role,
        excesses,
        tls_cipher,
        default_database.unwrap_or_default(),
    ))
}

/// The grant lines of one holder.
async fn grants_of(
    conn: &mut MySqlConnection,
    holder: &Holder,
) -> Result<Vec<String>, VerifyError> {
    let statement = match holder {
        Holder::User => "SHOW GRANTS FOR CURRENT_USER()".to_owned(),
        Holder::Public => "SHOW GRANTS FOR PUBLIC".to_owned(),
        // The name comes from the server's own grant line; quoted as an identifier.
        Holder::Role(role) => format!("SHOW GRANTS FOR `{}`", role.replace('`', "``")),
    };
    let rows = sqlx::query(AssertSqlSafe(statement))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(VerifyError::from))
        .collect()
}

/// `(database, table)` for every table the user can see, system databases aside.
async fn visible_tables(conn: &mut MySqlConnection) -> Result<Vec<(String, String)>, VerifyError> {
    let rows = sqlx::query(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(VerifyError::from)
}

/// What a grant is held against.
struct Context<'a> {
    expect: &'a Expect,
    default_database: Option<&'a str>,
    tables: &'a [(String, String)],
}

impl Context<'_> {
    fn assess(&self, grant: &Grant, found: &mut Vec<Excess>) {
        let Grant::Privileges {
            privileges,
            object,
            grant_option,
        } = grant
        else {
            return;
        };
        let scope = object.scope();
        if *grant_option {
            found.push(Excess::GrantOption {
                scope: scope.clone(),
            });
        }
        if let Object::Database(pattern) = object
            && grants::is_pattern(pattern)
        {
            found.push(Excess::WildcardDatabase {
                pattern: pattern.clone(),
            });
        }
        for privilege in privileges {
            match privilege.as_str() {
                "USAGE" | "SELECT" | "SHOW VIEW" | "SHOW DATABASES" => {}
                "ALL" | "ALL PRIVILEGES" => found.push(Excess::AllPrivileges {
                    scope: scope.clone(),
                }),
                "INSERT" | "UPDATE" | "DELETE" => self.row_writes(privilege, object, found),
                other => found.push(Excess::Privilege {
                    privilege: other.to_owned(),
                    scope: scope.clone(),
                }),
            }
        }
    }

    /// A row-write privilege: server-wide it reaches the system tables and is reported as
    /// such; on a database or a table, each table it reaches that may not be written.
    fn row_writes(&self, privilege: &str, object: &Object, found: &mut Vec<Excess>) {
        let privilege: &'static str = match privilege {
            "INSERT" => "INSERT",
            "UPDATE" => "UPDATE",
            _ => "DELETE",
        };
        let mut reached: Vec<String> = Vec::new();
        match object {
            Object::Database(pattern) => reached.extend(
                self.tables
                    .iter()
                    .filter(|(database, _)| grants::matches(pattern, database))
                    .map(|(database, table)| format!("{database}.{table}")),
            ),
            Object::Table { database, table } => reached.push(format!("{database}.{table}")),
            Object::Global | Object::Routine { .. } => found.push(Excess::Privilege {
                privilege: privilege.to_owned(),
                scope: object.scope(),
            }),
        }
        for table in reached {
            if !self.expect.may_write(&table, self.default_database) {
                found.push(Excess::TableWrite { table, privilege });
            }
        }
    }
}
