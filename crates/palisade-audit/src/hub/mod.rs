//! `Audit`: the handle emitters send events to and subscribers receive them from, on a thread
//! of its own so emission never waits.

mod dispatch;
mod running;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle, Thread};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use palisade_clock::{Clock, SystemClock};
use palisade_redact::FieldMasker;

pub use running::RunningQuery;

use crate::{ActorSource, NoActor, Parameter, QueryEvent, QueryInfo, SecurityEvent};
use dispatch::{Dispatcher, Message};

/// What receives events, on the audit thread only (so `&mut self`, no locking): the tracing
/// sink, the chained log, or a closure given to [`AuditBuilder::on_query`] and
/// [`AuditBuilder::on_security`]. A panic in a sink is caught and counted, never propagated.
pub trait Sink: Send + 'static {
    /// A statement started or ended.
    fn on_query(&mut self, event: &QueryEvent) {
        let _ = event;
    }

    /// A security event.
    fn on_security(&mut self, event: &SecurityEvent) {
        let _ = event;
    }

    /// The end of a batch: the queue is empty for now, or [`Audit::flush`] was called, or the
    /// last handle is dropping. A durable sink writes out here.
    fn flush(&mut self) {}
}

/// Counts since the handle was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuditStats {
    /// Events accepted into the queue.
    pub emitted: u64,
    /// Events every sink has seen.
    pub delivered: u64,
    /// Events refused because the queue was full (never waited for).
    pub dropped: u64,
    /// Sink calls that panicked (caught).
    pub panicked: u64,
}

#[derive(Debug, Default)]
struct Counters {
    emitted: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    panicked: AtomicU64,
}

/// Builds an [`Audit`]: subscribers, queue size, clock, where the actor comes from, and
/// whether parameter values are recorded.
pub struct AuditBuilder {
    sinks: Vec<Box<dyn Sink>>,
    capacity: usize,
    tick: Duration,
    clock: Arc<dyn Clock>,
    actors: Arc<dyn ActorSource>,
    values: Option<FieldMasker>,
}

impl fmt::Debug for AuditBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditBuilder")
            .field("sinks", &self.sinks.len())
            .field("capacity", &self.capacity)
            .field("records_parameter_values", &self.values.is_some())
            .finish_non_exhaustive()
    }
}

impl AuditBuilder {
    /// The queue's default size, in events.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// How long the audit thread waits for more events before it delivers what it has,
    /// when the queue is not filling up.
    pub const DEFAULT_TICK: Duration = Duration::from_millis(20);

    /// Adds a sink.
    #[must_use]
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Adds a subscriber to query events.
    #[must_use]
    pub fn on_query(self, subscriber: impl FnMut(&QueryEvent) + Send + 'static) -> Self {
        self.sink(QueryFn(subscriber))
    }

    /// Adds a subscriber to security events.
    #[must_use]
    pub fn on_security(self, subscriber: impl FnMut(&SecurityEvent) + Send + 'static) -> Self {
        self.sink(SecurityFn(subscriber))
    }

    /// The queue's size (at least 1): events emitted while it is full are dropped and
    /// counted.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The clock events are timed with.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where the user, request id and client address come from (palisade-web's request
    /// context, behind its `audit` feature).
    #[must_use]
    pub fn actors(mut self, actors: Arc<dyn ActorSource>) -> Self {
        self.actors = actors;
        self
    }

    /// Records parameter values, each passed through `masker`: a parameter whose name is
    /// sensitive (`password`, `token`, ...) is replaced whole, any other value is redacted.
    /// Off by default: values can hold personal data (OpenTelemetry records them only on
    /// opt-in).
    #[must_use]
    pub fn parameter_values(mut self, masker: FieldMasker) -> Self {
        self.values = Some(masker);
        self
    }

    /// Starts the audit thread.
    ///
    /// # Panics
    /// When the operating system refuses to start a thread.
    #[must_use]
    #[allow(
        clippy::expect_used,
        reason = "as std::thread::spawn, a process that cannot start a thread cannot go on"
    )]
    pub fn build(self) -> Audit {
        let queue = Arc::new(ArrayQueue::new(self.capacity));
        let counters = Arc::new(Counters::default());
        let closed = Arc::new(AtomicBool::new(false));
        let dispatcher = Dispatcher {
            queue: Arc::clone(&queue),
            counters: Arc::clone(&counters),
            closed: Arc::clone(&closed),
            sinks: self.sinks,
            tick: self.tick,
        };
        let handle = thread::Builder::new()
            .name("palisade-audit".into())
            .spawn(move || dispatcher.run())
            .expect("the audit thread starts");
        Audit {
            inner: Arc::new(Inner {
                queue,
                counters,
                closed,
                thread: handle.thread().clone(),
                handle: Mutex::new(Some(handle)),
                clock: self.clock,
                actors: self.actors,
                values: self.values,
                next_id: AtomicU64::new(1),
            }),
        }
    }
}

struct Inner {
    queue: Arc<ArrayQueue<Message>>,
    counters: Arc<Counters>,
    closed: Arc<AtomicBool>,
    thread: Thread,
    handle: Mutex<Option<JoinHandle<()>>>,
    clock: Arc<dyn Clock>,
    actors: Arc<dyn ActorSource>,
    values: Option<FieldMasker>,
    next_id: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
        self.thread.unpark();
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            // The thread catches every sink panic; a join error cannot carry one.
            let _ = handle.join();
        }
    }
}

