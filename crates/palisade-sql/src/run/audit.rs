//! The `audit` feature: one start and one end event for every statement the executor runs,
//! and a `GuardRefused` security event for every statement the guard refuses.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use palisade_audit::{
    Audit, Parameter, QueryInfo, QueryTarget, RunningQuery, SecurityEvent, SecurityKind,
};
use sqlparser::ast::Statement;

use super::QueryError;
use crate::{Checked, Fingerprint, Violation};

/// Statement shapes remembered per handle: an application runs a fixed set of statements,
/// so after the first run of each the shape costs a hash lookup, not a pass over its tokens.
const MAX_REMEMBERED_SHAPES: usize = 4096;

type Shapes = HashMap<Box<str>, Arc<str>, foldhash::fast::RandomState>;

/// Where a [`GuardedSql`](super::GuardedSql) handle's events go.
#[derive(Clone)]
pub(super) struct SqlAudit {
    audit: Audit,
    target: Arc<QueryTarget>,
    /// Shapes by statement text: read without locking (copied on the rare insert).
    shapes: Arc<ArcSwap<Shapes>>,
}

impl std::fmt::Debug for SqlAudit {
    /// The target and how many shapes are remembered, never a statement.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAudit")
            .field("target", &self.target)
            .field("remembered_shapes", &self.shapes.load().len())
            .finish_non_exhaustive()
    }
}

impl SqlAudit {
    pub(super) fn new(audit: Audit, target: QueryTarget) -> Self {
        Self {
            audit,
            target: Arc::new(target),
            shapes: Arc::new(ArcSwap::from_pointee(Shapes::default())),
        }
    }

    /// The shape of `sql` if it was seen before.
    pub(super) fn remembered_shape(&self, sql: &str) -> Option<Arc<str>> {
        self.shapes.load().get(sql).cloned()
    }

    /// The shape of `sql`, remembered while there is room.
    pub(super) fn remember_shape(&self, sql: &str, shape: &Fingerprint) -> Arc<str> {
        let text: Arc<str> = shape.text().into();
        let current = self.shapes.load();
        if current.len() < MAX_REMEMBERED_SHAPES && !current.contains_key(sql) {
            let mut next = Shapes::clone(&current);
            next.insert(sql.into(), Arc::clone(&text));
            // Two racing inserts keep one of the copies: either is a correct cache.
            self.shapes.store(Arc::new(next));
        }
        text
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
        shape_text: Option<Arc<str>>,
        parameters: Vec<Parameter>,
    ) -> RunningQuery {
        let operation = operation_name(checked.statement(), shape_text.as_deref());
        let mut info = QueryInfo::new(
            Arc::clone(&self.target),
            operation,
            checked.tables().iter().map(String::as_str),
        )
        .with_parameters(parameters);
        if let Some(text) = shape_text {
            info = info.with_text(text.to_string());
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
