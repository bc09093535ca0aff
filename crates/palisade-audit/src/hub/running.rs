//! `RunningQuery`: a started statement, which emits its end exactly once.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::{Audit, Message};
use crate::{Actor, QueryEvent, QueryInfo, QueryOutcome, QueryPhase};

/// A statement whose start was emitted. Its end is emitted exactly once: by
/// [`succeeded`](Self::succeeded), [`failed`](Self::failed), or, when it is dropped first
/// (a stream dropped early, a cancelled future), as [`QueryOutcome::Abandoned`] with the
/// rows counted so far.
pub struct RunningQuery {
    audit: Audit,
    id: u64,
    info: Arc<QueryInfo>,
    actor: Actor,
    started: Instant,
    rows: u64,
    ended: bool,
}

impl fmt::Debug for RunningQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningQuery")
            .field("id", &self.id)
            .field("summary", &self.info.summary())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl RunningQuery {
    pub(super) fn start(audit: Audit, info: Arc<QueryInfo>) -> Self {
        let actor = audit.actors().current();
        let clock = audit.clock();
        let started = clock.now();
        let at = clock.system_now();
        let id = audit.next_id();
        audit.push(Message::Query(Box::new(QueryEvent {
            id,
            info: Arc::clone(&info),
            phase: QueryPhase::Start,
            actor: actor.clone(),
            at,
        })));
        Self {
            audit,
            id,
            info,
            actor,
            started,
            rows: 0,
            ended: false,
        }
    }

    /// The statement's id (the same in its start and end events).
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Counts `rows` more rows read (a stream's items), reported if it is abandoned.
    pub fn add_rows(&mut self, rows: u64) {
        self.rows = self.rows.saturating_add(rows);
    }

    /// Ends it as run, with the rows returned or affected when the driver tells (`None`: not
    /// known, as for a cursor handed to the caller).
    pub fn succeeded(mut self, returned_rows: Option<u64>) {
        self.end(QueryOutcome::Succeeded { returned_rows });
    }

    /// Ends it as failed: `error_type` a low-cardinality class, `status_code` the server's
    /// code (SQLSTATE, error number), never its message.
    pub fn failed(mut self, error_type: impl Into<Cow<'static, str>>, status_code: Option<String>) {
        self.end(QueryOutcome::Failed {
            error_type: error_type.into(),
            status_code,
        });
    }

    fn end(&mut self, outcome: QueryOutcome) {
        if self.ended {
            return;
        }
        self.ended = true;
        let clock = self.audit.clock();
        let elapsed = clock.now().saturating_duration_since(self.started);
        let at = clock.system_now();
        self.audit.push(Message::Query(Box::new(QueryEvent {
            id: self.id,
            info: Arc::clone(&self.info),
            phase: QueryPhase::End { elapsed, outcome },
            actor: std::mem::take(&mut self.actor),
            at,
        })));
    }
}

impl Drop for RunningQuery {
    fn drop(&mut self) {
        let returned_rows = self.rows;
        self.end(QueryOutcome::Abandoned { returned_rows });
    }
}
