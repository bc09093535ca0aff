//! R-AUD-2: the chained log verifies when untouched, and breaks at the right line when a
//! record is edited, deleted, reordered, a file goes missing, or the chain is rebuilt
//! without the key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::path::PathBuf;

use common::{key, lines, other_key, write_lines, write_log};
use palisade_audit::{
    Audit, BreakKind, ChainOptions, ChainedLog, Durability, TornTail, Verifier, log_files,
    verify_files,
};
use proptest::prelude::*;
use sha2::{Digest as _, Sha256};

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn an_untouched_log_verifies_across_runs_and_rotations() {
    let dir = dir();
    let options = ChainOptions::default().max_file_bytes(4096);
    write_log(dir.path(), 100, 7, options.clone());
    // A second run continues the chain in new files.
    let files = write_log(dir.path(), 50, 10, options);
    assert!(files.len() > 3, "rotated into {} files", files.len());
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(verified.records, 150);
    assert_eq!(verified.first_seq, 1);
    assert_eq!(verified.unsealed, 0);
    assert!(verified.torn.is_empty());
    assert!(verified.macs_checked);
    assert_eq!(verified.files, files.len());
    // 100 / 7 -> 15 batches, 50 / 10 -> 5.
    assert_eq!(verified.checkpoints, 20);
}

#[test]
fn events_through_the_audit_thread_reach_the_log_on_flush() {
    let dir = dir();
    let log = ChainedLog::open(dir.path(), key(), ChainOptions::default()).unwrap();
    let health = log.health();
    let audit = Audit::builder().sink(log).build();
    for _ in 0..20 {
        audit.start_query(common::query_info()).succeeded(Some(1));
    }
    audit.flush();
    assert_eq!(health.records(), 40);
    let files = log_files(dir.path(), "audit").unwrap();
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(verified.records, 40);
    assert_eq!(health.sealed(), verified.sealed);
    assert_eq!(verified.sealed.unwrap().seq(), verified.last_seq);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "query.start");
    assert_eq!(first["db.system.name"], "mongodb");
    assert_eq!(first["db.query.summary"], "find notes");
    assert_eq!(first["seq"], 1);
}

#[test]
fn a_missing_file_between_two_others_is_reported() {
    let dir = dir();
    let files = write_log(
        dir.path(),
        200,
        5,
        ChainOptions::default().max_file_bytes(4096),
    );
    assert!(files.len() >= 3);
    let mut without: Vec<PathBuf> = files.clone();
    let removed = without.remove(1);
    let broken = verify_files(&without, Some(&key())).unwrap().unwrap_err();
    assert_eq!(broken.file, without[1]);
    assert_eq!(broken.line, 1);
    assert!(
        matches!(broken.kind, BreakKind::FileMissing { .. }),
        "{broken}"
    );
    assert!(broken.to_string().contains("a file is missing"), "{broken}");
    // Given alone, a later file verifies as a log that starts mid-chain, and says where.
    let alone = Verifier::new()
        .key(&key())
        .partial()
        .verify(std::slice::from_ref(&removed))
        .unwrap()
        .unwrap();
    assert!(alone.first_seq > 1);
    // As a whole log, it is missing its start.
    let whole = verify_files(std::slice::from_ref(&removed), Some(&key()))
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(whole.kind, BreakKind::StartMissing { .. }),
        "{whole}"
    );
}

#[test]
fn a_chain_rebuilt_without_the_key_fails_at_the_next_checkpoint() {
    let dir = dir();
    let files = write_log(dir.path(), 30, 10, ChainOptions::default());
    let path = &files[0];
    let mut all = lines(path);
    // Change the user of line 14 (in the second batch) and rebuild every hash after it, as
    // a forger with write access but no key would.
    let edited = String::from_utf8(all[13].clone())
        .unwrap()
        .replace("\"user-", "\"xser-");
    assert_ne!(edited.as_bytes(), &all[13][..]);
    all[13] = edited.into_bytes();
    for i in 14..all.len() {
        let prev_hash = hex(&Sha256::digest(all[i - 1].strip_suffix(b"\n").unwrap()));
        let line = String::from_utf8(all[i].clone()).unwrap();
        let start = line.find("\"prev\":\"").unwrap() + 8;
        all[i] = format!("{}{}{}", &line[..start], prev_hash, &line[start + 64..]).into_bytes();
    }
    write_lines(path, &all);
    // The hash chain alone holds: that is what the key is for.
    assert!(verify_files(&files, None).unwrap().is_ok());
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(broken.kind, BreakKind::CheckpointForged);
    // Lines 1-10 are records and 11 their checkpoint; line 22 seals lines 12-21.
    assert_eq!(broken.line, 22);
    // The wrong key fails at the first checkpoint.
    let wrong = verify_files(&files, Some(&other_key()))
        .unwrap()
        .unwrap_err();
    assert_eq!((wrong.line, wrong.kind), (11, BreakKind::CheckpointForged));
}

