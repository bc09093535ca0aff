//! MariaDB: `SHOW GRANTS` for the user, for `PUBLIC`, and for every role the user may `SET
//! ROLE` to (entered in turn: a user may not read a role's grants unless the role is active;
//! the session's own role is restored after), read as privileges and held against the
//! tables the user can see.

use std::collections::BTreeSet;

use sqlx::{AssertSqlSafe, MySql, MySqlConnection, Row as _};

use super::grants::{self, Grant, Grantee, Object};
use super::{Excess, Expect, PrivilegeReport, VerifyError, VerifyPrivileges};

/// The most roles entered: a user with more is reported as not fully checked.
const MAX_ROLES: usize = 64;

/// The databases of the server itself: any grant on them beyond `USAGE` reads password
/// hashes or other sessions, or writes accounts and grants.
const SYSTEM_DATABASES: [&str; 3] = ["mysql", "sys", "performance_schema"];

impl VerifyPrivileges for MySql {
    async fn verify(
        conn: &mut MySqlConnection,
        expect: &Expect,
    ) -> Result<PrivilegeReport, VerifyError> {
        verify(conn, expect).await
    }
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
    let mut excesses = Vec::new();
    let lines = grant_lines(conn, &mut excesses).await?;
    let context = Context {
        expect,
        default_database: default_database.as_deref(),
        tables: &tables,
    };
    let mut privileged_roles: BTreeSet<String> = BTreeSet::new();
    for line in &lines {
        let mut found = Vec::new();
        match grants::parse(line) {
            Some(Grant::Role { role, admin_option }) => {
                if admin_option {
                    found.push(Excess::GrantOption {
                        scope: format!("role {role}"),
                    });
                }
            }
            Some(grant) => context.assess(&grant, &mut found),
            None => found.push(Excess::Unchecked {
                reason: "a grant line in a form the server does not write".to_owned(),
            }),
        }
        if !found.is_empty()
            && let Some(Grantee::Role(role)) = grants::grantee(line)
        {
            privileged_roles.insert(role);
        }
        excesses.append(&mut found);
    }
    excesses.extend(
        privileged_roles
            .into_iter()
            .map(|role| Excess::MemberOfPrivileged {
                role: grants::ident(&role).into_owned(),
            }),
    );
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

/// Every grant line that applies: the user's, `PUBLIC`'s, and, for each role granted to
/// either, the lines `SHOW GRANTS` gives with that role active (its own and its nested
/// roles'). Each line once.
async fn grant_lines(
    conn: &mut MySqlConnection,
    excesses: &mut Vec<Excess>,
) -> Result<BTreeSet<String>, VerifyError> {
    let mut lines: BTreeSet<String> = BTreeSet::new();
    lines.extend(show(conn, "SHOW GRANTS FOR CURRENT_USER()").await?);
    // The roles granted to the user are entered below; `PUBLIC`'s lines already hold its
    // roles' grants, nested ones included, and no user may enter them.
    let roles: BTreeSet<String> = lines
        .iter()
        .filter_map(|line| match grants::parse(line) {
            Some(Grant::Role { role, .. }) => Some(role),
            _ => None,
        })
        .collect();
    lines.extend(show(conn, "SHOW GRANTS FOR PUBLIC").await?);
    if roles.len() > MAX_ROLES {
        excesses.push(Excess::Unchecked {
            reason: format!("more than {MAX_ROLES} roles are granted"),
        });
    }
    let previous: Option<String> = sqlx::query_scalar("SELECT CURRENT_ROLE()")
        .fetch_one(&mut *conn)
        .await?;
    let entered = enter_each(conn, roles.iter().take(MAX_ROLES), excesses).await;
    // The session's own role comes back whatever happened in between: a pooled connection
    // must not stay in a role the check entered.
    let restore = match previous.as_deref() {
        Some(role) => format!("SET ROLE {}", quoted(role)),
        None => "SET ROLE NONE".to_owned(),
    };
    sqlx::query(AssertSqlSafe(restore))
        .execute(&mut *conn)
        .await?;
    lines.extend(entered?);
    Ok(lines)
}

/// The lines `SHOW GRANTS` gives with each role active in turn; a role that cannot be
/// entered is an `Unchecked` excess.
async fn enter_each(
    conn: &mut MySqlConnection,
    roles: impl Iterator<Item = &String>,
    excesses: &mut Vec<Excess>,
) -> Result<Vec<String>, VerifyError> {
    let mut lines = Vec::new();
    for role in roles {
        // The name comes from the server's own grant line; quoted as an identifier.
        let enter = format!("SET ROLE {}", quoted(role));
        if sqlx::query(AssertSqlSafe(enter))
            .execute(&mut *conn)
            .await
            .is_err()
        {
            excesses.push(Excess::Unchecked {
                reason: format!(
                    "role {} cannot be entered to read its grants",
                    grants::ident(role)
                ),
            });
            continue;
        }
        lines.extend(show(conn, "SHOW GRANTS").await?);
    }
    Ok(lines)
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The lines of one `SHOW GRANTS`.
async fn show(
    conn: &mut MySqlConnection,
    statement: &'static str,
) -> Result<Vec<String>, VerifyError> {
    let rows = sqlx::query(statement).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(VerifyError::from))
        .collect()
}

/// `(database, table)` for every table the user can see, the system databases aside (any
/// grant on those is an excess of its own).
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
        let system = touches_system(object);
        for privilege in privileges {
            let excess = |privilege: &str| Excess::Privilege {
                privilege: privilege.to_owned(),
                scope: scope.clone(),
            };
            match privilege.as_str() {
                "USAGE" => {}
                "ALL" | "ALL PRIVILEGES" => found.push(Excess::AllPrivileges {
                    scope: scope.clone(),
                }),
                // Reading the system databases (password hashes, other sessions) is no
                // application's read; `*.*` reaches them.
                "SELECT" | "SHOW VIEW" if system || matches!(object, Object::Global) => {
                    found.push(excess(privilege));
                }
                // Temporary tables live and die with the session, as PostgreSQL's TEMP.
                "SELECT" | "SHOW VIEW" | "SHOW DATABASES" | "CREATE TEMPORARY TABLES" => {}
                "INSERT" | "UPDATE" | "DELETE" if !system => {
                    self.row_writes(privilege, object, found);
                }
                other => found.push(excess(other)),
            }
        }
    }

    /// A row-write privilege outside the system databases: server-wide, or on a whole
    /// database (which reaches tables created later), it is an excess of its own; on a
    /// database or a table, each table it reaches that may not be written is one too.
    fn row_writes(&self, privilege: &str, object: &Object, found: &mut Vec<Excess>) {
        let privilege: &'static str = match privilege {
            "INSERT" => "INSERT",
            "UPDATE" => "UPDATE",
            _ => "DELETE",
        };
        let mut reached: Vec<String> = Vec::new();
        match object {
            Object::Database(pattern) => {
                found.push(Excess::Privilege {
                    privilege: privilege.to_owned(),
                    scope: object.scope(),
                });
                reached.extend(
                    self.tables
                        .iter()
                        .filter(|(database, _)| grants::matches(pattern, database))
                        .map(|(database, table)| {
                            format!("{}.{}", grants::ident(database), grants::ident(table))
                        }),
                );
            }
            Object::Table { .. } => reached.push(object.scope()),
            Object::Global | Object::Routine { .. } => found.push(Excess::Privilege {
                privilege: privilege.to_owned(),
                scope: object.scope(),
            }),
        }
        let default = self.default_database.map(grants::ident);
        for table in reached {
            if !self.expect.may_write(&table, default.as_deref()) {
                found.push(Excess::TableWrite { table, privilege });
            }
        }
    }
}

/// Whether a grant's object is, or could match, a system database.
fn touches_system(object: &Object) -> bool {
    match object {
        Object::Database(pattern) => SYSTEM_DATABASES
            .iter()
            .any(|system| grants::matches(pattern, system)),
        Object::Table { database, .. } => SYSTEM_DATABASES.contains(&database.as_str()),
        Object::Global | Object::Routine { .. } => false,
    }
}
