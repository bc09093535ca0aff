//! R-AUD-1: emission never blocks (full queue: counted as dropped), panicking sinks are
//! caught and counted, every event reaches every sink, the actor comes from the source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_audit::{
    Actor, ActorSource, Audit, DbSystem, QueryInfo, QueryOutcome, QueryPhase, QueryTarget,
    SecurityEvent, SecurityKind, Sink,
};
use palisade_clock::Clock as _;
use palisade_redact::FieldMasker;
use palisade_test::{Canary, FakeClock};

fn target() -> Arc<QueryTarget> {
    Arc::new(
        QueryTarget::new(DbSystem::PostgreSql)
            .with_namespace("app")
            .with_server("db.internal", 5432),
    )
}

fn info() -> QueryInfo {
    QueryInfo::new(target(), "SELECT", ["users"]).with_text("SELECT * FROM users".into())
}

#[derive(Default, Clone)]
struct Recorded(Arc<Mutex<Vec<String>>>);

impl Recorded {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Sink for Recorded {
    fn on_query(&mut self, event: &palisade_audit::QueryEvent) {
        let phase = match event.phase() {
            QueryPhase::Start => "start".to_owned(),
            QueryPhase::End { outcome, .. } => format!("end {outcome:?}"),
        };
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {phase}", event.id()));
    }

    fn on_security(&mut self, event: &SecurityEvent) {
        self.0.lock().unwrap().push(event.kind().name().to_owned());
    }
}

#[test]
fn each_statement_ends_exactly_once_whichever_way_it_ends() {
    let recorded = Recorded::default();
    let audit = Audit::builder().sink(recorded.clone()).build();
    let ok = audit.start_query(info());
    let ok_id = ok.id();
    ok.succeeded(Some(3));
    let failed = audit.start_query(info());
    let failed_id = failed.id();
    failed.failed("database", Some("42P01".into()));
    let mut dropped = audit.start_query(info());
    let dropped_id = dropped.id();
    dropped.add_rows(2);
    drop(dropped);
    audit.flush();
    assert_eq!(
        recorded.take(),
        [
            format!("{ok_id} start"),
            format!("{ok_id} end Succeeded {{ returned_rows: Some(3) }}"),
            format!("{failed_id} start"),
            format!(
                "{failed_id} end Failed {{ error_type: \"database\", status_code: Some(\"42P01\") }}"
            ),
            format!("{dropped_id} start"),
            format!("{dropped_id} end Abandoned {{ returned_rows: 2 }}"),
        ]
    );
    assert_eq!(audit.stats().delivered, 6);
}

/// A sink that tells when it holds the audit thread, and holds it until released.
struct Blocking {
    entered: mpsc::Sender<()>,
    release: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Sink for Blocking {
    fn on_security(&mut self, _: &SecurityEvent) {
        let _ = self.entered.send(());
        let _ = self.release.lock().unwrap().recv();
    }
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_waiting() {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let audit = Audit::builder()
        .capacity(2)
        .sink(Blocking {
            entered: entered_tx,
            release: Arc::new(Mutex::new(release_rx)),
        })
        .build();
    let event = || SecurityEvent::new(SecurityKind::RateLimited, "test");
    audit.security(event());
    // The first event holds the audit thread; the queue (2) fills and the rest are dropped.
    entered.recv_timeout(Duration::from_secs(30)).unwrap();
    for _ in 0..10 {
        audit.security(event());
    }
    let stats = audit.stats();
    assert_eq!((stats.emitted, stats.dropped), (3, 8), "{stats:?}");
    for _ in 0..3 {
        release.send(()).unwrap();
    }
    audit.flush();
    let stats = audit.stats();
    assert_eq!((stats.delivered, stats.dropped), (3, 8), "{stats:?}");
}

struct Panicking;

impl Sink for Panicking {
    #[allow(clippy::panic, reason = "the sink under test panics on purpose")]
    fn on_security(&mut self, _: &SecurityEvent) {
        panic!("a subscriber's bug");
    }
}

#[test]
fn a_panicking_sink_is_caught_counted_and_the_others_still_receive() {
    let recorded = Recorded::default();
    let into = recorded.clone();
    let audit = Audit::builder()
        .sink(Panicking)
        .on_security(move |event| into.0.lock().unwrap().push(event.kind().name().into()))
        .build();
    audit.security(SecurityEvent::new(SecurityKind::AuthFailed, "test"));
    audit.security(SecurityEvent::new(SecurityKind::AccessDenied, "test"));
    audit.flush();
    assert_eq!(recorded.take(), ["auth_failed", "access_denied"]);
    let stats = audit.stats();
    assert_eq!((stats.panicked, stats.delivered), (2, 2), "{stats:?}");
}

#[derive(Debug)]
struct FixedActor;

impl ActorSource for FixedActor {
    fn current(&self) -> Actor {
        Actor {
            user: Some("u-7".into()),
            organization: Some("org-1".into()),
            request_id: Some("req-9".into()),
            client: Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))),
        }
    }
}

