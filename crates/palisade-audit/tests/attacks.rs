//! R-AUD-2 against an outside attacker's findings: sealed records rewritten and re-sealed by
//! a restarted writer, bytes hidden as "torn" lines in the middle of the log, a checkpoint
//! left without its newline, devices, pipes and endless lines where log files belong, and a
//! log cut back to an earlier checkpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use std::path::Path;

use common::{key, lines, write_lines, write_log};
use palisade_audit::{Anchor, BreakKind, ChainOptions, Verifier, log_files, verify_files};
use sha2::{Digest as _, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Rebuilds every `prev` from line `from` (0-based) on, as someone without the key would.
fn rebuild(all: &mut [Vec<u8>], from: usize) {
    for i in from.max(1)..all.len() {
        let prev_hash = hex(&Sha256::digest(
            all[i - 1].strip_suffix(b"\n").unwrap_or(&all[i - 1]),
        ));
        let line = String::from_utf8(all[i].clone()).unwrap();
        let start = line.find("\"prev\":\"").unwrap() + 8;
        all[i] = format!("{}{}{}", &line[..start], prev_hash, &line[start + 64..]).into_bytes();
    }
}

fn seal_dir(dir: &Path) -> Vec<std::path::PathBuf> {
    log_files(dir, "audit").unwrap()
}

#[test]
fn records_rewritten_then_resealed_by_a_restart_stay_flagged_and_fail_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 30, 10, ChainOptions::default());
    let intact = verify_files(&files, Some(&key())).unwrap().unwrap();
    let anchor = intact.sealed.unwrap();
    // Turn the second and third checkpoints into events and rewrite a sealed record.
    let mut all = lines(&files[0]);
    for checkpoint in [21, 32] {
        let line = String::from_utf8(all[checkpoint].clone()).unwrap();
        let head_end = line.find("\"type\"").unwrap();
        all[checkpoint] = format!(
            "{}\"type\":\"security\",\"user.id\":\"x\"}}\n",
            &line[..head_end]
        )
        .into_bytes();
    }
    all[15] = String::from_utf8(all[15].clone())
        .unwrap()
        .replace("\"user-", "\"xser-")
        .into_bytes();
    rebuild(&mut all, 12);
    write_lines(&files[0], &all);
    let forged = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(forged.unsealed, 22, "{forged:?}");
    // A restart seals on, but says the records before it were never sealed by their writer.
    let files = write_log(dir.path(), 5, 5, ChainOptions::default());
    let after = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(after.unsealed, 0);
    assert_eq!(after.resumed.len(), 1);
    assert_eq!(after.resumed[0].unsealed, 22);
    // Against the checkpoint published before the forgery, the log fails.
    let broken = Verifier::new()
        .key(&key())
        .anchor(anchor)
        .verify(&files)
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.kind, BreakKind::AnchorMismatch, "{broken}");
    assert_eq!(broken.line, 33);
}

#[test]
fn a_log_cut_back_to_an_earlier_checkpoint_fails_its_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 30, 10, ChainOptions::default());
    let anchor: Anchor = verify_files(&files, Some(&key()))
        .unwrap()
        .unwrap()
        .sealed
        .unwrap();
    assert_eq!(anchor.to_string().parse::<Anchor>().unwrap(), anchor);
    let mut all = lines(&files[0]);
    all.truncate(22);
    write_lines(&files[0], &all);
    assert!(verify_files(&files, Some(&key())).unwrap().is_ok());
    let broken = Verifier::new()
        .key(&key())
        .anchor(anchor)
        .verify(&files)
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.kind, BreakKind::AnchorMissing);
}

#[test]
fn bytes_hidden_as_a_torn_line_in_the_middle_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10, 5, ChainOptions::default());
    write_log(dir.path(), 10, 5, ChainOptions::default());
    let files = seal_dir(dir.path());
    assert_eq!(files.len(), 2);
    let mut first = std::fs::read(&files[0]).unwrap();
    first.extend_from_slice(
        b"{\"seq\":13,\"prev\":\"00\",\"type\":\"security\",\"user.id\":\"admin\"}",
    );
    std::fs::write(&files[0], &first).unwrap();
    // A whole JSON object is never part of a line the writer was cutting.
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.line, broken.kind.clone()),
        (files[0].clone(), 13, BreakKind::Unreadable),
        "{broken}"
    );
    // With a plausible head too, the next file explains no torn line (a prefix of its first
    // line would be: a retried write repeats the line it cut).
    let mut first = lines(&files[0]);
    first.pop();
    let prev = hex(&Sha256::digest(
        first.last().unwrap().strip_suffix(b"\n").unwrap(),
    ));
    let mut bytes = first.concat();
    bytes.extend_from_slice(
        format!("{{\"seq\":13,\"prev\":\"{prev}\",\"type\":\"query.start\",\"user.id\":\"adm")
            .as_bytes(),
    );
    std::fs::write(&files[0], &bytes).unwrap();
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.line, broken.kind),
        (files[1].clone(), 1, BreakKind::TornInside)
    );
}

#[test]
fn a_checkpoint_without_its_newline_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 20, 10, ChainOptions::default());
    let mut all = lines(&files[0]);
    all[15] = String::from_utf8(all[15].clone())
        .unwrap()
        .replace("\"user-", "\"xser-")
        .into_bytes();
    rebuild(&mut all, 15);
    let last = all.len() - 1;
    all[last].pop();
    write_lines(&files[0], &all);
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.line, broken.kind),
        (22, BreakKind::CheckpointForged)
    );
}

