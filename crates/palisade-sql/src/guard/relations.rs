//! Relations as the server resolves them: which names are system catalogs in each dialect,
//! how a name is folded before it is compared with the policy's tables, and which names a
//! `WITH` binds in which scope.

use std::collections::HashMap;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

use crate::Dialect;

/// Schemas (or databases) whose every table is a catalog, lower-case.
const CATALOG_SCHEMAS: &[&str] = &[
    "information_schema",
    "pg_catalog",
    "pg_toast",
    "mysql",
    "performance_schema",
    "sys",
    // SQL Server's system databases, as in `master..sysobjects` or `msdb.dbo.backupset`.
    "master",
    "msdb",
];

/// Catalog tables and views that need no schema, lower-case.
const CATALOG_TABLES: &[&str] = &[
    // SQLite, under any schema alias (`main.`, `temp.`, an attached name).
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
    "sqlite_sequence",
    "sqlite_stat1",
    "sqlite_stat2",
    "sqlite_stat3",
    "sqlite_stat4",
    "sqlite_dbpage",
    "sqlite_stmt",
    "dbstat",
    // SQL Server's compatibility views (`dbo.sysobjects` as much as `sysobjects`).
    "sysobjects",
    "syscolumns",
    "syscomments",
    "sysdatabases",
    "sysusers",
    "syslogins",
    "sysxlogins",
    "sysprocesses",
    "sysservers",
    "sysfiles",
    "sysaltfiles",
    "sysindexes",
    "systypes",
    "sysprotects",
    "sysmembers",
    "sysconfigures",
    "syscurconfigs",
    "sysremotelogins",
    "syscacheobjects",
    "syslockinfo",
    "sysperfinfo",
    "sysdevices",
    "sysoledbusers",
    "syslanguages",
    "sysmessages",
    "syscharsets",
    "sysreferences",
    "sysforeignkeys",
    "sysconstraints",
    "sysdepends",
    "sysfilegroups",
    "syspermissions",
];

/// Whether the relation named by `parts` (lower-case) is a system catalog in `dialect`.
pub(crate) fn is_catalog(parts: &[String], dialect: Dialect) -> bool {
    let Some(table) = parts.last() else {
        return false;
    };
    let schemas = parts.iter().rev().skip(1);
    schemas
        .clone()
        .any(|s| CATALOG_SCHEMAS.contains(&s.as_str()))
        || CATALOG_TABLES.contains(&table.as_str())
        || match dialect {
            // PostgreSQL puts pg_catalog first on every search path: an unqualified `pg_*`
            // name is a catalog unless a schema is named.
            Dialect::Postgres => table.starts_with("pg_") && parts.len() == 1,
            // SQLite's table-valued pragmas (`pragma_table_info('users')`).
            Dialect::Sqlite => table.starts_with("pragma_"),
            Dialect::MsSql | Dialect::MySql => false,
        }
}

/// The parts of `name`, lower-case (for catalogs and functions, which are refused whatever
/// the case they were written in).
pub(crate) fn lower_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident.value.to_lowercase(),
            ObjectNamePart::Function(function) => function.name.value.to_lowercase(),
        })
        .collect()
}

/// `ident` as the server compares it with a table name: PostgreSQL folds an unquoted name to
/// lower case and keeps a quoted one exactly (`"Users"` is not `users`); the other servers
/// compare table names without regard to case in their default configurations.
pub(crate) fn folded(ident: &Ident, dialect: Dialect) -> String {
    match (dialect, ident.quote_style) {
        (Dialect::Postgres, Some(_)) => ident.value.clone(),
        _ => ident.value.to_lowercase(),
    }
}

/// The names each open query's `WITH` binds: a CTE name shadows a table only inside the
/// query that defines it.
#[derive(Debug, Default)]
pub(crate) struct CteScopes {
    /// Each open query's names, innermost last.
    scopes: Vec<Vec<String>>,
    /// How many open scopes bind each name.
    bound: HashMap<String, usize>,
}

impl CteScopes {
    pub(crate) fn enter(&mut self, names: Vec<String>) {
        for name in &names {
            *self.bound.entry(name.clone()).or_default() += 1;
        }
        self.scopes.push(names);
    }

    pub(crate) fn leave(&mut self) {
        for name in self.scopes.pop().unwrap_or_default() {
            if let Some(count) = self.bound.get_mut(&name) {
                *count -= 1;
                if *count == 0 {
                    self.bound.remove(&name);
                }
            }
        }
    }

    /// Whether an unqualified `name` (folded) is bound by a `WITH` in scope.
    pub(crate) fn binds(&self, name: &str) -> bool {
        self.bound.contains_key(name)
    }
}
