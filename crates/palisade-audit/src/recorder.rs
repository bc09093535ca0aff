//! `Recorder`: a sink that keeps every event in memory, for tests of an application's audit
//! wiring.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{QueryEvent, QueryPhase, SecurityEvent, Sink};

/// Keeps every event it receives, in order, in memory (without bound: for tests, not for
/// production). Its clones share the events, so a test keeps one and gives one to the
/// builder.
///
/// ```
/// use palisade_audit::{Audit, Recorder, SecurityEvent, SecurityKind};
///
/// let recorder = Recorder::new();
/// let audit = Audit::builder().sink(recorder.clone()).build();
/// audit.security(SecurityEvent::new(SecurityKind::RateLimited, "docs"));
/// audit.flush();
/// assert_eq!(recorder.take_security()[0].kind(), SecurityKind::RateLimited);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    queries: Arc<Mutex<Vec<QueryEvent>>>,
    security: Arc<Mutex<Vec<SecurityEvent>>>,
}

impl Recorder {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The query events received so far, which it then forgets.
    #[must_use]
    pub fn take_queries(&self) -> Vec<QueryEvent> {
        std::mem::take(&mut *self.queries.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The security events received so far, which it then forgets.
    #[must_use]
    pub fn take_security(&self) -> Vec<SecurityEvent> {
        std::mem::take(&mut *self.security.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The end event of every statement received so far, in the order they started, which it
    /// then forgets.
    ///
    /// # Errors
    /// A description of the first statement that does not have exactly one start followed
    /// by exactly one end.
    pub fn take_ended(&self) -> Result<Vec<QueryEvent>, String> {
        let mut by_id: BTreeMap<u64, Vec<QueryEvent>> = BTreeMap::new();
        for event in self.take_queries() {
            by_id.entry(event.id()).or_default().push(event);
        }
        by_id
            .into_iter()
            .map(
                |(id, mut events)| match (events.pop(), events.pop(), events.pop()) {
                    (Some(end), Some(start), None)
                        if start.phase() == &QueryPhase::Start && end.outcome().is_some() =>
                    {
                        Ok(end)
                    }
                    _ => Err(format!(
                        "statement {id} does not have one start and one end"
                    )),
                },
            )
            .collect()
    }
}

impl Sink for Recorder {
    fn on_query(&mut self, event: &QueryEvent) {
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
    }

    fn on_security(&mut self, event: &SecurityEvent) {
        self.security
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
    }
}