#[cfg(unix)]
#[test]
fn pipes_devices_directories_and_endless_lines_are_breaks_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    let fifo = dir.path().join("audit-00000000000000000000.jsonl");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let with_fifo = seal_dir(dir.path());
    let broken = verify_files(&with_fifo, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.kind),
        (fifo.clone(), BreakKind::NotAFile)
    );
    std::fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &fifo).unwrap();
    let broken = verify_files(&seal_dir(dir.path()), Some(&key()))
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.kind, BreakKind::NotAFile);
    std::fs::remove_file(&fifo).unwrap();
    std::fs::create_dir(&fifo).unwrap();
    let broken = verify_files(&seal_dir(dir.path()), Some(&key()))
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.kind, BreakKind::NotAFile);
    std::fs::remove_dir(&fifo).unwrap();
    // 3 MB without a newline, as a sparse file.
    let file = std::fs::File::create(&fifo).unwrap();
    file.set_len(3 * 1024 * 1024).unwrap();
    let broken = verify_files(&seal_dir(dir.path()), Some(&key()))
        .unwrap()
        .unwrap_err();
    assert_eq!((broken.line, broken.kind), (1, BreakKind::LineTooLong));
    std::fs::remove_file(&fifo).unwrap();
    assert!(verify_files(&files, Some(&key())).unwrap().is_ok());
}

#[test]
fn leading_zeros_and_miscounts_in_a_checkpoint_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    let all = lines(&files[0]);
    let mut zeros = all.clone();
    let last = zeros.len() - 1;
    zeros[last] = String::from_utf8(zeros[last].clone())
        .unwrap()
        .replace("\"records\":5", "\"records\":05")
        .into_bytes();
    write_lines(&files[0], &zeros);
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!((broken.line, broken.kind), (12, BreakKind::Unreadable));
    // Records 1-3 cut away and the rest renumbered as the start of a log: without the key the
    // chain holds, but the first checkpoint seals more records than are there.
    write_lines(&files[0], &all);
    let broken = Verifier::new().partial().verify(&files).unwrap();
    assert!(broken.is_ok());
}

/// Appends `bytes` to `file` (no newline).
fn append(file: &Path, bytes: &[u8]) {
    let mut all = std::fs::read(file).unwrap();
    all.extend_from_slice(bytes);
    std::fs::write(file, all).unwrap();
}

#[test]
fn a_crash_fragment_swapped_after_the_restart_fails_the_resume_record() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    // A crash mid-line: half of a record after the last checkpoint.
    append(&files[0], b"{\"seq\":13,\"prev\":\"ab");
    let files = write_log(dir.path(), 5, 5, ChainOptions::default());
    let after = verify_files(&files, Some(&key())).unwrap().unwrap();
    assert_eq!(after.torn.len(), 1);
    assert_eq!(after.resumed.len(), 0, "no record was left unsealed");
    // The fragment is named by the sealed resume record: another fragment fails it.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let cut = bytes.iter().rposition(|b| *b == b'\n').unwrap() + 1;
    bytes.truncate(cut);
    bytes.extend_from_slice(b"{\"seq\":13,\"prev\":\"cd");
    std::fs::write(&files[0], bytes).unwrap();
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.line, broken.kind.clone()),
        (files[1].clone(), 1, BreakKind::ResumeMismatch),
        "{broken}"
    );
}

#[test]
fn a_torn_line_in_the_middle_is_not_explained_by_another_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10, 5, ChainOptions::default());
    write_log(dir.path(), 10, 5, ChainOptions::default());
    let files = seal_dir(dir.path());
    append(&files[0], b" {\"seq\":13,\"user.id\":\"admin");
    let one_byte = dir.path().join("audit-00000000000000000002.jsonl");
    std::fs::write(&one_byte, b"{").unwrap();
    let files = seal_dir(dir.path());
    let broken = verify_files(&files, Some(&key())).unwrap().unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.line, broken.kind.clone()),
        (one_byte, 1, BreakKind::TornInside),
        "{broken}"
    );
}

#[test]
fn a_file_renamed_past_the_largest_number_is_a_break_and_the_writer_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10, 5, ChainOptions::default());
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    let renamed = dir.path().join("audit-99999999999999999999.jsonl");
    std::fs::rename(&files[1], &renamed).unwrap();
    let broken = verify_files(&seal_dir(dir.path()), Some(&key()))
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (broken.file.clone(), broken.kind.clone()),
        (renamed, BreakKind::NameInvalid)
    );
    let refused = palisade_audit::ChainedLog::open(dir.path(), key(), ChainOptions::default());
    assert!(matches!(
        refused,
        Err(palisade_audit::ChainError::ExistingLogBroken(_))
    ));
}

#[test]
fn a_missing_anchor_names_the_last_line_read() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_log(dir.path(), 10, 5, ChainOptions::default());
    let anchor: Anchor = format!("99:{}", "0".repeat(64)).parse().unwrap();
    let broken = Verifier::new()
        .key(&key())
        .anchor(anchor)
        .verify(&files)
        .unwrap()
        .unwrap_err();
    assert_eq!((broken.line, broken.kind), (12, BreakKind::AnchorMissing));
}
