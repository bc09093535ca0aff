//! What kind of statement a parsed statement is, for the policy's allow-list.

use sqlparser::ast::{CopyTarget, Query, Set, SetExpr, Statement};

use crate::guard::policy::StatementKind;
use crate::guard::violation::Rule;

/// The statement's kind, or the rule it breaks whatever the policy (`COPY ... PROGRAM`).
pub(crate) fn classify(statement: &Statement) -> Result<StatementKind, Rule> {
    use StatementKind::{Ddl, Other, Privilege, Read, Transaction, Write};
    Ok(match statement {
        Statement::Query(query) => query_kind(query),
        Statement::Explain {
            analyze, statement, ..
        } => {
            // EXPLAIN ANALYZE runs its statement.
            if *analyze { classify(statement)? } else { Read }
        }
        Statement::ExplainTable { .. }
        | Statement::ShowFunctions { .. }
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
        | Statement::ShowCollation { .. } => Read,
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
