//! What a statement reaches: calls, relations (with catalogs, the allow-list and CTE scopes),
//! `TABLE` branches, lock hints and aliases, for the walk in the parent module.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, Ident, SetExpr, Spanned, TableFactor};
use sqlparser::tokenizer::Location;

use super::{Inspector, violation};
use crate::Dialect;
use crate::guard::functions::{self, Call};
use crate::guard::policy::StatementKind;
use crate::guard::relations::{folded, is_catalog, lower_parts};
use crate::guard::violation::{Rule, Violation};

/// T-SQL keywords that start a statement. SQL Server needs no `;` between statements, so
/// `SELECT * FROM users SHUTDOWN` is two statements there, while sqlparser reads the second
/// as an alias: an unquoted alias spelled like one is a stacked statement.
const TSQL_STATEMENT_KEYWORDS: &[&str] = &[
    "alter",
    "backup",
    "begin",
    "break",
    "bulk",
    "checkpoint",
    "close",
    "commit",
    "continue",
    "create",
    "dbcc",
    "deallocate",
    "declare",
    "delete",
    "deny",
    "drop",
    "dump",
    "exec",
    "execute",
    "exit",
    "fetch",
    "goto",
    "grant",
    "if",
    "insert",
    "kill",
    "load",
    "merge",
    "open",
    "print",
    "raiserror",
    "readtext",
    "reconfigure",
    "restore",
    "return",
    "revert",
    "revoke",
    "rollback",
    "save",
    "select",
    "set",
    "setuser",
    "shutdown",
    "throw",
    "truncate",
    "update",
    "updatetext",
    "use",
    "waitfor",
    "while",
    "with",
    "writetext",
];

impl Inspector<'_> {
    /// A call of the function named `parts` (lower-case), at `at`; `as_relation` when it
    /// stands in `FROM`, where a catalog's table function (`pragma_table_info`,
    /// `pg_get_keywords`) reads the catalog.
    pub(super) fn call(
        &mut self,
        parts: Vec<String>,
        at: Location,
        as_relation: bool,
    ) -> ControlFlow<Box<Violation>> {
        match functions::classify(&parts) {
            Call::Dangerous => return violation(Rule::DangerousFunction, at),
            Call::SideEffect if !self.policy.allows(StatementKind::Write) => {
                return violation(Rule::StatementNotAllowed, at);
            }
            Call::Catalog if !self.policy.catalog_allowed => {
                return violation(Rule::CatalogRead, at);
            }
            Call::SideEffect | Call::Catalog | Call::Plain => {}
        }
        if as_relation && is_catalog(&parts, self.policy.dialect) && !self.policy.catalog_allowed {
            return violation(Rule::CatalogRead, at);
        }
        self.functions.push(parts.join("."));
        ControlFlow::Continue(())
    }

    /// A relation named by `parts` (lower-case) whose table name the server compares as
    /// `table`, at `at`.
    /// A relation whose name parts are `lower` (lower-case, for catalogs) and `name` (folded
    /// as the server compares table names), at `at`.
    pub(super) fn relation(
        &mut self,
        lower: &[String],
        name: &[String],
        at: Location,
    ) -> ControlFlow<Box<Violation>> {
        if let [single] = name
            && !self.targets.contains(&at)
            && self.ctes.binds(single)
        {
            return ControlFlow::Continue(());
        }
        if is_catalog(lower, self.policy.dialect) && !self.policy.catalog_allowed {
            return violation(Rule::CatalogRead, at);
        }
        let joined = name.join(".");
        if let Some(allowed) = &self.policy.tables
            && !allowed.contains(&joined)
        {
            return violation(Rule::TableNotAllowed, at);
        }
        self.tables.push(joined);
        ControlFlow::Continue(())
    }

    /// A server or session variable: `@@version` anywhere, and MySQL's user variables
    /// (`@x`, which SQL Server spells its parameters with).
    pub(super) fn session_variable(&self, ident: &Ident) -> bool {
        ident.quote_style.is_none()
            && (ident.value.starts_with("@@")
                || (self.policy.dialect == Dialect::MySql && ident.value.starts_with('@')))
    }

    /// An alias that SQL Server would read as the start of another statement.
    pub(super) fn statement_alias(&self, alias: &Ident) -> ControlFlow<Box<Violation>> {
        if self.policy.dialect == Dialect::MsSql
            && alias.quote_style.is_none()
            && TSQL_STATEMENT_KEYWORDS.contains(&alias.value.to_lowercase().as_str())
        {
            return violation(Rule::MultipleStatements, alias.span.start);
        }
        ControlFlow::Continue(())
    }

    /// `TABLE x` read as a set operation's branch (`SELECT 1 UNION TABLE secrets`).
    pub(super) fn table_branches(
        &mut self,
        body: &SetExpr,
        at: Location,
    ) -> ControlFlow<Box<Violation>> {
        match body {
            SetExpr::Table(table) => {
                let idents = [&table.schema_name, &table.table_name];
                let lower: Vec<String> = idents
                    .iter()
                    .copied()
                    .flatten()
                    .map(|ident| ident.value.to_lowercase())
                    .collect();
                let name: Vec<String> = idents
                    .iter()
                    .copied()
                    .flatten()
                    .map(|ident| folded(ident, self.policy.dialect))
                    .collect();
                self.relation(&lower, &name, at)
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.table_branches(left, at)?;
                self.table_branches(right, at)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    /// A table, table function, derived table or join in `FROM`: calls, lock hints, aliases.
    pub(super) fn table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Box<Violation>> {
        let alias = match factor {
            TableFactor::Table {
                name,
                args,
                alias,
                with_hints,
                ..
            } => {
                // SQL Server's old `FROM t (NOLOCK)` parses as a call with hint names for
                // arguments: it is the table `t` with hints.
                let hints_only = self.policy.dialect == Dialect::MsSql
                    && args.as_ref().is_some_and(|a| {
                        a.args.iter().all(|arg| {
                            matches!(
                                arg,
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(_)))
                            )
                        })
                    });
                if let Some(args) = args.as_ref().filter(|_| !hints_only) {
                    let parts = lower_parts(name);
                    if parts
                        .last()
                        .is_some_and(|last| functions::oversized(last, &args.args))
                    {
                        return violation(Rule::DangerousFunction, name.span().start);
                    }
                    self.table_function_at = Some(name.span().start);
                }
                // Lock hints (`WITH (UPDLOCK)`, `(TABLOCKX)`) take locks: writes.
                let hinted = with_hints.iter().chain(
                    args.iter()
                        .filter(|_| hints_only)
                        .flat_map(|a| &a.args)
                        .filter_map(|arg| match arg {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                            _ => None,
                        }),
                );
                for hint in hinted {
                    let read_only_hint = matches!(hint, Expr::Identifier(h)
                        if ["nolock", "readuncommitted", "nowait", "readcommitted"]
                            .contains(&h.value.to_lowercase().as_str()));
                    if !read_only_hint && !self.policy.allows(StatementKind::Write) {
                        return violation(Rule::StatementNotAllowed, hint.span().start);
                    }
                }
                alias
            }
            TableFactor::Function { name, alias, .. } => {
                self.call(lower_parts(name), name.span().start, true)?;
                alias
            }
            TableFactor::Derived { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::NestedJoin { alias, .. } => alias,
            _ => &None,
        };
        match alias {
            Some(alias) => self.statement_alias(&alias.name),
            None => ControlFlow::Continue(()),
        }
    }
}