#[test]
fn actor_and_times_come_from_the_injected_source_and_clock() {
    let clock = FakeClock::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&seen);
    let security = Arc::new(Mutex::new(Vec::new()));
    let into_security = Arc::clone(&security);
    let audit = Audit::builder()
        .clock(Arc::new(clock.clone()))
        .actors(Arc::new(FixedActor))
        .on_query(move |event| into.lock().unwrap().push(event.clone()))
        .on_security(move |event| into_security.lock().unwrap().push(event.clone()))
        .build();
    let started = clock.system_now();
    let running = audit.start_query(info());
    clock.advance(Duration::from_millis(250));
    running.succeeded(None);
    audit.security(
        SecurityEvent::new(SecurityKind::AuthFailed, "sign-in")
            .with_user("claimed@example.com")
            .with_reason("mismatch"),
    );
    audit.flush();
    let seen = seen.lock().unwrap();
    let [start, end] = &seen[..] else {
        unreachable!("two events: {seen:?}")
    };
    assert_eq!(start.at(), started);
    assert_eq!(end.elapsed(), Some(Duration::from_millis(250)));
    assert_eq!(end.at(), started + Duration::from_millis(250));
    assert_eq!(
        end.outcome(),
        Some(&QueryOutcome::Succeeded {
            returned_rows: None
        })
    );
    assert_eq!(end.actor().user.as_deref(), Some("u-7"));
    assert_eq!(end.actor().request_id.as_deref(), Some("req-9"));
    let security = security.lock().unwrap();
    // The emitter's user wins over the context's; the rest comes from the context.
    assert_eq!(
        security[0].actor().user.as_deref(),
        Some("claimed@example.com")
    );
    assert_eq!(security[0].actor().organization.as_deref(), Some("org-1"));
    assert_eq!(security[0].at(), started + Duration::from_millis(250));
}

#[test]
fn query_attributes_follow_opentelemetry() {
    let long_name = "é".repeat(600);
    let info = QueryInfo::new(target(), "SELECT", ["users", "orders"])
        .with_text(format!("SELECT {long_name} FROM users"));
    assert_eq!(info.summary(), "SELECT users orders");
    assert_eq!(
        info.collection(),
        None,
        "two relations: no db.collection.name"
    );
    assert_eq!(info.text().unwrap().chars().count(), 500);
    let one = QueryInfo::new(target(), "DELETE", ["users"]);
    assert_eq!(one.collection(), Some("users"));
    let wide = QueryInfo::new(target(), "SELECT", std::iter::repeat_n("t", 300));
    assert_eq!(wide.summary().chars().count(), 255);
    assert_eq!(one.target().system().name(), "postgresql");
    assert_eq!(one.target().server_port(), Some(5432));
}

#[test]
fn parameter_values_are_absent_by_default_and_redacted_when_opted_in() {
    let canary = Canary::new();
    let plain = Audit::builder().build();
    assert!(!plain.records_parameter_values());
    let name_only = plain.parameter("note", &canary.value());
    assert_eq!((name_only.name(), name_only.value()), ("note", None));

    let opted = Audit::builder()
        .parameter_values(FieldMasker::new())
        .build();
    let password = opted.parameter("password", &canary.value());
    assert_eq!(password.value(), Some("[REDACTED]"));
    let aws = opted.parameter("note", &"key AKIAIOSFODNN7EXAMPLE here");
    assert!(
        !aws.value().unwrap().contains("AKIAIOSFODNN7EXAMPLE"),
        "{aws:?}"
    );
    let count = opted.parameter("limit", &25);
    assert_eq!(count.value(), Some("25"));
    canary.assert_not_in_debug(&password);
}