#[test]
fn a_crash_mid_write_leaves_a_torn_tail_and_the_next_run_chains_on() {
    let dir = dir();
    let files = write_log(dir.path(), 12, 4, ChainOptions::default());
    let path = &files[0];
    let mut bytes = std::fs::read(path).unwrap();
    // A batch half written: two whole records without their checkpoint, and half a line.
    let mut log_lines = lines(path);
    let last = log_lines.pop().unwrap();
    bytes.truncate(bytes.len() - last.len() / 2);
    std::fs::write(path, &bytes).unwrap();
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(
        verified.torn,
        [TornTail {
            file: path.clone(),
            line: 15
        }]
    );
    assert_eq!(verified.records, 12);
    // The next run starts a new file chained to the last whole record.
    let files = write_log(
        dir.path(),
        3,
        3,
        ChainOptions::default().durability(Durability::OsBuffered),
    );
    assert_eq!(files.len(), 2);
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(
        (verified.records, verified.unsealed, verified.torn.len()),
        (15, 0, 1)
    );
}

#[test]
fn deleting_the_first_records_of_a_file_is_seen_from_its_name() {
    let dir = dir();
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    let mut all = lines(&files[0]);
    all.drain(..2);
    write_lines(&files[0], &all);
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.line, broken.kind),
        (
            1,
            BreakKind::Missing {
                expected: 1,
                found: 3
            }
        )
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone)]
enum Tamper {
    /// Overwrite one byte of line `line` (0-based) at `at` (modulo its length, newline
    /// excluded) with `byte`.
    Edit {
        line: usize,
        at: usize,
        byte: u8,
    },
    Delete {
        line: usize,
    },
    Swap {
        line: usize,
    },
    Truncate {
        at: usize,
    },
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), b' '..=b'~').prop_map(|(line, at, byte)| Tamper::Edit {
            line,
            at,
            byte
        }),
        any::<usize>().prop_map(|line| Tamper::Delete { line }),
        any::<usize>().prop_map(|line| Tamper::Swap { line }),
        any::<usize>().prop_map(|at| Tamper::Truncate { at }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_change_is_caught_at_the_line_it_was_made(
        events in 2_usize..60,
        batch in 1_usize..8,
        change in tamper(),
    ) {
        let dir = dir();
        let files = write_log(dir.path(), events, batch, ChainOptions::default());
        let path = &files[0];
        let original = lines(path);
        let count = original.len();
        let mut changed = original.clone();
        // The line (1-based) where the break must be reported, or what the log still
        // verifies as when the change cuts it at a line boundary.
        let expect_at: Option<(u64, u64)>;
        match change {
            Tamper::Edit { line, at, byte } => {
                let line = line % count;
                let len = changed[line].len() - 1;
                let at = at % len;
                prop_assume!(changed[line][at] != byte);
                changed[line][at] = byte;
                // Caught on the edited line (its head) or on the next (its hash).
                expect_at = Some((line as u64 + 1, line as u64 + 2));
            }
            Tamper::Delete { line } => {
                let line = line % count;
                prop_assume!(line + 1 < count);
                changed.remove(line);
                expect_at = Some((line as u64 + 1, line as u64 + 1));
            }
            Tamper::Swap { line } => {
                let line = line % (count - 1);
                changed.swap(line, line + 1);
                expect_at = Some((line as u64 + 1, line as u64 + 1));
            }
            Tamper::Truncate { at } => {
                let total: usize = changed.iter().map(Vec::len).sum();
                let at = at % total;
                let mut bytes = changed.concat();
                bytes.truncate(at);
                std::fs::write(path, &bytes).unwrap();
                let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
                let kept_whole = bytes.split_inclusive(|b| *b == b'\n').filter(|l| l.ends_with(b"\n")).count();
                let mut whole_events = original[..kept_whole].iter().filter(|l| !is_checkpoint(l)).count() as u64;
                // A cut just before a newline leaves a whole record without it: verified too.
                let rest = &bytes[bytes.len() - (bytes.len() - original[..kept_whole].iter().map(Vec::len).sum::<usize>())..];
                if kept_whole < count && rest == &original[kept_whole][..original[kept_whole].len() - 1] && !is_checkpoint(rest) {
                    whole_events += 1;
                }
                prop_assert_eq!(verified.records, whole_events);
                if bytes.last().is_some_and(|b| *b != b'\n') {
                    prop_assert_eq!(verified.torn.len(), 1);
                    prop_assert_eq!(verified.torn[0].line, kept_whole as u64 + 1);
                }
                return Ok(());
            }
        }
        write_lines(path, &changed);
        let broken = verify_files(&files, Some(&key())).unwrap();
        let broken = match broken {
            Ok(verified) => {
                // Only an edit of the last line's final bytes can leave the log whole: the
                // checkpoint's closing brace read as a torn... never: it must break.
                return Err(TestCaseError::fail(format!("{change:?} not caught: {verified:?}")));
            }
            Err(broken) => broken,
        };
        let (first, last) = expect_at.unwrap();
        prop_assert!(
            (first..=last).contains(&broken.line),
            "{:?} reported at line {} ({}), expected {}..={}", change, broken.line, broken, first, last
        );
    }
}

