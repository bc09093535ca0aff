//! The relations a `SELECT` reads in its own `FROM`, known while its conditions are judged:
//! `users.id = id` compares a column of `users` with itself when `users` is this select's
//! own (an unqualified `id` is read in the innermost select first), and
//! `id IN (SELECT id FROM users)` asks nothing of a row of `users`.

use std::cell::RefCell;

use sqlparser::ast::{
    Expr, FromTable, Select, Statement, TableFactor, TableWithJoins, UpdateTableFromKind,
};

thread_local! {
    static OWN: RefCell<Vec<Relation>> = const { RefCell::new(Vec::new()) };
}

/// One relation of a `FROM`: its table name (last part, lower-case) and the name its columns
/// are qualified with (its alias, else the table name).
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    table: Option<String>,
    qualifier: String,
}

/// The relations `select` reads directly (tables and aliased derived tables, joins included).
pub(crate) fn relations_of(select: &Select) -> Vec<Relation> {
    relations_in(&select.from)
}

/// The relations an `UPDATE` or `DELETE` filters on (its target and its `FROM` or `USING`),
/// and its filter.
pub(crate) fn write_filter(statement: &Statement) -> Option<(Vec<Relation>, Option<&Expr>)> {
    match statement {
        Statement::Update(update) => {
            let mut tables = vec![update.table.clone()];
            match &update.from {
                Some(
                    UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from),
                ) => {
                    tables.extend(from.iter().cloned());
                }
                None => {}
            }
            Some((relations_in(&tables), update.selection.as_ref()))
        }
        Statement::Delete(delete) => {
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            let mut relations = relations_in(from);
            relations.extend(relations_in(delete.using.as_deref().unwrap_or_default()));
            Some((relations, delete.selection.as_ref()))
        }
        _ => None,
    }
}

fn relations_in(tables: &[TableWithJoins]) -> Vec<Relation> {
    let mut out = Vec::new();
    for from in tables {
        for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
        {
            match factor {
                TableFactor::Table { name, alias, .. } => {
                    let table = name
                        .0
                        .last()
                        .and_then(|part| part.as_ident())
                        .map(|ident| ident.value.to_lowercase());
                    let qualifier = alias
                        .as_ref()
                        .map(|a| a.name.value.to_lowercase())
                        .or_else(|| table.clone());
                    if let Some(qualifier) = qualifier {
                        out.push(Relation { table, qualifier });
                    }
                }
                TableFactor::Derived {
                    alias: Some(alias), ..
                } => out.push(Relation {
                    table: None,
                    qualifier: alias.name.value.to_lowercase(),
                }),
                _ => {}
            }
        }
    }
    out
}

/// Runs `judge` with `own` as the current select's relations.
pub(crate) fn with_own<T>(own: &[Relation], judge: impl FnOnce() -> T) -> T {
    let previous = OWN.with(|cell| cell.replace(own.to_vec()));
    let result = judge();
    OWN.with(|cell| cell.replace(previous));
    result
}

/// Whether `qualifier` names one of the current select's own relations.
pub(super) fn is_own_qualifier(qualifier: &str) -> bool {
    OWN.with(|cell| {
        cell.borrow()
            .iter()
            .any(|r| r.qualifier.eq_ignore_ascii_case(qualifier))
    })
}

/// Whether `table` is read by the current select itself.
pub(super) fn is_own_table(table: &str) -> bool {
    OWN.with(|cell| {
        cell.borrow().iter().any(|r| {
            r.table
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(table))
        })
    })
}
