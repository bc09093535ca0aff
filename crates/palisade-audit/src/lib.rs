#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod actor;
mod chain;
mod hub;
mod query;
mod recorder;
mod security;
mod text;
mod tracing_sink;

pub use actor::{Actor, ActorSource, NoActor};
pub use chain::{
    Anchor, AnchorInvalid, BreakKind, ChainBreak, ChainError, ChainHealth, ChainKey, ChainOptions,
    ChainedLog, Durability, Resumed, TornTail, Verified, Verifier, log_files, verify_files,
};
pub use hub::{Audit, AuditBuilder, AuditStats, RunningQuery, Sink};
pub use query::{
    DbSystem, Parameter, QueryEvent, QueryInfo, QueryOutcome, QueryPhase, QueryTarget,
};
pub use recorder::Recorder;
pub use security::{SecurityEvent, SecurityKind};
pub use text::{MAX_QUERY_TEXT_CHARS, MAX_SUMMARY_CHARS};
pub use tracing_sink::{TARGET, TracingSink};
