//! Running an external script (a Python or Node peer) the one way the kit does it.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `command` (which runs `script`) with `input` on its stdin and returns its stdout.
///
/// # Panics
/// When it cannot start or fails; the message names the script and carries its stderr.
#[allow(
    clippy::panic,
    reason = "a test kit fails the test whose external tool fails"
)]
pub(crate) fn output_of(mut command: Command, script: &Path, input: &str) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot write to {}: {e}", script.display()));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{} did not finish: {e}", script.display()));
    if !output.status.success() {
        panic!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout)
        .unwrap_or_else(|_| panic!("{} wrote output that is not UTF-8", script.display()))
}
