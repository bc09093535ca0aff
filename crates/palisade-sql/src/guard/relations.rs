//! Relations as the server resolves them: which names are system catalogs in each dialect,
//! how a name is folded before it is compared with the policy's tables, and which names a
//! `WITH` binds in which scope.

use std::collections::HashMap;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Query};

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
/// lower case and keeps a quoted one exactly (`"Users"` is not `users`); MySQL keeps the case
/// (a Linux server's default); SQLite and SQL Server ignore it.
pub(crate) fn folded(ident: &Ident, dialect: Dialect) -> String {
    match (dialect, ident.quote_style) {
        (Dialect::Postgres, Some(_)) | (Dialect::MySql, _) => ident.value.clone(),
        _ => ident.value.to_lowercase(),
    }
}

/// Every part of `name`, folded as [`folded`] does.
pub(crate) fn folded_parts(name: &ObjectName, dialect: Dialect) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => folded(ident, dialect),
            ObjectNamePart::Function(function) => folded(&function.name, dialect),
        })
        .collect()
}

/// The names each open query's `WITH` binds, as the server scopes them: a CTE name shadows a
/// table only inside the query that defines it, and in a plain `WITH` only after its own
/// definition (a CTE's body, and the CTEs before it, still read the table of that name:
/// `WITH secrets AS (SELECT * FROM secrets) ...` reads the real table). `WITH RECURSIVE`
/// binds every name everywhere in its query.
#[derive(Debug, Default)]
pub(crate) struct CteScopes {
    /// Each open query's scope, innermost last.
    scopes: Vec<Scope>,
}

#[derive(Debug)]
struct Scope {
    /// Each name with its position in the `WITH`.
    names: HashMap<String, usize>,
    /// How many of the names are bound now.
    visible: usize,
    /// Where each CTE's body is, to know when the walk has left one.
    bodies: Vec<usize>,
}

/// A query's identity during one walk.
fn address(query: &Query) -> usize {
    std::ptr::from_ref(query).addr()
}

impl CteScopes {
    /// Opens `query`'s scope; `fold` gives each CTE's name as relations are compared.
    pub(crate) fn enter(&mut self, query: &Query, fold: impl Fn(&Ident) -> String) {
        let ctes = query.with.as_ref().map_or(&[][..], |w| &w.cte_tables[..]);
        let recursive = query.with.as_ref().is_some_and(|w| w.recursive);
        let mut names = HashMap::with_capacity(ctes.len());
        for (index, cte) in ctes.iter().enumerate() {
            names.entry(fold(&cte.alias.name)).or_insert(index);
        }
        self.scopes.push(Scope {
            names,
            visible: if recursive { ctes.len() } else { 0 },
            bodies: ctes.iter().map(|cte| address(&cte.query)).collect(),
        });
    }

    /// Closes `query`'s scope; when `query` is a CTE's body, the CTEs after it see its name.
    pub(crate) fn leave(&mut self, query: &Query) {
        self.scopes.pop();
        if let Some(parent) = self.scopes.last_mut()
            && let Some(index) = parent.bodies.iter().position(|&b| b == address(query))
        {
            parent.visible = parent.visible.max(index + 1);
        }
    }

    /// Whether an unqualified `name` (folded) is bound by a `WITH` here.
    pub(crate) fn binds(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .any(|scope| scope.names.get(name).is_some_and(|&i| i < scope.visible))
    }
}
