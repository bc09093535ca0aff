//! `QueryEvent`: one statement or command, at its start and at its end, with OpenTelemetry's
//! stable database attribute names.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::Actor;
use crate::text::{MAX_QUERY_TEXT_CHARS, MAX_SUMMARY_CHARS, cut_chars};

/// The database product (`db.system.name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbSystem {
    /// `postgresql`
    PostgreSql,
    /// `mysql`
    MySql,
    /// `mariadb`
    MariaDb,
    /// `mongodb`
    MongoDb,
}

impl DbSystem {
    /// Its `db.system.name` value.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::PostgreSql => "postgresql",
            Self::MySql => "mysql",
            Self::MariaDb => "mariadb",
            Self::MongoDb => "mongodb",
        }
    }
}

/// Where statements go: the database product, the database (`db.namespace`) and the server
/// (`server.address`, `server.port`). Set once per handle and shared by its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTarget {
    system: DbSystem,
    namespace: Option<Arc<str>>,
    server: Option<(Arc<str>, u16)>,
}

impl QueryTarget {
    /// Statements to a `system` database, namespace and server unknown.
    #[must_use]
    pub const fn new(system: DbSystem) -> Self {
        Self {
            system,
            namespace: None,
            server: None,
        }
    }

    /// The database (or schema) name, `db.namespace`.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<Arc<str>>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The server's host name or address and port, `server.address` and `server.port`.
    #[must_use]
    pub fn with_server(mut self, address: impl Into<Arc<str>>, port: u16) -> Self {
        self.server = Some((address.into(), port));
        self
    }

    /// `db.system.name`.
    #[must_use]
    pub const fn system(&self) -> DbSystem {
        self.system
    }

    /// `db.namespace`.
    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `server.address`.
    #[must_use]
    pub fn server_address(&self) -> Option<&str> {
        self.server.as_ref().map(|(address, _)| &**address)
    }

    /// `server.port`.
    #[must_use]
    pub fn server_port(&self) -> Option<u16> {
        self.server.as_ref().map(|(_, port)| *port)
    }
}

/// One bound parameter: its name always, its value only when the deployment opted in
/// ([`AuditBuilder::parameter_values`](crate::AuditBuilder::parameter_values)), and then
/// redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    name: String,
    value: Option<String>,
}

impl Parameter {
    /// A parameter whose value is not recorded.
    #[must_use]
    pub fn name_only(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }

    pub(crate) fn with_redacted_value(name: String, value: String) -> Self {
        Self {
            name,
            value: Some(value),
        }
    }

    /// The parameter's name (`id` for `:id`), the key of `db.query.parameter.<key>`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its redacted value, when values are recorded.
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// What one statement or command is, shared by its start and end events. Built by the
/// emitter from what its guard learned: the text is already free of literals (the SQL
/// fingerprint, the Mongo filter's shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryInfo {
    target: Arc<QueryTarget>,
    operation: Cow<'static, str>,
    collection: Option<String>,
    summary: String,
    text: Option<String>,
    parameters: Vec<Parameter>,
}

impl QueryInfo {
    /// A `operation` (`SELECT`, `find`) statement to `target` on the relations `collections`
    /// (tables, views, collections; in order of appearance). The summary is the operation
    /// followed by the relations (`SELECT users orders`), at most 255 characters;
    /// `db.collection.name` is set when there is exactly one relation.
    #[must_use]
    pub fn new<'a>(
        target: Arc<QueryTarget>,
        operation: impl Into<Cow<'static, str>>,
        collections: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let operation = operation.into();
        let mut summary = String::with_capacity(64);
        summary.push_str(&operation);
        let mut count = 0_usize;
        let mut first = None;
        for collection in collections {
            if count == 0 {
                first = Some(collection);
            }
            count += 1;
            summary.push(' ');
            summary.push_str(collection);
        }
        Self {
            target,
            operation,
            collection: (count == 1).then(|| first.unwrap_or_default().to_owned()),
            summary: cut_chars(summary, MAX_SUMMARY_CHARS),
            text: None,
            parameters: Vec::new(),
        }
    }

    /// The statement's text with its literals already out, cut to 500 characters on a
    /// character boundary.
    #[must_use]
    pub fn with_text(mut self, text: String) -> Self {
        self.text = Some(cut_chars(text, MAX_QUERY_TEXT_CHARS));
        self
    }

    /// Its bound parameters (see [`Audit::parameter`](crate::Audit::parameter)).
    #[must_use]
    pub fn with_parameters(mut self, parameters: Vec<Parameter>) -> Self {
        self.parameters = parameters;
        self
    }

    /// Where it goes.
    #[must_use]
    pub fn target(&self) -> &QueryTarget {
        &self.target
    }

    /// `db.operation.name`.
    #[must_use]
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// `db.collection.name`: the one relation, unset for none or several.
    #[must_use]
    pub fn collection(&self) -> Option<&str> {
        self.collection.as_deref()
    }

    /// `db.query.summary`: low cardinality, for grouping.
    #[must_use]
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// `db.query.text`: literals out, at most 500 characters.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The bound parameters, names always, values only when recorded.
    #[must_use]
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }
}

