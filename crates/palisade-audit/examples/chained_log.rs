//! Writes audit events to a tamper-evident log and verifies it.
//!
//! `cargo run -p palisade-audit --example chained_log -- DIR [EVENTS]` with the checkpoint
//! key in `AUDIT_CHAIN_KEY` (at least 32 bytes); then `palisade audit verify DIR --key
//! env:AUDIT_CHAIN_KEY` checks it.

use std::io::{self, Write as _};
use std::sync::Arc;

use palisade_audit::{
    Audit, ChainKey, ChainOptions, ChainedLog, DbSystem, QueryInfo, QueryTarget, SecurityEvent,
    SecurityKind, log_files, verify_files,
};
use palisade_secrets::SecretValue;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: chained_log DIR [EVENTS]")?;
    let events: usize = args.next().map_or(Ok(100), |n| n.parse())?;
    let key_text = std::env::var("AUDIT_CHAIN_KEY").map_err(|_| "set AUDIT_CHAIN_KEY")?;
    let key = ChainKey::new(&SecretValue::from_string(key_text))?;

    let log = ChainedLog::open(
        &dir,
        key.clone(),
        ChainOptions::default().max_file_bytes(16 * 1024),
    )?;
    let audit = Audit::builder().sink(log).build();
    let target = Arc::new(QueryTarget::new(DbSystem::PostgreSql).with_namespace("app"));
    for i in 0..events {
        if i % 3 == 0 {
            audit.security(
                SecurityEvent::new(SecurityKind::AuthFailed, "example")
                    .with_reason("mismatch")
                    .with_user(format!("user-{i}")),
            );
        } else {
            let info = QueryInfo::new(Arc::clone(&target), "SELECT", ["users"])
                .with_text("SELECT name FROM users WHERE id = ?".to_owned());
            audit.start_query(info).succeeded(Some(1));
        }
    }
    // Dropping the last handle drains the queue and seals the last batch.
    drop(audit);

    let files = log_files(dir.as_ref(), "audit")?;
    let mut out = io::stdout().lock();
    match verify_files(&files, Some(&key))? {
        Ok(verified) => writeln!(
            out,
            "{} records verified in {} files",
            verified.records, verified.files
        )?,
        Err(broken) => writeln!(out, "chain broken: {broken}")?,
    }
    Ok(())
}
