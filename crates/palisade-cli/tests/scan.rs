//! `palisade scan` and `palisade redact` on real files: `.gitignore` honoured, hidden files
//! scanned, binaries skipped, findings without their secrets, baselines that survive moved
//! lines but not a changed secret.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking, with the location"
)]

use std::fs;
use std::path::{Path, PathBuf};

use palisade_test::{Canary, unique_name};
use serde_json::Value;

mod common;

/// Runs `palisade` in `dir` with `stdin`.
fn palisade_in(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    common::run(args, &[], Some(dir), stdin)
}

/// A tree with two credentials, one ignored by `.gitignore`, one in a binary file, and clean
/// files; returns its root and the canaries it holds.
fn tree() -> (PathBuf, Vec<Canary>) {
    let root = std::env::temp_dir().join(unique_name("scan-tree"));
    let canaries: Vec<Canary> = (0..4).map(|_| Canary::new()).collect();
    let write = |path: &str, content: &[u8]| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    };
    write(".gitignore", b"ignored/\n");
    write(
        "app/settings.py",
        format!(
            "DEBUG = False\nDB_PASSWORD = \"{}\"\nTOKEN = os.environ[\"TOKEN\"]\n",
            canaries[0].value()
        )
        .as_bytes(),
    );
    write(
        ".env",
        format!("API_TOKEN={}\n", canaries[1].value()).as_bytes(),
    );
    write(
        "ignored/leak.txt",
        format!("password={}\n", canaries[2].value()).as_bytes(),
    );
    let mut binary = b"\x7fELF\0\0".to_vec();
    binary.extend(format!("password={}", canaries[3].value()).bytes());
    write("tool.bin", &binary);
    write(
        "README.md",
        b"# A project\n\nSet `password:` in your own config.\n",
    );
    (root, canaries)
}

fn assert_no_canary(canaries: &[Canary], stdout: &str, stderr: &str) {
    for canary in canaries {
        canary.assert_absent("stdout", stdout);
        canary.assert_absent("stderr", stderr);
    }
}

#[test]
fn scan_reports_each_credential_with_place_and_masked_preview_and_fails() {
    let (root, canaries) = tree();
    let (code, stdout, stderr) = palisade_in(&root, &["scan"], "");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout,
        ".env:1:11: secret-pair: API_TOKEN=***\napp/settings.py:2:16: secret-pair: DB_PASSWORD = \"***\"\n"
    );
    assert!(
        stderr.contains("2 finding(s) in 4 file(s) scanned; 0 accepted by the baseline, 1 skipped"),
        "{stderr}"
    );
    assert_no_canary(&canaries, &stdout, &stderr);
    // A clean tree exits 0.
    let (code, stdout, _) = palisade_in(&root, &["scan", "README.md", ".gitignore"], "");
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn scan_speaks_json_one_object_per_line() {
    let (root, canaries) = tree();
    let (code, stdout, stderr) = palisade_in(&root, &["scan", "--format", "json", "."], "");
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        serde_json::json!({"kind": "scan-finding", "path": "app/settings.py", "line": 2,
            "column": 16, "detector": "secret-pair", "preview": "DB_PASSWORD = \"***\""})
    );
    assert_eq!(
        lines[2],
        serde_json::json!({"kind": "scan-summary", "files": 4, "findings": 2, "accepted": 0,
            "skipped": 1, "unreadable": 0})
    );
    assert_no_canary(&canaries, &stdout, &stderr);
}

#[test]
fn a_baseline_accepts_known_findings_across_moved_lines_but_not_a_changed_secret() {
    let (root, canaries) = tree();
    let (code, stdout, stderr) =
        palisade_in(&root, &["scan", "--write-baseline", "baseline.json"], "");
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let baseline = fs::read_to_string(root.join("baseline.json")).unwrap();
    assert_no_canary(&canaries, &baseline, "");
    let parsed: Value = serde_json::from_str(&baseline).unwrap();
    assert_eq!(parsed["findings"].as_array().unwrap().len(), 2);

    let scan = ["scan", "--baseline", "baseline.json", "--format", "json"];
    let (code, stdout, _) = palisade_in(&root, &scan, "");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains(r#""accepted":2"#), "{stdout}");

    // Lines move: still accepted.
    let settings = root.join("app/settings.py");
    let moved = format!("import os\n\n{}", fs::read_to_string(&settings).unwrap());
    fs::write(&settings, &moved).unwrap();
    assert_eq!(palisade_in(&root, &scan, "").0, 0);

    // The secret changes: reported again.
    let rotated = Canary::new();
    fs::write(
        &settings,
        moved.replace(canaries[0].value(), rotated.value()),
    )
    .unwrap();
    let (code, stdout, _) = palisade_in(&root, &scan, "");
    assert_eq!(code, 1);
    let reported: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        (&reported["path"], &reported["line"]),
        (&"app/settings.py".into(), &4.into())
    );

    // Rewriting the baseline keeps its salt, so unchanged entries keep their fingerprints.
    palisade_in(&root, &["scan", "--write-baseline", "baseline.json"], "");
    let rewritten: Value =
        serde_json::from_str(&fs::read_to_string(root.join("baseline.json")).unwrap()).unwrap();
    assert_eq!(rewritten["salt"], parsed["salt"]);
    assert!(
        rewritten["findings"]
            .as_array()
            .unwrap()
            .contains(&parsed["findings"][0])
    );
}

#[test]
fn bad_input_is_a_usage_error_naming_the_problem() {
    let (root, _) = tree();
    let (code, _, stderr) = palisade_in(&root, &["scan", "no/such/dir"], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no such file or directory: no/such/dir"),
        "{stderr}"
    );
    fs::write(
        root.join("broken.json"),
        "{\"version\": 1, \"salt\": \"zz\"}",
    )
    .unwrap();
    let (code, _, stderr) = palisade_in(&root, &["scan", "--baseline", "broken.json"], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the baseline broken.json has no 32-digit hex salt"),
        "{stderr}"
    );
}

#[test]
fn redact_filters_stdin_or_files_to_stdout() {
    let (root, canaries) = tree();
    let line = format!("login ok token={} user=ann\n", canaries[0].value());
    let (code, stdout, stderr) = palisade_in(&root, &["redact"], &line);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "login ok token=*** user=ann\n"),
        "{stderr}"
    );
    let (code, stdout, _) = palisade_in(&root, &["redact", ".env", "app/settings.py"], "");
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "API_TOKEN=***\nDEBUG = False\nDB_PASSWORD = \"***\"\nTOKEN = ***[\"TOKEN\"]\n"
    );
    assert_no_canary(&canaries, &stdout, "");
    let (code, _, stderr) = palisade_in(&root, &["redact", "missing.log"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot open missing.log"), "{stderr}");
}
