//! `palisade audit verify` as an operator runs it on a log `palisade-audit` wrote: exit 0 with
//! the count, 1 at the line where the chain breaks, 2 for an unreadable file or key; text and
//! JSON; no record content in the output (R-AUD-2).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::path::Path;

use palisade_audit::{
    ChainKey, ChainOptions, ChainedLog, SecurityEvent, SecurityKind, Sink as _, log_files,
};
use palisade_secrets::SecretValue;
use palisade_test::{Canary, unique_name};
use serde_json::Value;

const KEY: &str = "the operator's audit chain key, 32+ bytes";

fn write(dir: &Path, user: &str) {
    let key = ChainKey::new(&SecretValue::from_string(KEY.into())).unwrap();
    let mut log = ChainedLog::open(dir, key, ChainOptions::default()).unwrap();
    for i in 0..20 {
        log.on_security(&SecurityEvent::new(SecurityKind::AuthFailed, "cli-test").with_user(user));
        if i % 5 == 4 {
            log.flush();
        }
    }
}

#[test]
fn verify_reports_intact_logs_broken_lines_and_unreadable_input() {
    let dir = std::env::temp_dir().join(unique_name("audit-cli"));
    let canary = Canary::new();
    write(&dir, canary.value());
    let dir_arg = dir.to_str().unwrap();
    let env = [("AUDIT_KEY", KEY), ("SHORT_KEY", "too short")];

    let (code, out, err) = common::run(
        &["audit", "verify", dir_arg, "--key", "env:AUDIT_KEY"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("verified 20 records and 4 checkpoints in 1 files"),
        "{out}"
    );
    assert!(out.contains("checkpoint MACs verified"), "{out}");
    canary.assert_absent("stdout", &out);

    let (code, out, _) = common::run(
        &["audit", "verify", dir_arg, "--format", "json"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["intact"], true);
    assert_eq!(report["records"], 20);
    assert_eq!(report["macs_checked"], false);
    let anchor = report["sealed"].as_str().unwrap().to_owned();
    assert!(anchor.starts_with("24:"), "{anchor}");
    let with_anchor = [
        "audit",
        "verify",
        dir_arg,
        "--key",
        "env:AUDIT_KEY",
        "--anchor",
        anchor.as_str(),
    ];
    let (code, out, _) = common::run(&with_anchor, &env, None, "");
    assert_eq!(code, 0, "{out}");
    let bad_anchor = ["audit", "verify", dir_arg, "--anchor", "24:nothex"];
    let (code, _, err) = common::run(&bad_anchor, &env, None, "");
    assert_eq!(code, 2, "{err}");
    // The same file named twice is read once.
    let first = log_files(&dir, "audit").unwrap()[0].clone();
    let twice = ["audit", "verify", dir_arg, first.to_str().unwrap()];
    let (code, out, _) = common::run(&twice, &env, None, "");
    assert_eq!(code, 0, "{out}");

    // Edit line 8 (a record of the second batch): the next line no longer chains from it.
    let file = &log_files(&dir, "audit").unwrap()[0];
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[7] = lines[7].replace("auth_failed", "auth_succeeded");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
    let (code, out, _) = common::run(
        &["audit", "verify", dir_arg, "--key", "env:AUDIT_KEY"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(":9: does not chain from line 8"), "{out}");
    canary.assert_absent("stdout", &out);
    let (code, out, _) = common::run(&with_anchor, &env, None, "");
    assert_eq!(code, 1, "{out}");
    let (code, out, _) = common::run(
        &["audit", "verify", dir_arg, "--format", "json"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["intact"].clone(), report["line"].clone()),
        (Value::Bool(false), Value::from(9))
    );

    let missing = dir.join("audit-00000000000000000999.jsonl");
    let (code, _, err) = common::run(
        &["audit", "verify", missing.to_str().unwrap()],
        &env,
        None,
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not found"), "{err}");
    let (code, _, err) = common::run(
        &["audit", "verify", dir_arg, "--key", "env:SHORT_KEY"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("shorter than 32 bytes"), "{err}");
    let (code, _, err) = common::run(
        &["audit", "verify", dir_arg, "--key", "env:NO_SUCH_KEY"],
        &env,
        None,
        "",
    );
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