/// The audit handle: cheap to clone, shared by every emitter. Emission puts the event on a
/// bounded queue and returns: it never blocks and never fails; when the queue is full the
/// event is counted as dropped. A thread of its own delivers events to the sinks in batches
/// and catches their panics. When the last clone is dropped, the queue is drained and every
/// sink flushed before the thread ends.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use palisade_audit::{Audit, SecurityEvent, SecurityKind};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let into = Arc::clone(&seen);
/// let audit = Audit::builder()
///     .on_security(move |event| into.lock().unwrap().push(event.kind()))
///     .build();
/// audit.security(SecurityEvent::new(SecurityKind::RateLimited, "docs"));
/// audit.flush();
/// assert_eq!(*seen.lock().unwrap(), [SecurityKind::RateLimited]);
/// assert_eq!(audit.stats().delivered, 1);
/// ```
#[derive(Clone)]
pub struct Audit {
    inner: Arc<Inner>,
}

impl fmt::Debug for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit")
            .field("stats", &self.stats())
            .field("records_parameter_values", &self.inner.values.is_some())
            .finish_non_exhaustive()
    }
}

impl Audit {
    /// A builder with no sinks, a queue of 65,536 events, the system clock and no actor
    /// source.
    #[must_use]
    pub fn builder() -> AuditBuilder {
        AuditBuilder {
            sinks: Vec::new(),
            capacity: AuditBuilder::DEFAULT_CAPACITY,
            tick: AuditBuilder::DEFAULT_TICK,
            clock: Arc::new(SystemClock),
            actors: Arc::new(NoActor),
            values: None,
        }
    }

    /// Emits a security event, its actor completed from the actor source and its time set
    /// from the clock.
    pub fn security(&self, mut event: SecurityEvent) {
        event.actor = std::mem::take(&mut event.actor).or(self.inner.actors.current());
        event.at = Some(self.inner.clock.system_now());
        self.push(Message::Security(Box::new(event)));
    }

    /// Emits the start of a statement and returns what emits its end: exactly once, with
    /// [`RunningQuery::succeeded`], [`RunningQuery::failed`], or on drop as abandoned. An
    /// emitter that runs the same statement often keeps its `Arc<QueryInfo>` and passes a
    /// clone: nothing of the statement is then built again.
    #[must_use]
    pub fn start_query(&self, info: impl Into<Arc<QueryInfo>>) -> RunningQuery {
        RunningQuery::start(self.clone(), info.into())
    }

    /// Whether parameter values are recorded (an emitter can skip formatting them if not).
    #[must_use]
    pub fn records_parameter_values(&self) -> bool {
        self.inner.values.is_some()
    }

    /// The parameter `name` with its value recorded, redacted, when the deployment opted in;
    /// its name only otherwise.
    #[must_use]
    pub fn parameter(&self, name: &str, value: &dyn fmt::Debug) -> Parameter {
        match &self.inner.values {
            None => Parameter::name_only(name),
            Some(masker) if masker.is_sensitive(name) => {
                Parameter::with_redacted_value(name.to_owned(), "[REDACTED]".to_owned())
            }
            Some(masker) => {
                let text = format!("{value:?}");
                let redacted = masker.redactor().redact(&text).into_owned();
                Parameter::with_redacted_value(name.to_owned(), redacted)
            }
        }
    }

    /// Waits until every event emitted before the call has reached every sink and the sinks
    /// have flushed (the chained log's records are on disk). Blocks: from async code, call it
    /// through `spawn_blocking`.
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        let mut message = Message::Flush(done);
        loop {
            match self.inner.queue.push(message) {
                Ok(()) => break,
                Err(back) => {
                    message = back;
                    self.inner.thread.unpark();
                    thread::yield_now();
                }
            }
        }
        self.inner.thread.unpark();
        // The audit thread answers every flush message it takes; it ends only after the queue
        // is empty, so the answer always comes.
        let _ = wait.recv();
    }

    /// Counts since the handle was built.
    #[must_use]
    pub fn stats(&self) -> AuditStats {
        let c = &self.inner.counters;
        AuditStats {
            emitted: c.emitted.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            panicked: c.panicked.load(Ordering::Relaxed),
        }
    }

    fn push(&self, message: Message) {
        let inner = &self.inner;
        match inner.queue.push(message) {
            Ok(()) => {
                inner.counters.emitted.fetch_add(1, Ordering::Relaxed);
                // Wake the thread early only when the queue is filling up; otherwise it
                // delivers at its next tick and emission costs no system call.
                if inner.queue.len() * 2 >= inner.queue.capacity() {
                    inner.thread.unpark();
                }
            }
            Err(_) => {
                inner.counters.dropped.fetch_add(1, Ordering::Relaxed);
                inner.thread.unpark();
            }
        }
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    fn actors(&self) -> &dyn ActorSource {
        &*self.inner.actors
    }
}

struct QueryFn<F>(F);

impl<F: FnMut(&QueryEvent) + Send + 'static> Sink for QueryFn<F> {
    fn on_query(&mut self, event: &QueryEvent) {
        (self.0)(event);
    }
}

struct SecurityFn<F>(F);

impl<F: FnMut(&SecurityEvent) + Send + 'static> Sink for SecurityFn<F> {
    fn on_security(&mut self, event: &SecurityEvent) {
        (self.0)(event);
    }
}
