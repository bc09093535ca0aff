//! Runs the `palisade` binary for the integration tests.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `palisade` with `args`, extra environment variables, in `dir` (or the test's own
/// directory), with `stdin`; returns the exit code, stdout and stderr.
pub(crate) fn run(
    args: &[&str],
    env: &[(&str, &str)],
    dir: Option<&Path>,
    stdin: &str,
) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command.spawn().unwrap();
    // A command that reads only what it needs may close its stdin early.
    if let Err(err) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}
