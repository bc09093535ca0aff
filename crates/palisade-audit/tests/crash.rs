//! R-AUD-2: a writer killed mid-write (SIGKILL, no destructor runs) leaves a log that
//! verifies up to its torn tail, and the next run chains on from its last whole record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use common::key;
use palisade_audit::{
    Audit, ChainOptions, ChainedLog, SecurityEvent, SecurityKind, log_files, verify_files,
};

const CHILD_DIR: &str = "PALISADE_AUDIT_CRASH_CHILD_DIR";
const TEST_NAME: &str = "a_writer_killed_mid_write_leaves_a_log_that_verifies_to_its_torn_tail";

/// The child: writes events as fast as it can, says when the first batches are on disk,
/// and goes on until it is killed.
fn write_until_killed(dir: &Path) -> ! {
    let log = ChainedLog::open(dir, key(), ChainOptions::default().max_batch_records(64)).unwrap();
    let health = log.health();
    let audit = Audit::builder().sink(log).build();
    let mut told = false;
    loop {
        for _ in 0..256 {
            audit.security(
                SecurityEvent::new(SecurityKind::AuthFailed, "crash-test").with_reason("mismatch"),
            );
        }
        if !told && health.records() >= 1024 {
            let mut out = std::io::stdout().lock();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            told = true;
        }
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_a_log_that_verifies_to_its_torn_tail() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        write_until_killed(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout);
    while !ready.contains("ready") {
        ready.clear();
        assert_ne!(
            lines.read_line(&mut ready).unwrap(),
            0,
            "the writer ended before it was ready"
        );
    }
    // SIGKILL: no destructor, no flush.
    child.kill().unwrap();
    child.wait().unwrap();

    let files = log_files(dir.path(), "audit").unwrap();
    let crashed = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert!(crashed.records >= 1024, "{crashed:?}");
    assert!(crashed.torn.len() <= 1, "{crashed:?}");

    // The next run chains on; the whole log verifies, the crash visible only as a torn tail
    // (or unsealed records, when the kill fell between two lines) in the middle.
    let log = ChainedLog::open(dir.path(), key(), ChainOptions::default()).unwrap();
    let audit = Audit::builder().sink(log).build();
    for _ in 0..10 {
        audit.security(SecurityEvent::new(
            SecurityKind::AuthSucceeded,
            "crash-test",
        ));
    }
    drop(audit);
    let files = log_files(dir.path(), "audit").unwrap();
    let after = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(after.records, crashed.records + 10);
    assert_eq!(after.torn, crashed.torn);
    assert_eq!(after.unsealed, 0);
}
