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

/// Statements remembered per handle: an application runs a fixed set of statements, so after
/// the first run of each, its event description (shape, relations, parameter names) costs a
/// hash lookup, not a pass over its tokens and a handful of allocations.
const MAX_REMEMBERED: usize = 4096;

type Remembered = HashMap<Box<str>, Arc<QueryInfo>, foldhash::fast::RandomState>;

/// Where a [`GuardedSql`](super::GuardedSql) handle's events go.
#[derive(Clone)]
pub(super) struct SqlAudit {
    audit: Audit,
    target: Arc<QueryTarget>,
    /// Descriptions by statement text: read without locking (copied on the rare insert);
    /// not used when parameter values are recorded (they differ run to run).
    remembered: Arc<ArcSwap<Remembered>>,
}

impl std::fmt::Debug for SqlAudit {
    /// The target and how many shapes are remembered, never a statement.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAudit")
            .field("target", &self.target)
            .field("remembered", &self.remembered.load().len())
            .finish_non_exhaustive()
    }
}

impl SqlAudit {
    pub(super) fn new(audit: Audit, target: QueryTarget) -> Self {
        Self {
            audit,
            target: Arc::new(target),
            remembered: Arc::new(ArcSwap::from_pointee(Remembered::default())),
        }
    }

    /// The description of `sql` if it was run before (and values are not recorded).
    pub(super) fn remembered(&self, sql: &str) -> Option<Arc<QueryInfo>> {
        if self.records_values() {
            return None;
        }
        self.remembered.load().get(sql).cloned()
    }

    /// Remembers the description of `sql` while there is room.
    fn remember(&self, sql: &str, info: &Arc<QueryInfo>) {
        if self.records_values() {
            return;
        }
        let current = self.remembered.load();
        if current.len() < MAX_REMEMBERED && !current.contains_key(sql) {
            let mut next = Remembered::clone(&current);
            next.insert(sql.into(), Arc::clone(info));
            // Two racing inserts keep one of the copies: either is a correct cache.
            self.remembered.store(Arc::new(next));
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

    /// A remembered statement is about to be sent.
    pub(super) fn start_remembered(&self, info: Arc<QueryInfo>) -> RunningQuery {
        self.audit.start_query(info)
    }

    /// The statement `sql` is about to be sent, described for the first time.
    pub(super) fn start(
        &self,
        sql: &str,
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
        let info = Arc::new(info);
        self.remember(sql, &info);
        self.audit.start_query(info)
    }
}

/// A target from connect options (a Unix socket path is not a server address: left out).
pub(super) fn target(
    system: palisade_audit::DbSystem,
    database: Option<&str>,
    host: &str,
    port: u16,
) -> QueryTarget {
    let mut target = QueryTarget::new(system);
    if let Some(database) = database {
        target = target.with_namespace(database);
    }
    if !host.starts_with('/') {
        target = target.with_server(host, port);
    }
    target
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
