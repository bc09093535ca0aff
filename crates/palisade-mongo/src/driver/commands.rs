//! The `audit` feature: the `mongodb` driver's command monitoring as audit events, for
//! commands sent without a `ScopedCollection` (an application's own maintenance, a library
//! using the client directly), with every value of the command replaced by `?`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bson::{Bson, Document};
use mongodb::event::EventHandler;
use mongodb::event::command::{
    CommandEvent, CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent,
};
use mongodb::options::ServerAddress;
use palisade_audit::{Audit, DbSystem, QueryInfo, QueryTarget, RunningQuery};

use super::events::shape;

/// Commands whose content is credentials: no event at all (the driver blanks their bodies;
/// their names alone would say when someone authenticates, which the server logs anyway).
const SENSITIVE: &[&str] = &[
    "authenticate",
    "saslstart",
    "saslcontinue",
    "getnonce",
    "createuser",
    "updateuser",
    "copydbgetnonce",
    "copydbsaslstart",
    "copydb",
];

/// Top-level fields the driver adds to every command: session, cluster time, read
/// preference. They are not the application's and would only lengthen the shape.
const DRIVER_FIELDS: &[&str] = &[
    "lsid",
    "txnNumber",
    "autocommit",
    "startTransaction",
    "$db",
    "$clusterTime",
    "$readPreference",
    "signature",
];

/// Commands in flight before the oldest are ended as abandoned (a driver that never reports
/// an end must not grow the map without bound).
const MAX_IN_FLIGHT: usize = 10_000;

/// A handler for `ClientOptions::command_event_handler`: one start and one end audit event
/// for every command the client sends (`db.operation.name` the command's name,
/// `db.collection.name` its target, `db.query.text` the command with every value replaced by
/// `?`), none for authentication commands. It sees every command of the client, so a
/// `ScopedCollection` with [`with_events`](crate::ScopedCollection::with_events) on the same
/// client reports its operations twice: give this handler to clients used without one.
///
/// ```no_run
/// # async fn run(audit: palisade_audit::Audit) -> mongodb::error::Result<()> {
/// use mongodb::options::ClientOptions;
///
/// let mut options = ClientOptions::parse("mongodb://localhost:27017").await?;
/// options.command_event_handler = Some(palisade_mongo::command_events(audit));
/// let client = mongodb::Client::with_options(options)?;
/// # Ok(()) }
/// ```
#[must_use]
pub fn command_events(audit: Audit) -> EventHandler<CommandEvent> {
    let monitor = Arc::new(Monitor {
        audit,
        running: Mutex::new(HashMap::new()),
    });
    EventHandler::callback(move |event| monitor.on(event))
}

struct Monitor {
    audit: Audit,
    running: Mutex<HashMap<(u32, i32), RunningQuery>>,
}

impl Monitor {
    fn on(&self, event: CommandEvent) {
        match event {
            CommandEvent::Started(started) => self.started(&started),
            CommandEvent::Succeeded(succeeded) => self.succeeded(&succeeded),
            CommandEvent::Failed(failed) => self.failed(&failed),
            _ => {}
        }
    }

    fn started(&self, event: &CommandStartedEvent) {
        if SENSITIVE.contains(&event.command_name.to_ascii_lowercase().as_str()) {
            return;
        }
        let mut target = QueryTarget::new(DbSystem::MongoDb).with_namespace(event.db.as_str());
        if let ServerAddress::Tcp { host, port } = &event.connection.address {
            target = target.with_server(host.as_str(), port.unwrap_or(27017));
        }
        let collection = event.command.get_str(&event.command_name).ok();
        let mut command: Document = event
            .command
            .iter()
            .filter(|(key, _)| {
                !DRIVER_FIELDS.contains(&key.as_str()) && **key != event.command_name
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if let Some(collection) = collection {
            command.insert(event.command_name.clone(), collection);
        }
        let info = QueryInfo::new(Arc::new(target), event.command_name.clone(), collection)
            .with_text(shape(&command));
        let running = self.audit.start_query(info);
        let mut map = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_IN_FLIGHT {
            map.clear();
        }
        map.insert((event.connection.id, event.request_id), running);
    }

    fn take(&self, connection: u32, request: i32) -> Option<RunningQuery> {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(connection, request))
    }

    fn succeeded(&self, event: &CommandSucceededEvent) {
        if let Some(running) = self.take(event.connection.id, event.request_id) {
            running.succeeded(returned_rows(&event.reply));
        }
    }

    fn failed(&self, event: &CommandFailedEvent) {
        if let Some(running) = self.take(event.connection.id, event.request_id) {
            running.failed(
                super::error::error_type_of(&event.failure),
                super::error::code_of(&event.failure).map(|c| c.to_string()),
            );
        }
    }
}

/// The rows a reply reports: `n` for writes, the batch for reads.
fn returned_rows(reply: &Document) -> Option<u64> {
    let count = |value: &Bson| match value {
        Bson::Int32(n) => u64::try_from(*n).ok(),
        Bson::Int64(n) => u64::try_from(*n).ok(),
        _ => None,
    };
    if let Some(n) = reply.get("n") {
        return count(n);
    }
    let cursor = reply.get_document("cursor").ok()?;
    ["firstBatch", "nextBatch"]
        .iter()
        .find_map(|batch| cursor.get_array(batch).ok())
        .map(|batch| batch.len() as u64)
}
