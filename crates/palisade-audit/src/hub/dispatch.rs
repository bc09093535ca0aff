//! The audit thread: takes events off the queue in batches and hands them to every sink.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use super::{Counters, Sink};
use crate::{QueryEvent, SecurityEvent};

pub(super) enum Message {
    Query(Box<QueryEvent>),
    Security(Box<SecurityEvent>),
    Flush(mpsc::SyncSender<()>),
}

pub(super) struct Dispatcher {
    pub(super) queue: Arc<ArrayQueue<Message>>,
    pub(super) counters: Arc<Counters>,
    pub(super) closed: Arc<AtomicBool>,
    pub(super) sinks: Vec<Box<dyn Sink>>,
    pub(super) tick: Duration,
}

impl Dispatcher {
    pub(super) fn run(mut self) {
        loop {
            // Read before draining: a close seen here means nothing more will be pushed
            // after this drain.
            let closing = self.closed.load(Ordering::Acquire);
            if self.drain() {
                self.flush_sinks();
            }
            if closing {
                break;
            }
            thread::park_timeout(self.tick);
        }
        self.flush_sinks();
    }

    /// Delivers what is queued; whether anything was.
    fn drain(&mut self) -> bool {
        let mut any = false;
        while let Some(message) = self.queue.pop() {
            any = true;
            match message {
                Message::Query(event) => {
                    self.each_sink(|sink| sink.on_query(&event));
                    self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Message::Security(event) => {
                    self.each_sink(|sink| sink.on_security(&event));
                    self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Message::Flush(done) => {
                    self.flush_sinks();
                    // The caller may have stopped waiting; nothing to do then.
                    let _ = done.send(());
                }
            }
        }
        any
    }

    fn flush_sinks(&mut self) {
        self.each_sink(|sink| sink.flush());
    }

    fn each_sink(&mut self, mut call: impl FnMut(&mut dyn Sink)) {
        for sink in &mut self.sinks {
            if catch_unwind(AssertUnwindSafe(|| call(&mut **sink))).is_err() {
                self.counters.panicked.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
