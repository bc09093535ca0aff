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
    Audit, ChainOptions, ChainedLog, SecurityEvent, SecurityKind, Sink as _, log_files,
    verify_files,
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

const FULL_DISK_DIR: &str = "PALISADE_AUDIT_FULL_DISK_CHILD_DIR";
const FULL_DISK_TEST: &str =
    "writes_the_disk_refuses_are_retried_in_new_files_without_breaking_the_chain";

/// The child: writes under a file-size limit, so writes fail part-way and are retried.
fn write_under_a_size_limit(dir: &Path) {
    let mut log = ChainedLog::open(dir, key(), ChainOptions::default()).unwrap();
    let health = log.health();
    for i in 0..3000 {
        log.on_security(
            &SecurityEvent::new(SecurityKind::AuthFailed, "full-disk")
                .with_user(format!("user-{i}")),
        );
        if i % 50 == 49 {
            log.flush();
        }
    }
    drop(log);
    let mut out = std::io::stdout().lock();
    writeln!(out, "failures {}", health.write_failures()).unwrap();
}

#[cfg(unix)]
#[test]
fn writes_the_disk_refuses_are_retried_in_new_files_without_breaking_the_chain() {
    if let Some(dir) = std::env::var_os(FULL_DISK_DIR) {
        write_under_a_size_limit(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // Each file may grow to 64 KiB (128 blocks of 512 bytes); SIGXFSZ ignored, so a write past
    // it fails with EFBIG part-way, as on a full disk.
    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128; exec \"$0\" \"$@\"")
        .arg(exe)
        .args([FULL_DISK_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(FULL_DISK_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    // libtest prints the test's name on the same line.
    let failures: u64 = stdout
        .split("failures ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the child reports its failures: {stdout}"));
    assert!(failures > 0, "the size limit never made a write fail");
    let files = log_files(dir.path(), "audit").unwrap();
    assert!(files.len() > 2);
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert!(!verified.torn.is_empty(), "{verified:?}");
    assert!(verified.records > 2000, "{verified:?}");
}
