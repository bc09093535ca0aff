//! The `audit` feature: one start and one end event for every statement the executor runs,
//! and a `GuardRefused` security event for every statement the guard refuses.

use std::borrow::Cow;
use std::sync::Arc;

use palisade_audit::{
    Audit, Parameter, QueryInfo, QueryTarget, RunningQuery, SecurityEvent, SecurityKind,
};
use sqlparser::ast::Statement;

use super::QueryError;
use crate::{Checked, Fingerprint, Violation};

/// Where a [`GuardedSql`](super::GuardedSql) handle's events go.
#[derive(Debug, Clone)]
pub(super) struct SqlAudit {
    audit: Audit,
    target: Arc<QueryTarget>,
}

impl SqlAudit {
    pub(super) fn new(audit: Audit, target: QueryTarget) -> Self {
        Self {
            audit,
            target: Arc::new(target),
        }
    }

    /// Whether parameter values are wanted (only then are they formatted).
    pub(super) fn records_values(&self) -> bool {
        self.audit.records_parameter_values()
    }

    pub(super) fn parameter(&self, name: &str, value: &dyn std::fmt::Debug) -> Parameter {
        self.audit.parameter(name, value)
    }

    /// The guard refused the statement: nothing was sent.
    pub(super) fn refused(&self, violation: &Violation) {
        self.audit.security(
            SecurityEvent::new(SecurityKind::GuardRefused, "palisade-sql")
                .with_reason(violation.rule().id()),
        );
    }

    /// The statement is about to be sent.
    pub(super) fn start(
        &self,
        checked: &Checked,
        shape: Option<Fingerprint>,
        parameters: Vec<Parameter>,
    ) -> RunningQuery {
        let shape_text = shape.map(|s| s.text().to_owned());
        let operation = operation_name(checked.statement(), shape_text.as_deref());
        let mut info = QueryInfo::new(
            Arc::clone(&self.target),
            operation,
            checked.tables().iter().map(String::as_str),
        )
        .with_parameters(parameters);
        if let Some(text) = shape_text {
            info = info.with_text(text);
        }
        self.audit.start_query(info)
    }
}

/// Ends `running` with what the driver answered: rows from `rows` on success, the error's
/// class and SQLSTATE (never its message) on failure.
pub(super) fn finish<T>(
    running: Option<RunningQuery>,
    result: &Result<T, QueryError>,
    rows: impl FnOnce(&T) -> Option<u64>,
) {
    let Some(running) = running else { return };
    match result {
        Ok(value) => running.succeeded(rows(value)),
        // The statement ran and found nothing: not a failure of the database.
        Err(QueryError::RowNotFound) => running.succeeded(Some(0)),
        Err(QueryError::Database(database)) => {
            running.failed(database.error_type(), database.code());
        }
        Err(_) => running.failed("client", None),
    }
}

/// `db.operation.name`: the statement's keyword (`SELECT` for every query, `WITH` included).
fn operation_name(statement: &Statement, shape: Option<&str>) -> Cow<'static, str> {
    let known = match statement {
        Statement::Query(_) => "SELECT",
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge(_) => "MERGE",
        Statement::Explain { .. } => "EXPLAIN",
        Statement::StartTransaction { .. } => "BEGIN",
        Statement::Commit { .. } => "COMMIT",
        Statement::Rollback { .. } => "ROLLBACK",
        _ => {
            let first = shape.and_then(|s| s.split_whitespace().next());
            return first.map_or(Cow::Borrowed("OTHER"), |w| {
                Cow::Owned(w.to_ascii_uppercase())
            });
        }
    };
    Cow::Borrowed(known)
}
