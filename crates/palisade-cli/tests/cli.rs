//! The exit-code contract of the `palisade` binary.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use std::process::Command;

fn palisade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn version_exits_zero() {
    let (code, stdout, _) = palisade(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("palisade {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, stderr) = palisade(&["no-such-command"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("'no-such-command'"), "{stderr}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let (code, _, stderr) = palisade(&["--no-such-flag"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
}

#[test]
fn no_arguments_prints_usage_and_fails() {
    let (code, _, stderr) = palisade(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("Usage: palisade"), "{stderr}");
}
