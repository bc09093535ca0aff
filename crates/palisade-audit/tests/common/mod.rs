//! Writing chained logs for the tests.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_audit::{
    ChainKey, ChainOptions, ChainedLog, DbSystem, QueryInfo, QueryTarget, SecurityEvent,
    SecurityKind, Sink as _, log_files,
};
use palisade_secrets::SecretValue;

pub(crate) fn key() -> ChainKey {
    ChainKey::new(&SecretValue::from_string(
        "the audit chain key, thirty-two bytes or more".into(),
    ))
    .unwrap()
}

pub(crate) fn other_key() -> ChainKey {
    ChainKey::new(&SecretValue::from_string(
        "another key that is also long enough to use".into(),
    ))
    .unwrap()
}

/// Writes `events` security events through a `ChainedLog` in `dir`, sealing every `batch`.
pub(crate) fn write_log(
    dir: &Path,
    events: usize,
    batch: usize,
    options: ChainOptions,
) -> Vec<PathBuf> {
    let mut log = ChainedLog::open(dir, key(), options).unwrap();
    for i in 0..events {
        let kind = SecurityKind::ALL[i % SecurityKind::ALL.len()];
        log.on_security(&SecurityEvent::new(kind, "test").with_user(format!("user-{i}")));
        if (i + 1) % batch == 0 {
            log.flush();
        }
    }
    drop(log);
    log_files(dir, "audit").unwrap()
}

/// A query event through the log too, to have both record shapes.
pub(crate) fn query_info() -> QueryInfo {
    QueryInfo::new(
        Arc::new(QueryTarget::new(DbSystem::MongoDb).with_namespace("app")),
        "find",
        ["notes"],
    )
    .with_text("{\"title\": \"?\"}".into())
}

pub(crate) fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

pub(crate) fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path, lines.concat()).unwrap();
}
