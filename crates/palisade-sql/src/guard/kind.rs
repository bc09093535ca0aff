//! What kind of statement a parsed statement is, for the policy's allow-list.

use sqlparser::ast::{
    CopyTarget, FromTable, Query, Set, SetExpr, Spanned, Statement, TableFactor, TableObject,
};
use sqlparser::tokenizer::Location;

use crate::guard::policy::StatementKind;
use crate::guard::violation::Rule;

/// The statement's kind, or the rule it breaks whatever the policy (`COPY ... PROGRAM`).
pub(crate) fn classify(statement: &Statement) -> Result<StatementKind, Rule> {
    use StatementKind::{Ddl, Other, Privilege, Read, Transaction, Write};
    Ok(match statement {
        Statement::Query(query) => query_kind(query),
        Statement::Explain {
            analyze,
            statement,
            options,
            ..
        } => {
            // EXPLAIN ANALYZE runs its statement, however the option is spelled
            // (`EXPLAIN (ANALYZE 1)`, `(ANALYZE 'on')`).
            let analyzes = options.iter().flatten().any(|option| {
                option.name.value.eq_ignore_ascii_case("analyze")
                    && option.arg.as_ref().is_none_or(|arg| {
                        let value = arg.to_string().trim_matches('\'').to_ascii_lowercase();
                        !matches!(value.as_str(), "false" | "off" | "0" | "no" | "f" | "n")
                    })
            });
            if *analyze || analyzes {
                classify(statement)?
            } else {
                Read
            }
        }
        _ if is_show(statement) => Read,
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_) => Write,
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. } => Transaction,
        Statement::Grant(_)
        | Statement::GrantRole(_)
        | Statement::Revoke(_)
        | Statement::RevokeRole(_)
        | Statement::Deny(_)
        | Statement::CreateRole(_)
        | Statement::AlterRole { .. }
        | Statement::CreateUser(_)
        | Statement::AlterUser(_)
        | Statement::AlterDefaultPrivileges(_)
        | Statement::Set(Set::SetRole { .. } | Set::SetSessionAuthorization(_)) => Privilege,
        Statement::CreateView(_)
        | Statement::CreateTable(_)
        | Statement::CreateVirtualTable { .. }
        | Statement::CreateIndex(_)
        | Statement::CreateSchema { .. }
        | Statement::CreateDatabase { .. }
        | Statement::CreateFunction(_)
        | Statement::CreateTrigger(_)
        | Statement::CreateProcedure { .. }
        | Statement::CreateSequence { .. }
        | Statement::CreateType { .. }
        | Statement::CreateDomain(_)
        | Statement::CreateExtension(_)
        | Statement::AlterTable(_)
        | Statement::AlterSchema(_)
        | Statement::AlterIndex { .. }
        | Statement::AlterView(_)
        | Statement::AlterType(_)
        | Statement::Drop { .. }
        | Statement::DropFunction(_)
        | Statement::DropTrigger(_)
        | Statement::DropProcedure { .. }
        | Statement::DropExtension(_)
        | Statement::DropDomain(_)
        | Statement::Truncate(_)
        | Statement::RenameTable(_)
        | Statement::Comment { .. } => Ddl,
        Statement::Copy { target, .. } => {
            // `target` is the file or program read by COPY FROM or written by COPY TO.
            if matches!(target, CopyTarget::File { .. } | CopyTarget::Program { .. }) {
                return Err(Rule::FileAccess);
            }
            Other
        }
        Statement::LoadData { .. } => return Err(Rule::FileAccess),
        Statement::WaitFor(_) => return Err(Rule::DangerousFunction),
        _ => Other,
    })
}

/// A query reads, unless it selects `INTO` a new table or has a data-modifying `WITH`.
fn query_kind(query: &Query) -> StatementKind {
    let ctes_write = query.with.as_ref().is_some_and(|with| {
        with.cte_tables
            .iter()
            .any(|cte| query_kind(&cte.query) == StatementKind::Write)
    });
    match set_kind(&query.body) {
        StatementKind::Read if ctes_write => StatementKind::Write,
        kind => kind,
    }
}

fn set_kind(body: &SetExpr) -> StatementKind {
    match body {
        SetExpr::Select(select) if select.into.is_some() => StatementKind::Ddl,
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => StatementKind::Read,
        SetExpr::Query(query) => query_kind(query),
        SetExpr::SetOperation { left, right, .. } => match (set_kind(left), set_kind(right)) {
            (StatementKind::Read, other) | (other, StatementKind::Read) => other,
            (left, _) => left,
        },
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            StatementKind::Write
        }
    }
}

/// Where the tables a data-modifying statement writes are named.
pub(crate) fn dml_targets(statement: &Statement) -> Vec<Location> {
    let factor = |factor: &TableFactor| match factor {
        TableFactor::Table { name, .. } => Some(name.span().start),
        _ => None,
    };
    match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => vec![name.span().start],
            _ => Vec::new(),
        },
        Statement::Update(update) => factor(&update.table.relation).into_iter().collect(),
        Statement::Delete(delete) => {
            let from = match &delete.from {
                FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
            };
            delete
                .tables
                .iter()
                .map(|name| name.span().start)
                .chain(from.iter().filter_map(|t| factor(&t.relation)))
                .collect()
        }
        Statement::Merge(merge) => factor(&merge.table).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `SHOW ...`: a read of the catalog, whatever it shows.
pub(crate) fn is_show(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::ShowFunctions { .. }
            | Statement::ShowVariable { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowCreate { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowCatalogs { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowViews { .. }
            | Statement::ShowCollation { .. }
            | Statement::ShowCharset(_)
            | Statement::ShowObjects(_)
            | Statement::ExplainTable { .. }
    )
}