/// How a statement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryOutcome {
    /// It ran; `db.response.returned_rows` (rows read, or rows written for a write) when
    /// the driver tells.
    Succeeded {
        /// Rows returned or affected.
        returned_rows: Option<u64>,
    },
    /// The database or the connection failed.
    Failed {
        /// `error.type`: a low-cardinality class (`database`, `io`, `timeout`, ...), never
        /// the server's message.
        error_type: Cow<'static, str>,
        /// `db.response.status_code`: the SQLSTATE, MySQL error number or Mongo code.
        status_code: Option<String>,
    },
    /// The caller stopped reading (a stream dropped early, a future cancelled) before the
    /// end; `error.type` is `abandoned`.
    Abandoned {
        /// Rows read before it was abandoned.
        returned_rows: u64,
    },
}

impl QueryOutcome {
    /// `error.type`, unset on success.
    #[must_use]
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Succeeded { .. } => None,
            Self::Failed { error_type, .. } => Some(error_type),
            Self::Abandoned { .. } => Some("abandoned"),
        }
    }

    /// `db.response.returned_rows`.
    #[must_use]
    pub fn returned_rows(&self) -> Option<u64> {
        match self {
            Self::Succeeded { returned_rows } => *returned_rows,
            Self::Abandoned { returned_rows } => Some(*returned_rows),
            Self::Failed { .. } => None,
        }
    }

    /// `db.response.status_code`.
    #[must_use]
    pub fn status_code(&self) -> Option<&str> {
        match self {
            Self::Failed { status_code, .. } => status_code.as_deref(),
            _ => None,
        }
    }
}

/// The start or the end of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryPhase {
    /// Sent (or about to be).
    Start,
    /// Finished, failed or abandoned.
    End {
        /// From start to end, on the injected clock.
        elapsed: Duration,
        /// How it ended.
        outcome: QueryOutcome,
    },
}

/// One statement's start or end. Every statement an emitter runs yields exactly one of each,
/// with the same [`id`](Self::id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryEvent {
    pub(crate) id: u64,
    pub(crate) info: Arc<QueryInfo>,
    pub(crate) phase: QueryPhase,
    pub(crate) actor: Actor,
    pub(crate) at: SystemTime,
}

impl QueryEvent {
    /// The statement's id in this process, the same at start and end.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// What the statement is.
    #[must_use]
    pub fn info(&self) -> &QueryInfo {
        &self.info
    }

    /// Start or end.
    #[must_use]
    pub fn phase(&self) -> &QueryPhase {
        &self.phase
    }

    /// The outcome, at the end.
    #[must_use]
    pub fn outcome(&self) -> Option<&QueryOutcome> {
        match &self.phase {
            QueryPhase::Start => None,
            QueryPhase::End { outcome, .. } => Some(outcome),
        }
    }

    /// The time from start to end, at the end.
    #[must_use]
    pub fn elapsed(&self) -> Option<Duration> {
        match &self.phase {
            QueryPhase::Start => None,
            QueryPhase::End { elapsed, .. } => Some(*elapsed),
        }
    }

    /// Who ran it.
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// When (wall clock, from the injected clock).
    #[must_use]
    pub fn at(&self) -> SystemTime {
        self.at
    }
}
