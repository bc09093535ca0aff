//! `TracingSink`: every event as a structured `tracing` event, target `palisade::audit`.

use std::fmt::Write as _;

use crate::{QueryEvent, QueryPhase, SecurityEvent, Sink};

/// The tracing target of every audit event.
pub const TARGET: &str = "palisade::audit";

/// Emits each event as a `tracing` event with target [`TARGET`] (at `INFO`; a query's start
/// at `DEBUG`, since its end carries everything the start says and the outcome), its fields under
/// OpenTelemetry's names (`db.system.name`, `db.query.summary`, `error.type`, `user.id`,
/// `client.address`, ...), to the subscriber that was the default where the sink was made
/// (the global one, or a thread's own). Events come from the audit thread, so they carry the
/// request id and user as fields rather than through the request's span. palisade-redact's
/// formatters carry them like any other event.
///
/// ```
/// use palisade_audit::{Audit, SecurityEvent, SecurityKind, TracingSink};
///
/// let audit = Audit::builder().sink(TracingSink::new()).build();
/// audit.security(SecurityEvent::new(SecurityKind::AuthFailed, "docs").with_reason("mismatch"));
/// audit.flush();
/// ```
#[derive(Debug, Clone)]
pub struct TracingSink {
    dispatch: tracing::Dispatch,
}

impl Default for TracingSink {
    fn default() -> Self {
        Self::new()
    }
}

impl TracingSink {
    /// A sink into the current default subscriber.
    #[must_use]
    pub fn new() -> Self {
        Self {
            dispatch: tracing::dispatcher::get_default(Clone::clone),
        }
    }
}

impl Sink for TracingSink {
    fn on_query(&mut self, event: &QueryEvent) {
        tracing::dispatcher::with_default(&self.dispatch, || query(event));
    }

    fn on_security(&mut self, event: &SecurityEvent) {
        tracing::dispatcher::with_default(&self.dispatch, || security(event));
    }
}

fn query(event: &QueryEvent) {
    let info = event.info();
    let target = info.target();
    let actor = event.actor();
    let parameters = parameter_list(event);
    let (name, elapsed_us, rows, status, error) = match event.phase() {
        QueryPhase::Start => ("db.query.start", None, None, None, None),
        QueryPhase::End { elapsed, outcome } => (
            "db.query.end",
            Some(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)),
            outcome.returned_rows(),
            outcome.status_code(),
            outcome.error_type(),
        ),
    };
    // The start at DEBUG: the end carries all it says and the outcome, so an INFO log has one
    // line per query; the chained log keeps both.
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(
                target: TARGET,
                $level,
                event = name,
                query_id = event.id(),
                db.system.name = target.system().name(),
                db.namespace = target.namespace(),
                db.collection.name = info.collection(),
                db.operation.name = info.operation(),
                db.query.summary = info.summary(),
                db.query.text = info.text(),
                db.query.parameters = parameters.as_deref(),
                server.address = target.server_address(),
                server.port = target.server_port(),
                elapsed_us,
                db.response.returned_rows = rows,
                db.response.status_code = status,
                "error.type" = error,
                user.id = actor.user.as_deref(),
                request_id = actor.request_id.as_deref(),
                client.address = actor.client.map(tracing::field::display),
            )
        };
    }
    if elapsed_us.is_none() {
        emit!(tracing::Level::DEBUG);
    } else {
        emit!(tracing::Level::INFO);
    }
}

fn security(event: &SecurityEvent) {
    let actor = event.actor();
    tracing::info!(
        target: TARGET,
        event = "security",
        security.kind = event.kind().name(),
        security.source = event.source(),
        security.reason = event.reason(),
        user.id = actor.user.as_deref(),
        request_id = actor.request_id.as_deref(),
        client.address = actor.client.map(tracing::field::display),
    );
}

/// `id, name` (names only) or `id=1, name=[REDACTED]` (values recorded); `None` without
/// parameters.
fn parameter_list(event: &QueryEvent) -> Option<String> {
    let parameters = event.info().parameters();
    if parameters.is_empty() {
        return None;
    }
    let mut list = String::new();
    for (index, parameter) in parameters.iter().enumerate() {
        if index > 0 {
            list.push_str(", ");
        }
        list.push_str(parameter.name());
        if let Some(value) = parameter.value() {
            let _ = write!(list, "={value}");
        }
    }
    Some(list)
}