fn is_checkpoint(line: &[u8]) -> bool {
    String::from_utf8_lossy(line).contains("\"type\":\"checkpoint\"")
}

#[test]
fn an_oversized_record_is_truncated_so_the_log_stays_verifiable() {
    use palisade_audit::{SecurityEvent, SecurityKind, Sink as _};
    let dir = dir();
    let mut log = ChainedLog::open(dir.path(), key(), ChainOptions::default()).unwrap();
    let huge_user = "u".repeat(2 * 1024 * 1024);
    log.on_security(
        &SecurityEvent::new(SecurityKind::AuthFailed, "test").with_user(huge_user.as_str()),
    );
    log.flush();
    drop(log);
    let files = log_files(dir.path(), "audit").unwrap();
    let verified = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(verified.records, 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.len() < 1024, "{}", text.len());
    assert!(text.contains("\"truncated\":true"));
}

#[test]
fn the_key_is_read_through_palisade_secrets_and_shows_nothing() {
    use palisade_secrets::{FileSource, SecretRef};
    let dir = dir();
    let path = dir.path().join("audit-key");
    std::fs::write(&path, "a key kept in a file, at least thirty-two bytes\n").unwrap();
    let reference: SecretRef = format!("file:{}", path.display()).parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let key = runtime
        .block_on(palisade_audit::ChainKey::load(
            &FileSource::new(),
            &reference,
        ))
        .unwrap();
    assert_eq!(format!("{key:?}"), "ChainKey { .. }");
    // The key from the file seals what the same key verifies.
    let files = {
        let mut log =
            ChainedLog::open(dir.path().join("log"), key.clone(), ChainOptions::default()).unwrap();
        palisade_audit::Sink::on_security(
            &mut log,
            &palisade_audit::SecurityEvent::new(palisade_audit::SecurityKind::AuthFailed, "test"),
        );
        drop(log);
        log_files(&dir.path().join("log"), "audit").unwrap()
    };
    assert!(verify_files(&files, Some(&key)).unwrap().is_ok());
    assert!(verify_files(&files, Some(&common::key())).unwrap().is_err());
    std::fs::write(&path, "too short").unwrap();
    let short = runtime.block_on(palisade_audit::ChainKey::load(
        &FileSource::new(),
        &reference,
    ));
    assert!(matches!(
        short,
        Err(palisade_audit::ChainError::KeyTooShort)
    ));
    let missing: SecretRef = format!("file:{}", dir.path().join("nope").display())
        .parse()
        .unwrap();
    let unavailable =
        runtime.block_on(palisade_audit::ChainKey::load(&FileSource::new(), &missing));
    assert!(matches!(
        unavailable,
        Err(palisade_audit::ChainError::KeyUnavailable(_))
    ));
}
