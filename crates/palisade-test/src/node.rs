//! The project's Node packages (`target/node/node_modules`), where `cargo xtask services up`
//! installs the pinned npm peers and rule sets (express-mongo-sanitize, gitleaks' rules,
//! knex, helmet).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `node_modules` directory holding `package`.
///
/// # Panics
/// When the package is not installed, with a message that says to run
/// `cargo xtask services up`.
#[must_use]
pub fn node_modules(package: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/node/node_modules");
    assert!(
        dir.join(package).exists(),
        "{} has no {package}; install it with `cargo xtask services up`",
        dir.display()
    );
    dir
}

/// Runs `script` with Node: its arguments are the `node_modules` directory holding `package`
/// and then `args`; `input` goes to its stdin. Returns its stdout.
///
/// # Panics
/// When Node or the package is missing or the script fails; the message carries the
/// script's stderr.
#[must_use]
#[allow(
    clippy::panic,
    reason = "a test kit fails the test whose peer cannot run"
)]
pub fn run(script: &Path, package: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new("node")
        .arg(script)
        .arg(node_modules(package))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (is Node installed?): {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot write to {}: {e}", script.display()));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{} did not finish: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap_or_else(|e| panic!("{} printed text that is not UTF-8: {e}", script.display()))
}
